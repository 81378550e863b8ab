/*
 * Page-table allocation, the generic fault path and teardown, modelled on
 * mm/memory.c.  Differences from Linux are named where they occur.
 */
#include "asm.h"
#include "fault_inject.h"
#include "kernel.h"
#include "mm.h"

char empty_zero_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define smp_wmb() barrier()	/* x86 stores are ordered; the compiler must not reorder */

static void race_lost(struct mm_struct *mm, void *table, enum pt_level level)
{
	trace(race_lost, level, __pa(table), mm->id);
	pgtable_free(mm, table, level);
}

/*
 * __p4d_alloc(): only with LA57 (folded, pgd_none() is never true).  As in
 * Linux, no mm_inc_nr_p4ds(): a P4D table is not in pgtables_bytes; the
 * guest counts it per mm for reports only.
 */
int __p4d_alloc(struct mm_struct *mm, pgd_t *pgd, unsigned long address)
{
	p4d_t *new = pgtable_alloc_one(mm, PT_P4D, address);

	if (!new)
		return -PW_ENOMEM;
	inject_race_window(PT_P4D);
	ptl_acquire(mm, &mm->page_table_lock, PTL_MM);
	if (!pgd_present(*pgd)) {
		mm_inc_nr_tables(mm, PT_P4D);
		smp_wmb();	/* see pmd_install() */
		set_pgd(pgd, (pgd_t){ __pa(new) | _PAGE_TABLE });	/* pgd_populate() */
	} else {		/* another CPU populated it */
		race_lost(mm, new, PT_P4D);
	}
	spin_unlock(&mm->page_table_lock);
	return 0;
}

/* __pud_alloc(): allocate first (may sleep), then install under page_table_lock. */
int __pud_alloc(struct mm_struct *mm, p4d_t *p4d, unsigned long address)
{
	pud_t *new = pgtable_alloc_one(mm, PT_PUD, address);

	if (!new)
		return -PW_ENOMEM;
	inject_race_window(PT_PUD);
	ptl_acquire(mm, &mm->page_table_lock, PTL_MM);
	if (!p4d_present(*p4d)) {
		mm_inc_nr_tables(mm, PT_PUD);
		smp_wmb();	/* the zeroed table before the entry that publishes it */
		set_p4d(p4d, (p4d_t){ __pa(new) | _PAGE_TABLE });	/* p4d_populate() */
	} else {		/* another CPU populated it */
		race_lost(mm, new, PT_PUD);
	}
	spin_unlock(&mm->page_table_lock);
	return 0;
}

/* __pmd_alloc(): the PMD table is installed under pud_lock (page_table_lock on x86). */
int __pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long address)
{
	pmd_t *new = pgtable_alloc_one(mm, PT_PMD, address);
	spinlock_t *ptl;

	if (!new)
		return -PW_ENOMEM;
	inject_race_window(PT_PMD);
	ptl = pud_lock(mm, pud);
	if (!pud_present(*pud)) {
		mm_inc_nr_tables(mm, PT_PMD);
		smp_wmb();
		pud_populate(mm, pud, new);
	} else {
		race_lost(mm, new, PT_PMD);
	}
	spin_unlock(ptl);
	return 0;
}

/* pmd_install(): under the split lock of the PMD page; *pte = NULL once consumed. */
static void pmd_install(struct mm_struct *mm, pmd_t *pmd, pte_t **pte)
{
	spinlock_t *ptl = pmd_lock(mm, pmd);

	if (pmd_none(*pmd)) {	/* has another populated it? */
		mm_inc_nr_tables(mm, PT_PTE);
		/*
		 * Ensure all pte setup (eg. pte page lock and page clearing) are
		 * visible before the pte is made visible to other CPUs by being
		 * put into page tables.
		 */
		smp_wmb();
		set_pmd(pmd, (pmd_t){ __pa(*pte) | _PAGE_TABLE });	/* pmd_populate() */
		*pte = NULL;
	}
	spin_unlock(ptl);
}

int __pte_alloc(struct mm_struct *mm, pmd_t *pmd)
{
	pte_t *new = pgtable_alloc_one(mm, PT_PTE, 0);

	if (!new)
		return -PW_ENOMEM;
	inject_race_window(PT_PTE);
	pmd_install(mm, pmd, &new);
	if (new)
		race_lost(mm, new, PT_PTE);
	return 0;
}

/* __pte_alloc_kernel(): kernel PTE tables go in under init_mm.page_table_lock, unaccounted. */
int __pte_alloc_kernel(pmd_t *pmd)
{
	pte_t *new = pgtable_alloc_one(&init_mm, PT_PTE, 0);

	if (!new)
		return -PW_ENOMEM;
	ptl_acquire(&init_mm, &init_mm.page_table_lock, PTL_MM);
	if (pmd_none(*pmd)) {
		mm_add(init_mm.nr_tables[PT_PTE], 1);
		smp_wmb();	/* see pmd_install() */
		set_pmd(pmd, (pmd_t){ __pa(new) | _KERNPG_TABLE });	/* pmd_populate_kernel() */
		new = NULL;
	}
	spin_unlock(&init_mm.page_table_lock);
	if (new)
		race_lost(&init_mm, new, PT_PTE);
	return 0;
}

/*
 * vma_alloc_folio() for one anonymous page, where page_alloc faults are
 * injected; exclusive to the mm it is about to be mapped in, as
 * folio_add_new_anon_rmap() marks it.
 */
static inline struct page *alloc_anon_page(void)
{
	return should_fail(PW_INJECT_PAGE_ALLOC, 0) ? NULL : alloc_page(PG_anon | PG_anon_exclusive);
}

/* mm_find_pmd(): the PMD entry mapping addr, or NULL where a level above is empty. */
pmd_t *mm_find_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (pgd_none(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud))
		return NULL;
	pmd = pmd_offset(pud, addr);
	return pmd_none(*pmd) ? NULL : pmd;
}

struct vm_fault {
	struct vm_area_struct *vma;
	unsigned long address;		/* page-aligned */
	unsigned int flags;		/* FAULT_FLAG_* */
	pmd_t *pmd;
	pte_t *pte;
	pte_t orig_pte;
	spinlock_t *ptl;
};

static inline __attribute__((always_inline)) pte_t *
pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, spinlock_t **ptlp)
{
	*ptlp = pte_lockptr(mm, pmd);
	ptl_acquire(mm, *ptlp, PTL_PTE);
	return pte_offset_kernel(pmd, addr);
}

static void flush_tlb_page(struct vm_area_struct *vma, unsigned long addr)
{
	flush_tlb_mm_range(vma->vm_mm, addr, addr + PAGE_SIZE);
}

static pte_t mk_pte(uint64_t phys, pgprot_t prot)
{
	return (pte_t){ (phys & PTE_PFN_MASK) | prot };
}

/* maybe_mkwrite(pte_mkdirty()): writable only where the VMA allows writes. */
static pte_t mkwrite_dirty(pte_t pte, struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_WRITE)
		pte.pte |= _PAGE_RW | _PAGE_DIRTY;
	return pte;
}

static inline __attribute__((always_inline)) void report_map(struct vm_fault *vmf, pte_t pte,
							      enum pw_map_kind kind)
{
	trace(map, vmf->vma->vm_mm->id, vmf->address, pte.pte & PTE_PFN_MASK, kind);
}

/* do_anonymous_page(): the zero page for reads, a new zeroed page for writes. */
static unsigned int do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct page *page = NULL;
	enum pw_map_kind kind;
	pte_t entry;

	if (pte_alloc(mm, vmf->pmd))
		return VM_FAULT_OOM;

	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		entry = mk_pte(__pa_symbol(empty_zero_page), vma->vm_page_prot | _PAGE_SPECIAL);
		kind = PW_MAP_ZERO;
	} else {
		page = alloc_anon_page();
		if (!page)
			return VM_FAULT_OOM;
		vma->anon_vma = true;	/* vmf_anon_prepare() */
		smp_wmb();	/* __folio_mark_uptodate(): zeroing before the PTE */
		entry = mkwrite_dirty(mk_pte(page_to_pfn(page) << PAGE_SHIFT, vma->vm_page_prot), vma);
		kind = PW_MAP_ANON;
	}

	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (!pte_none(ptep_get(vmf->pte))) {	/* another CPU got here first */
		spin_unlock(vmf->ptl);
		if (page)
			put_page(page);
		return 0;
	}
	if (page)
		mm_add(mm->nr_anon, 1);
	set_pte(vmf->pte, entry);
	spin_unlock(vmf->ptl);
	report_map(vmf, entry, kind);
	return 0;
}

/*
 * A VM_SPECIAL VMA maps one fixed kernel page (the user trampoline), like
 * special_mapping_fault() + finish_fault(); the page is not refcounted.
 */
static unsigned int do_special_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	pte_t entry = mk_pte(vma->special_pfn << PAGE_SHIFT, vma->vm_page_prot | _PAGE_SPECIAL);

	if (pte_alloc(vma->vm_mm, vmf->pmd))
		return VM_FAULT_OOM;
	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (pte_none(ptep_get(vmf->pte))) {
		set_pte(vmf->pte, entry);
		report_map(vmf, entry, PW_MAP_SPECIAL);
	}
	spin_unlock(vmf->ptl);
	return 0;
}

static unsigned int do_pte_missing(struct vm_fault *vmf)
{
	if (vmf->vma->vm_flags & VM_SPECIAL)
		return do_special_fault(vmf);
	return do_anonymous_page(vmf);
}

/*
 * wp_page_copy(): a private copy (a zeroed page when the old one is the
 * zero page).  The caller took a reference on `old` under the PTE lock, so
 * it cannot be freed while we copy it.
 */
static unsigned int wp_page_copy(struct vm_fault *vmf, struct page *old)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct page *new = alloc_anon_page();
	pte_t entry;

	if (!new) {
		if (old)
			put_page(old);
		return VM_FAULT_OOM;
	}
	vma->anon_vma = true;
	if (old)
		copy_page(page_address(new), page_address(old));
	smp_wmb();

	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (ptep_get(vmf->pte).pte != vmf->orig_pte.pte) {
		spin_unlock(vmf->ptl);
		put_page(new);
		if (old)
			put_page(old);
		return 0;
	}
	entry = mkwrite_dirty(mk_pte(page_to_pfn(new) << PAGE_SHIFT, vma->vm_page_prot), vma);
	/* ptep_clear_flush(): no CPU may keep the old translation once the new one is set. */
	pte_clear(vmf->pte);
	flush_tlb_page(vma, vmf->address);
	set_pte(vmf->pte, entry);
	if (old) {
		put_page(old);		/* the mapping's reference */
		put_page(old);		/* ours */
	} else {
		mm_add(mm->nr_anon, 1);
	}
	spin_unlock(vmf->ptl);
	report_map(vmf, entry, PW_MAP_WP_COPY);
	return 0;
}

/* do_wp_page(): entered with the PTE lock held; reuse the page if we hold it alone. */
static unsigned int do_wp_page(struct vm_fault *vmf)
{
	pte_t pte = vmf->orig_pte;
	struct page *page = pte_special(pte) ? NULL : pfn_to_page(pte_pfn(pte));

	if (vmf->vma->vm_flags & VM_SPECIAL) {
		spin_unlock(vmf->ptl);
		return VM_FAULT_SIGSEGV;
	}
	if (page && __atomic_load_n(&page->refcount, __ATOMIC_ACQUIRE) == 1) {
		/*
		 * wp_can_reuse_anon_folio(): ours alone, so exclusive again
		 * (SetPageAnonExclusive()).  wp_page_reuse(): an upgrade needs
		 * no flush on x86; a stale read-only entry only costs a
		 * spurious fault.
		 */
		__atomic_or_fetch(&page->flags, PG_anon_exclusive, __ATOMIC_RELAXED);
		pte = mkwrite_dirty(pte, vmf->vma);
		pte.pte |= _PAGE_ACCESSED;
		set_pte(vmf->pte, pte);
		spin_unlock(vmf->ptl);
		report_map(vmf, pte, PW_MAP_WP_REUSE);
		return 0;
	}
	if (page)
		get_page(page);		/* folio_get(): keep it while we copy */
	spin_unlock(vmf->ptl);
	return wp_page_copy(vmf, page);
}

/*
 * pmd_bad() -> pmd_clear_bad(): a PMD entry that is not a page-table entry
 * (here: corrupted from outside) is reported and cleared, so the fault is
 * retried on a fresh table; what it pointed to is lost, as in Linux.
 */
static bool pmd_clear_bad(pmd_t *pmd)
{
	if (pmd_none(*pmd) || (pmd->pmd & ~(PTE_PFN_MASK | _PAGE_USER)) == _KERNPG_TABLE)
		return false;
	printk("pagewalk: bad pmd %p(%016llx)\n", pmd, (unsigned long long)pmd->pmd);
	pmd_clear(pmd);
	return true;
}

static unsigned int handle_pte_fault(struct vm_fault *vmf)
{
	pte_t entry;

	if (pmd_clear_bad(vmf->pmd))
		return 0;
	if (pmd_none(*vmf->pmd)) {
		vmf->pte = NULL;
	} else {
		vmf->pte = pte_offset_kernel(vmf->pmd, vmf->address);
		vmf->orig_pte = ptep_get(vmf->pte);
		if (pte_none(vmf->orig_pte))
			vmf->pte = NULL;
	}
	if (!vmf->pte)
		return do_pte_missing(vmf);
	if (!pte_present(vmf->orig_pte)) {
		/* No swap here: any non-present, non-none PTE is print_bad_pte()'s "Bad page map". */
		printk("BUG: Bad page map: pte:%016llx at %#lx\n", (unsigned long long)vmf->orig_pte.pte,
		       vmf->address);
		return VM_FAULT_SIGBUS;
	}
	if (!(vmf->orig_pte.pte & _PAGE_PRESENT))
		return VM_FAULT_SIGSEGV;	/* PROT_NONE in an accessible VMA: no NUMA hinting here */

	vmf->ptl = pte_lockptr(vmf->vma->vm_mm, vmf->pmd);
	ptl_acquire(vmf->vma->vm_mm, vmf->ptl, PTL_PTE);
	entry = vmf->orig_pte;
	if (ptep_get(vmf->pte).pte != entry.pte)
		goto unlock;		/* changed under us: let the access retry */
	if (vmf->flags & FAULT_FLAG_WRITE) {
		if (!pte_write(entry))
			return do_wp_page(vmf);
		entry.pte |= _PAGE_DIRTY;
	}
	entry.pte |= _PAGE_ACCESSED;
	/*
	 * ptep_set_access_flags(); when nothing changed the fault was spurious
	 * (a stale TLB entry), and the #PF itself dropped that entry on x86.
	 */
	if (entry.pte != vmf->orig_pte.pte)
		set_pte(vmf->pte, entry);
unlock:
	spin_unlock(vmf->ptl);
	return 0;
}

/* __handle_mm_fault(): allocate the levels down to the PMD, then handle the PTE. */
static unsigned int __handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
				      unsigned int flags)
{
	struct vm_fault vmf = {
		.vma = vma,
		.address = address & PAGE_MASK,
		.flags = flags,
	};
	struct mm_struct *mm = vma->vm_mm;
	pgd_t *pgd = pgd_offset(mm, address);
	p4d_t *p4d;
	pud_t *pud;

	p4d = p4d_alloc(mm, pgd, address);
	if (!p4d)
		return VM_FAULT_OOM;
	pud = pud_alloc(mm, p4d, address);
	if (!pud)
		return VM_FAULT_OOM;
	vmf.pmd = pmd_alloc(mm, pud, address);
	if (!vmf.pmd)
		return VM_FAULT_OOM;
	return handle_pte_fault(&vmf);
}

unsigned int handle_mm_fault(struct vm_area_struct *vma, unsigned long address, unsigned int flags)
{
	return __handle_mm_fault(vma, address, flags);
}

/* walk_to_pmd(): the PMD entry for address, allocating the tables above it; NULL if out of memory. */
pmd_t *walk_to_pmd(struct mm_struct *mm, unsigned long address)
{
	p4d_t *p4d = p4d_alloc(mm, pgd_offset(mm, address), address);
	pud_t *pud = p4d ? pud_alloc(mm, p4d, address) : NULL;

	return pud ? pmd_alloc(mm, pud, address) : NULL;
}

/*
 * The run of none PTEs from pte, at most max_nr: the skip do_zap_pte_range()
 * makes before each batch (Linux 6.14).  Linux tests one entry at a time;
 * this tests four at once, OR'd, as a host that emulates ring 0 pays per
 * instruction for the mostly empty tables of a sparse address space.
 */
static unsigned int skip_none_ptes(pte_t *pte, unsigned int max_nr)
{
	pte_t *p = pte, *end4 = pte + (max_nr & ~3u), *end = pte + max_nr;

	for (; p != end4; p += 4)
		if (ptep_get(p).pte | ptep_get(p + 1).pte | ptep_get(p + 2).pte | ptep_get(p + 3).pte)
			break;
	while (p != end && pte_none(ptep_get(p)))
		p++;
	return p - pte;
}

/*
 * zap_pte_range() and up: clear the PTEs, give the pages to the mmu_gather.
 * A full batch is force_flush: the TLB flush under the PTE lock, the pages
 * freed after it is dropped, then the rest of the range.
 */
static void zap_pte_range(struct mmu_gather *tlb, struct mm_struct *mm, pmd_t *pmd,
			  unsigned long addr, unsigned long end)
{
	bool force_flush;
	spinlock_t *ptl;
	pte_t *pte;

again:
	force_flush = false;
	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		unsigned int nr = skip_none_ptes(pte, (end - addr) >> PAGE_SHIFT);
		pte_t ptent;

		pte += nr;
		addr += (unsigned long)nr << PAGE_SHIFT;
		if (addr == end)
			break;
		ptent = ptep_get(pte);
		pte_clear(pte);
		tlb_flush_range(tlb, addr, addr + PAGE_SIZE);
		if (pte_special(ptent))
			continue;	/* zero page, trampoline: no refcount (vm_normal_page() == NULL) */
		mm_add(mm->nr_anon, -1);
		if (__tlb_remove_page(tlb, pfn_to_page(pte_pfn(ptent)))) {
			force_flush = true;
			addr += PAGE_SIZE;
			break;
		}
	}
	if (force_flush)
		tlb_flush_mmu_tlbonly(tlb);
	spin_unlock(ptl);
	if (force_flush)
		tlb_flush_mmu(tlb);
	if (addr != end)
		goto again;
}

static void zap_pmd_range(struct mmu_gather *tlb, struct mm_struct *mm, pud_t *pud,
			  unsigned long addr, unsigned long end)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	unsigned long next;

	do {
		next = pmd_addr_end(addr, end);
		if (!pmd_none(*pmd))
			zap_pte_range(tlb, mm, pmd, addr, next);
	} while (pmd++, addr = next, addr != end);
}

static void zap_pud_range(struct mmu_gather *tlb, struct mm_struct *mm, p4d_t *p4d,
			  unsigned long addr, unsigned long end)
{
	pud_t *pud = pud_offset(p4d, addr);
	unsigned long next;

	do {
		next = pud_addr_end(addr, end);
		if (!pud_none(*pud))
			zap_pmd_range(tlb, mm, pud, addr, next);
	} while (pud++, addr = next, addr != end);
}

static void zap_p4d_range(struct mmu_gather *tlb, struct mm_struct *mm, pgd_t *pgd,
			  unsigned long addr, unsigned long end)
{
	p4d_t *p4d = p4d_offset(pgd, addr);
	unsigned long next;

	do {
		next = p4d_addr_end(addr, end);
		if (!p4d_none(*p4d))
			zap_pud_range(tlb, mm, p4d, addr, next);
	} while (p4d++, addr = next, addr != end);
}

static void unmap_page_range(struct mmu_gather *tlb, struct mm_struct *mm, unsigned long addr,
			     unsigned long end)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	unsigned long next;

	do {
		next = pgd_addr_end(addr, end);
		if (!pgd_none(*pgd))
			zap_p4d_range(tlb, mm, pgd, addr, next);
	} while (pgd++, addr = next, addr != end);
}

/* unmap_vmas(): the VMAs from `vma` on that intersect [start, end). */
void unmap_vmas(struct mmu_gather *tlb, struct vm_area_struct *vma, unsigned long start,
		unsigned long end)
{
	for (; vma && vma->vm_start < end; vma = vma->vm_next) {
		unsigned long s = vma->vm_start > start ? vma->vm_start : start;
		unsigned long e = vma->vm_end < end ? vma->vm_end : end;

		if (s < e)
			unmap_page_range(tlb, vma->vm_mm, s, e);
	}
}

/*
 * free_pgtables() and the free_*_range() family, with Linux's floor and
 * ceiling rules: a table is freed only if no address it maps can belong to
 * a VMA outside [floor, ceiling), the neighbours of what was unmapped.
 */
static void free_pte_range(struct mmu_gather *tlb, pmd_t *pmd, unsigned long addr)
{
	pte_t *table = table_va(pmd->pmd);

	pmd_clear(pmd);
	tlb_remove_table(tlb, table, PT_PTE, addr);
	mm_dec_nr_tables(tlb->mm, PT_PTE);
}

static void free_pmd_range(struct mmu_gather *tlb, pud_t *pud, unsigned long addr,
			   unsigned long end, unsigned long floor, unsigned long ceiling)
{
	unsigned long next, start = addr;
	pmd_t *pmd = pmd_offset(pud, addr);

	do {
		next = pmd_addr_end(addr, end);
		if (pmd_none(*pmd))
			continue;
		free_pte_range(tlb, pmd, addr);
	} while (pmd++, addr = next, addr != end);

	start &= PUD_MASK;
	if (start < floor)
		return;
	if (ceiling) {
		ceiling &= PUD_MASK;
		if (!ceiling)
			return;
	}
	if (end - 1 > ceiling - 1)
		return;

#ifndef __PAGETABLE_PMD_FOLDED	/* folded: pmd_free_tlb() and mm_dec_nr_pmds() are no-ops */
	pmd = pmd_offset(pud, start);
	pud_clear(pud);
	tlb_remove_table(tlb, pmd, PT_PMD, start);
	mm_dec_nr_tables(tlb->mm, PT_PMD);
#endif
}

static void free_pud_range(struct mmu_gather *tlb, p4d_t *p4d, unsigned long addr,
			   unsigned long end, unsigned long floor, unsigned long ceiling)
{
	unsigned long next, start = addr;
	pud_t *pud = pud_offset(p4d, addr);

	do {
		next = pud_addr_end(addr, end);
		if (pud_none(*pud))
			continue;
		free_pmd_range(tlb, pud, addr, next, floor, ceiling);
	} while (pud++, addr = next, addr != end);

	start &= P4D_MASK;
	if (start < floor)
		return;
	if (ceiling) {
		ceiling &= P4D_MASK;
		if (!ceiling)
			return;
	}
	if (end - 1 > ceiling - 1)
		return;

#ifndef __PAGETABLE_PUD_FOLDED	/* folded: pud_free_tlb() and mm_dec_nr_puds() are no-ops */
	pud = pud_offset(p4d, start);
	p4d_clear(p4d);
	tlb_remove_table(tlb, pud, PT_PUD, start);
	mm_dec_nr_tables(tlb->mm, PT_PUD);
#endif
}

/*
 * free_p4d_range(): folded, the one p4d is the pgd entry, which
 * free_pud_range() already cleared, and PGDIR_MASK is P4D_MASK, so the
 * checks below pass or fail as its did and pgd_clear() and the free are
 * no-ops, as Linux's p4d_free_tlb() without LA57.
 */
static void free_p4d_range(struct mmu_gather *tlb, pgd_t *pgd, unsigned long addr,
			   unsigned long end, unsigned long floor, unsigned long ceiling)
{
	unsigned long next, start = addr;
	p4d_t *p4d = p4d_offset(pgd, addr);

	do {
		next = p4d_addr_end(addr, end);
		if (p4d_none(*p4d))
			continue;
		free_pud_range(tlb, p4d, addr, next, floor, ceiling);
	} while (p4d++, addr = next, addr != end);

	start &= PGDIR_MASK;
	if (start < floor)
		return;
	if (ceiling) {
		ceiling &= PGDIR_MASK;
		if (!ceiling)
			return;
	}
	if (end - 1 > ceiling - 1)
		return;
	if (!pgtable_l5_enabled())
		return;

	p4d = p4d_offset(pgd, start);
	pgd_clear(pgd);
	tlb_remove_table(tlb, p4d, PT_P4D, start);
	mm_dec_nr_tables(tlb->mm, PT_P4D);
}

static void free_pgd_range(struct mmu_gather *tlb, unsigned long addr, unsigned long end,
			   unsigned long floor, unsigned long ceiling)
{
	unsigned long next;
	pgd_t *pgd;

	/*
	 * The next few lines have given us lots of grief...  (mm/memory.c):
	 * round out to PMD_SIZE, since a PTE table may not be freed while
	 * any part of it might be in use by a neighbouring VMA.
	 */
	addr &= PMD_MASK;
	if (addr < floor) {
		addr += PMD_SIZE;
		if (!addr)
			return;
	}
	if (ceiling) {
		ceiling &= PMD_MASK;
		if (!ceiling)
			return;
	}
	if (end - 1 > ceiling - 1)
		end -= PMD_SIZE;
	if (addr > end - 1)
		return;

	pgd = pgd_offset(tlb->mm, addr);
	do {
		next = pgd_addr_end(addr, end);
		if (pgd_none(*pgd))
			continue;
		free_p4d_range(tlb, pgd, addr, next, floor, ceiling);
	} while (pgd++, addr = next, addr != end);
}

/* free_pgtables(): `vma` heads a list of VMAs already taken off the mm. */
void free_pgtables(struct mmu_gather *tlb, struct vm_area_struct *vma, unsigned long floor,
		   unsigned long ceiling)
{
	while (vma) {
		struct vm_area_struct *next = vma->vm_next;
		unsigned long addr = vma->vm_start;

		/* Optimization: gather nearby vmas into one call down. */
		while (next && next->vm_start <= vma->vm_end + PMD_SIZE) {
			vma = next;
			next = vma->vm_next;
		}
		free_pgd_range(tlb, addr, vma->vm_end, floor, next ? next->vm_start : ceiling);
		vma = next;
	}
}

/*
 * can_change_pte_writable() for private mappings: only an exclusive
 * anonymous page (PageAnonExclusive), which the write fault would reuse
 * anyway.  A page once shared by fork is not, even after its partner
 * copied or exited: it waits for its next write fault to be marked again.
 * The zero page and the trampoline are special (vm_normal_page() NULL).
 */
static bool can_change_pte_writable(pte_t pte)
{
	return !pte_special(pte) &&
	       (__atomic_load_n(&pfn_to_page(pte_pfn(pte))->flags, __ATOMIC_RELAXED) & PG_anon_exclusive);
}

/*
 * change_protection() -> change_pte_range(): present PTEs take the VMA's
 * new protection bits (pte_modify() drops RW); with
 * MM_CP_TRY_CHANGE_WRITABLE exclusive anonymous pages get it back at once,
 * so their next write takes no fault.
 */
void change_protection(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		       unsigned long cp_flags)
{
	struct mm_struct *mm = vma->vm_mm;
	const uint64_t keep = PTE_PFN_MASK | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SPECIAL;

	/* change_pmd_range(): a PMD without a PTE table has nothing to change. */
	for (unsigned long addr = start, next; addr < end; addr = next) {
		pmd_t *pmd = mm_find_pmd(mm, addr);
		pte_t *pte;
		spinlock_t *ptl;

		next = pmd_addr_end(addr, end);
		if (!pmd)
			continue;
		pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
		for (; addr < next; addr += PAGE_SIZE, pte++) {
			pte_t ptent = ptep_get(pte), newpte;

			if (!pte_present(ptent))
				continue;
			newpte.pte = (ptent.pte & keep) | vma->vm_page_prot;
			if ((cp_flags & MM_CP_TRY_CHANGE_WRITABLE) && can_change_pte_writable(newpte))
				newpte.pte |= _PAGE_RW;		/* pte_mkwrite() */
			set_pte(pte, newpte);
		}
		spin_unlock(ptl);
	}
	flush_tlb_mm_range(mm, start, end);
}

/*
 * copy_page_range() for fork: the child gets its own tables for every
 * populated part of a VMA with private pages; private writable PTEs are
 * write-protected in parent and child alike (copy-on-write), and each page
 * gains a reference.  VMAs without private pages (the trampoline, ranges
 * only ever read) are skipped: the child faults them in, as in Linux.
 */
static int copy_pte_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  pmd_t *dst_pmd, pmd_t *src_pmd, unsigned long addr, unsigned long end)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm, *src_mm = src_vma->vm_mm;
	spinlock_t *src_ptl, *dst_ptl;
	pte_t *src_pte, *dst_pte;

	if (pte_alloc(dst_mm, dst_pmd))
		return -PW_ENOMEM;
	dst_pte = pte_offset_map_lock(dst_mm, dst_pmd, addr, &dst_ptl);
	src_ptl = pte_lockptr(src_mm, src_pmd);
	if (src_ptl != dst_ptl)
		ptl_acquire(src_mm, src_ptl, PTL_PTE);
	src_pte = pte_offset_kernel(src_pmd, addr);
	for (; addr != end; addr += PAGE_SIZE, src_pte++, dst_pte++) {
		/* Linux tests each entry here; the run is skipped as zap skips it. */
		unsigned int nr = skip_none_ptes(src_pte, (end - addr) >> PAGE_SHIFT);
		pte_t pte;

		src_pte += nr;
		dst_pte += nr;
		addr += (unsigned long)nr << PAGE_SHIFT;
		if (addr == end)
			break;
		pte = ptep_get(src_pte);
		if (!pte_special(pte)) {
			struct page *page = pfn_to_page(pte_pfn(pte));

			/* folio_try_dup_anon_rmap_pte(): shared now, exclusive to neither. */
			__atomic_and_fetch(&page->flags, ~PG_anon_exclusive, __ATOMIC_RELAXED);
			get_page(page);
			mm_add(dst_mm->nr_anon, 1);
		}
		if (pte_write(pte)) {	/* is_cow_mapping(): private mappings only here */
			ptep_set_wrprotect(src_pte);
			pte.pte &= ~_PAGE_RW;
		}
		pte.pte &= ~_PAGE_ACCESSED;	/* pte_mkold() for the child */
		set_pte(dst_pte, pte);
	}
	if (src_ptl != dst_ptl)
		spin_unlock(src_ptl);
	spin_unlock(dst_ptl);
	return 0;
}

static int copy_pmd_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  pud_t *dst_pud, pud_t *src_pud, unsigned long addr, unsigned long end)
{
	pmd_t *src_pmd = pmd_offset(src_pud, addr), *dst_pmd;
	unsigned long next;

	dst_pmd = pmd_alloc(dst_vma->vm_mm, dst_pud, addr);
	if (!dst_pmd)
		return -PW_ENOMEM;
	do {
		next = pmd_addr_end(addr, end);
		if (pmd_none(*src_pmd))
			continue;
		if (copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr, next))
			return -PW_ENOMEM;
	} while (dst_pmd++, src_pmd++, addr = next, addr != end);
	return 0;
}

static int copy_pud_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  p4d_t *dst_p4d, p4d_t *src_p4d, unsigned long addr, unsigned long end)
{
	pud_t *src_pud = pud_offset(src_p4d, addr), *dst_pud;
	unsigned long next;

	dst_pud = pud_alloc(dst_vma->vm_mm, dst_p4d, addr);
	if (!dst_pud)
		return -PW_ENOMEM;
	do {
		next = pud_addr_end(addr, end);
		if (pud_none(*src_pud))
			continue;
		if (copy_pmd_range(dst_vma, src_vma, dst_pud, src_pud, addr, next))
			return -PW_ENOMEM;
	} while (dst_pud++, src_pud++, addr = next, addr != end);
	return 0;
}

static int copy_p4d_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  pgd_t *dst_pgd, pgd_t *src_pgd, unsigned long addr, unsigned long end)
{
	p4d_t *src_p4d = p4d_offset(src_pgd, addr), *dst_p4d;
	unsigned long next;

	dst_p4d = p4d_alloc(dst_vma->vm_mm, dst_pgd, addr);
	if (!dst_p4d)
		return -PW_ENOMEM;
	do {
		next = p4d_addr_end(addr, end);
		if (p4d_none(*src_p4d))
			continue;
		if (copy_pud_range(dst_vma, src_vma, dst_p4d, src_p4d, addr, next))
			return -PW_ENOMEM;
	} while (dst_p4d++, src_p4d++, addr = next, addr != end);
	return 0;
}

int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	unsigned long addr = src_vma->vm_start, end = src_vma->vm_end, next;
	pgd_t *src_pgd, *dst_pgd;

	if (!src_vma->anon_vma)
		return 0;
	src_pgd = pgd_offset(src_vma->vm_mm, addr);
	dst_pgd = pgd_offset(dst_vma->vm_mm, addr);
	do {
		next = pgd_addr_end(addr, end);
		if (pgd_none(*src_pgd))
			continue;
		if (copy_p4d_range(dst_vma, src_vma, dst_pgd, src_pgd, addr, next))
			return -PW_ENOMEM;
	} while (dst_pgd++, src_pgd++, addr = next, addr != end);
	return 0;
}
