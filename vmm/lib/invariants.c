/*
 * The invariant checker tests run when a guest stops: what the guest said
 * it did (its recorded events) against what its page tables in RAM hold.
 *   - every present entry under a live pgd points inside guest RAM;
 *   - per mm, the PUD, PMD and PTE tables the host finds in the user half
 *     are the ones the events say were installed and not freed;
 *   - no page is writable from ring 3 in two mms (copy-on-write after fork);
 *   - under --kernel-sync prealloc, every pgd's kernel half is
 *     byte-identical to swapper_pg_dir's.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_MMS		128

struct mm_seen {
	uint64_t id, pgd;
	bool live;
	int64_t tables[3];	/* [PW_LEVEL_* - 1], PTE to PUD: installed per the events */
	uint64_t found[3];	/* the same, found in RAM */
};

struct checker {
	struct vm *vm;
	char *report;
	size_t len, used;
	unsigned int violations;
	uint64_t (*writable)[2];	/* (pfn, mm) of every user-writable 4 KiB leaf */
	size_t nwritable, capwritable;
};

static void violation(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void violation(struct checker *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->violations++ >= 8 || c->used >= c->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->report + c->used, c->len - c->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->used += (size_t)n < c->len - c->used ? (size_t)n : c->len - c->used - 1;
}

static bool read_entry(struct vm *vm, uint64_t table, unsigned int i, uint64_t *e)
{
	return vm_read_phys(vm, table + i * 8, e, 8) == 0;
}

/* The tables under a level-`level` table (4 = pgd), entries first..last. */
static void walk(struct checker *c, struct mm_seen *mm, uint64_t table, unsigned int level,
		 unsigned int first, unsigned int last)
{
	for (unsigned int i = first; i <= last; i++) {
		uint64_t e, next;

		if (!read_entry(c->vm, table, i, &e) || !(e & PT_PRESENT))
			continue;
		next = e & PT_ADDR_MASK;
		if (!ram_ptr(&c->vm->ram, next, 4096)) {
			violation(c, "mm %lu: level-%u entry %#lx points outside RAM; ",
				  (unsigned long)mm->id, level, (unsigned long)e);
			continue;
		}
		if (level == 1) {
			if ((e & (PT_RW | PT_USER)) == (PT_RW | PT_USER)) {
				if (c->nwritable == c->capwritable) {
					c->capwritable = c->capwritable ? 2 * c->capwritable : 256;
					c->writable = realloc(c->writable, c->capwritable * sizeof(*c->writable));
					if (!c->writable)
						abort();
				}
				c->writable[c->nwritable][0] = next >> 12;
				c->writable[c->nwritable++][1] = mm->id;
			}
			continue;
		}
		if (e & PT_PSE)
			continue;	/* a large page: no table below */
		mm->found[level - 2]++;		/* the table below is one level down */
		walk(c, mm, next, level - 1, 0, 511);
	}
}

static int cmp_pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

static struct mm_seen *mm_of(struct mm_seen *mms, unsigned int *n, uint64_t id)
{
	for (unsigned int i = 0; i < *n; i++)
		if (mms[i].id == id)
			return &mms[i];
	if (*n == MAX_MMS)
		return NULL;
	mms[*n] = (struct mm_seen){ .id = id };
	return &mms[(*n)++];
}

enum vmm_status vm_check_invariants(struct vm *vm, char *report, size_t len)
{
	struct checker c = { .vm = vm, .report = report, .len = len };
	struct mm_seen *mms = calloc(MAX_MMS, sizeof(*mms));
	uint64_t swapper = 0, sync = 0;
	unsigned int nmms = 0;

	report[0] = '\0';
	if (!vm->cfg.record || !mms) {
		free(mms);
		snprintf(report, len, "vm_check_invariants needs the recorded events (cfg.record)");
		return VMM_BAD_INPUT;
	}
	for (size_t i = 0; i < vm->nevents; i++) {
		const struct pw_event *ev = &vm->events[i];
		struct mm_seen *mm;

		switch (ev->type) {
		case PW_EV_KERNEL_PGD:
			swapper = ev->args[0];
			sync = ev->args[1];
			break;
		case PW_EV_PGD_CTOR:
		case PW_EV_PGD_DTOR:
			mm = mm_of(mms, &nmms, ev->args[0]);
			if (mm) {
				mm->pgd = ev->args[1];
				mm->live = ev->type == PW_EV_PGD_CTOR;
			}
			break;
		case PW_EV_PGTABLE_ALLOC:
		case PW_EV_PGTABLE_FREE:
			if (!ev->args[2] || ev->args[0] < PW_LEVEL_PTE || ev->args[0] > PW_LEVEL_PUD)
				break;	/* init_mm's, or a pgd */
			mm = mm_of(mms, &nmms, ev->args[2]);
			if (mm)
				mm->tables[ev->args[0] - 1] += ev->type == PW_EV_PGTABLE_ALLOC ? 1 : -1;
			break;
		}
	}
	for (unsigned int i = 0; i < nmms; i++) {
		struct mm_seen *mm = &mms[i];

		if (!mm->live)
			continue;
		walk(&c, mm, mm->pgd, 4, 0, 255);
		for (unsigned int l = PW_LEVEL_PTE; l <= PW_LEVEL_PUD; l++)
			if ((int64_t)mm->found[l - 1] != mm->tables[l - 1])
				violation(&c, "mm %lu: %lu level-%u tables in RAM, %ld per its events; ",
					  (unsigned long)mm->id, (unsigned long)mm->found[l - 1], l,
					  (long)mm->tables[l - 1]);
		if (swapper && sync == PW_SYNC_PREALLOC) {
			uint64_t mine[256], ref[256];

			if (vm_read_phys(vm, mm->pgd + 2048, mine, sizeof(mine)) ||
			    vm_read_phys(vm, swapper + 2048, ref, sizeof(ref)) || memcmp(mine, ref, sizeof(ref)))
				violation(&c, "mm %lu: kernel half differs from swapper_pg_dir; ",
					  (unsigned long)mm->id);
		}
	}
	if (c.nwritable)
		qsort(c.writable, c.nwritable, sizeof(*c.writable), cmp_pair);
	for (size_t i = 1; i < c.nwritable; i++)
		if (c.writable[i][0] == c.writable[i - 1][0] && c.writable[i][1] != c.writable[i - 1][1])
			violation(&c, "pfn %#lx writable in mm %lu and mm %lu; ",
				  (unsigned long)c.writable[i][0], (unsigned long)c.writable[i - 1][1],
				  (unsigned long)c.writable[i][1]);
	free(c.writable);
	free(mms);
	return c.violations ? VMM_GUEST_ERROR : VMM_OK;
}
