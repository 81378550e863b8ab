/*
 * The host's own view of the guest's tables, from guest RAM: `walk`,
 * walk(TASK, ADDR).FIELD, `ptdump` and `invariants`.  Tables are named by
 * a task (its pgd, from the events that made it), `kernel`
 * (swapper_pg_dir) or `cr3=ADDR`.
 */
#include <string.h>

#include "lang.h"
#include "session.h"

static const struct {
	const char *name;
	enum pw_field_kind kind;
} walk_fields[] = {
	{ "present", PW_FIELD_BOOL }, { "writable", PW_FIELD_BOOL }, { "user", PW_FIELD_BOOL },
	{ "nx", PW_FIELD_BOOL }, { "accessed", PW_FIELD_BOOL }, { "dirty", PW_FIELD_BOOL },
	{ "rsvd", PW_FIELD_BOOL }, { "level", PW_FIELD_U }, { "phys", PW_FIELD_HEX },
	{ "frame", PW_FIELD_HEX }, { "pkey", PW_FIELD_U },
};

static uint64_t walk_field(const struct vm_walk *w, unsigned int i)
{
	const uint64_t v[] = { w->present, w->writable, w->user, w->nx, w->accessed, w->dirty,
			       w->rsvd, w->level, w->phys, w->phys >> 12, w->pkey };

	return v[i];
}

/* swapper_pg_dir, as the guest reported it at boot. */
static bool kernel_pgd(struct session *s, uint64_t *pgd)
{
	size_t n;
	const struct pw_event *ev = vm_events(s->vm, &n);

	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == PW_EV_KERNEL_PGD) {
			*pgd = ev[i].u.kernel_pgd.phys;
			return true;
		}
	}
	return fail(s, "no kernel_pgd event yet: the guest has not booted (run an op first)");
}

/* TASK, `kernel` or `cr3=ADDR`; a description of it in `what`. */
static bool parse_tables(struct session *s, struct cursor *c, struct vm_paging *pg, char *what,
			 size_t len)
{
	bool kernel = tok_accept(c, "kernel"), cr3 = !kernel && tok_accept(c, "cr3");
	struct val v = { 0, PW_FIELD_TASK };

	if (cr3 && !tok_accept(c, "="))
		return fail(s, "column %u: cr3=ADDR", tok_peek(c)->col);
	if (!kernel && !parse_expr(s, c, cr3 ? PW_FIELD_HEX : PW_FIELD_TASK, &v))
		return false;
	if (!s->vm)
		return true;
	if (kernel) {
		if (!task_paging(s, 0, pg) || !kernel_pgd(s, &pg->cr3))
			return false;
		snprintf(what, len, "kernel (swapper_pg_dir %#lx)", (unsigned long)pg->cr3);
		return true;
	}
	if (!task_paging(s, cr3 ? 0 : v.v, pg))
		return false;
	if (cr3) {
		pg->cr3 = v.v;
		snprintf(what, len, "CR3 %#lx", (unsigned long)pg->cr3);
	} else {
		snprintf(what, len, "task %lu (pgd %#lx)", (unsigned long)v.v, (unsigned long)pg->cr3);
	}
	return true;
}

static bool do_walk(struct session *s, const struct vm_paging *pg, uint64_t va, struct vm_walk *w)
{
	if (vm_walk(s->vm, pg, va, w) != VMM_OK)
		return fail(s, "%#lx: not a canonical address, or cpu 0 not in long mode",
			    (unsigned long)va);
	return true;
}

bool eval_walk(struct session *s, struct cursor *c, struct val *out)
{
	struct vm_paging pg;
	struct vm_walk w;
	const struct token *t;
	struct val va;
	char what[128];

	if (!parse_tables(s, c, &pg, what, sizeof(what)))
		return false;
	if (!tok_accept(c, ","))
		return fail(s, "column %u: walk(TASK, ADDR).FIELD", tok_peek(c)->col);
	if (!parse_expr(s, c, PW_FIELD_HEX, &va))
		return false;
	if (!tok_accept(c, ")") || !tok_accept(c, "."))
		return fail(s, "column %u: walk(TASK, ADDR).FIELD", tok_peek(c)->col);
	t = tok_next(c);
	for (unsigned int i = 0; i < sizeof(walk_fields) / sizeof(walk_fields[0]); i++) {
		if (strcmp(t->text, walk_fields[i].name))
			continue;
		*out = (struct val){ 0, walk_fields[i].kind };
		if (s->vm && !do_walk(s, &pg, va.v, &w))
			return false;
		out->v = s->vm ? walk_field(&w, i) : 0;
		return true;
	}
	return fail(s, "column %u: a walk has no field '%s' (present writable user nx accessed dirty "
		    "rsvd level phys frame pkey)", t->col, t->text);
}

static const char *level_name(const struct vm_paging *pg, unsigned int level)
{
	static const char *const names[] = { "", "pte", "pmd", "pud", "p4d", "pgd" };

	return level == vm_paging_levels(pg) ? "pgd" : names[level];
}

bool cmd_walk(struct session *s, struct cursor *c)
{
	unsigned int top, l;
	struct vm_paging pg;
	struct vm_walk w;
	struct val va;
	char what[128];

	if (!parse_tables(s, c, &pg, what, sizeof(what)) || !parse_expr(s, c, PW_FIELD_HEX, &va))
		return false;
	if (!tok_end(c))
		return fail(s, "column %u: walk TASK ADDR, then nothing", tok_peek(c)->col);
	if (!s->vm)
		return true;
	if (!do_walk(s, &pg, va.v, &w))
		return false;
	fprintf(s->out, "walk %#lx in %s:", (unsigned long)va.v, what);
	top = vm_paging_levels(&pg);
	for (l = top; l >= w.level && l >= 1; l--)
		fprintf(s->out, " %s[%lu]=%#lx", level_name(&pg, l),
			(unsigned long)vm_walk_index(&pg, va.v, l), (unsigned long)w.entries[l - 1]);
	if (w.present)
		fprintf(s->out, "\n  %s page, phys %#lx: %s %s %s%s%s\n", vm_walk_page_size(&pg, w.level),
			(unsigned long)w.phys, w.user ? "user" : "kernel", w.writable ? "rw" : "ro",
			w.nx ? "nx" : "x", w.accessed ? " accessed" : "", w.dirty ? " dirty" : "");
	else
		fprintf(s->out, "\n  no page: %s at the %s\n",
			w.rsvd ? "a reserved bit set" : w.outside_ram ? "a table outside RAM" : "not present",
			level_name(&pg, w.level));
	return true;
}

bool cmd_ptdump(struct session *s, struct cursor *c)
{
	struct vm_paging pg;
	char what[128];

	if (tok_end(c)) {
		if (!s->vm)
			return true;
		if (!task_paging(s, 0, &pg))
			return false;
		snprintf(what, sizeof(what), "cpu 0, CR3 %#lx", (unsigned long)pg.cr3);
	} else if (!parse_tables(s, c, &pg, what, sizeof(what))) {
		return false;
	}
	if (!tok_end(c))
		return fail(s, "column %u: ptdump [TASK | kernel | cr3=ADDR], then nothing", tok_peek(c)->col);
	if (!s->vm)
		return true;
	fprintf(s->out, "page tables of %s:\n", what);
	switch (vm_ptdump(s->vm, &pg, s->out)) {
	case VMM_OK:
		return true;
	case VMM_BAD_INPUT:
		return fail(s, "ptdump: cpu 0 is not in long mode");
	case VMM_INTERNAL:
		return fail(s, "ptdump: out of memory");
	default:
		return fail(s, "ptdump: CR3 %#lx is outside guest RAM", (unsigned long)pg.cr3);
	}
}

bool cmd_invariants(struct session *s, struct cursor *c)
{
	char report[4096];
	enum vmm_status st;

	if (!tok_end(c))
		return fail(s, "column %u: invariants takes nothing", tok_peek(c)->col);
	if (!s->vm)
		return true;
	st = vm_check_invariants(s->vm, report, sizeof(report));
	report_check(s, st == VMM_OK, "invariants", st == VMM_OK ? "" : report);
	return true;
}
