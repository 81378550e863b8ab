/*
 * The events of the last op line (the window): what `events` prints, what
 * count(TYPE ...) counts and TYPE.FIELD reads, by libvmm's event
 * descriptors (PW_EVENT_TYPES).
 */
#include <string.h>

#include "lang.h"
#include "session.h"

const struct pw_event *last_op_events(struct session *s, size_t *n)
{
	size_t total;
	const struct pw_event *ev = s->vm ? vm_events(s->vm, &total) : NULL;

	*n = ev && s->win_end <= total ? s->win_end - s->win_start : 0;
	return ev ? ev + s->win_start : NULL;
}

bool event_type_by_name(const char *name, unsigned int *type)
{
	for (unsigned int t = 1; t < PW_EV_MAX; t++) {
		if (vmm_event_desc(t) && !strcmp(vmm_event_desc(t)->name, name)) {
			*type = t;
			return true;
		}
	}
	return false;
}

static bool type_word(struct session *s, const struct token *t, unsigned int *type)
{
	if (t->kind == TOK_WORD && event_type_by_name(t->text, type))
		return true;
	return fail(s, "column %u: '%s' is not an event type (help events lists them)", t->col,
		    t->text);
}

static int field_index(const struct vmm_event_desc *d, const char *name)
{
	for (unsigned int i = 0; i < d->nfields; i++)
		if (!strcmp(d->fields[i].name, name))
			return i;
	return -1;
}

static bool no_field(struct session *s, const struct vmm_event_desc *d, const char *field)
{
	char names[256] = "";
	size_t n = 0;

	for (unsigned int i = 0; i < d->nfields; i++)
		n += snprintf(names + n, sizeof(names) - n, " %s", d->fields[i].name);
	return fail(s, "a %s event has no field '%s' (%s)", d->name, field, *names ? names + 1 : "none");
}

#define COUNT_MAX_FILTERS 5

bool eval_count(struct session *s, struct cursor *c, struct val *out)
{
	const struct vmm_event_desc *d;
	struct { int field; uint64_t v; } filter[COUNT_MAX_FILTERS];
	unsigned int type, nfilters = 0;
	const struct pw_event *ev;
	size_t n;

	if (!type_word(s, tok_next(c), &type))
		return false;
	d = vmm_event_desc(type);
	while (!tok_accept(c, ")")) {
		const struct token *t;
		struct val v;

		tok_accept(c, ",");
		t = tok_next(c);
		if (t->kind != TOK_WORD || !tok_accept(c, "="))
			return fail(s, "column %u: count(%s FIELD=VALUE ...), saw '%s'", t->col, d->name,
				    t->text);
		if (nfilters == COUNT_MAX_FILTERS)
			return fail(s, "column %u: at most %d fields to match", t->col, COUNT_MAX_FILTERS);
		filter[nfilters].field = field_index(d, t->text);
		if (filter[nfilters].field < 0)
			return no_field(s, d, t->text);
		if (!parse_expr(s, c, d->fields[filter[nfilters].field].kind, &v))
			return false;
		filter[nfilters++].v = v.v;
	}
	*out = (struct val){ 0, PW_FIELD_U };
	ev = last_op_events(s, &n);
	for (size_t i = 0; i < n; i++) {
		bool match = ev[i].type == type;

		for (unsigned int f = 0; f < nfilters && match; f++)
			match = ev[i].u.words[filter[f].field] == filter[f].v;
		out->v += match;
	}
	return true;
}

bool eval_event_field(struct session *s, unsigned int type, const char *field, struct val *out)
{
	const struct vmm_event_desc *d = vmm_event_desc(type);
	int f = field_index(d, field);
	const struct pw_event *ev;
	size_t n;

	if (f < 0)
		return no_field(s, d, field);
	*out = (struct val){ 0, d->fields[f].kind };
	if (!s->vm)
		return true;
	ev = last_op_events(s, &n);
	for (size_t i = n; i-- > 0;) {
		if (ev[i].type == type) {
			out->v = ev[i].u.words[f];
			return true;
		}
	}
	return fail(s, "no %s event since the last op", d->name);
}

bool cmd_events(struct session *s, struct cursor *c)
{
	bool want[PW_EV_MAX] = { false }, all = true, json = tok_accept(c, "json");
	const struct pw_event *ev;
	size_t n;

	while (!tok_end(c)) {
		unsigned int type;

		if (!type_word(s, tok_next(c), &type))
			return false;
		want[type] = true;
		all = false;
	}
	if (!s->vm)
		return true;
	ev = last_op_events(s, &n);
	for (size_t i = 0; i < n; i++)
		if (all || want[ev[i].type])
			vm_print_event(s->vm, &ev[i], s->out, json);
	return true;
}
