/*
 * The invariant checker tests run when a guest stops: what the guest said
 * it did (its recorded events) against what its page tables in RAM hold.
 *   - every present entry under a live pgd points inside guest RAM;
 *   - per mm, the P4D (with LA57), PUD, PMD and PTE tables the host finds in
 *     the user half are the ones the events say were installed and not freed
 *     (i386: only the levels it has, PMD and PTE with PAE, PTE two-level);
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
	int64_t tables[4];	/* [PW_LEVEL_* - 1], PTE to P4D: installed per the events */
	uint64_t found[4];	/* the same, found in RAM */
};

/*
 * Per page of RAM, whether it was walked as a user table, and which mm
 * (index + 1) first mapped it writable from ring 3: memory linear in RAM
 * and each table walked once, however the guest aliased its tables.
 */
struct checker {
	struct vm *vm;
	char *report;
	size_t len, used;
	unsigned int violations;
	const struct mm_seen *mms;
	uint8_t *table_seen;
	uint8_t *writer;
	struct mmu mmu;		/* the boot paging mode's geometry */
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

/*
 * The tables under a level-`level` table (the pgd: 4, or 5 with LA57;
 * i386's page directory 2, PAE's PDPT 3), entries first..last.
 */
static void walk(struct checker *c, struct mm_seen *mm, uint64_t table, unsigned int level,
		 unsigned int first, unsigned int last)
{
	for (unsigned int i = first; i <= last; i++) {
		uint64_t e, next;

		if (!mmu_read(c->vm, &c->mmu, table, level, i, &e) || !(e & PT_PRESENT))
			continue;
		next = mmu_table_addr(&c->mmu, e, level - 1);
		if (!ram_ptr(&c->vm->ram, next, 4096)) {
			violation(c, "mm %lu: level-%u entry %#lx points outside RAM; ",
				  (unsigned long)mm->id, level, (unsigned long)e);
			continue;
		}
		if (level == 1) {
			uint8_t *w = &c->writer[next >> 12];
			uint8_t me = mm - c->mms + 1;

			if ((e & (PT_RW | PT_USER)) != (PT_RW | PT_USER))
				continue;
			if (!*w)
				*w = me;
			else if (*w != me)
				violation(c, "pfn %#lx writable in mm %lu and mm %lu; ",
					  (unsigned long)(next >> 12), (unsigned long)c->mms[*w - 1].id,
					  (unsigned long)mm->id);
			continue;
		}
		if (pt_classify(&c->mmu, level, e) != PT_TABLE)
			continue;	/* a large page (or reserved bits): no table below */
		if (c->table_seen[next >> 12]) {
			violation(c, "mm %lu: level-%u table %#lx reached again: tables alias; ",
				  (unsigned long)mm->id, level - 1, (unsigned long)next);
			continue;
		}
		c->table_seen[next >> 12] = 1;
		mm->found[level - 2]++;		/* the table below is one level down */
		walk(c, mm, next, level - 1, 0, mmu_entries(&c->mmu, level - 1) - 1);
	}
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

static void pgd_seen(struct mm_seen *mms, unsigned int *n, uint64_t id, uint64_t pgd, bool live)
{
	struct mm_seen *mm = mm_of(mms, n, id);

	if (mm) {
		mm->pgd = pgd;
		mm->live = live;
	}
}

/* A P4D, PUD, PMD or PTE table of a user mm (not init_mm's, not a pgd) allocated or freed. */
static void table_seen(struct mm_seen *mms, unsigned int *n, uint64_t id, uint64_t level, int delta)
{
	struct mm_seen *mm;

	if (!id || level < PW_LEVEL_PTE || level > PW_LEVEL_P4D)
		return;
	mm = mm_of(mms, n, id);
	if (mm)
		mm->tables[level - 1] += delta;
}

enum vmm_status vm_check_invariants(struct vm *vm, char *report, size_t len)
{
	struct checker c = { .vm = vm, .report = report, .len = len };
	struct mm_seen *mms = calloc(MAX_MMS, sizeof(*mms));
	uint64_t swapper = 0, sync = 0, npages = ram_end(&vm->ram) >> 12;
	unsigned int nmms = 0;
	enum vmm_status s = VMM_OK;
	/* Top-table entries below the kernel's: TASK_SIZE / PGDIR_SIZE. */
	unsigned int user_entries = PW_PAGING_32(vm->levels) ?
		(unsigned int)(PW_PAGE_OFFSET_32 >> (vm->levels == 2 ? 22 : 30)) : 256;

	_Static_assert(MAX_MMS < 256, "writer[] holds an mm index + 1 in a byte");
	report[0] = '\0';
	if (!vm->cfg.record) {
		free(mms);
		snprintf(report, len, "vm_check_invariants needs the recorded events (cfg.record)");
		return VMM_BAD_INPUT;
	}
	/* The mode the VM booted in, with every feature its CPUID offers (EFER.NXE, CR4.PSE). */
	mmu_init(vm, &(struct vm_paging){
		.cr0 = X86_CR0_PG,
		.cr4 = vm->levels == 5 ? X86_CR4_LA57 : vm->levels == 3 ? X86_CR4_PAE : X86_CR4_PSE,
		.efer = (vm->levels >= 4 ? EFER_LMA : 0) | (vm->nx ? EFER_NXE : 0) }, &c.mmu);
	c.mms = mms;
	c.table_seen = calloc(npages, 1);
	c.writer = calloc(npages, 1);
	if (!mms || !c.table_seen || !c.writer) {
		snprintf(report, len, "out of memory");
		s = VMM_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < vm->nevents; i++) {
		const struct pw_event *ev = &vm->events[i];

		switch (ev->type) {
		case PW_EV_KERNEL_PGD:
			swapper = ev->u.kernel_pgd.phys;
			sync = ev->u.kernel_pgd.sync;
			break;
		case PW_EV_PGD_CTOR:
			pgd_seen(mms, &nmms, ev->u.pgd_ctor.mm, ev->u.pgd_ctor.phys, true);
			break;
		case PW_EV_PGD_DTOR:
			pgd_seen(mms, &nmms, ev->u.pgd_dtor.mm, ev->u.pgd_dtor.phys, false);
			break;
		case PW_EV_PGTABLE_ALLOC:
			table_seen(mms, &nmms, ev->u.pgtable_alloc.mm, ev->u.pgtable_alloc.level, 1);
			break;
		case PW_EV_PGTABLE_FREE:
			table_seen(mms, &nmms, ev->u.pgtable_free.mm, ev->u.pgtable_free.level, -1);
			break;
		}
	}
	for (unsigned int i = 0; i < nmms; i++) {
		struct mm_seen *mm = &mms[i];

		if (!mm->live)
			continue;
		/* The user half: entries 0-255 of the top table in both long modes, below KERNEL_PGD_BOUNDARY on i386. */
		walk(&c, mm, mm->pgd, vm->levels, 0, user_entries - 1);
		for (unsigned int l = PW_LEVEL_PTE; l <= PW_LEVEL_P4D; l++)
			if ((int64_t)mm->found[l - 1] != mm->tables[l - 1])
				violation(&c, "mm %lu: %lu level-%u tables in RAM, %ld per its events; ",
					  (unsigned long)mm->id, (unsigned long)mm->found[l - 1], l,
					  (long)mm->tables[l - 1]);
		if (swapper && sync == PW_SYNC_PREALLOC) {
			uint64_t mine[256], ref[256];
			size_t entry = vm->levels == 2 ? 4 : 8;
			size_t half = (mmu_entries(&c.mmu, vm->levels) - user_entries) * entry;

			if (vm_read_phys(vm, mm->pgd + user_entries * entry, mine, half) ||
			    vm_read_phys(vm, swapper + user_entries * entry, ref, half) || memcmp(mine, ref, half))
				violation(&c, "mm %lu: kernel half differs from swapper_pg_dir; ",
					  (unsigned long)mm->id);
		}
	}
	s = c.violations ? VMM_GUEST_ERROR : VMM_OK;
out:
	free(c.table_seen);
	free(c.writer);
	free(mms);
	return s;
}
