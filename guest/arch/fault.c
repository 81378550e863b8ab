/* The #PF handler of arch/x86/mm/fault.c, down to handle_mm_fault(). */
#include "asm.h"
#include "cpufeature.h"
#include "kernel.h"
#include "mm.h"
#include "task.h"
#include "traps.h"

#define X86_PF_PROT	(1UL << 0)
#define X86_PF_WRITE	(1UL << 1)
#define X86_PF_USER	(1UL << 2)
#define X86_PF_RSVD	(1UL << 3)
#define X86_PF_INSTR	(1UL << 4)
#define X86_PF_PK	(1UL << 5)

uint64_t nr_faults[PW_FAULT_OUTCOME_MAX];	/* by outcome: count_vm_event(PGFAULT) */

static inline __attribute__((always_inline)) void report(struct pt_regs *regs, unsigned long address,
							  enum pw_fault_outcome outcome)
{
	__atomic_add_fetch(&nr_faults[outcome], 1, __ATOMIC_RELAXED);
	trace(fault, address, regs->error_code, regs->ip, outcome, fault_tables_installed);
}

/* kernelmode_fixup_or_oops(): a kernel access that may fault has an __ex_table entry. */
static void kernelmode_fixup_or_oops(struct pt_regs *regs, unsigned long address,
				     enum pw_fault_outcome outcome)
{
	const struct exception_table_entry *e = search_exception_tables(regs->ip);

	if (!e)
		die(regs, address);
	report(regs, address, outcome);
	regs->ip = e->fixup;
}

/*
 * __bad_area_nosemaphore(): SIGSEGV for user mode, which here ends the
 * task (no signal handlers), a fixup or an oops for kernel mode.
 */
static void bad_area(struct pt_regs *regs, unsigned long address, enum pw_fault_outcome si_code)
{
	if (!user_mode(regs)) {
		kernelmode_fixup_or_oops(regs, address, PW_FAULT_FIXUP);
		return;
	}
	report(regs, address, si_code);
	return_to_kernel(0, TASK_KILLED_SEGV);
}

/* pgtable_bad(): a reserved bit set in a paging-structure entry is an oops. */
static __attribute__((noreturn)) void pgtable_bad(struct pt_regs *regs, unsigned long address)
{
	printk("pagewalk: Corrupted page table at address %lx\n", address);
	die(regs, address);
}

/*
 * spurious_kernel_fault(): a write or fetch fault on a kernel address
 * whose tables allow it came from a stale TLB entry (or, here, from the
 * host injecting one); nothing to fix.  Only W|P and I|P qualify.
 */
static bool spurious_kernel_fault(unsigned long error_code, unsigned long address)
{
	pgd_t *pgd = pgd_offset_k(address);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte;
	uint64_t leaf;

	if (error_code != (X86_PF_WRITE | X86_PF_PROT) && error_code != (X86_PF_INSTR | X86_PF_PROT))
		return false;
	if (!pgd_present(*pgd))
		return false;
	p4d = p4d_offset(pgd, address);
	if (!p4d_present(*p4d))
		return false;
	pud = pud_offset(p4d, address);
	if (!pud_present(*pud))
		return false;
	pmd = pmd_offset(pud, address);
	if (!pmd_present(*pmd))
		return false;
	if (pmd->pmd & _PAGE_PSE) {
		leaf = pmd->pmd;
	} else {
		pte = pte_offset_kernel(pmd, address);
		if (!(pte->pte & _PAGE_PRESENT))
			return false;
		leaf = pte->pte;
	}
	if ((error_code & X86_PF_WRITE) && !(leaf & _PAGE_RW))
		return false;
	return !((error_code & X86_PF_INSTR) && (leaf & _PAGE_NX));
}

/* access_error(), in Linux's order (no PKU, SGX or shadow stacks on this CPU). */
static bool access_error(unsigned long error_code, struct vm_area_struct *vma)
{
	if (error_code & X86_PF_PK)
		return true;
	if (error_code & X86_PF_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	/* read, present: */
	if (error_code & X86_PF_PROT)
		return true;
	/* read, not present: */
	return !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC));	/* !vma_is_accessible() */
}

static void do_user_addr_fault(struct pt_regs *regs, unsigned long error_code,
			       unsigned long address)
{
	struct mm_struct *mm = current_mm;
	struct vm_area_struct *vma;
	unsigned int flags = 0, fault;

	if (error_code & X86_PF_RSVD)
		pgtable_bad(regs, address);
	/* The kernel executing user memory is an oops, never a fault to handle. */
	if (!user_mode(regs) && (error_code & X86_PF_INSTR))
		die(regs, address);
	/*
	 * Under SMAP a kernel access to user memory outside the stac/clac
	 * brackets is a bug, exception table or not (as Linux's
	 * do_user_addr_fault()).  Without SMAP Linux handles any kernel fault
	 * on user memory as the user's own, extable entry or not: the page
	 * comes in and the access completes, and only where that fails does
	 * kernelmode_fixup_or_oops() find no fixup and oops.
	 */
	if (!user_mode(regs) && boot_cpu_has(X86_FEATURE_SMAP) && !(regs->flags & X86_EFLAGS_AC))
		die(regs, address);
	if (mm == &init_mm) {			/* no user mm: nothing to fault in */
		bad_area(regs, address, PW_FAULT_SEGV_MAPERR);
		return;
	}
	/* As Linux: interrupts back on if the faulting context had them (shootdown IPIs). */
	if (regs->flags & X86_EFLAGS_IF)
		local_irq_enable();

	if (user_mode(regs))
		flags |= FAULT_FLAG_USER;
	if (error_code & X86_PF_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (error_code & X86_PF_INSTR)
		flags |= FAULT_FLAG_INSTRUCTION;

	/*
	 * lock_mm_and_find_vma(); the lock is dropped before any bad_area().
	 * get_mmap_lock_carefully(): a kernel fault outside the exception
	 * table may come from code that holds mmap_lock already, so it does not
	 * wait for the lock (it would deadlock) but takes the bad-area path.
	 */
	if (!read_trylock(&mm->mmap_lock)) {
		if (!user_mode(regs) && !search_exception_tables(regs->ip)) {
			bad_area(regs, address, PW_FAULT_SEGV_MAPERR);
			return;
		}
		read_lock(&mm->mmap_lock);
	}
	vma = find_vma(mm, address);
	if (!vma || vma->vm_start > address) {	/* no stack VMAs to expand */
		read_unlock(&mm->mmap_lock);
		bad_area(regs, address, PW_FAULT_SEGV_MAPERR);
		return;
	}
	if (access_error(error_code, vma)) {
		read_unlock(&mm->mmap_lock);
		bad_area(regs, address, PW_FAULT_SEGV_ACCERR);
		return;
	}

	fault = handle_mm_fault(vma, address, flags);
	read_unlock(&mm->mmap_lock);
	if (__builtin_expect(!(fault & VM_FAULT_ERROR), 1)) {
		report(regs, address, PW_FAULT_MAPPED);
		return;
	}
	if (fault & VM_FAULT_OOM) {
		/* mm_fault_error(): the OOM killer would pick a task; here it is this one. */
		if (!user_mode(regs)) {
			kernelmode_fixup_or_oops(regs, address, PW_FAULT_OOM);
			return;
		}
		report(regs, address, PW_FAULT_OOM);
		return_to_kernel(0, TASK_KILLED_OOM);
	}
	if (fault & VM_FAULT_SIGSEGV) {
		bad_area(regs, address, PW_FAULT_SEGV_MAPERR);
		return;
	}
	if (fault & VM_FAULT_SIGBUS) {		/* do_sigbus() */
		if (!user_mode(regs)) {
			kernelmode_fixup_or_oops(regs, address, PW_FAULT_SIGBUS);
			return;
		}
		report(regs, address, PW_FAULT_SIGBUS);
		return_to_kernel(0, TASK_KILLED_BUS);
	}
}

#ifdef CONFIG_X86_32
/*
 * vmalloc_sync_one() of Linux i386 (arch/x86/mm/fault.c): vmalloc
 * populates init_mm only, so copy the pmd entry (on two-level paging the
 * pgd entry itself) from swapper_pg_dir into this pgd when one is present
 * and the other not; a present entry that maps another table is the
 * BUG_ON() it is in Linux.  On PAE with SHARED_KERNEL_PMD both walks end
 * in the one kernel PMD table, so there is never anything to copy.
 * Returns init_mm's pmd, or NULL; *synced says whether it wrote the entry
 * (Linux's has no such flag: the callers here report what it did).
 */
static pmd_t *vmalloc_sync_one(pgd_t *pgd, unsigned long address, bool *synced)
{
	pgd_t *pgd_k = swapper_pg_dir() + pgd_index(address);
	pud_t *pud, *pud_k;
	pmd_t *pmd, *pmd_k;

	pgd += pgd_index(address);
	*synced = false;
	if (!pgd_present(*pgd_k))
		return NULL;
	/* p4d is folded (and pud: each offset is the pgd entry, always present but on PAE). */
	pud = pud_offset(p4d_offset(pgd, address), address);
	pud_k = pud_offset(p4d_offset(pgd_k, address), address);
	if (!pud_present(*pud_k))
		return NULL;
	pmd = pmd_offset(pud, address);
	pmd_k = pmd_offset(pud_k, address);
	if (!pmd_present(*pmd) != !pmd_present(*pmd_k)) {
		set_pmd(pmd, *pmd_k);
		*synced = true;
	}
	if (!pmd_present(*pmd_k))
		return NULL;
	if ((pmd->pmd & PTE_PFN_MASK) != (pmd_k->pmd & PTE_PFN_MASK))
		panic("vmalloc_sync_one: pgd %p, pmd %lu differs from init_mm's (BUG)", pgd - pgd_index(address),
		      pgd_index(address));
	return pmd_k;
}

/*
 * arch_sync_kernel_mappings() of Linux i386: vmalloc_sync_one() into every
 * pgd on pgd_list, one PMD_SIZE step at a time over [start, end];
 * nothing to do where every pgd shares the kernel PMD.
 */
void arch_sync_kernel_mappings(unsigned long start, unsigned long end)
{
	if (SHARED_KERNEL_PMD)
		return;
	for (unsigned long addr = start & PMD_MASK; addr >= TASK_SIZE_MAX && addr <= end;
	     addr += PMD_SIZE) {
		spin_lock(&pgd_lock);
		for (struct page *page = pgd_list; page; page = page->lru_next) {
			spinlock_t *pgt_lock = &page->pt_mm->page_table_lock;
			bool synced;

			spin_lock(pgt_lock);
			vmalloc_sync_one(page_address(page), addr, &synced);
			if (synced) {
				__atomic_add_fetch(&ksync_stats.syncs, 1, __ATOMIC_RELAXED);
				trace(kernel_sync, boot_params.kernel_sync, __pa(page_address(page)),
				      pgd_index(addr), page->pt_mm->id);
			}
			spin_unlock(pgt_lock);
		}
		spin_unlock(&pgd_lock);
		if (addr + PMD_SIZE < addr)
			break;		/* the last pmd */
	}
}

/* vmalloc_fault() of Linux i386: sync this pgd's entry, then check the PTE. */
static int vmalloc_fault(unsigned long address)
{
	pmd_t *pmd_k;
	bool synced;

	if (!(address >= VMALLOC_START && address < VMALLOC_END))
		return -1;
	pmd_k = vmalloc_sync_one(__va(read_cr3() & CR3_ADDR_MASK), address, &synced);	/* read_cr3_pa() */
	if (synced) {
		__atomic_add_fetch(&ksync_stats.vmalloc_faults, 1, __ATOMIC_RELAXED);
		trace(vmalloc_fault, current_mm->id, address, pgd_index(address));
	}
	if (!pmd_k)
		return -1;
	if (pmd_k->pmd & _PAGE_PSE)
		return 0;
	return pte_present(*pte_offset_kernel(pmd_k, address)) ? 0 : -1;
}
#else
/*
 * vmalloc_fault() as x86-64 had it before preallocate_vmalloc_pages():
 * vmalloc populated only init_mm, so a pgd may lack a top-level entry that
 * init_mm has; copy it over at the top level that is not folded (the pgd
 * entry with LA57, else the p4d entry, which is the same word), then
 * check that the rest of the walk really maps the address.
 */
static int vmalloc_fault(unsigned long address)
{
	pgd_t *pgd, *pgd_k;
	pmd_t *pmd;

	if (!(address >= VMALLOC_START && address < VMALLOC_END))
		return -1;

	pgd = (pgd_t *)__va(read_cr3() & CR3_ADDR_MASK) + pgd_index(address);
	pgd_k = pgd_offset_k(address);
	if (!pgd_k->pgd)
		return -1;
	if (!pgd->pgd) {
		set_pgd(pgd, *pgd_k);
		__atomic_add_fetch(&ksync_stats.vmalloc_faults, 1, __ATOMIC_RELAXED);
		trace(vmalloc_fault, current_mm->id, address, pgd_index(address));
	} else if (pgd->pgd != pgd_k->pgd) {
		panic("vmalloc_fault: pgd entry %lu differs from init_mm", pgd_index(address));
	}

	/* The tables below are init_mm's, now shared. */
	pmd = mm_find_pmd(&init_mm, address);
	if (!pmd)
		return -1;
	return pte_present(*pte_offset_kernel(pmd, address)) ? 0 : -1;
}
#endif

/*
 * do_kern_addr_fault(): a kernel-mode not-present fault may be a vmalloc
 * area this pgd does not map yet, a protection fault may be spurious; a
 * user access to a kernel address is SIGSEGV with SEGV_MAPERR, as in Linux.
 */
static void do_kern_addr_fault(struct pt_regs *regs, unsigned long hw_error_code,
			       unsigned long address)
{
	if (!(hw_error_code & (X86_PF_RSVD | X86_PF_USER | X86_PF_PROT)) &&
	    vmalloc_fault(address) >= 0)
		return;
	if (spurious_kernel_fault(hw_error_code, address)) {
		report(regs, address, PW_FAULT_SPURIOUS);
		return;
	}
	bad_area(regs, address, PW_FAULT_SEGV_MAPERR);
}

void exc_page_fault(struct pt_regs *regs)
{
	unsigned long address = read_cr2();

	fault_tables_installed = 0;
	if (address >= TASK_SIZE_MAX)		/* fault_in_kernel_space() */
		do_kern_addr_fault(regs, regs->error_code, address);
	else
		do_user_addr_fault(regs, regs->error_code, address);
}
