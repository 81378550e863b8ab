/*
 * The permission test of kvm-unit-tests' x86/access.c (PW_OP_ACCESS_TEST):
 * the host picks the bits of a PDE and a PTE, CR0.WP, EFER.NXE and one
 * access; the guest builds those entries over a test page of its own, makes
 * the access on the real MMU and reports the #PF error code, if any, and
 * the entries after it.  What should have happened is the host's business.
 */
#include "asm.h"
#include "kernel.h"
#include "mm.h"
#include "task.h"
#include "traps.h"

/* Bits of the host's entries the guest takes: flags and addresses past any RAM. */
#define CASE_BITS	(~PTE_PFN_MASK | 0x000ffff000000000UL)
#define CASE_BITS_2M	(CASE_BITS | 0x1fe000UL)	/* reserved in a 2 MiB PDE */
#define MODE_BITS	(PW_AC_CR0_WP | PW_AC_EFER_NXE)
#define _PAGE_SOFTW5	(1UL << 58)	/* ignored by the MMU: the kernel's NX waits here */

static struct pw_access_case cases[PW_ACCESS_TEST_MAX];
/* A fetch runs its first instruction, `jmp *%rsi`. */
static uint8_t test_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE))) = { 0xff, 0xe6 };
static spinlock_t access_lock;	/* the table, `at` and the kernel's NX are global */

/* While cases run: faults at [start, end) of mm are the test's (cf. bench_floor_fault()). */
static struct {
	struct mm_struct *mm;
	unsigned long start, end;
	int64_t error_code;
} at;

/*
 * Called first by the #PF handler: a fault at the test page is a result,
 * not work for the paging core.  Record it and resume past the access:
 * ring 3 goes straight back to the kernel, a kernel probe to its fixup, a
 * kernel fetch (the fault is at the fetched address) to where the fetched
 * code would have jumped.
 */
bool access_test_fault(struct pt_regs *regs, unsigned long address)
{
	const struct exception_table_entry *e;

	if (!at.mm || at.mm != current_mm || address < at.start || address >= at.end)
		return false;
	at.error_code = regs->error_code;
	if (user_mode(regs))
		return_to_kernel(0, 0);
	if (regs->ip == address) {
		regs->ip = regs->si;
		return true;
	}
	e = search_exception_tables(regs->ip);
	if (!e)
		die(regs, address);
	regs->ip = e->fixup;
	return true;
}

void access_test_init(void)
{
	spin_lock_init(&access_lock);
}

/* The kernel runs the test page; its code comes back through %rsi. */
static void kernel_fetch(unsigned long addr)
{
	asm volatile("leaq 1f(%%rip), %%rsi\n\t"
		     "jmp *%0\n"
		     "1:"
		     : : "r"(addr) : "rsi", "memory");
}

static uint64_t nx_move(uint64_t e, uint64_t from, uint64_t to)
{
	return e & from ? (e & ~from) | to : e;
}

/*
 * Without EFER.NXE bit 63 is reserved, and every kernel mapping with NX
 * (the direct map; the image's rodata, data, stacks, IDT) would fault with
 * RSVD.  While cases want NXE clear, the kernel's NX bits wait in a
 * software bit; nothing else with NX is touched meanwhile.
 */
static void kernel_nx_park(unsigned long start, unsigned long end, bool park)
{
	uint64_t from = park ? _PAGE_NX : _PAGE_SOFTW5, to = park ? _PAGE_SOFTW5 : _PAGE_NX;

	for (unsigned long va = start; va < end;) {
		pmd_t *pmd = pmd_offset(pud_offset(p4d_offset(pgd_offset_k(va), va), va), va);
		pte_t *pte;

		if (pmd_none(*pmd) || (pmd->pmd & _PAGE_PSE)) {
			set_pmd(pmd, (pmd_t){ nx_move(pmd->pmd, from, to) });
			va = (va & PMD_MASK) + PMD_SIZE;
			continue;
		}
		pte = pte_offset_kernel(pmd, va);
		set_pte(pte, (pte_t){ nx_move(pte->pte, from, to) });
		va = (va & PAGE_MASK) + PAGE_SIZE;
	}
	flush_tlb_kernel_range(start, end);
}

/* CR0.WP and EFER.NXE from mode `from` to mode `to` (PW_AC_* bits). */
static void set_mode(uint64_t from, uint64_t to)
{
	bool park = !(to & PW_AC_EFER_NXE);

	if ((from ^ to) & PW_AC_CR0_WP)
		write_cr0(to & PW_AC_CR0_WP ? read_cr0() | X86_CR0_WP : read_cr0() & ~X86_CR0_WP);
	if (!((from ^ to) & PW_AC_EFER_NXE))
		return;
	if (!park)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	for (unsigned int i = 0; i < boot_params.nr_memory; i++)
		kernel_nx_park(PW_PAGE_OFFSET + boot_params.memory[i].start,
			       PW_PAGE_OFFSET + boot_params.memory[i].start + boot_params.memory[i].size,
			       park);
	kernel_nx_park((unsigned long)_text, (unsigned long)_end, park);
	if (park)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
}

/* One case; > 0 if a user access died elsewhere than at the test page (TASK_KILLED()). */
static long run_case(struct pw_access_case *c, pmd_t *pmd, pte_t *pte, uint64_t pte_table,
		     unsigned long va)
{
	uint64_t data = __pa_symbol(test_page), access = c->how & PW_AC_ACCESS, v;
	bool user = c->how & PW_AC_USER;
	long ret = 0;

	if (c->pde & _PAGE_PSE) {
		set_pmd(pmd, (pmd_t){ (data & PMD_MASK) | (c->pde & CASE_BITS_2M) });
		pte_clear(pte);
	} else {
		set_pmd(pmd, (pmd_t){ pte_table | (c->pde & CASE_BITS) });
		set_pte(pte, (pte_t){ data | (c->pte & CASE_BITS) });
	}
	invlpg(va);	/* the TLB entry and any paging-structure cache entries */
	at.error_code = -1;
	if (access == PW_ACCESS_FETCH && !user)
		kernel_fetch(va);
	else
		ret = touch_current(access == PW_ACCESS_FETCH ? va : va + PW_AC_DATA, access, user, 0, &v);
	c->error_code = at.error_code;
	c->pde_after = pmd->pmd;
	c->pte_after = pte->pte;
	return ret;
}

/*
 * The mm's own tables down to the PTE table hold the cases' entries, so
 * that they are the mm's to free; the op leaves them as it found them.
 */
long access_test(struct mm_struct *mm, unsigned long addr, unsigned long n, uint64_t *out)
{
	unsigned long va = addr + (__pa_symbol(test_page) & ~PMD_MASK);
	struct vm_area_struct *vma = find_vma(mm, addr);
	uint64_t mode, cpu_mode;
	pmd_t *pmd, table;
	long ret = n;
	pte_t *pte;

	out[0] = __pa_symbol(cases);
	out[1] = __pa_symbol(test_page);
	if (n > ARRAY_SIZE(cases) || (addr & ~PMD_MASK) || !vma || vma->vm_start > addr ||
	    vma->vm_end - addr < PMD_SIZE)
		return -PW_EINVAL;
	for (unsigned long i = 0; i < n; i++)
		if (cases[i].how & ~(PW_AC_ACCESS | PW_AC_USER | MODE_BITS) ||
		    (cases[i].how & PW_AC_ACCESS) > PW_ACCESS_FETCH)
			return -PW_EINVAL;
	pmd = walk_to_pmd(mm, addr);
	if (!pmd || pte_alloc(mm, pmd))
		return -PW_ENOMEM;
	pte = pte_offset_kernel(pmd, va);
	if (!pte_none(*pte))
		return -PW_EEXIST;

	spin_lock(&access_lock);
	table = *pmd;
	cpu_mode = (read_cr0() & X86_CR0_WP ? PW_AC_CR0_WP : 0) |
		   (rdmsr(MSR_EFER) & EFER_NXE ? PW_AC_EFER_NXE : 0);
	mode = cpu_mode;
	at.start = va;
	at.end = va + PAGE_SIZE;
	at.mm = mm;
	switch_mm(mm);
	local_irq_enable();	/* as task_touch(): take the mm's shootdowns */
	for (unsigned long i = 0; i < n && ret >= 0; i++) {
		set_mode(mode, cases[i].how & MODE_BITS);
		mode = cases[i].how & MODE_BITS;
		if (run_case(&cases[i], pmd, pte, table.pmd & PTE_PFN_MASK, va) > 0)
			ret = -PW_EFAULT;
	}
	local_irq_disable();
	pte_clear(pte);
	set_pmd(pmd, table);
	invlpg(va);
	set_mode(mode, cpu_mode);
	switch_mm(&init_mm);
	at.mm = NULL;
	spin_unlock(&access_lock);
	return ret;
}
