/*
 * Expressions, for expect, print, bindings and op arguments:
 *
 *	cmp     := sum [ ('==' | '!=' | '<' | '<=' | '>' | '>=') sum ]
 *	sum     := product { ('+' | '-') product }
 *	product := unary { '*' unary }
 *	unary   := '-' unary | primary
 *	primary := NUMBER | '(' sum ')' | OP '(' args ')' [ '.' OUT ]
 *	         | 'count' '(' TYPE { FIELD '=' VALUE } ')'
 *	         | 'walk' '(' TASK ',' ADDR ')' '.' FIELD
 *	         | NAME [ '.' OUT ] | TYPE '.' FIELD | VALUE-NAME
 *
 * An op called in an expression runs then, on cpu 0, and leaves the last
 * op line's events alone.  A word that names one of the expected kind's
 * values (`rw` for a prot, `segv_accerr` where an outcome is compared) is
 * that value before it is a bound name.
 */
#include <string.h>

#include "session.h"

const char *const expr_functions[] = { "count", "walk", NULL };

/* An op's result, or one of its out fields (descriptor names and kinds). */
static bool op_field(struct session *s, unsigned int op, int64_t result, const union pw_op_out *out,
		     const char *field, struct val *v)
{
	const struct vmm_op_desc *d = vmm_op_desc(op);
	char names[256] = "";
	size_t n = 0;

	if (!field || !strcmp(field, "result")) {
		*v = (struct val){ result, PW_FIELD_D };
		return true;
	}
	for (unsigned int i = 0; i < d->nout; i++) {
		if (!strcmp(d->out[i].name, field)) {
			*v = (struct val){ out->words[i], d->out[i].kind };
			return true;
		}
		n += snprintf(names + n, sizeof(names) - n, " %s", d->out[i].name);
	}
	return fail(s, "%s has no result '%s' (result%s)", d->name, field, names);
}

/* ".FIELD" after a call or a name, or NULL. */
static const char *dot_field(struct session *s, struct cursor *c, bool *ok)
{
	const struct token *t;

	*ok = true;
	if (!tok_accept(c, "."))
		return NULL;
	t = tok_next(c);
	if (t->kind != TOK_WORD) {
		*ok = fail(s, "column %u: a field name after '.', saw '%s'", t->col, t->text);
		return NULL;
	}
	return t->text;
}

static bool call_op(struct session *s, struct cursor *c, unsigned int op, struct val *v)
{
	union pw_op_args args;
	union pw_op_out out;
	const char *field;
	int64_t result;
	bool ok;

	if (!parse_op_args(s, c, op, true, &args, NULL))
		return false;
	if (!tok_accept(c, ")"))
		return fail(s, "column %u: expected ')'", tok_peek(c)->col);
	if (!run_op(s, 0, op, &args, &result, &out))
		return false;
	field = dot_field(s, c, &ok);
	return ok && op_field(s, op, result, &out, field, v);
}

static bool name_value(struct session *s, struct cursor *c, const struct token *t, struct val *v)
{
	struct binding *b = find_binding(s, t->text);
	unsigned int type;
	const char *field;
	bool ok;

	if (b) {
		field = dot_field(s, c, &ok);
		if (!ok)
			return false;
		if (!b->op && field)
			return fail(s, "'%s' holds a value, not an op's results: no '.%s'", b->name, field);
		if (s->vm && !b->known)
			return fail(s, "'%s' has no value: the line that bound it did not complete", b->name);
		return b->op ? op_field(s, b->op, b->result.v, &b->out, field, v)
			     : (*v = b->result, true);
	}
	if (event_type_by_name(t->text, &type)) {
		field = dot_field(s, c, &ok);
		if (!ok)
			return false;
		if (!field)
			return fail(s, "column %u: '%s' is an event type: %s.FIELD is the field of its "
				    "last event since the last op, count(%s) how many", t->col, t->text,
				    t->text, t->text);
		return eval_event_field(s, type, field, v);
	}
	return fail(s, "column %u: '%s' is not a number, a bound name or a value", t->col, t->text);
}

static bool primary(struct session *s, struct cursor *c, enum pw_field_kind hint, struct val *v)
{
	const struct token *t = tok_next(c);
	unsigned int op;

	if (!strcmp(t->text, "(")) {
		if (!parse_expr(s, c, hint, v))
			return false;
		return tok_accept(c, ")") || fail(s, "column %u: expected ')'", tok_peek(c)->col);
	}
	if (t->kind != TOK_WORD)
		return fail(s, "column %u: expected a value, saw %s", t->col,
			    t->kind == TOK_END ? "the end of the line" : t->text);
	if (value_number(t->text, &v->v)) {
		v->kind = hint;
		return true;
	}
	if (tok_accept(c, "(")) {
		if (!strcmp(t->text, "count"))
			return eval_count(s, c, v);
		if (!strcmp(t->text, "walk"))
			return eval_walk(s, c, v);
		op = op_by_name(t->text);
		if (!op)
			return fail(s, "column %u: '%s' is not an op, count or walk", t->col, t->text);
		return call_op(s, c, op, v);
	}
	if (value_named(hint, t->text, &v->v)) {
		v->kind = hint;
		return true;
	}
	return name_value(s, c, t, v);
}

static bool unary(struct session *s, struct cursor *c, enum pw_field_kind hint, struct val *v)
{
	if (tok_accept(c, "-")) {
		if (!unary(s, c, hint, v))
			return false;
		v->v = -v->v;
		if (v->kind == PW_FIELD_U)
			v->kind = PW_FIELD_D;
		return true;
	}
	return primary(s, c, hint, v);
}

static bool product(struct session *s, struct cursor *c, enum pw_field_kind hint, struct val *v)
{
	struct val r;

	if (!unary(s, c, hint, v))
		return false;
	while (tok_accept(c, "*")) {
		if (!unary(s, c, v->kind, &r))
			return false;
		v->v *= r.v;
	}
	return true;
}

bool parse_expr(struct session *s, struct cursor *c, enum pw_field_kind hint, struct val *v)
{
	struct val r;

	if (!product(s, c, hint, v))
		return false;
	for (;;) {
		bool plus = tok_accept(c, "+");

		if (!plus && !tok_accept(c, "-"))
			return true;
		if (!product(s, c, v->kind, &r))
			return false;
		v->v = plus ? v->v + r.v : v->v - r.v;
	}
}

/* Signed where either side is: a result of -12 is less than 0. */
static bool compare(const char *op, struct val a, struct val b)
{
	bool sign = a.kind == PW_FIELD_D || b.kind == PW_FIELD_D;
	int cmp = sign ? ((int64_t)a.v > (int64_t)b.v) - ((int64_t)a.v < (int64_t)b.v)
		       : (a.v > b.v) - (a.v < b.v);

	if (!strcmp(op, "=="))
		return !cmp;
	if (!strcmp(op, "!="))
		return cmp;
	if (!strcmp(op, "<"))
		return cmp < 0;
	if (!strcmp(op, "<="))
		return cmp <= 0;
	if (!strcmp(op, ">"))
		return cmp > 0;
	return cmp >= 0;
}

bool parse_cmp(struct session *s, struct cursor *c, bool *holds, char *what, size_t len)
{
	static const char *const ops[] = { "==", "!=", "<=", ">=", "<", ">" };
	char seen[64], want[64];
	const char *op = NULL;
	struct val a, b;

	if (!parse_expr(s, c, PW_FIELD_D, &a))
		return false;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && !op; i++)
		if (tok_accept(c, ops[i]))
			op = ops[i];
	value_format(a, seen, sizeof(seen));
	if (!op) {
		*holds = a.v != 0;
		snprintf(what, len, "expected non-zero, saw %s", seen);
		return true;
	}
	if (!parse_expr(s, c, a.kind, &b))
		return false;
	/* The right side's value, shown as the left side's kind shows it. */
	b.kind = b.kind == PW_FIELD_D && a.kind != PW_FIELD_D ? a.kind : b.kind;
	value_format(b, want, sizeof(want));
	*holds = compare(op, a, b);
	snprintf(what, len, "expected %s %s, saw %s", op, want, seen);
	return true;
}
