/*
 * Guest page tables in the format of Linux's ptdump
 * (arch/x86/mm/dump_pagetables.c, /sys/kernel/debug/page_tables/): markers
 * for the regions of the address space, then runs of entries merged while
 * level and flags stay the same, each with its size, flags and level.
 *
 * Guest tables may alias: a PML4 whose 512 entries all point at one PDPT,
 * and so on down, reaches 512^4 PTEs from four pages.  A table page is
 * expanded at most MAX_EXPANSIONS times at one level (the VMM's own boot
 * tables reach their first PD three times: identity, direct map, kernel
 * map), after that its entry says "(table shown before)"; and the output
 * stops after MAX_LINES lines.  Time and memory are linear in guest RAM.
 */
#include <stdlib.h>

#include <pagewalk/layout.h>

#include "internal.h"

struct marker {
	uint64_t start;
	const char *name;
};

/*
 * Linux's address_markers[], which pt_dump_init() fills in at boot with
 * PAGE_OFFSET and VMALLOC_START of the paging mode: the same regions, moved.
 */
static void init_markers(struct marker m[6], unsigned int levels)
{
	m[0] = (struct marker){ 0, "User Space" };
	m[1] = (struct marker){ 1ULL << 63, "Kernel Space" };
	m[2] = (struct marker){ PW_PAGE_OFFSET(levels), "Low Kernel Mapping" };
	m[3] = (struct marker){ PW_VMALLOC_START(levels), "vmalloc() Area" };
	m[4] = (struct marker){ PW_START_KERNEL_MAP, "High Kernel Mapping" };
	m[5] = (struct marker){ ~0ULL, NULL };
}

#define MAX_EXPANSIONS	4
#define MAX_LINES	100000
#define MAX_LEVELS	6		/* index by level, 1 to 5 */

struct dump {
	const struct vm *vm;
	uint8_t *expanded;		/* [pfn * MAX_LEVELS + level]: times shown */
	uint64_t npages;
	unsigned long lines;
	const struct mmu *mmu;
	FILE *f;
	const struct marker *marker;	/* the region being printed */
	uint64_t start;			/* of the current run */
	uint64_t flags;			/* its shown flags, 0 if not present */
	unsigned int level;		/* 0 before the first entry */
	const char *why;		/* what is wrong with its entries, or NULL */
};

/* The bits ptdump prints; bit 7 is PAT in a PTE, PS above, with PAT at bit 12. */
static uint64_t shown_flags(unsigned int level, uint64_t e)
{
	uint64_t mask = PT_PRESENT | PT_RW | PT_USER | PT_PWT | PT_PCD | PT_PSE | PT_GLOBAL | PT_NX;

	if (!(e & PT_PRESENT))
		return 0;
	if ((level == 2 || level == 3) && (e & PT_PSE))
		mask |= PT_PAT_LARGE;
	return e & mask;
}

/* The top table is the pgd whatever its level, as the guest's events say. */
static const char *level_name(const struct dump *d, unsigned int level)
{
	static const char *const names[] = { "", "pte", "pmd", "pud", "p4d" };

	return level == d->mmu->levels ? "pgd" : names[level];
}

/* One line: "0x<start>-0x<end>   <size> <flags> <level>", Linux's columns. */
static void print_run(struct dump *d, uint64_t end)
{
	static const char units[] = "BKMGTPE";
	const char *unit = units;
	uint64_t delta = end - d->start, fl = d->flags;
	bool pat = d->level == 1 ? fl & PT_PSE : fl & PT_PAT_LARGE;

	if (d->lines++ >= MAX_LINES)
		return;
	fprintf(d->f, "0x%016llx-0x%016llx   ", (unsigned long long)d->start,
		(unsigned long long)end);
	while (!(delta & 1023) && unit[1]) {
		delta >>= 10;
		unit++;
	}
	fprintf(d->f, "%9llu%c ", (unsigned long long)delta, *unit);
	if (fl & PT_PRESENT)
		fprintf(d->f, "%s%s%s%s%s%s%s%s", fl & PT_USER ? "USR " : "    ",
			fl & PT_RW ? "RW " : "ro ", fl & PT_PWT ? "PWT " : "    ",
			fl & PT_PCD ? "PCD " : "    ",
			d->level > 1 && (fl & PT_PSE) ? "PSE " : "    ", pat ? "PAT " : "    ",
			fl & PT_GLOBAL ? "GLB " : "    ", fl & PT_NX ? "NX " : "x  ");
	else
		fprintf(d->f, "%30s", "");
	fprintf(d->f, "%s%s%s\n", level_name(d, d->level), d->why ? " " : "", d->why ? d->why : "");
}

/* Linux's note_page(): extend the current run, or print it and start another. */
static void note(struct dump *d, uint64_t va, unsigned int level, uint64_t flags, const char *why)
{
	if (d->level == level && d->flags == flags && d->why == why && va < d->marker[1].start)
		return;
	if (d->level)
		print_run(d, va);
	while (va >= d->marker[1].start) {
		d->marker++;
		fprintf(d->f, "---[ %s ]---\n", d->marker->name);
	}
	d->start = va;
	d->flags = flags;
	d->level = level;
	d->why = why;
}

/* False once the level-`level` table `entry` points to has been shown enough. */
static bool expand_again(struct dump *d, uint64_t entry, unsigned int level)
{
	uint64_t pfn = (entry & PT_ADDR_MASK) >> 12;
	uint8_t *n;

	if (pfn >= d->npages)
		return true;	/* dump_table() says it is outside RAM */
	n = &d->expanded[pfn * MAX_LEVELS + level];
	if (*n == MAX_EXPANSIONS)
		return false;
	++*n;
	return true;
}

/* The level-`level` table `entry` points to, covering from `base` on. */
static void dump_table(struct dump *d, uint64_t entry, unsigned int level, uint64_t base)
{
	unsigned int unused = 64 - pt_shift(d->mmu->levels + 1);
	uint64_t e;

	if (!pt_read(d->vm, entry, 0, &e)) {
		note(d, base, level + 1, shown_flags(level + 1, entry), "(table outside RAM)");
		return;
	}
	for (unsigned int i = 0; i < 512 && d->lines < MAX_LINES; i++) {
		uint64_t va = base + ((uint64_t)i << pt_shift(level));

		/* The upper half of the top table is the kernel's: sign-extend. */
		va = (uint64_t)((int64_t)(va << unused) >> unused);
		pt_read(d->vm, entry, i, &e);	/* in RAM: index 0 was */
		switch (pt_classify(d->mmu, level, e)) {
		case PT_NONE:
			note(d, va, level, 0, NULL);
			break;
		case PT_LEAF:
			note(d, va, level, shown_flags(level, e), NULL);
			break;
		case PT_RSVD:
			note(d, va, level, shown_flags(level, e), "(reserved bits)");
			break;
		case PT_TABLE:
			if (expand_again(d, e, level - 1))
				dump_table(d, e, level - 1, va);
			else
				note(d, va, level, shown_flags(level, e), "(table shown before)");
			break;
		}
	}
}

enum vmm_status vm_ptdump(const struct vm *vm, const struct vm_paging *pg, FILE *f)
{
	struct marker markers[6];
	struct mmu mmu;
	struct dump d = { .vm = vm, .mmu = &mmu, .f = f, .marker = markers };
	uint64_t e;

	if (mmu_init(vm, pg, &mmu))
		return VMM_BAD_INPUT;
	init_markers(markers, mmu.levels);
	if (!pt_read(vm, pg->cr3, 0, &e))
		return VMM_GUEST_ERROR;
	d.npages = ram_end(&vm->ram) >> 12;
	d.expanded = calloc(d.npages, MAX_LEVELS);
	if (!d.expanded)
		return VMM_INTERNAL;
	fprintf(f, "---[ %s ]---\n", markers[0].name);
	dump_table(&d, pg->cr3, mmu.levels, 0);
	/* The run that reaches the top of the address space ends at 0, as in Linux. */
	print_run(&d, 0);
	if (d.lines > MAX_LINES)
		fprintf(f, "... stopped after %d lines\n", MAX_LINES);
	free(d.expanded);
	return VMM_OK;
}
