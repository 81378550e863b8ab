/* TLB flushing and the mmu_gather (arch/x86/mm/tlb.c, mm/mmu_gather.c), one CPU for now. */
#include "asm.h"
#include "kernel.h"
#include "mm.h"

/* Past this many pages a full CR3 reload is cheaper (tlb_single_page_flush_ceiling). */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33

void switch_mm(struct mm_struct *next)
{
	if (next == current_mm)
		return;
	current_mm = next;
	write_cr3(__pa(next->pgd));
}

void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	if (mm != current_mm || start >= end)
		return;		/* not loaded: the next CR3 write flushes it (no PCID) */
	if ((end - start) >> PAGE_SHIFT > TLB_SINGLE_PAGE_FLUSH_CEILING) {
		write_cr3(__pa(mm->pgd));
		return;
	}
	for (unsigned long a = start & PAGE_MASK; a < end; a += PAGE_SIZE)
		invlpg(a);
}

/*
 * Kernel mappings are global: a CR3 write keeps them, so a large range is
 * flushed by toggling CR4.PGE (__flush_tlb_all()).
 */
void flush_tlb_kernel_range(unsigned long start, unsigned long end)
{
	uint64_t cr4;

	if ((end - start) >> PAGE_SHIFT <= TLB_SINGLE_PAGE_FLUSH_CEILING) {
		for (unsigned long a = start & PAGE_MASK; a < end; a += PAGE_SIZE)
			invlpg(a);
		return;
	}
	cr4 = read_cr4();
	write_cr4(cr4 & ~X86_CR4_PGE);
	write_cr4(cr4);
}

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm)
{
	tlb->mm = mm;
	tlb->start = ~0UL;
	tlb->end = 0;
	tlb->nr = 0;
}

void tlb_flush_range(struct mmu_gather *tlb, unsigned long start, unsigned long end)
{
	if (start < tlb->start)
		tlb->start = start;
	if (end > tlb->end)
		tlb->end = end;
}

/* tlb_flush_mmu(): flush, then free what the flushed entries pointed to. */
static void tlb_flush_mmu(struct mmu_gather *tlb)
{
	flush_tlb_mm_range(tlb->mm, tlb->start, tlb->end);
	tlb->start = ~0UL;
	tlb->end = 0;
	for (unsigned int i = 0; i < tlb->nr; i++) {
		if (tlb->batch[i].level)
			pgtable_free(tlb->mm, tlb->batch[i].ptr, tlb->batch[i].level);
		else
			put_page(tlb->batch[i].ptr);
	}
	tlb->nr = 0;
}

static void tlb_add(struct mmu_gather *tlb, void *ptr, uint8_t level)
{
	if (tlb->nr == ARRAY_SIZE(tlb->batch))
		tlb_flush_mmu(tlb);
	tlb->batch[tlb->nr].ptr = ptr;
	tlb->batch[tlb->nr].level = level;
	tlb->nr++;
}

void tlb_remove_page(struct mmu_gather *tlb, struct page *page)
{
	tlb_add(tlb, page, 0);
}

/*
 * pte_free_tlb()/pmd_free_tlb()/pud_free_tlb(): paging-structure caches
 * may still hold the table, so the flush must happen even when no PTE was
 * cleared; widening the range by the page at `addr` guarantees it (INVLPG
 * drops paging-structure cache entries for every address, not just that one).
 */
void tlb_remove_table(struct mmu_gather *tlb, void *table, enum pt_level level, unsigned long addr)
{
	tlb_flush_range(tlb, addr, addr + PAGE_SIZE);
	tlb_add(tlb, table, level);
}

void tlb_finish_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
}
