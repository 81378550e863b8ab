/*
 * An op's arguments, by the op's own descriptor (vmm_op_desc(): names and
 * kinds from PW_OPS): positional, then named (`addr=4M`), each read as its
 * kind reads values.  `cpu=N` after an op line's arguments is `@N`, as the
 * reference model's replay files write it.
 */
#include <string.h>

#include "session.h"

unsigned int op_by_name(const char *name)
{
	for (unsigned int op = 1; op < PW_OP_MAX; op++)
		if (vmm_op_desc(op) && !strcmp(vmm_op_desc(op)->name, name))
			return op;
	return 0;
}

/*
 * Arguments that may be left out, 0 then: a read's `value` (touch,
 * probe) and vmalloc's `low` (anywhere) mean nothing at 0.  Every other
 * argument must be given.
 */
bool optional_arg(const char *arg)
{
	return !strcmp(arg, "value") || !strcmp(arg, "low");
}

/* levels: "all", a number, or level names joined by '|' ("pud|pmd"): a bit per level. */
static bool parse_levels(struct session *s, struct cursor *c, struct val *out)
{
	*out = (struct val){ 0, PW_FIELD_LEVELS };
	if (tok_accept(c, "all"))
		return true;
	do {
		const struct token *t = tok_next(c);
		uint64_t level;

		if (t->kind == TOK_WORD && value_number(t->text, &level)) {
			out->v |= level;
		} else if (t->kind == TOK_WORD && value_named(PW_FIELD_LEVEL, t->text, &level)) {
			out->v |= 1ull << level;
		} else {
			return fail(s, "column %u: '%s' is not a level (pgd, p4d, pud, pmd, pte, all)",
				    t->col, t->text);
		}
	} while (tok_accept(c, "|"));
	return true;
}

static void synopsis(const struct vmm_op_desc *d, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "%s", d->name);

	for (unsigned int i = 0; i < d->nargs && n < len; i++)
		n += snprintf(buf + n, len - n, " %s", d->args[i].name);
}

static int arg_index(const struct vmm_op_desc *d, const char *name)
{
	for (unsigned int i = 0; i < d->nargs; i++)
		if (!strcmp(d->args[i].name, name))
			return i;
	return -1;
}

/* At the end of the arguments: ')' in a call, the end of the line or a '&' on a line. */
static bool args_end(const struct cursor *c, bool parens)
{
	return parens ? !strcmp(tok_peek(c)->text, ")") : tok_end(c) || !strcmp(tok_peek(c)->text, "&");
}

bool parse_op_args(struct session *s, struct cursor *c, unsigned int op, bool parens,
		   union pw_op_args *args, int *cpu)
{
	const struct vmm_op_desc *d = vmm_op_desc(op);
	bool given[PW_OP_ARG_WORDS] = { false }, named = false;
	unsigned int pos = 0;
	char syn[256];

	synopsis(d, syn, sizeof(syn));
	*args = (union pw_op_args){ 0 };
	while (!args_end(c, parens)) {
		const struct token *t = tok_peek(c);
		struct val v;
		int i;

		if ((pos || named) && parens && !tok_accept(c, ","))
			return fail(s, "column %u: expected ',' or ')' after an argument of %s, saw '%s'",
				    t->col, d->name, t->text);
		t = tok_peek(c);
		if (t->kind == TOK_WORD && !strcmp(c->tok[c->i + 1].text, "=")) {
			if (!parens && cpu && !strcmp(t->text, "cpu")) {
				c->i += 2;
				if (!parse_expr(s, c, PW_FIELD_U, &v))
					return false;
				*cpu = v.v;
				named = true;
				continue;
			}
			i = arg_index(d, t->text);
			if (i < 0)
				return fail(s, "column %u: %s has no argument '%s' (%s)", t->col, d->name,
					    t->text, syn);
			if (given[i])
				return fail(s, "column %u: argument '%s' given twice", t->col, t->text);
			c->i += 2;
			named = true;
		} else if (named) {
			return fail(s, "column %u: a positional argument after a named one (%s)", t->col,
				    syn);
		} else if (pos == d->nargs) {
			return fail(s, "column %u: %s takes %u argument%s (%s), given more", t->col,
				    d->name, d->nargs, d->nargs == 1 ? "" : "s", syn);
		} else {
			i = pos++;
		}
		if (d->args[i].kind == PW_FIELD_LEVELS ? !parse_levels(s, c, &v)
						       : !parse_expr(s, c, d->args[i].kind, &v))
			return false;
		args->words[i] = v.v;
		given[i] = true;
	}
	for (unsigned int i = 0; i < d->nargs; i++)
		if (!given[i] && !optional_arg(d->args[i].name))
			return fail(s, "%s: argument '%s' missing (%s)", d->name, d->args[i].name, syn);
	return true;
}
