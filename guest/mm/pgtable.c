/*
 * Page-table pages: allocation with their constructors (split ptlocks),
 * per-level accounting, the pgd with its kernel half, and the locks that
 * guard each level (arch/x86/mm/pgtable.c, include/linux/mm.h).
 */
#include "asm.h"
#include "fault_inject.h"
#include "kernel.h"
#include "mm.h"

struct mm_struct init_mm;
spinlock_t pgd_lock;
struct page *pgd_list;
unsigned int pgd_list_len;
unsigned int split_ptlock_cpus;
bool use_split_ptlocks;
static struct kmem_cache ptl_cache;
struct kmem_cache *page_ptl_cachep;
#ifdef CONFIG_X86_PAE
static struct kmem_cache pgd_cache;
#endif

static const char *const level_names[] = {
#define PT_NAME(name, id, str) [id] = str,
	PW_LEVELS(PT_NAME)
#undef PT_NAME
};

/*
 * USE_SPLIT_PTE_PTLOCKS is NR_CPUS >= CONFIG_SPLIT_PTLOCK_CPUS in Linux, a
 * build-time choice; here NR_CPUS is the CPU count of the FDT, decided at boot.
 */
void pgtable_init(unsigned int ncpus, unsigned int split_cpus)
{
	split_ptlock_cpus = split_cpus;
	use_split_ptlocks = ncpus >= split_cpus;
	/* ptlock_cache_init(): only needed when the lock does not fit in struct page. */
	if (use_split_ptlocks && ALLOC_SPLIT_PTLOCKS) {
		kmem_cache_init(&ptl_cache, "page->ptl", sizeof(spinlock_t));
		page_ptl_cachep = &ptl_cache;
	}
	spin_lock_init(&init_mm.page_table_lock);
	spin_lock_init(&pgd_lock);
#ifdef CONFIG_X86_PAE
	/*
	 * pgtable_cache_init() -> pgd_cache_init(): with SHARED_KERNEL_PMD a
	 * PAE pgd is its four PDPTEs, 32 bytes (the alignment CR3 wants), a
	 * slab object; 2-level and 64-bit pgds are a page each.
	 */
	kmem_cache_init(&pgd_cache, "pgd_cache", PTRS_PER_PGD * sizeof(pgd_t));
#endif
}

/* ptlock_alloc()/ptlock_init(): the split lock of one page-table page. */
static bool ptlock_init(struct page *page)
{
#if ALLOC_SPLIT_PTLOCKS
	if (should_fail(PW_INJECT_PTLOCK_ALLOC, page->pt_level))
		return false;
	page->ptl = kmem_cache_alloc(page_ptl_cachep);
	if (!page->ptl)
		return false;
	spin_lock_init(page->ptl);
#else
	spin_lock_init(&page->ptl);
#endif
	return true;
}

static void ptlock_free(struct page *page)
{
#if ALLOC_SPLIT_PTLOCKS
	kmem_cache_free(page_ptl_cachep, page->ptl);
	page->ptl = NULL;
#else
	(void)page;
#endif
}

/*
 * Split locks cover PTE and PMD pages; PUD and above stay under
 * page_table_lock.  Kernel PTE tables (pte_alloc_one_kernel()) have no
 * constructor: init_mm.page_table_lock guards them.
 */
static bool has_split_lock(struct mm_struct *mm, enum pt_level level)
{
	return use_split_ptlocks && (level == PT_PMD || (level == PT_PTE && mm != &init_mm));
}

/*
 * pte_alloc_one()/pmd_alloc_one()/pud_alloc_one(): a zeroed page, with
 * pagetable_pte_ctor()/pagetable_pmd_ctor() when split locks are in use.
 */
void *pgtable_alloc_one(struct mm_struct *mm, enum pt_level level, unsigned long addr)
{
	struct page *page;

	if (should_fail(PW_INJECT_PGTABLE_ALLOC, level))
		return NULL;
	page = alloc_page(PG_table);
	if (!page)
		return NULL;
	page->pt_level = level;
	if (has_split_lock(mm, level) && !ptlock_init(page)) {
		__free_page(page);
		return NULL;
	}
	trace(pgtable_alloc, level, page_to_pfn(page) << PAGE_SHIFT, mm->id, addr);
	return page_address(page);
}

/* pte_free()/pmd_free()/pud_free() with their destructors. */
void pgtable_free(struct mm_struct *mm, void *table, enum pt_level level)
{
	struct page *page = virt_to_page(table);

	if (!(page->flags & PG_table) || page->pt_level != level)
		panic("freeing %p as a %s table", table, level_names[level]);
	if (has_split_lock(mm, level))
		ptlock_free(page);
	trace(pgtable_free, level, page_to_pfn(page) << PAGE_SHIFT, mm->id);
	__free_page(page);
}

/*
 * mm_inc_nr_ptes/pmds/puds: PUD, PMD and PTE tables are in pgtables_bytes;
 * P4D tables never are (Linux's __p4d_alloc() has no mm_inc_nr_p4ds()),
 * folded or not.  nr_tables counts them all, for reports.
 */
void mm_inc_nr_tables(struct mm_struct *mm, enum pt_level level)
{
	mm_add(mm->nr_tables[level], 1);
	if (level <= PT_PUD)
		mm_add(mm->pgtables_bytes, PAGE_SIZE);
	fault_tables_installed++;
}

void mm_dec_nr_tables(struct mm_struct *mm, enum pt_level level)
{
	mm_add(mm->nr_tables[level], -1);
	if (level <= PT_PUD)
		mm_add(mm->pgtables_bytes, -(int64_t)PAGE_SIZE);
}

struct lock_stats lock_stats[NR_CPUS][PTL_CLASSES];
bool lock_stat;

void lock_stat_enable(void)
{
	__atomic_store_n(&lock_stat, true, __ATOMIC_RELAXED);
}

void ptl_acquire_stat(struct mm_struct *mm, spinlock_t *ptl, enum ptl_class split_class)
{
	enum ptl_class c = ptl == &mm->page_table_lock ? PTL_MM : split_class;
	struct lock_stats *s = &lock_stats[smp_processor_id()][c];

	s->acquisitions++;
	if (!spin_trylock(ptl)) {
		s->contended++;
		spin_lock(ptl);
	}
}

spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd)
{
	spinlock_t *ptl = pmd_lockptr(mm, pmd);

	ptl_acquire(mm, ptl, PTL_PMD);
	return ptl;
}

/* pud_lock(): x86 has no split PUD lock. */
spinlock_t *pud_lock(struct mm_struct *mm, pud_t *pud)
{
	(void)pud;
	ptl_acquire(mm, &mm->page_table_lock, PTL_MM);
	return &mm->page_table_lock;
}

static void pgd_list_add(pgd_t *pgd, struct mm_struct *mm)
{
	struct page *page = virt_to_page(pgd);

	page->pt_mm = mm;
	page->lru_next = pgd_list;
	pgd_list = page;
	pgd_list_len++;
}

static void pgd_list_del(pgd_t *pgd)
{
	struct page *page = virt_to_page(pgd);

	for (struct page **p = &pgd_list; *p; p = &(*p)->lru_next) {
		if (*p == page) {
			*p = page->lru_next;
			pgd_list_len--;
			return;
		}
	}
	panic("pgd %p is not on pgd_list", pgd);
}

#ifdef CONFIG_X86_PAE
/*
 * pud_populate() of PAE: a PDPTE has P and no R/W or U/S (those bits are
 * reserved there), and the CPU loads the four only at a CR3 write (or a
 * CR0/CR4 write that changes the paging mode, SDM vol. 3A 4.4.1), so the
 * mm's TLBs are flushed with one (flush_tlb_mm()).
 */
void pud_populate(struct mm_struct *mm, pud_t *pud, pmd_t *pmd)
{
	set_pud(pud, (pud_t){ __pa(pmd) | _PAGE_PRESENT });
	flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL);
}

/*
 * PREALLOCATED_PMDS (UNSHARED_PTRS_PER_PGD with SHARED_KERNEL_PMD): a PMD
 * table under each user PDPTE from the start, since a PDPTE written later
 * costs a CR3 reload and all three are soon used; the kernel one is
 * swapper_pg_dir's.
 */
#define PREALLOCATED_PMDS	KERNEL_PGD_BOUNDARY

static void free_pmds(struct mm_struct *mm, pmd_t *pmds[])
{
	for (unsigned int i = 0; i < PREALLOCATED_PMDS; i++) {
		if (pmds[i]) {
			pgtable_free(mm, pmds[i], PT_PMD);
			mm_dec_nr_tables(mm, PT_PMD);
		}
	}
}

/* preallocate_pmds(): with their pagetable_pmd_ctor(), counted as mm_inc_nr_pmds() counts them. */
static int preallocate_pmds(struct mm_struct *mm, pmd_t *pmds[])
{
	bool failed = false;

	for (unsigned int i = 0; i < PREALLOCATED_PMDS; i++) {
		pmds[i] = pgtable_alloc_one(mm, PT_PMD, (unsigned long)i << PGDIR_SHIFT);
		if (pmds[i])
			mm_inc_nr_tables(mm, PT_PMD);
		else
			failed = true;
	}
	if (failed) {
		free_pmds(mm, pmds);
		return -PW_ENOMEM;
	}
	return 0;
}

/* pgd_prepopulate_pmd(): the user PDPTEs, each through pud_populate(). */
static void pgd_prepopulate_pmd(struct mm_struct *mm, pgd_t *pgd, pmd_t *pmds[])
{
	pud_t *pud = pud_offset(p4d_offset(pgd, 0), 0);

	for (unsigned int i = 0; i < PREALLOCATED_PMDS; i++)
		pud_populate(mm, pud + i, pmds[i]);
}

/*
 * pgd_mop_up_pmds(): the PMD tables free_pgtables() left (those under
 * which no VMA ever was), at pgd_free(); a PDPTE it did clear is empty.
 */
static void pgd_mop_up_pmds(struct mm_struct *mm, pgd_t *pgd)
{
	for (unsigned int i = 0; i < PREALLOCATED_PMDS; i++) {
		if (!pgd[i].pgd)
			continue;
		pgtable_free(mm, table_va(pgd[i].pgd), PT_PMD);
		mm_dec_nr_tables(mm, PT_PMD);
	}
}

/* _pgd_alloc(): 32 bytes from pgd_cache, not a page table page of its own. */
static pgd_t *_pgd_alloc(struct mm_struct *mm)
{
	pgd_t *pgd = should_fail(PW_INJECT_PGD_ALLOC, PT_PGD) ? NULL : kmem_cache_alloc(&pgd_cache);

	if (pgd)
		trace(pgtable_alloc, PT_PGD, __pa(pgd), mm->id, 0);
	return pgd;
}

static void _pgd_free(struct mm_struct *mm, pgd_t *pgd)
{
	trace(pgtable_free, PT_PGD, __pa(pgd), mm->id);
	kmem_cache_free(&pgd_cache, pgd);
}
#else
/* No PDPTEs: nothing preallocated, the pgd a page (Linux's PREALLOCATED_PMDS 0). */
#define PREALLOCATED_PMDS	0

static int preallocate_pmds(struct mm_struct *mm, pmd_t *pmds[])
{
	(void)mm, (void)pmds;
	return 0;
}

static void pgd_prepopulate_pmd(struct mm_struct *mm, pgd_t *pgd, pmd_t *pmds[])
{
	(void)mm, (void)pgd, (void)pmds;
}

static void pgd_mop_up_pmds(struct mm_struct *mm, pgd_t *pgd)
{
	(void)mm, (void)pgd;
}

static pgd_t *_pgd_alloc(struct mm_struct *mm)
{
	struct page *page = should_fail(PW_INJECT_PGD_ALLOC, PT_PGD) ? NULL : alloc_page(PG_table);

	if (!page)
		return NULL;
	page->pt_level = PT_PGD;
	trace(pgtable_alloc, PT_PGD, page_to_pfn(page) << PAGE_SHIFT, mm->id, 0);
	return page_address(page);
}

static void _pgd_free(struct mm_struct *mm, pgd_t *pgd)
{
	pgtable_free(mm, pgd, PT_PGD);
}
#endif

/*
 * pgd_alloc() -> pgd_ctor(): the kernel half is cloned from swapper_pg_dir
 * and the pgd joins pgd_list in one pgd_lock section, so that a concurrent
 * sync_global_pgds() either finds it on the list or had already updated
 * the entries it clones.  PAE with SHARED_KERNEL_PMD: the one kernel
 * PDPTE is cloned, the user ones point at the preallocated PMDs, and the
 * pgd stays off pgd_list, as nothing ever needs syncing into it.
 */
pgd_t *pgd_alloc(struct mm_struct *mm)
{
	pgd_t *pgd = _pgd_alloc(mm);
	pmd_t *pmds[PREALLOCATED_PMDS ?: 1];	/* no zero-length array without PAE */
	unsigned int len;

	if (!pgd)
		return NULL;
	if (preallocate_pmds(mm, pmds)) {
		_pgd_free(mm, pgd);
		return NULL;
	}
	spin_lock(&pgd_lock);
	memcpy(pgd + KERNEL_PGD_BOUNDARY, swapper_pg_dir() + KERNEL_PGD_BOUNDARY,
	       (PTRS_PER_PGD - KERNEL_PGD_BOUNDARY) * sizeof(pgd_t));	/* clone_pgd_range() */
	if (!SHARED_KERNEL_PMD)
		pgd_list_add(pgd, mm);
	pgd_prepopulate_pmd(mm, pgd, pmds);
	len = pgd_list_len;
	spin_unlock(&pgd_lock);
	trace(pgd_ctor, mm->id, __pa(pgd), len);
	return pgd;
}

/* pgd_free(): pgd_mop_up_pmds() (PAE), then pgd_dtor(). */
void pgd_free(struct mm_struct *mm, pgd_t *pgd)
{
	unsigned int len;

	pgd_mop_up_pmds(mm, pgd);
	spin_lock(&pgd_lock);
	if (!SHARED_KERNEL_PMD)
		pgd_list_del(pgd);
	len = pgd_list_len;
	spin_unlock(&pgd_lock);
	trace(pgd_dtor, mm->id, __pa(pgd), len);
	_pgd_free(mm, pgd);
}
