/*
 * The script language's commands, defined once: each entry of
 * SCRIPT_COMMANDS gives a command's name, its arguments and what it does.
 * `help` prints this table and the ops of PW_OPS (from libvmm's
 * descriptors); the shell completes both; lang.c runs a line by it.
 */
#ifndef VMM_SCRIPT_LANG_H
#define VMM_SCRIPT_LANG_H

#include "session.h"

#define SCRIPT_COMMANDS(X)						\
	X(expect, "EXPR [== != < <= > >= EXPR]",			\
	  "check a value (a lone EXPR: not 0); a failure names file:line, expected and seen") \
	X(print, "EXPR...", "print values")				\
	X(walk, "TASK ADDR", "the host's walk of ADDR in TASK's tables: each level's entry, the leaf") \
	X(ptdump, "[TASK | kernel | cr3=ADDR]",				\
	  "the page tables, as Linux's ptdump (default: cpu 0's CR3)") \
	X(events, "[json] [TYPE...]", "the events of the last op, as --trace or --json prints them") \
	X(invariants, "", "the host's invariant check (vm_check_invariants), counted as an expect") \
	X(wait, "", "wait for the ops started with '&'")		\
	X(include, "FILE", "run FILE's lines here (relative to the including file)") \
	X(cpus, "N", "before the first op: the VM's vCPUs (as --cpus)")	\
	X(paging, "4 | 5 | auto", "before the first op: 4- or 5-level paging (as --paging)") \
	X(kernel_sync, "prealloc | fault | eager",			\
	  "before the first op: how kernel mappings reach every pgd (as --kernel-sync)") \
	X(split_ptlock_cpus, "N",					\
	  "before the first op: split page-table locks from N CPUs on (as --split-ptlock-cpus)") \
	X(help, "[OP | COMMAND]", "this list, or one op's arguments and results") \
	X(quit, "", "stop here")

#define COMMAND_DECL(name, synopsis, text) bool cmd_##name(struct session *s, struct cursor *c);
SCRIPT_COMMANDS(COMMAND_DECL)
#undef COMMAND_DECL

struct command {
	const char *name, *synopsis, *help;
	bool (*run)(struct session *s, struct cursor *c);
};

/* The commands in table order, ending with a NULL name. */
extern const struct command commands[];
const struct command *command_by_name(const char *name);

#endif
