/*
 * What a profile counted: the totals and one symbol's counts for tests, a
 * `perf report`-like table, and folded stacks for flamegraph.pl.
 */
#include <stdlib.h>
#include <string.h>

#include "profile.h"

static const char *sym_name(const struct vm *vm, uint32_t id)
{
	return id < vm->img.nsyms ? vm->img.syms[id].name : "[unknown]";
}

void vm_profile_totals(const struct vm *vm, struct vm_profile_totals *t)
{
	const struct profile *p = vm->profile;

	*t = (struct vm_profile_totals){ 0 };
	if (!p || !p->c.self)
		return;
	*t = (struct vm_profile_totals){ .hz = p->hz, .ring0 = p->c.ring0, .ring3 = p->c.ring3,
					 .rep_iterations = p->c.rep_iterations,
					 .ring3_entries = p->c.ring3_entries, .steps_lost = p->c.steps_lost,
					 .handlers_stepped = !p->hz && p->breakpoints > 0 };
}

bool vm_profile_symbol(const struct vm *vm, const char *name, uint64_t *self, uint64_t *inclusive)
{
	const struct profile *p = vm->profile;
	bool found = false;

	*self = *inclusive = 0;
	if (!p || !p->c.self)
		return false;
	/* Aliases (a label at a function's address) share its counts: take each index once. */
	for (size_t i = 0; i <= vm->img.nsyms; i++)
		if (!strcmp(sym_name(vm, i), name)) {
			*self += p->c.self[i];
			*inclusive += p->c.total[i];
			found = true;
		}
	return found;
}

bool vm_profile_mark(const struct vm *vm, size_t n, struct vm_profile_mark *m)
{
	const struct profile *p = vm->profile;

	if (!p || !p->c.self || n >= p->c.nmarks)
		return false;
	*m = p->c.marks[n];
	return true;
}

bool vm_profile_between(const struct vm *vm, uint64_t from, uint64_t to, uint64_t *ring0)
{
	const struct profile *p = vm->profile;
	size_t i = 0;

	*ring0 = 0;
	if (!p || !p->c.self)
		return false;
	while (i < p->c.nmarks && p->c.marks[i].id != from)
		i++;
	for (size_t j = i + 1; j < p->c.nmarks; j++)
		if (p->c.marks[j].id == to && p->c.marks[j].cpu == p->c.marks[i].cpu) {
			*ring0 = p->c.marks[j].ring0 - p->c.marks[i].ring0;
			return true;
		}
	return false;
}

struct row {
	uint64_t self, total;
	uint32_t id;
};

static int by_self(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static double pct(uint64_t n, uint64_t of)
{
	return of ? 100.0 * n / of : 0;
}

enum vmm_status vm_profile_report(const struct vm *vm, FILE *f)
{
	const struct profile *p = vm->profile;
	const char *what;
	struct row *rows;
	size_t n = 0;

	if (!p || !p->c.self)
		return VMM_BAD_INPUT;
	rows = malloc((vm->img.nsyms + 1) * sizeof(*rows));
	if (!rows)
		return VMM_INTERNAL;
	for (size_t i = 0; i <= vm->img.nsyms; i++)
		if (p->c.total[i])
			rows[n++] = (struct row){ p->c.self[i], p->c.total[i], i };
	qsort(rows, n, sizeof(*rows), by_self);
	what = p->hz ? "samples" : "instructions";
	if (p->hz)
		fprintf(f, "# ring 0: %lu samples at %u Hz (RIP when the vCPU was kicked)\n",
			(unsigned long)p->c.ring0, p->hz);
	else
		fprintf(f, "# ring 0: %lu instructions, single-stepped (rep string iterations after "
			"the first: %lu more steps)\n",
			(unsigned long)p->c.ring0, (unsigned long)p->c.rep_iterations);
	fprintf(f, "# ring 3: %lu %s, not below; entered %lu times by %s%s\n",
		(unsigned long)p->c.ring3, what, (unsigned long)p->c.ring3_entries,
		PW_PAGING_32(vm->levels) ? "iret" : "iretq",
		!p->hz && p->c.ring3_entries && !p->c.ring3 ? " (not single-stepped there)" : "");
	if (p->c.steps_lost) {
		char sym[128];

		fprintf(f, "# single-step lost %lu times: KVM stopped stepping and the guest ran on uncounted "
			"(first found at the exit at RIP %#lx %s): the counts are short\n",
			(unsigned long)p->c.steps_lost, (unsigned long)p->c.lost_rip,
			vm_symbolise(vm, p->c.lost_rip, sym, sizeof(sym)));
	}
	if (!p->hz && p->breakpoints <= 0)
		fprintf(f, "# exception handlers the CPU enters itself (a #PF from ring 0; from ring 3 under "
			"NPT or EPT) not stepped: this host's execution breakpoints never fire\n");
	if (p->c.stacks_lost)
		fprintf(f, "# %lu call stacks not kept (out of memory): Children and folded stacks short\n",
			(unsigned long)p->c.stacks_lost);
	for (size_t i = 0; !p->hz && i < p->c.nmarks; i++)
		fprintf(f, "# mark %lu on cpu %u: after %lu ring-0 instructions of that cpu\n",
			(unsigned long)p->c.marks[i].id, p->c.marks[i].cpu, (unsigned long)p->c.marks[i].ring0);
	if (p->c.marks_lost)
		fprintf(f, "# %lu marks not kept (out of memory)\n", (unsigned long)p->c.marks_lost);
	fprintf(f, "#\n# Overhead %12s  Children %12s  Symbol\n", p->hz ? "Samples" : "Instructions",
		"Inclusive");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %7.2f%% %12lu  %7.2f%% %12lu  %s\n", pct(rows[i].self, p->c.ring0),
			(unsigned long)rows[i].self, pct(rows[i].total, p->c.ring0),
			(unsigned long)rows[i].total, sym_name(vm, rows[i].id));
	free(rows);
	return ferror(f) ? VMM_INTERNAL : VMM_OK;
}

/* Folded stacks separate frames with ';' and the count with ' ': neither may be in a name. */
static void put_frame(const char *name, FILE *f)
{
	for (; *name; name++)
		fputc(*name == ';' || *name == ' ' ? '_' : *name, f);
}

enum vmm_status vm_profile_folded(const struct vm *vm, FILE *f)
{
	const struct profile *p = vm->profile;

	if (!p || !p->c.self)
		return VMM_BAD_INPUT;
	for (size_t i = 0; i < p->c.cap; i++) {
		const struct profile_stack *s = &p->c.stacks[i];

		if (!s->ids)
			continue;
		for (uint32_t d = s->depth; d-- > 0;) {
			put_frame(sym_name(vm, s->ids[d]), f);
			fputc(d ? ';' : ' ', f);
		}
		fprintf(f, "%lu\n", (unsigned long)s->count);
	}
	return ferror(f) ? VMM_INTERNAL : VMM_OK;
}
