/*
 * A line of the language:
 *
 *	line    := [ '@' CPU ] [ NAME '=' ] OP { ARG } [ '&' ]
 *	         | NAME '=' EXPR
 *	         | COMMAND ...                 (SCRIPT_COMMANDS, lang.h)
 *	ARG     := EXPR | ARGNAME '=' EXPR     (positional first; cpu=N is @N)
 *
 * An op line's events become the window that expect, count(), TYPE.FIELD
 * and `events` look at.  Ops ending in '&' run at once, each on its vCPU's
 * thread; the next line that is not such an op waits for them all first.
 */
#include <string.h>

#include "lang.h"
#include "session.h"

const struct command commands[] = {
#define COMMAND_ENTRY(name, synopsis, text) { #name, synopsis, text, cmd_##name },
	SCRIPT_COMMANDS(COMMAND_ENTRY)
#undef COMMAND_ENTRY
	{ NULL, NULL, NULL, NULL }
};

const struct command *command_by_name(const char *name)
{
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

bool cmd_wait(struct session *s, struct cursor *c)
{
	/* run_line() has waited already: every line but an '&' op does. */
	return tok_end(c) || fail(s, "column %u: wait takes nothing", tok_peek(c)->col);
}

bool cmd_quit(struct session *s, struct cursor *c)
{
	s->quit = true;
	return tok_end(c) || fail(s, "column %u: quit takes nothing", tok_peek(c)->col);
}

static bool ends_with_amp(const struct cursor *c)
{
	return c->n && !strcmp(c->tok[c->n - 1].text, "&");
}

/* OP ARGS [&] after the optional @CPU and NAME =. */
static bool op_line(struct session *s, struct cursor *c, unsigned int op, int cpu,
		    struct binding *b)
{
	bool async = ends_with_amp(c);
	size_t start = event_count(s);
	union pw_op_args args;
	union pw_op_out out;
	int64_t result;

	s->ops_seen = true;
	if (!parse_op_args(s, c, op, false, &args, &cpu))
		return false;
	if (async && (c->i != c->n - 1))
		return fail(s, "column %u: '&' ends the line", c->tok[c->n - 1].col);
	if (cpu < 0 || (unsigned int)cpu >= s->ncpus)
		return fail(s, "@%d: no such vCPU (--cpus %u)", cpu, s->ncpus);
	if (async)
		return start_op(s, cpu, op, &args, b ? b - s->names + 1 : 0);
	if (!run_op(s, cpu, op, &args, &result, &out))
		return false;
	if (b) {
		b->op = op;
		b->result = (struct val){ result, PW_FIELD_D };
		b->out = out;
		b->known = s->vm != NULL;
	}
	if (!s->vm)
		return true;
	op_line_done(s, start, result);
	op_summary(s, s->shell ? NULL : s->text, &result, s->out);
	if (vm_guest_exited(s->vm))
		s->stopped = true;
	return true;
}

/* "@CPU", before the op or its binding: `@1 touch ...`, `v = @1 touch ...`. */
static bool at_cpu(struct session *s, struct cursor *c, int *cpu)
{
	struct val v;

	if (!tok_accept(c, "@"))
		return true;
	if (!parse_expr(s, c, PW_FIELD_U, &v))
		return false;
	*cpu = v.v;
	return true;
}

bool run_line(struct session *s, const char *line)
{
	const struct command *cmd;
	struct binding *b = NULL;
	struct cursor c;
	const struct token *t;
	int cpu = 0;
	bool any = false;
	unsigned int op;

	s->err[0] = '\0';
	if (!lex_line(line, &c, s->err, sizeof(s->err)))
		return false;
	if (tok_end(&c))
		return true;
	if (!ends_with_amp(&c)) {
		for (unsigned int i = 0; i < PW_MAX_CPUS; i++)
			any |= s->pending[i].started;
		if (any && !wait_ops(s))
			return false;
		if (any && s->vm)
			op_summary(s, s->shell ? NULL : "wait", NULL, s->out);
	}
	if (!at_cpu(s, &c, &cpu))
		return false;
	t = tok_next(&c);
	if (t->kind == TOK_WORD && tok_accept(&c, "=")) {
		b = bind_name(s, t->text);
		if (!b || !at_cpu(s, &c, &cpu))
			return false;
		t = tok_next(&c);
	}
	if (t->kind != TOK_WORD)
		return fail(s, "column %u: expected an op or a command, saw '%s'", t->col, t->text);
	op = op_by_name(t->text);
	if (op)
		return op_line(s, &c, op, cpu, b);
	cmd = command_by_name(t->text);
	if (cmd && !b && c.i == 1)
		return cmd->run(s, &c);
	if (b && !cmd) {
		struct val v;

		c.i--;
		if (!parse_expr(s, &c, PW_FIELD_D, &v))
			return false;
		if (!tok_end(&c))
			return fail(s, "column %u: '%s' after the value", tok_peek(&c)->col, tok_peek(&c)->text);
		b->op = 0;
		b->result = v;
		b->known = s->vm != NULL;
		return true;
	}
	if (cmd)
		return fail(s, "column %u: %s is a command: it takes no @CPU and binds no name", t->col,
			    t->text);
	return fail(s, "column %u: '%s' is not an op or a command (help lists them)", t->col, t->text);
}
