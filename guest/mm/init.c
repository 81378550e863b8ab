/*
 * The kernel half: swapper_pg_dir built by the paging core itself, the
 * vmalloc top level preallocated or synced (arch/x86/mm/init_64.c).
 */
#include "asm.h"
#include "cpufeature.h"
#include "kernel.h"
#include "mm.h"

extern char __start_rodata[], __end_rodata[];

struct ksync_stats ksync_stats;
#ifdef CONFIG_X86_32
unsigned long high_memory;
#endif

#ifdef CONFIG_X86_PAE
/*
 * one_md_table_init() of arch/x86/mm/init_32.c: the kernel PMD table under
 * a PDPTE of swapper_pg_dir, P alone as a PDPTE allows.  Not through
 * pud_populate(): nothing runs on these tables yet, and its CR3 write
 * would load them unfinished.
 */
static void one_md_table_init(pgd_t *pgd, unsigned long va)
{
	pmd_t *pmd;

	if (pgd->pgd & _PAGE_PRESENT)
		return;
	pmd = pgtable_alloc_one(&init_mm, PT_PMD, va & PGDIR_MASK);
	if (!pmd)
		panic("out of memory for the kernel PMD at %#lx", va);
	mm_inc_nr_tables(&init_mm, PT_PMD);
	set_pgd(pgd, (pgd_t){ __pa(pmd) | _PAGE_PRESENT });
}
#endif

/* An allocating walk of init_mm down to the PMD for a kernel address. */
static pmd_t *kernel_pmd(unsigned long va)
{
#ifdef CONFIG_X86_PAE
	one_md_table_init(pgd_offset_k(va), va);
#endif
	pmd_t *pmd = walk_to_pmd(&init_mm, va);

	if (!pmd)
		panic("out of memory for kernel page tables at %#lx", va);
	return pmd;
}

/*
 * n entries from e on, mapping val, val + step, ...: the store loop of
 * phys_pte_init(), phys_pmd_init() and phys_pud_init() without their
 * per-entry checks (after boot they map over what may be there; at boot
 * every table here is new and empty).  Unrolled by 16, an entry costs a
 * store and an add: the floor for a table filled with scalar stores.
 */
static inline __attribute__((always_inline)) void fill_entries(pteval_t *e, unsigned long n,
							       pteval_t val, pteval_t step)
{
	for (; n >= 16; n -= 16, e += 16, val += 16 * step) {
#pragma GCC unroll 16
		for (unsigned int i = 0; i < 16; i++)
			__atomic_store_n(&e[i], val + i * step, __ATOMIC_RELAXED);	/* set_pXX() */
	}
	for (; n; n--, e++, val += step)
		__atomic_store_n(e, val, __ATOMIC_RELAXED);
}

/*
 * Map [va, end) to pa on with 4 KiB pages: one walk per PTE table, then its
 * entries in one loop, as Linux's phys_pte_init() fills a table.
 */
static void kernel_map_pages(unsigned long va, unsigned long end, uint64_t pa, pgprot_t prot)
{
	while (va < end) {
		/* the end of va's PTE table: pmd_addr_end() unfolded, as a folded pmd has none */
		unsigned long next = ((va + PMD_SIZE) & PMD_MASK) - 1 < end - 1 ? (va + PMD_SIZE) & PMD_MASK : end;
		pmd_t *pmd = kernel_pmd(va);

		if (pte_alloc_kernel(pmd))
			panic("out of memory for a kernel PTE table at %#lx", va);
		fill_entries(&pte_offset_kernel(pmd, va)->pte, (next - va) >> PAGE_SHIFT, pa | prot, PAGE_SIZE);
		pa += next - va;
		va = next;
	}
}

/* An allocating walk of init_mm down to the PUD, for a 1 GiB page. */
static pud_t *kernel_pud(unsigned long va)
{
	p4d_t *p4d = p4d_alloc(&init_mm, pgd_offset_k(va), va);
	pud_t *pud = p4d ? pud_alloc(&init_mm, p4d, va) : NULL;

	if (!pud)
		panic("out of memory for kernel page tables at %#lx", va);
	return pud;
}

/*
 * kernel_physical_mapping_init() for each RAM range, as init_mem_mapping()
 * calls it: RAM at PAGE_OFFSET, RW and NX, the hole below 4 GiB left
 * unmapped.  The first 2 MiB is mapped page by page so that pfn 0 stays
 * unmapped: a table entry that is empty reads as pfn 0, and following one
 * (the bug "x86/mm/64: Do not dereference non-present PGD entries" fixed)
 * then faults instead of reading RAM.  The rest as split_mem_range() cuts
 * it: 1 GiB pages for the whole GiBs where the CPU has them
 * (direct_gbpages, X86_FEATURE_GBPAGES), else 2 MiB pages; each table's
 * entries in one loop after one walk to it, as phys_pud_init() and
 * phys_pmd_init() fill a table.  i386 (arch/x86/mm/init_32.c): no 1 GiB
 * pages, 4 MiB PSE pages (the pmd folded: the entries are the pgd's), the
 * image inside the direct map and so mapped page by page up to its last
 * large page, for map_kernel_image() to set its PTEs; a tail short of a
 * large page is mapped page by page too.
 */
static void kernel_physical_mapping_init(uint64_t start, uint64_t end)
{
#ifdef CONFIG_X86_32
	const bool gbpages = false;
	const uint64_t small_end = (__pa_symbol(_end) + PMD_SIZE - 1) & PMD_MASK;

	if (end & ~PMD_MASK) {
		kernel_map_pages(PAGE_OFFSET + (end & PMD_MASK), PAGE_OFFSET + end, end & PMD_MASK, PAGE_KERNEL);
		end &= PMD_MASK;
	}
#else
	bool gbpages = boot_cpu_has(X86_FEATURE_GBPAGES);
	const uint64_t small_end = PMD_SIZE;
#endif
	uint64_t pa = start;

	if (!pa) {
		kernel_map_pages(PAGE_OFFSET + PAGE_SIZE, PAGE_OFFSET + small_end, PAGE_SIZE, PAGE_KERNEL);
		pa = small_end;
	}
	while (pa < end) {
		unsigned long va = PAGE_OFFSET + pa, next;

		if (gbpages && !(pa & ~PUD_MASK) && (end & PUD_MASK) > pa) {
			next = p4d_addr_end(va, PAGE_OFFSET + (end & PUD_MASK));
			fill_entries(&kernel_pud(va)->pud, (next - va) >> PUD_SHIFT,
				     pa | PAGE_KERNEL | _PAGE_PSE, PUD_SIZE);
		} else {	/* up to the end of the PMD table: the next GiB */
			next = pud_addr_end(va, PAGE_OFFSET + end);
			fill_entries(&kernel_pmd(va)->pmd, (next - va) >> PMD_SHIFT,
				     pa | PAGE_KERNEL | _PAGE_PSE, PMD_SIZE);
		}
		pa += next - va;
	}
}

/* The image at __START_KERNEL_map (i386: in the direct map): text RX,
 * rodata R, data and bss RW, all NX but text (no NX on 2-level). */
static void map_kernel_image(void)
{
	const pgprot_t prot = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_GLOBAL;
	const char *const bound[] = { _text, __start_rodata, __end_rodata, _end };	/* page-aligned */
	const pgprot_t part[] = { prot, prot | _PAGE_NX, prot | _PAGE_NX | _PAGE_RW | _PAGE_DIRTY };

	for (unsigned int i = 0; i < 3; i++)
		kernel_map_pages((unsigned long)bound[i], (unsigned long)bound[i + 1], __pa_symbol(bound[i]),
				 part[i]);
}

/*
 * preallocate_vmalloc_pages(): the table under every top-level hardware
 * entry of the vmalloc area, so the top level never changes after boot
 * and no pgd ever needs syncing: with LA57 a P4D table per pgd entry (50:
 * 12.5 PiB / 256 TiB), else, the p4d folded, a PUD table per entry (64:
 * 32 TiB / 512 GiB); either way the entry written is the pgd's.  Linux
 * installs each through p4d_alloc()/pud_alloc(), under
 * init_mm.page_table_lock and ready for another CPU to have installed one
 * first.  Here the guest differs: only the boot CPU runs yet and nothing
 * walks the vmalloc area, so each table goes in as __p4d_alloc() and
 * __pud_alloc() put it in under the lock, without taking it.  Like
 * p4d_alloc()/pud_alloc(), an entry already there is left as it is.
 */
#ifndef CONFIG_X86_32
static void preallocate_vmalloc_pages(void)
{
	enum pt_level level = pgtable_l5_enabled() ? PT_P4D : PT_PUD;
	pgd_t *pgd = pgd_offset_k(VMALLOC_START), *last = pgd_offset_k(VMALLOC_END);
	const unsigned long size = PGDIR_SIZE;

	ksync_stats.preallocated += last - pgd + 1;
	for (unsigned long addr = VMALLOC_START; pgd <= last; pgd++, addr = (addr + size) & ~(size - 1)) {
		void *table;

		if (pgd->pgd)
			continue;
		table = pgtable_alloc_one(&init_mm, level, addr);
		if (!table)
			panic("Failed to pre-allocate %s pages for vmalloc area",
			      level == PT_P4D ? "p4d" : "pud");
		mm_inc_nr_tables(&init_mm, level);
		set_pgd(pgd, (pgd_t){ __pa(table) | _PAGE_TABLE });	/* pgd_populate()/p4d_populate() */
	}
}

/*
 * sync_global_pgds(): copy every present top-level kernel entry of
 * [start, end] into each pgd on pgd_list that lacks it.  Linux has two
 * variants: sync_global_pgds_l5() copies pgd entries, sync_global_pgds_l4()
 * the p4d entries that p4d_offset() finds in the pgd itself; both are the
 * pgd entry, so one loop over pgd entries serves both here.  An empty
 * entry of init_mm is skipped, never followed.
 */
void sync_global_pgds(unsigned long start, unsigned long end)
{
	for (unsigned long addr = start; addr <= end; addr = (addr + PGDIR_SIZE) & PGDIR_MASK) {
		pgd_t *pgd_ref = pgd_offset_k(addr);

		if (!pgd_ref->pgd)
			continue;
		spin_lock(&pgd_lock);
		for (struct page *page = pgd_list; page; page = page->lru_next) {
			pgd_t *pgd = (pgd_t *)page_address(page) + pgd_index(addr);
			spinlock_t *pgt_lock = &page->pt_mm->page_table_lock;

			spin_lock(pgt_lock);
			if (pgd->pgd && pgd->pgd != pgd_ref->pgd)
				panic("pgd %p: kernel entry %lu differs from init_mm", pgd, pgd_index(addr));
			if (!pgd->pgd) {
				set_pgd(pgd, *pgd_ref);
				__atomic_add_fetch(&ksync_stats.syncs, 1, __ATOMIC_RELAXED);
				trace(kernel_sync, boot_params.kernel_sync,
				      __pa(pgd - pgd_index(addr)), pgd_index(addr), page->pt_mm->id);
			}
			spin_unlock(pgt_lock);
		}
		spin_unlock(&pgd_lock);
		if (addr + PGDIR_SIZE < addr)
			break;		/* the last pgd entry */
	}
}

#endif

/*
 * The boot top table, its two PDPTs, one PD per GiB up to the end of RAM
 * and, with LA57, the two PML4s (vmm/lib/boot.c), once no CPU runs on them.
 */
void free_boot_tables(void)
{
#if defined(CONFIG_X86_PAE)
	free_reserved_area(PW_BOOT_PGD, PW_BOOT_PD + PAGE_SIZE);	/* the PDPTEs, the PD, the two unused between */
	return;
#elif defined(CONFIG_X86_32)
	free_reserved_area(PW_BOOT_PGD, PW_BOOT_PGD + PAGE_SIZE);	/* i386: the page directory */
	return;
#endif
	uint64_t gib = (ram_end() + PUD_SIZE - 1) / PUD_SIZE;

	free_reserved_area(PW_BOOT_PGD, PW_BOOT_PD + gib * PAGE_SIZE);
	if (pgtable_l5_enabled())
		free_reserved_area(PW_BOOT_P4D_LOW, PW_BOOT_P4D_KERNEL + PAGE_SIZE);
}

/* paging_init(): build swapper_pg_dir and move the boot CPU onto it. */
void paging_init(void)
{
	uint64_t boot_pgd = read_cr3() & CR3_ADDR_MASK;
	struct page *page = alloc_page(PG_table);

	if (!page)
		panic("no page for swapper_pg_dir");
	/* head_32.S set EFER.NX where CPUID has it; unlike Linux, which takes NX out of
	 * __supported_pte_mask without it, PAGE_KERNEL here always has NX. */
	if (_PAGE_NX && !(rdmsr(MSR_EFER) & EFER_NXE))
		panic("no NX (CPUID 0x80000001 EDX bit 20): this guest's kernel mappings need it");
	page->pt_level = PT_PGD;
	init_mm.pgd = page_address(page);
	trace(pgtable_alloc, PT_PGD, __pa(init_mm.pgd), 0, 0);

	for (unsigned int i = 0; i < boot_params.nr_memory; i++)
		kernel_physical_mapping_init(boot_params.memory[i].start,
					     boot_params.memory[i].start + boot_params.memory[i].size);
	map_kernel_image();
#ifdef CONFIG_X86_32
	high_memory = PAGE_OFFSET + ram_end();	/* lowmem: all RAM */
#else
	if (boot_params.kernel_sync == PW_SYNC_PREALLOC)
		preallocate_vmalloc_pages();
#endif
	if (boot_pgd != PW_BOOT_PGD)
		panic("booted on unexpected page tables at %#lx", (unsigned long)boot_pgd);
	write_cr3(__pa(init_mm.pgd));
	trace(kernel_pgd, __pa(init_mm.pgd), boot_params.kernel_sync, ksync_stats.preallocated);
}
