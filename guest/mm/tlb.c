/* TLB flushing, shootdowns and the mmu_gather (arch/x86/mm/tlb.c, mm/mmu_gather.c). */
#include "apic.h"
#include "asm.h"
#include "kernel.h"
#include "mm.h"

/* Past this many pages a full CR3 reload is cheaper (tlb_single_page_flush_ceiling). */
#define TLB_SINGLE_PAGE_FLUSH_CEILING 33

/*
 * switch_mm_irqs_off(): the CPU joins next's mm_cpumask before loading its
 * CR3, so a shootdown that misses it started before this CR3 write, which
 * flushes everything anyway (no PCID); it leaves prev's only after.
 */
void switch_mm(struct mm_struct *next)
{
	struct mm_struct *prev = current_mm;
	uint64_t bit = 1ULL << smp_processor_id();

	if (next == prev)
		return;
	if (next != &init_mm)
		__atomic_or_fetch(&next->cpumask, bit, __ATOMIC_SEQ_CST);
	write_cr3(__pa(next->pgd));
	current_mm = next;
	if (prev != &init_mm)
		__atomic_and_fetch(&prev->cpumask, ~bit, __ATOMIC_SEQ_CST);
}

static void flush_tlb_local(unsigned long start, unsigned long end)
{
	if ((end - start) >> PAGE_SHIFT > TLB_SINGLE_PAGE_FLUSH_CEILING) {
		write_cr3(__pa(current_mm->pgd));
		return;
	}
	for (unsigned long a = start & PAGE_MASK; a < end; a += PAGE_SIZE)
		invlpg(a);
}

/*
 * One shootdown at a time (a simpler smp_call_function_many()): the request,
 * then an IPI to every other CPU in the mm's cpumask, then wait until each
 * has run flush_tlb_func() for this generation.  Targets take the IPI in
 * ring 3 or in a fault handler, both with interrupts on; CPUs between ops
 * are on init_mm and in no cpumask (lazy TLB).
 */
static spinlock_t flush_lock;
static struct {
	struct mm_struct *mm;
	unsigned long start, end;
	uint64_t gen;
} flush_req;
static uint64_t flush_done[NR_CPUS];
uint64_t tlb_ipis_sent, tlb_ipi_flushes;

static void flush_tlb_others(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned int self = smp_processor_id();
	uint64_t targets, gen;

	spin_lock(&flush_lock);
	targets = __atomic_load_n(&mm->cpumask, __ATOMIC_SEQ_CST) & ~(1ULL << self);
	if (!targets) {
		spin_unlock(&flush_lock);
		return;
	}
	flush_req.mm = mm;
	flush_req.start = start;
	flush_req.end = end;
	gen = flush_req.gen + 1;
	__atomic_store_n(&flush_req.gen, gen, __ATOMIC_RELEASE);	/* the request, then its number */
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		if (!(targets & (1ULL << cpu)))
			continue;
		__atomic_add_fetch(&tlb_ipis_sent, 1, __ATOMIC_RELAXED);
		send_ipi(cpu, TLB_IPI_VECTOR);
	}
	/*
	 * A CPU that left the mm since (its bit goes only after its CR3 write,
	 * and there is no PCID) needs no flush and may be parked between ops,
	 * its IPI pending: stop waiting for it.
	 */
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		uint64_t bit = 1ULL << cpu;

		while ((targets & bit) && __atomic_load_n(&flush_done[cpu], __ATOMIC_ACQUIRE) != gen &&
		       (__atomic_load_n(&mm->cpumask, __ATOMIC_ACQUIRE) & bit))
			asm volatile("pause");
	}
	spin_unlock(&flush_lock);
}

void tlb_init(void)
{
	spin_lock_init(&flush_lock);
}

/*
 * flush_tlb_func(): a CPU that left the mm meanwhile has nothing to flush.
 * A late IPI may find a newer request: it serves that one and acks its
 * number, read before the request it numbers.
 */
void flush_tlb_func(void)
{
	uint64_t gen = __atomic_load_n(&flush_req.gen, __ATOMIC_ACQUIRE);

	if (current_mm == flush_req.mm) {
		flush_tlb_local(flush_req.start, flush_req.end);
		__atomic_add_fetch(&tlb_ipi_flushes, 1, __ATOMIC_RELAXED);
	}
	apic_eoi();
	__atomic_store_n(&flush_done[smp_processor_id()], gen, __ATOMIC_RELEASE);
}

void flush_tlb_mm_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	if (start >= end)
		return;
	if (mm == current_mm)
		flush_tlb_local(start, end);
	if (mm != &init_mm)
		flush_tlb_others(mm, start, end);
}

static uint64_t kernel_flush_gen;

/* __flush_tlb_all(): global entries too, by toggling CR4.PGE. */
static void flush_tlb_all_local(void)
{
	uint64_t cr4 = read_cr4();

	write_cr4(cr4 & ~X86_CR4_PGE);
	write_cr4(cr4);
}

/*
 * Kernel mappings are global and a CR3 write keeps them.  Unlike Linux's
 * IPI to every CPU, the other CPUs catch up when they take their next op
 * (flush_tlb_kernel_catch_up()): parked between ops a vCPU cannot take an
 * IPI.  A CPU in the middle of an op keeps its entry until then; nothing
 * here frees a vmalloc area while another CPU's op uses it.
 */
void flush_tlb_kernel_range(unsigned long start, unsigned long end)
{
	if ((end - start) >> PAGE_SHIFT <= TLB_SINGLE_PAGE_FLUSH_CEILING) {
		for (unsigned long a = start & PAGE_MASK; a < end; a += PAGE_SIZE)
			invlpg(a);
	} else {
		flush_tlb_all_local();
	}
	this_cpu()->kernel_flush_gen = __atomic_add_fetch(&kernel_flush_gen, 1, __ATOMIC_RELEASE);
}

void flush_tlb_kernel_catch_up(void)
{
	uint64_t gen = __atomic_load_n(&kernel_flush_gen, __ATOMIC_ACQUIRE);

	if (this_cpu()->kernel_flush_gen == gen)
		return;
	flush_tlb_all_local();
	this_cpu()->kernel_flush_gen = gen;
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

/* tlb_flush_mmu_tlbonly(): the TLB flush alone, which zap_pte_range() does under the PTE lock. */
void tlb_flush_mmu_tlbonly(struct mmu_gather *tlb)
{
	flush_tlb_mm_range(tlb->mm, tlb->start, tlb->end);
	tlb->start = ~0UL;
	tlb->end = 0;
}

/* tlb_flush_mmu(): flush, then free what the flushed entries pointed to. */
void tlb_flush_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu_tlbonly(tlb);
	for (unsigned int i = 0; i < tlb->nr; i++) {
		if (tlb->batch[i].level)
			pgtable_free(tlb->mm, tlb->batch[i].ptr, tlb->batch[i].level);
		else
			put_page(tlb->batch[i].ptr);
	}
	tlb->nr = 0;
}

/* Whether the batch is now full. */
static bool tlb_add(struct mmu_gather *tlb, void *ptr, uint8_t level)
{
	tlb->batch[tlb->nr].ptr = ptr;
	tlb->batch[tlb->nr].level = level;
	return ++tlb->nr == ARRAY_SIZE(tlb->batch);
}

/*
 * __tlb_remove_page(): true when the batch is full.  The caller holds the
 * PTE lock, so it does not free here: as zap_pte_range()'s force_flush
 * (mm/memory.c, mm/mmu_gather.c) it flushes the TLB under the lock and
 * frees the pages with tlb_flush_mmu() after dropping it.
 */
bool __tlb_remove_page(struct mmu_gather *tlb, struct page *page)
{
	return tlb_add(tlb, page, 0);
}

/*
 * pte_free_tlb()/pmd_free_tlb()/pud_free_tlb(): paging-structure caches
 * may still hold the table, so the flush must happen even when no PTE was
 * cleared; widening the range by the page at `addr` guarantees it (INVLPG
 * drops paging-structure cache entries for every address, not just that one).
 * A full batch is flushed and freed at once (tlb_table_flush()):
 * free_pgtables() holds no page-table lock.
 */
void tlb_remove_table(struct mmu_gather *tlb, void *table, enum pt_level level, unsigned long addr)
{
#ifdef CONFIG_X86_PAE
	/* ___pmd_free_tlb()'s need_flush_all: the PMD's PDPTE changed, seen only after a CR3 write. */
	if (level == PT_PMD)
		tlb_flush_range(tlb, 0, TLB_FLUSH_ALL);
#endif
	tlb_flush_range(tlb, addr, addr + PAGE_SIZE);
	if (tlb_add(tlb, table, level))
		tlb_flush_mmu(tlb);
}

void tlb_finish_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
}
