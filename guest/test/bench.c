/*
 * The fault-path benchmark of `make bench`: page_fault1 (a byte written
 * into every page of a fresh range from ring 3) through the full paging
 * core, or against its floor: a bare #PF handler that only puts a
 * pre-zeroed page into a pre-built PTE table.  Both run the same user
 * loop, so the difference is the paging core's cost per fault.
 */
#include "asm.h"
#include "kernel.h"
#include "mm.h"
#include "ops.h"
#include "task.h"
#include "traps.h"

static struct {
	struct mm_struct *mm;		/* NULL: the floor is off */
	unsigned long start, end;
	struct page **pool;
	unsigned long next;
} floor;

/* The floor's whole #PF handler, installed on this CPU for the run: true if it took the fault. */
static bool bench_floor_fault(struct pt_regs *regs)
{
	unsigned long address = read_cr2();
	pte_t *pte;

	(void)regs;
	if (!floor.mm || floor.mm != current_mm || address < floor.start || address >= floor.end)
		return false;
	pte = pte_offset_kernel(mm_find_pmd(floor.mm, address), address);	/* pre-built */
	set_pte(pte, (pte_t){ (page_to_pfn(floor.pool[floor.next++]) << PAGE_SHIFT) |
			      _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY });
	return true;
}

/* Everything the floor handler needs, made before the clock starts. */
static long floor_prepare(struct mm_struct *mm, unsigned long addr, unsigned long pages)
{
	floor.pool = vmalloc(pages * sizeof(struct page *), 0);
	if (!floor.pool)
		return -PW_ENOMEM;
	for (unsigned long i = 0; i < pages; i++) {
		pmd_t *pmd = walk_to_pmd(mm, addr + i * PAGE_SIZE);

		floor.pool[i] = alloc_page(PG_anon);
		if (!pmd || pte_alloc(mm, pmd) || !floor.pool[i])
			return -PW_ENOMEM;
	}
	floor.start = addr;
	floor.end = addr + pages * PAGE_SIZE;
	floor.next = 0;
	mm_add(mm->nr_anon, pages);	/* the pages will be the mm's, freed by exit_mmap() */
	floor.mm = mm;
	return 0;
}

static long bench_faults(struct task_struct *t, struct mm_struct *mm, unsigned long addr,
			 unsigned long pages, bool bare, uint64_t *faults)
{
	uint64_t f0 = nr_faults[PW_FAULT_MAPPED], t0, t1, v;
	long err;

	if (bare) {
		err = floor_prepare(mm, addr, pages);
		if (err)
			return err;
		set_exception_handler(X86_TRAP_PF, bench_floor_fault);
	}
	t0 = rdtsc();
	err = task_touch(t, addr, PW_ACCESS_WRITE_PAGES, true, pages, &v);
	t1 = rdtsc();
	if (bare) {
		set_exception_handler(X86_TRAP_PF, NULL);
		floor.mm = NULL;
		vfree(floor.pool);
	}
	*faults = nr_faults[PW_FAULT_MAPPED] - f0;
	return err ? err : (long)(t1 - t0);
}

static int64_t op_bench_faults(struct task_struct *t, struct mm_struct *mm,
			       const struct pw_bench_faults_args *a, struct pw_bench_faults_out *o)
{
	return bench_faults(t, mm, a->addr, a->pages, a->floor, &o->faults);
}
DEFINE_TASK_OP(bench_faults, op_bench_faults);
