/*
 * `help`, generated: the commands from SCRIPT_COMMANDS, the ops and their
 * arguments and results from libvmm's descriptors (PW_OPS), the values
 * each kind takes, and the event types with their fields (PW_EVENT_TYPES).
 */
#include <string.h>

#include "lang.h"
#include "session.h"

/* "prot: none r rw rx rwx (or r, w, x combined)": what a kind's argument takes. */
static void kind_values(FILE *f, enum pw_field_kind kind)
{
	const char *name;

	fprintf(f, "    %s:", vmm_field_kind_name(kind));
	switch (kind) {
	case PW_FIELD_TASK:
		fputs(" a task's id, or the name bound to it", f);
		break;
	case PW_FIELD_LEVELS:
		fputs(" all, or levels joined by '|' (pud|pmd)", f);
		break;
	default:
		if (!kind_has_names(kind))
			fputs(" a number (0x for hex; K, M, G)", f);
		break;
	}
	for (unsigned int i = 0; (name = value_name_at(kind, i)); i++)
		fprintf(f, " %s", name);
	fputc('\n', f);
}

static void op_line(FILE *f, const struct vmm_op_desc *d)
{
	fprintf(f, "  %s", d->name);
	for (unsigned int i = 0; i < d->nargs; i++)
		fprintf(f, " %s", d->args[i].name);
	if (d->nout) {
		fputs("  => result", f);
		for (unsigned int i = 0; i < d->nout; i++)
			fprintf(f, ", .%s", d->out[i].name);
	}
	fputc('\n', f);
}

static void help_op(FILE *f, const struct vmm_op_desc *d)
{
	bool seen[32] = { false };

	op_line(f, d);
	for (unsigned int i = 0; i < d->nargs; i++)
		fprintf(f, "    %-12s %s%s\n", d->args[i].name, vmm_field_kind_name(d->args[i].kind),
			optional_arg(d->args[i].name) ? " (may be left out: 0)" : "");
	for (unsigned int i = 0; i < d->nout; i++)
		fprintf(f, "    .%-11s %s (result)\n", d->out[i].name, vmm_field_kind_name(d->out[i].kind));
	fputs("  values:\n", f);
	for (unsigned int i = 0; i < d->nargs; i++) {
		if (!seen[d->args[i].kind])
			kind_values(f, d->args[i].kind);
		seen[d->args[i].kind] = true;
	}
}

static void help_events(FILE *f)
{
	fputs("event types (TYPE.FIELD: the field of the last op's last such event):\n", f);
	for (unsigned int t = 1; t < PW_EV_MAX; t++) {
		const struct vmm_event_desc *d = vmm_event_desc(t);

		if (!d)
			continue;
		fprintf(f, "  %-14s", d->name);
		for (unsigned int i = 0; i < d->nfields; i++)
			fprintf(f, " %s", d->fields[i].name);
		fputc('\n', f);
	}
}

static void help_command(FILE *f, const struct command *cmd)
{
	fprintf(f, "  %s%s%s\n      %s\n", cmd->name, *cmd->synopsis ? " " : "", cmd->synopsis, cmd->help);
}

static void help_all(FILE *f)
{
	fputs("lines: [@CPU] [NAME =] OP ARG... [&]   NAME = EXPR   COMMAND ...   # comment\n"
	      "commands:\n", f);
	for (const struct command *cmd = commands; cmd->name; cmd++)
		help_command(f, cmd);
	fputs("ops (help OP for its arguments):\n", f);
	for (unsigned int op = 1; op < PW_OP_MAX; op++)
		if (vmm_op_desc(op))
			op_line(f, vmm_op_desc(op));
	fputs("EXPR: numbers (4M, 0x1000), NAME, NAME.OUT, OP(ARGS).OUT, TYPE.FIELD, count(TYPE FIELD=V...),\n"
	      "      walk(TASK, ADDR).present|writable|user|nx|frame|phys|level|..., + - *, -ENOMEM\n", f);
}

bool cmd_help(struct session *s, struct cursor *c)
{
	const struct token *t = tok_next(c);
	const struct command *cmd;
	unsigned int op;

	if (!tok_end(c))
		return fail(s, "column %u: help [OP | COMMAND]", tok_peek(c)->col);
	if (!s->vm && t->kind == TOK_END)
		return true;
	if (t->kind == TOK_END) {
		help_all(s->out);
		return true;
	}
	op = op_by_name(t->text);
	cmd = command_by_name(t->text);
	if (!s->vm && (op || cmd))
		return true;
	if (op) {
		help_op(s->out, vmm_op_desc(op));
	} else if (cmd) {
		help_command(s->out, cmd);
		if (!strcmp(cmd->name, "events"))
			help_events(s->out);
	} else {
		return fail(s, "column %u: '%s' is not an op or a command", t->col, t->text);
	}
	return true;
}
