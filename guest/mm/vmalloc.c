/*
 * vmalloc()/vfree() (mm/vmalloc.c): vmap areas in the vmalloc range, a page
 * each, mapped in init_mm only.  What makes other pgds see them depends on
 * the kernel-sync mode: nothing to do (prealloc), arch_sync_kernel_mappings()
 * when a top-level entry changed (eager), or vmalloc_fault() later (fault).
 */
#include "fault_inject.h"
#include "kernel.h"
#include "mm.h"

#define VMALLOC_MAX_PAGES	(PAGE_SIZE / sizeof(struct page *))

struct vmap_area {
	unsigned long addr, size;	/* size without the guard page */
	struct page **pages;		/* one page of pointers */
	struct vmap_area *next;		/* sorted by addr */
};

static struct kmem_cache vmap_area_cachep;
static struct vmap_area *vmap_areas;
static spinlock_t vmap_area_lock;

void vmalloc_init(void)
{
	kmem_cache_init(&vmap_area_cachep, "vmap_area", sizeof(struct vmap_area));
	spin_lock_init(&vmap_area_lock);
}

/* alloc_vmap_area(): first fit at or above `hint`, with a guard page after each area. */
static struct vmap_area *alloc_vmap_area(unsigned long size, unsigned long hint)
{
	unsigned long addr = hint > VMALLOC_START ? hint & PAGE_MASK : VMALLOC_START;
	struct vmap_area *va = kmem_cache_alloc(&vmap_area_cachep), **link;

	if (!va)
		return NULL;
	spin_lock(&vmap_area_lock);
	for (link = &vmap_areas; *link; link = &(*link)->next) {
		if (addr + size + PAGE_SIZE <= (*link)->addr)
			break;
		if ((*link)->addr + (*link)->size + PAGE_SIZE > addr)
			addr = (*link)->addr + (*link)->size + PAGE_SIZE;
	}
	if (addr + size - 1 > VMALLOC_END) {
		spin_unlock(&vmap_area_lock);
		kmem_cache_free(&vmap_area_cachep, va);
		return NULL;
	}
	va->addr = addr;
	va->size = size;
	va->next = *link;
	*link = va;
	spin_unlock(&vmap_area_lock);
	return va;
}

/* pgtbl_mod_mask: which levels vmap_pages_range() populated on the way. */
#define PGTBL_PGD_MODIFIED	(1u << 0)
#define PGTBL_P4D_MODIFIED	(1u << 1)
#define PGTBL_PMD_MODIFIED	(1u << 3)
#ifdef CONFIG_X86_32
/* i386's: a new PTE table under a pmd entry (2-level: the pgd's); none with a shared kernel PMD. */
#define ARCH_PAGE_TABLE_SYNC_MASK (SHARED_KERNEL_PMD ? 0 : PGTBL_PMD_MODIFIED)
#else
/* ARCH_PAGE_TABLE_SYNC_MASK of x86-64: the top level that is not folded. */
#define ARCH_PAGE_TABLE_SYNC_MASK (pgtable_l5_enabled() ? PGTBL_PGD_MODIFIED : PGTBL_P4D_MODIFIED)
#endif

/*
 * vmap_pages_range(): PTEs in init_mm, noting in *mask the levels it
 * populated as p4d_alloc_track() and pud_alloc_track() do.
 */
static int vmap_pages_range(struct vmap_area *va, unsigned int *mask)
{
	*mask = 0;
	for (unsigned long i = 0; i < va->size >> PAGE_SHIFT; i++) {
		unsigned long addr = va->addr + i * PAGE_SIZE;
		pgd_t *pgd = pgd_offset_k(addr);
		p4d_t *p4d;
		pud_t *pud;
		pmd_t *pmd;

		if (pgd_none(*pgd))
			*mask |= PGTBL_PGD_MODIFIED;
		p4d = p4d_alloc(&init_mm, pgd, addr);
		if (!p4d)
			return -PW_ENOMEM;
		if (p4d_none(*p4d))
			*mask |= PGTBL_P4D_MODIFIED;
		pud = pud_alloc(&init_mm, p4d, addr);
		pmd = pud ? pmd_alloc(&init_mm, pud, addr) : NULL;
		if (pmd && pmd_none(*pmd))
			*mask |= PGTBL_PMD_MODIFIED;	/* pte_alloc_kernel_track() */
		if (!pmd || pte_alloc_kernel(pmd))
			return -PW_ENOMEM;
		set_pte(pte_offset_kernel(pmd, addr),
			(pte_t){ (page_to_pfn(va->pages[i]) << PAGE_SHIFT) | PAGE_KERNEL });
	}
	return 0;
}

/* vunmap_range(): the PTEs go, the kernel tables stay (as in Linux). */
static void vunmap_range(struct vmap_area *va)
{
	for (unsigned long addr = va->addr; addr < va->addr + va->size; addr += PAGE_SIZE) {
		pmd_t *pmd = mm_find_pmd(&init_mm, addr);

		if (pmd)
			pte_clear(pte_offset_kernel(pmd, addr));
	}
	flush_tlb_kernel_range(va->addr, va->addr + va->size);
}

static void free_vmap_area(struct vmap_area *va)
{
	for (unsigned long i = 0; i < va->size >> PAGE_SHIFT; i++)
		if (va->pages[i])
			__free_page(va->pages[i]);
	__free_page(virt_to_page(va->pages));
	kmem_cache_free(&vmap_area_cachep, va);
}

/* find_unlink_vmap_area(): one lock hold, so two vfree()s of one area cannot both win. */
static struct vmap_area *find_unlink_vmap_area(unsigned long addr)
{
	struct vmap_area *va = NULL;

	spin_lock(&vmap_area_lock);
	for (struct vmap_area **p = &vmap_areas; *p; p = &(*p)->next) {
		if ((*p)->addr == addr) {
			va = *p;
			*p = va->next;
			break;
		}
	}
	spin_unlock(&vmap_area_lock);
	return va;
}

/* __vmalloc_node_range() with a start hint; NULL when it cannot be had. */
void *vmalloc(unsigned long size, unsigned long hint)
{
	struct vmap_area *va;
	struct page *array;
	unsigned int mask;

	size = (size + PAGE_SIZE - 1) & PAGE_MASK;
	if (!size || size / PAGE_SIZE > VMALLOC_MAX_PAGES)
		return NULL;
	array = alloc_page(0);
	if (!array)
		return NULL;
	va = alloc_vmap_area(size, hint);
	if (!va) {
		__free_page(array);
		return NULL;
	}
	va->pages = page_address(array);
	for (unsigned long i = 0; i < size >> PAGE_SHIFT; i++) {
		va->pages[i] = should_fail(PW_INJECT_VMALLOC, 0) ? NULL : alloc_page(0);
		if (!va->pages[i])
			goto fail;
	}
	if (vmap_pages_range(va, &mask))
		goto fail;
	if ((mask & ARCH_PAGE_TABLE_SYNC_MASK) && boot_params.kernel_sync == PW_SYNC_EAGER)
#ifdef CONFIG_X86_32
		arch_sync_kernel_mappings(va->addr, va->addr + va->size - 1);
#else
		sync_global_pgds(va->addr, va->addr + va->size - 1);	/* arch_sync_kernel_mappings() */
#endif
	trace(vmalloc, va->addr, va->size);
	return (void *)va->addr;
fail:
	vunmap_range(va);
	find_unlink_vmap_area(va->addr);
	free_vmap_area(va);
	return NULL;
}

long vfree(const void *addr)
{
	struct vmap_area *va = find_unlink_vmap_area((unsigned long)addr);

	if (!va)
		return -PW_EINVAL;
	trace(vfree, va->addr, va->size);
	vunmap_range(va);
	free_vmap_area(va);
	return 0;
}
