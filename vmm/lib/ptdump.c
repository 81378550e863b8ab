/*
 * Guest page tables as Linux prints them (/sys/kernel/debug/page_tables/):
 * mm/ptdump.c's ptdump_walk_pgd() over two ranges, user space and the
 * kernel half past the hypervisor's guard hole, feeding note_page(),
 * effective_prot() and printk_prot() of arch/x86/mm/dump_pagetables.c
 * (Linux 6.16), then the W+X check's summary line.
 *
 * Extensions Linux has no need of: an entry with reserved bits set, or a
 * table outside guest RAM, ends its run with "(reserved bits)" or "(table
 * outside RAM)".  Guest tables may alias: a PML4 whose 512 entries all
 * point at one PDPT, and so on down, reaches 512^4 PTEs from four pages.
 * A table page is expanded at most MAX_EXPANSIONS times at one level (the
 * VMM's boot tables reach their first PD three times: identity, direct
 * map, kernel map), then its entry says "(table shown before)"; and the
 * output stops after MAX_LINES lines.  Time and memory stay linear in RAM.
 */
#include <stdlib.h>

#include <pagewalk/layout.h>

#include "internal.h"

struct marker {
	uint64_t start;
	const char *name;
	unsigned long max_lines;	/* 0: no limit */
};

#define NMARKERS	14

/*
 * address_markers[] for x86_64_defconfig (MODIFY_LDT_SYSCALL, X86_ESPFIX64
 * and EFI, no KASAN), in Linux's order, as pt_dump_init() fills in those
 * that move with the paging mode (layout.h).
 */
static void init_markers(struct marker m[NMARKERS], unsigned int levels)
{
	const struct marker linux_markers[NMARKERS] = {
		{ 0, "User Space", 0 },
		{ 1ULL << 63, "Kernel Space", 0 },
		{ PW_LDT_BASE(levels), "LDT remap", 0 },
		{ PW_PAGE_OFFSET(levels), "Low Kernel Mapping", 0 },
		{ PW_VMALLOC_START(levels), "vmalloc() Area", 0 },
		{ PW_VMEMMAP_START(levels), "Vmemmap", 0 },
		{ PW_CPU_ENTRY_AREA_BASE, "CPU entry Area", 0 },
		{ PW_ESPFIX_BASE, "ESPfix Area", 16 },
		{ PW_EFI_VA_END, "EFI Runtime Services", 0 },
		{ PW_START_KERNEL_MAP, "High Kernel Mapping", 0 },
		{ PW_MODULES_VADDR, "Modules", 0 },
		{ PW_MODULES_END, "End Modules", 0 },
		{ PW_FIXADDR_START, "Fixmap Area", 0 },
		{ ~0ULL, NULL, 0 },
	};

	for (unsigned int i = 0; i < NMARKERS; i++)
		m[i] = linux_markers[i];
}

/*
 * i386's address_markers[] (the !CONFIG_X86_64 half of
 * dump_pagetables.c) as far as this layout has them: user space, the
 * direct map at PAGE_OFFSET and vmalloc from VMALLOC_START, high_memory
 * plus VMALLOC_OFFSET (8 MiB; pgtable_32_areas.h), high_memory being the
 * end of RAM, all of it lowmem.
 */
static void init_markers_32(struct marker m[NMARKERS], const struct vm *vm)
{
	const struct marker linux_markers[] = {
		{ 0, "User Space", 0 },
		{ PW_PAGE_OFFSET_32, "Kernel Mapping", 0 },
		{ PW_PAGE_OFFSET_32 + ram_end(&vm->ram) + 8 * SZ_1M, "vmalloc() Area", 0 },
		{ ~0ULL, NULL, 0 },
	};

	for (unsigned int i = 0; i < sizeof(linux_markers) / sizeof(linux_markers[0]); i++)
		m[i] = linux_markers[i];
}

/* PTE_FLAGS_MASK: all but the pfn bits, so bit 12, PAT of a 2 MiB or 1 GiB page, too. */
#define FLAGS_MASK	(~PT_ADDR_MASK)
#define KERNEL_SPACE	(1ULL << 63)
#define MAX_EXPANSIONS	4
#define MAX_LINES	100000
#define MAX_LEVELS	6		/* index by level, 1 to 5 */

struct dump {
	const struct vm *vm;
	const struct vm_paging *pg;
	uint8_t *expanded;		/* [pfn * MAX_LEVELS + level]: times shown */
	uint64_t npages;
	unsigned long printed;		/* for MAX_LINES */
	const struct mmu *mmu;
	unsigned int width;		/* hex digits of an address: sizeof(unsigned long) * 2 */
	uint64_t va_mask;		/* unsigned long's: addresses wrap at it */
	FILE *f;
	/* struct pg_state */
	const struct marker *marker;
	unsigned long lines;		/* in this marker's region */
	uint64_t start;			/* of the current run */
	uint64_t prot, eff;		/* its flags and effective permission */
	int level;			/* Linux's: 0 pgd to 4 pte; -1 before the first entry */
	const char *why;		/* an extension's note on its entries, or NULL */
	unsigned int pdpte_a;		/* PAE PDPTEs whose one reserved bit is A */
	uint64_t wx_pages, wx_first;
};

/* effective_prot(): U/S and R/W ANDed, NX ORed down the walk; the pgd's flags as they are. */
static uint64_t effective(uint64_t higher, uint64_t e)
{
	return (higher & e & (PT_USER | PT_RW)) | ((higher | e) & PT_NX);
}

/* printk_prot(): Linux's columns; bit 7 is PSE above the PTE, PAT in it.  Then an extension's note. */
static void print_prot(FILE *f, uint64_t pr, int level, const char *why)
{
	static const char *const names[] = { "pgd", "p4d", "pud", "pmd", "pte" };

	if (!(pr & PT_PRESENT))
		fprintf(f, "%30s", "");
	else
		fprintf(f, "%s%s%s%s%s%s%s%s", pr & PT_USER ? "USR " : "    ", pr & PT_RW ? "RW " : "ro ",
			pr & PT_PWT ? "PWT " : "    ", pr & PT_PCD ? "PCD " : "    ",
			level <= 3 && (pr & PT_PSE) ? "PSE " : "    ",
			(level == 4 && (pr & PT_PSE)) || ((level == 3 || level == 2) && (pr & PT_PAT_LARGE)) ?
				"PAT " : "    ",
			pr & PT_GLOBAL ? "GLB " : "    ", pr & PT_NX ? "NX " : "x  ");
	fprintf(f, "%s%s%s\n", names[level], why ? " " : "", why ? why : "");
}

/* The finished run [d->start, addr): "0x<start>-0x<end>   <size><unit> <prot> <level>". */
static void print_run(struct dump *d, uint64_t addr)
{
	static const char units[] = "BKMGTPE";
	const char *unit = units;
	uint64_t delta = (addr - d->start) & d->va_mask;

	if (d->printed++ >= MAX_LINES)
		return;
	fprintf(d->f, "0x%0*llx-0x%0*llx   ", d->width, (unsigned long long)d->start, d->width,
		(unsigned long long)addr);
	while (!(delta & 1023) && unit[1]) {
		delta >>= 10;
		unit++;
	}
	fprintf(d->f, "%9llu%c ", (unsigned long long)delta, *unit);
	print_prot(d->f, d->prot, d->level, d->why);
}

/*
 * note_page(): an entry at addr, `level` in Linux's numbering, `val` its
 * value, `eff` the effective permission down to it.  A run breaks on any
 * flag bit, on the effective permission, on the level, and when addr
 * reaches the next marker, which is then printed: one marker per break.
 * Level -1 flushes the last run.
 */
static void note_page(struct dump *d, uint64_t addr, int level, uint64_t val, uint64_t eff,
		      const char *why)
{
	uint64_t prot = 0;

	/* Linux ignores the bits of a kernel entry that is not present. */
	if ((val & PT_PRESENT) || addr < KERNEL_SPACE) {
		prot = val & FLAGS_MASK;
		if (!val)
			eff = 0;
	} else {
		eff = 0;
	}
	if (d->level == -1) {
		/* The first entry: d->marker is the first marker. */
		fprintf(d->f, "---[ %s ]---\n", d->marker->name);
	} else if (prot != d->prot || eff != d->eff || level != d->level || why != d->why ||
		   addr >= d->marker[1].start) {
		if ((d->pg->efer & EFER_NXE) && (d->eff & PT_RW) && !(d->eff & PT_NX)) {
			if (!d->wx_pages)
				d->wx_first = d->start;
			d->wx_pages += (addr - d->start) / 4096;
		}
		if (!d->marker->max_lines || d->lines < d->marker->max_lines)
			print_run(d, addr);
		d->lines++;
		if (addr >= d->marker[1].start) {
			if (d->marker->max_lines && d->lines > d->marker->max_lines) {
				unsigned long skipped = d->lines - d->marker->max_lines;

				fprintf(d->f, "... %lu entr%s skipped ... \n", skipped, skipped == 1 ? "y" : "ies");
			}
			d->marker++;
			d->lines = 0;
			fprintf(d->f, "---[ %s ]---\n", d->marker->name);
		}
	} else {
		return;
	}
	d->start = addr;
	d->prot = prot;
	d->eff = eff;
	d->level = level;
	d->why = why;
}

/* False once the table at `entry` (its address) has been shown enough at `level`. */
static bool expand_again(struct dump *d, uint64_t entry, unsigned int level)
{
	uint8_t *n = &d->expanded[(entry >> 12) * MAX_LEVELS + level];

	if (*n == MAX_EXPANSIONS)
		return false;
	++*n;
	return true;
}

/*
 * Linux's level of an SDM-numbered entry: 0 pgd, 1 p4d, 2 pud, 3 pmd, 4 pte.
 * In long mode the top table is the pgd in both modes.  i386 folds the
 * levels above its real ones into them (pgtable-nopmd.h, -nopud.h,
 * -nop4d.h), whose *_none() say "never empty", so mm/pagewalk.c meets an
 * entry first where a level is real: two-level's PDEs as pmds, PAE's
 * PDPTEs as puds.
 */
static int linux_level(const struct mmu *mmu, unsigned int level)
{
	if (mmu->levels >= 4 && level == mmu->levels)
		return 0;
	return 5 - (int)level;
}

/*
 * A present PAE PDPTE whose one reserved bit is A (bit 5): what the second
 * host's MMU, QEMU TCG's walker, leaves in the PDPTEs it uses.  The CPU
 * would refuse it at the next CR3 load; the dump shows the table under it
 * and says so at the end, as the dump would be empty past it otherwise.
 */
static bool pdpte_a_only(const struct mmu *mmu, unsigned int level, uint64_t e)
{
	return mmu->levels == 3 && level == 3 && (e & PT_PRESENT) && (e & mmu->rsvd[0][3]) == PT_ACCESSED;
}

/*
 * Entries first..last of the level-`level` table `table` (SDM numbering),
 * covering from `base` on, under the effective permission `eff_in`; as
 * mm/pagewalk.c visits them for ptdump: an empty entry is a hole at its
 * level, the top table's holes being the pgd's in both long modes.
 */
static void walk_table(struct dump *d, uint64_t table, unsigned int level, uint64_t base,
		       uint64_t eff_in, unsigned int first, unsigned int last)
{
	unsigned int top = d->mmu->levels, unused = 64 - pt_shift(top + 1);
	int lvl = linux_level(d->mmu, level);
	uint64_t e, probe;

	for (unsigned int i = first; i <= last && d->printed < MAX_LINES; i++) {
		uint64_t va = base + ((uint64_t)i << mmu_shift(d->mmu, level));
		uint64_t eff;

		/* The upper half of the top table is the kernel's: sign-extend (long mode). */
		if (top >= 4)
			va = (uint64_t)((int64_t)(va << unused) >> unused);
		mmu_read(d->vm, d->mmu, table, level, i, &e);	/* in RAM: the caller checked */
		eff = level == top ? e & FLAGS_MASK : effective(eff_in, e);
		switch (pt_classify(d->mmu, level, e)) {
		case PT_NONE:
		case PT_LEAF:
			note_page(d, va, lvl, e, eff, NULL);
			break;
		case PT_RSVD:
			if (!pdpte_a_only(d->mmu, level, e)) {
				note_page(d, va, lvl, e, eff, "(reserved bits)");
				break;
			}
			d->pdpte_a++;
			/* fall through */
		case PT_TABLE:
			if (!mmu_read(d->vm, d->mmu, e, level - 1, 0, &probe))
				note_page(d, va, lvl, e, eff, "(table outside RAM)");
			else if (expand_again(d, mmu_table_addr(d->mmu, e, level - 1), level - 1))
				walk_table(d, e, level - 1, va, eff, 0, mmu_entries(d->mmu, level - 1) - 1);
			else
				note_page(d, va, lvl, e, eff, "(table shown before)");
			break;
		}
	}
}

enum vmm_status vm_ptdump(const struct vm *vm, const struct vm_paging *pg, FILE *f)
{
	struct marker markers[NMARKERS];
	struct mmu mmu;
	struct dump d = { .vm = vm, .pg = pg, .mmu = &mmu, .f = f, .marker = markers, .level = -1 };
	char sym[128];
	uint64_t e;

	if (mmu_init(vm, pg, &mmu))
		return VMM_BAD_INPUT;
	if (mmu.levels <= 3)
		init_markers_32(markers, vm);
	else
		init_markers(markers, mmu.levels);
	d.width = mmu.levels <= 3 ? 8 : 16;
	d.va_mask = mmu.levels <= 3 ? 0xffffffffULL : ~0ULL;
	if (!mmu_read(vm, &mmu, pg->cr3, mmu.levels, 0, &e))
		return VMM_GUEST_ERROR;
	d.npages = ram_end(&vm->ram) >> 12;
	d.expanded = calloc(d.npages, MAX_LEVELS);
	if (!d.expanded)
		return VMM_INTERNAL;
	/*
	 * ptdump_walk_pgd_level_core()'s ranges: user space, the lower half of
	 * the top table; and from GUARD_HOLE_END_ADDR to the top, skipping the
	 * hypervisor's 16 entries.  The first run of the kernel half so
	 * starts at the guard hole's end, the last user run ending there.
	 */
	if (mmu.levels <= 3) {
		/* i386's one range, the whole address space (from the PDPT in memory, as Linux reads it). */
		walk_table(&d, pg->cr3, mmu.levels, 0, 0, 0, mmu_entries(&mmu, mmu.levels) - 1);
	} else {
		walk_table(&d, pg->cr3, mmu.levels, 0, 0, 0, 255);
		walk_table(&d, pg->cr3, mmu.levels, 0, 0,
			   (PW_GUARD_HOLE_END(mmu.levels) >> pt_shift(mmu.levels)) & 511, 511);
	}
	/* The flush, note_page(st, 0, -1, 0): the last run ends at 0. */
	note_page(&d, 0, -1, 0, 0, NULL);
	if (d.printed > MAX_LINES)
		fprintf(f, "... stopped after %d lines\n", MAX_LINES);
	if (d.pdpte_a)
		fprintf(f, "(%u PDPTE%s with A set, bit 5, which the SDM reserves there: the host MMU's doing "
			"(QEMU TCG's walker); shown as the table%s under %s)\n", d.pdpte_a, d.pdpte_a > 1 ? "s" : "",
			d.pdpte_a > 1 ? "s" : "", d.pdpte_a > 1 ? "them" : "it");
	/* ptdump_walk_pgd_level_checkwx(), which Linux runs only where NX is supported. */
	if (pg->efer & EFER_NXE) {
		if (d.wx_pages) {
			/* %pS: the symbol, else the address. */
			if (!*vm_symbolise(vm, d.wx_first, sym, sizeof(sym)))
				snprintf(sym, sizeof(sym), "0x%llx", (unsigned long long)d.wx_first);
			fprintf(f, "x86/mm: Found insecure W+X mapping at address %s\n", sym);
			fprintf(f, "x86/mm: Checked W+X mappings: FAILED, %llu W+X pages found.\n",
				(unsigned long long)d.wx_pages);
		} else {
			fprintf(f, "x86/mm: Checked W+X mappings: passed, no W+X pages found.\n");
		}
	}
	free(d.expanded);
	return VMM_OK;
}
