/* The guest's memory manager: struct page, mm_struct, VMAs (include/linux/mm_types.h). */
#ifndef GUEST_MM_H
#define GUEST_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "percpu.h"
#include "pgtable.h"
#include "spinlock.h"

#include <pagewalk/events.h>
#include <pagewalk/ops.h>

/* Page-table levels, numbered as the channel reports them. */
enum pt_level {
	PT_PTE = PW_LEVEL_PTE, PT_PMD = PW_LEVEL_PMD, PT_PUD = PW_LEVEL_PUD,
	PT_P4D = PW_LEVEL_P4D, PT_PGD = PW_LEVEL_PGD,
};

#define PG_reserved	(1U << 0)
#define PG_table	(1U << 1)
#define PG_slab		(1U << 2)
#define PG_anon		(1U << 3)
#define PG_anon_exclusive (1U << 4)	/* PageAnonExclusive: mapped by one mm, never shared since */

struct kmem_cache;

struct page {
	uint32_t flags;
	int32_t refcount;
	union {
		struct page *next_free;		/* on the free list */
		struct {			/* PG_table */
#if ALLOC_SPLIT_PTLOCKS
			spinlock_t *ptl;
#else
			spinlock_t ptl;
#endif
			uint8_t pt_level;
			struct mm_struct *pt_mm;	/* pgd pages: the owner */
			struct page *lru_next;		/* pgd pages: pgd_list */
		};
		struct {			/* PG_slab */
			struct kmem_cache *slab_cache;
			void *freelist;
			uint32_t inuse;
		};
	};
};

struct vm_area_struct;

/*
 * The counters are updated under different split locks at once, so they
 * are atomic, as Linux's pgtables_bytes (atomic_long_t) and rss_stat are.
 */
struct mm_struct {
	pgd_t *pgd;
	rwlock_t mmap_lock;		/* the VMA list: faults read, mmap/munmap/mprotect write */
	spinlock_t page_table_lock;	/* p4d/pud installs; everything below split-lock threshold */
	int32_t mm_users;		/* the task, and each CPU running in it */
	uint64_t cpumask;		/* mm_cpumask(): CPUs with this pgd in CR3 */
	int64_t pgtables_bytes;		/* mm_inc_nr_ptes/pmds/puds: no p4d, as Linux */
	uint64_t nr_tables[PT_PGD + 1];	/* installed tables per level, for reports */
	int64_t nr_anon;		/* MM_ANONPAGES */
	struct vm_area_struct *mmap;	/* VMAs sorted by address */
	unsigned int id;
};

#define mm_add(field, n)	__atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)

#define VM_READ		0x1UL
#define VM_WRITE	0x2UL
#define VM_EXEC		0x4UL
#define VM_SPECIAL	0x100UL	/* a fixed kernel page mapped into user space */

struct vm_area_struct {
	unsigned long vm_start, vm_end;
	unsigned long vm_flags;
	pgprot_t vm_page_prot;
	uint64_t special_pfn;		/* VM_SPECIAL */
	bool anon_vma;			/* has private pages (anon_vma_prepare() was called) */
	struct mm_struct *vm_mm;
	struct vm_area_struct *vm_next, *vm_prev;
};

/* mm/page_alloc.c */
struct mm_counters {
	uint64_t total, free, pgtable, anon, slab, kernel;
};

extern struct page *mem_map;
extern uint64_t max_pfn;
extern struct mm_counters mm_counters;

void page_alloc_init(void);
void free_reserved_area(uint64_t start, uint64_t end);	/* guest-physical, page-aligned */
struct page *alloc_page(uint32_t flags);	/* zeroed; NULL when out of memory */
void __free_page(struct page *page);
void get_page(struct page *page);
void put_page(struct page *page);
void clear_page(void *va);
void copy_page(void *to, const void *from);

static inline uint64_t page_to_pfn(const struct page *p) { return p - mem_map; }
static inline struct page *pfn_to_page(uint64_t pfn) { return &mem_map[pfn]; }
static inline void *page_address(const struct page *p) { return (void *)(uintptr_t)((page_to_pfn(p) << PAGE_SHIFT) + PAGE_OFFSET); }
static inline struct page *virt_to_page(const void *va) { return pfn_to_page(__pa(va) >> PAGE_SHIFT); }

/* mm/slab.c: a minimal kmem_cache that hands empty pages back */
struct kmem_cache {
	const char *name;
	spinlock_t lock;
	uint32_t size;
	uint64_t objects;		/* allocated now */
	struct page *partial;		/* a page with free objects */
};

void kmem_cache_init(struct kmem_cache *c, const char *name, uint32_t size);
void *kmem_cache_alloc(struct kmem_cache *c);	/* zeroed */
void kmem_cache_free(struct kmem_cache *c, void *obj);

/* mm/pgtable.c */
extern struct mm_struct init_mm;
extern spinlock_t pgd_lock;
extern struct page *pgd_list;		/* every pgd but swapper_pg_dir */
extern unsigned int pgd_list_len;
extern unsigned int split_ptlock_cpus;
extern bool use_split_ptlocks;
extern struct kmem_cache *page_ptl_cachep;

void pgtable_init(unsigned int ncpus, unsigned int split_cpus);
pgd_t *pgd_alloc(struct mm_struct *mm);
void pgd_free(struct mm_struct *mm, pgd_t *pgd);
#ifdef CONFIG_X86_PAE
void pud_populate(struct mm_struct *mm, pud_t *pud, pmd_t *pmd);
#else
/* pud_populate(): a table entry grants everything, the leaves restrict. */
static inline void pud_populate(struct mm_struct *mm, pud_t *pud, pmd_t *pmd)
{
	(void)mm;
	set_pud(pud, (pud_t){ __pa(pmd) | _PAGE_TABLE });
}
#endif

/* mm/init.c: the kernel half of the address space */
#ifndef CONFIG_X86_32		/* i386: pgtable_32_types.h */
#define VMALLOC_START	vmalloc_base
#define VMALLOC_END	(VMALLOC_START + PW_VMALLOC_SIZE(PAGING_LEVELS) - 1)	/* VMALLOC_SIZE_TB */
#endif
#define PAGE_KERNEL	(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL | _PAGE_NX)

struct ksync_stats {
	uint64_t syncs, vmalloc_faults, preallocated;
};

extern struct ksync_stats ksync_stats;

static inline pgd_t *swapper_pg_dir(void)
{
	return init_mm.pgd;
}

static inline pgd_t *pgd_offset_k(unsigned long a)
{
	return swapper_pg_dir() + pgd_index(a);
}

void paging_init(void);
void free_boot_tables(void);
void sync_global_pgds(unsigned long start, unsigned long end);
void arch_sync_kernel_mappings(unsigned long start, unsigned long end);	/* i386: arch/fault.c */

/* mm/tlb.c: kernel-range flushes */
void flush_tlb_kernel_range(unsigned long start, unsigned long end);
void flush_tlb_kernel_catch_up(void);	/* before each op: kernel flushes missed while parked */

/* mm/vmalloc.c */
void vmalloc_init(void);
void *vmalloc(unsigned long size, unsigned long hint);
long vfree(const void *addr);

/* mm/pgtable.c: page-table pages, their locks and accounting */
void *pgtable_alloc_one(struct mm_struct *mm, enum pt_level level, unsigned long addr);
void pgtable_free(struct mm_struct *mm, void *table, enum pt_level level);
/*
 * Lock statistics per page-table lock class (lock_stat's acquisitions and
 * contentions): every page-table lock is taken through ptl_acquire(), which
 * files it under mm->page_table_lock or under the split class it would have.
 * As Linux's CONFIG_LOCK_STAT with /proc/sys/kernel/lock_stat, counting is
 * off until asked for: the first lock_stats op turns it on (its counts
 * from 0), and until then taking a lock costs one flag test more.
 */
enum ptl_class { PTL_MM = PW_PTL_MM, PTL_PMD = PW_PTL_PMD, PTL_PTE = PW_PTL_PTE, PTL_CLASSES };

struct lock_stats {
	uint64_t acquisitions, contended;
};

extern struct lock_stats lock_stats[NR_CPUS][PTL_CLASSES];

extern bool lock_stat;

void lock_stat_enable(void);
void ptl_acquire_stat(struct mm_struct *mm, spinlock_t *ptl, enum ptl_class split_class);

static inline void ptl_acquire(struct mm_struct *mm, spinlock_t *ptl, enum ptl_class split_class)
{
	if (__builtin_expect(__atomic_load_n(&lock_stat, __ATOMIC_RELAXED), 0))
		ptl_acquire_stat(mm, ptl, split_class);
	else
		spin_lock(ptl);
}

/* ptlock_ptr(), pte_lockptr(), pmd_lockptr(): inline, as in include/linux/mm.h. */
static inline spinlock_t *ptlock_ptr(struct page *page)
{
#if ALLOC_SPLIT_PTLOCKS
	return page->ptl;
#else
	return &page->ptl;
#endif
}

/* pte_lockptr(): the PTE page's split lock, or page_table_lock below the threshold. */
static inline spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	if (!use_split_ptlocks || mm == &init_mm)
		return &mm->page_table_lock;
	return ptlock_ptr(pfn_to_page((pmd->pmd & PTE_PFN_MASK) >> PAGE_SHIFT));
}

/* pmd_lockptr(): the split lock of the page holding the PMD table. */
static inline spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd)
{
	if (!use_split_ptlocks)
		return &mm->page_table_lock;
	return ptlock_ptr(virt_to_page(pmd));
}
spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmd);
spinlock_t *pud_lock(struct mm_struct *mm, pud_t *pud);
void mm_inc_nr_tables(struct mm_struct *mm, enum pt_level level);
void mm_dec_nr_tables(struct mm_struct *mm, enum pt_level level);

/* mm/memory.c */
#define VM_FAULT_OOM		0x0001
#define VM_FAULT_SIGBUS		0x0002
#define VM_FAULT_SIGSEGV	0x0040
#define VM_FAULT_ERROR		(VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)
#define FAULT_FLAG_WRITE	0x01
#define FAULT_FLAG_USER		0x40
#define FAULT_FLAG_INSTRUCTION	0x100

#define fault_tables_installed	(this_cpu()->fault_tables_installed)

int __p4d_alloc(struct mm_struct *mm, pgd_t *pgd, unsigned long address);
int __pud_alloc(struct mm_struct *mm, p4d_t *p4d, unsigned long address);
int __pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long address);
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd);
int __pte_alloc_kernel(pmd_t *pmd);

/* The inline fast paths of include/linux/mm.h. */
static inline p4d_t *p4d_alloc(struct mm_struct *mm, pgd_t *pgd, unsigned long address)
{
	return (pgd_none(*pgd) && __p4d_alloc(mm, pgd, address)) ? NULL : p4d_offset(pgd, address);
}

static inline pud_t *pud_alloc(struct mm_struct *mm, p4d_t *p4d, unsigned long address)
{
	return (p4d_none(*p4d) && __pud_alloc(mm, p4d, address)) ? NULL : pud_offset(p4d, address);
}

static inline pmd_t *pmd_alloc(struct mm_struct *mm, pud_t *pud, unsigned long address)
{
	return (pud_none(*pud) && __pmd_alloc(mm, pud, address)) ? NULL : pmd_offset(pud, address);
}

static inline int pte_alloc(struct mm_struct *mm, pmd_t *pmd)
{
	return pmd_none(*pmd) && __pte_alloc(mm, pmd);
}

static inline int pte_alloc_kernel(pmd_t *pmd)
{
	return pmd_none(*pmd) && __pte_alloc_kernel(pmd);
}

static inline pgd_t *pgd_offset(struct mm_struct *mm, unsigned long a)
{
	return mm->pgd + pgd_index(a);
}

/*
 * mm/tlb.c: the mmu_gather of include/asm-generic/tlb.h.  Pages and tables
 * unmapped under it are freed only after the TLB no longer maps them.
 */
struct mmu_gather {
	struct mm_struct *mm;
	unsigned long start, end;	/* range to flush; start >= end: nothing */
	unsigned int nr;
	struct {
		void *ptr;		/* struct page * (level 0), or a table */
		uint8_t level;
	} batch[64];
};

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm);
void tlb_flush_range(struct mmu_gather *tlb, unsigned long start, unsigned long end);
bool __tlb_remove_page(struct mmu_gather *tlb, struct page *page);
void tlb_flush_mmu_tlbonly(struct mmu_gather *tlb);
void tlb_flush_mmu(struct mmu_gather *tlb);
void tlb_remove_table(struct mmu_gather *tlb, void *table, enum pt_level level, unsigned long addr);
void tlb_finish_mmu(struct mmu_gather *tlb);

extern char empty_zero_page[PAGE_SIZE];

unsigned int handle_mm_fault(struct vm_area_struct *vma, unsigned long address, unsigned int flags);
pmd_t *mm_find_pmd(struct mm_struct *mm, unsigned long addr);
pmd_t *walk_to_pmd(struct mm_struct *mm, unsigned long address);
void unmap_vmas(struct mmu_gather *tlb, struct vm_area_struct *vma, unsigned long start,
		unsigned long end);
void free_pgtables(struct mmu_gather *tlb, struct vm_area_struct *vma, unsigned long floor,
		   unsigned long ceiling);
#define MM_CP_TRY_CHANGE_WRITABLE	0x1UL	/* change_protection(): upgrade where the fault would */
void change_protection(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		       unsigned long cp_flags);
int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma);

/* mm/mmap.c */
void mmap_init(void);
struct mm_struct *mm_alloc(void);
void mmput(struct mm_struct *mm);
void mmget(struct mm_struct *mm);
struct mm_struct *dup_mm(struct mm_struct *oldmm);
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned long prot);
long do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len);
long do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len, unsigned long prot);
long install_special_mapping(struct mm_struct *mm, unsigned long addr, uint64_t pfn);
pgprot_t vm_get_page_prot(unsigned long vm_flags);

/* mm/tlb.c: the mm a CPU runs in, and shootdowns */
#define current_mm		(this_cpu()->loaded_mm)	/* whose pgd CR3 holds */
void switch_mm(struct mm_struct *next);
#define TLB_FLUSH_ALL	(~0UL)	/* an end past every address: a CR3 write */
void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start, unsigned long end);
void flush_tlb_func(void);		/* the TLB_IPI_VECTOR handler */
void tlb_init(void);
extern uint64_t tlb_ipis_sent, tlb_ipi_flushes;

#endif
