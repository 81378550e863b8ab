/*
 * The state a script or the shell runs in, shared by the files of
 * vmm/script/: the VM, the names lines bound, which pgd each task has,
 * the events of the last op, and where the line being run comes from.
 *
 * Every line runs twice: checked with no VM (vm NULL: names, ops, argument
 * counts and kinds, fields), then run.  A script is checked whole before
 * anything runs; the shell checks each line before running it.
 */
#ifndef VMM_SCRIPT_SESSION_H
#define VMM_SCRIPT_SESSION_H

#include <stdio.h>

#include "libvmm.h"
#include "lex.h"
#include "value.h"

#define SCRIPT_MAX_NAMES	256
#define SCRIPT_MAX_TASKS	256
#define SCRIPT_NAME_MAX		32

/* A name bound by `NAME = op ...` (the op's result and out fields) or `NAME = EXPR`. */
struct binding {
	char name[SCRIPT_NAME_MAX];
	unsigned int op;		/* 0: an expression's value */
	struct val result;
	union pw_op_out out;
	bool known;			/* false while checking, or if its op did not complete */
};

/* An op started with '&' on a vCPU, waited for by the next line. */
struct pending_op {
	bool started;
	unsigned int op, binding;	/* binding: index + 1, 0 for none */
};

struct session {
	struct vm *vm;			/* NULL while checking */
	FILE *out;			/* what lines ask to see: stdout, or stderr under --tap */
	bool tap, shell;
	unsigned int ncpus;
	struct binding names[SCRIPT_MAX_NAMES];
	unsigned int nnames;
	struct { uint64_t task, pgd; } tasks[SCRIPT_MAX_TASKS];
	unsigned int ntasks;
	size_t win_start, win_end;	/* the events of the last op line: [start, end) */
	size_t ops_start;		/* events before the '&' ops now running */
	struct pending_op pending[PW_MAX_CPUS];
	unsigned int expects, failed;	/* expects run, and those that did not hold */
	bool stopped;			/* the VM stopped: nothing more can run */
	struct vmm_config *settings;	/* what settings lines set: while checking a script */
	bool ops_seen;			/* settings come before the first op */
	bool quit;
	const char *file;		/* where the line comes from, for messages */
	unsigned int line;
	const char *text;		/* the line itself, without its comment */
	unsigned int depth;		/* includes */
	char err[1024];			/* why the line failed */
};

/* A session on vm (NULL: checking) printing what lines show on out (run.c). */
void session_init(struct session *s, struct vm *vm, const struct vmm_config *cfg, FILE *out, bool tap);

/*
 * Boot every vCPU to its op loop with an echo op, so that the first line's
 * events are its own, not the boot's.
 */
bool session_boot(struct session *s);

/* Record why the line fails; returns false for `return fail(...)`. */
bool fail(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Bindings (session.c). */
struct binding *find_binding(struct session *s, const char *name);
struct binding *bind_name(struct session *s, const char *name);
/* Is `name` taken by the language: an op, a command, an event type, a function? */
bool reserved_name(const char *name);

/* Ops (session.c): run one now, or start one on its vCPU's thread; wait for those started. */
bool run_op(struct session *s, unsigned int cpu, unsigned int op, const union pw_op_args *args,
	    int64_t *result, union pw_op_out *out);
bool start_op(struct session *s, unsigned int cpu, unsigned int op, const union pw_op_args *args,
	      unsigned int binding);
bool wait_ops(struct session *s);
/* The vCPU's paging registers with CR3 set to task's pgd (0: the vCPU's own). */
bool task_paging(struct session *s, uint64_t task, struct vm_paging *pg);

/* An op's name in PW_OPS, or 0. */
unsigned int op_by_name(const char *name);
/* May the argument of that name be left out (0 then)? */
bool optional_arg(const char *name);
/* Its arguments after the name, on the line or between parentheses (args.c). */
bool parse_op_args(struct session *s, struct cursor *c, unsigned int op, bool parens,
		   union pw_op_args *args, int *cpu);

/* The functions of expressions that are neither ops nor commands, NULL-terminated (expr.c). */
extern const char *const expr_functions[];

/* Expressions (expr.c); `hint` is the kind a bare name is read as (PW_FIELD_D: none). */
bool parse_expr(struct session *s, struct cursor *c, enum pw_field_kind hint, struct val *out);
bool parse_cmp(struct session *s, struct cursor *c, bool *holds, char *what, size_t len);

/* The events of the last op line (events.c). */
const struct pw_event *last_op_events(struct session *s, size_t *n);
bool event_type_by_name(const char *name, unsigned int *type);
bool eval_count(struct session *s, struct cursor *c, struct val *out);
bool eval_event_field(struct session *s, unsigned int type, const char *field, struct val *out);
/* Events recorded so far; after an op line, its events become the window (session.c). */
size_t event_count(struct session *s);
void op_line_done(struct session *s, size_t start, int64_t result);

/* The host's view (host.c): walk(TASK, ADDR).FIELD. */
bool eval_walk(struct session *s, struct cursor *c, struct val *out);

/* One line: an op, a binding, a command (lang.c). */
bool run_line(struct session *s, const char *line);

/* The one-line account of what an op line did (summary.c). */
void op_summary(struct session *s, const char *what, const int64_t *result, FILE *f);

/* Report an expect or check: TAP point, or a message when it fails (expect.c). */
void report_check(struct session *s, bool holds, const char *what, const char *detail);

#endif
