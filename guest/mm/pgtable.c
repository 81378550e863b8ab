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

/*
 * pgd_alloc() -> pgd_ctor(): the kernel half is cloned from swapper_pg_dir
 * and the pgd joins pgd_list in one pgd_lock section, so that a concurrent
 * sync_global_pgds() either finds it on the list or had already updated
 * the entries it clones.
 */
pgd_t *pgd_alloc(struct mm_struct *mm)
{
	struct page *page = should_fail(PW_INJECT_PGD_ALLOC, PT_PGD) ? NULL : alloc_page(PG_table);
	unsigned int len;
	pgd_t *pgd;

	if (!page)
		return NULL;
	page->pt_level = PT_PGD;
	pgd = page_address(page);
	trace(pgtable_alloc, PT_PGD, __pa(pgd), mm->id, 0);
	spin_lock(&pgd_lock);
	memcpy(pgd + KERNEL_PGD_BOUNDARY, swapper_pg_dir() + KERNEL_PGD_BOUNDARY,
	       (PTRS_PER_PGD - KERNEL_PGD_BOUNDARY) * sizeof(pgd_t));	/* clone_pgd_range() */
	pgd_list_add(pgd, mm);
	len = pgd_list_len;
	spin_unlock(&pgd_lock);
	trace(pgd_ctor, mm->id, __pa(pgd), len);
	return pgd;
}

/* pgd_free() -> pgd_dtor(). */
void pgd_free(struct mm_struct *mm, pgd_t *pgd)
{
	unsigned int len;

	spin_lock(&pgd_lock);
	pgd_list_del(pgd);
	len = pgd_list_len;
	spin_unlock(&pgd_lock);
	trace(pgd_dtor, mm->id, __pa(pgd), len);
	pgtable_free(mm, pgd, PT_PGD);
}
