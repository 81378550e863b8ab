/*
 * The permission test of kvm-unit-tests' x86/access.c (PW_OP_ACCESS_TEST):
 * the host picks the bits of a PDE and a PTE, CR0.WP, EFER.NXE and one
 * access; the guest builds those entries over a test page of its own, makes
 * the access on the real MMU and reports the #PF error code, if any, and
 * the entries after it.  What should have happened is the host's business.
 */
#include <stddef.h>

#include "asm.h"
#include "cpufeature.h"
#include "desc_defs.h"
#include "kernel.h"
#include "mm.h"
#include "ops.h"
#include "task.h"
#include "traps.h"

/* Bits of the host's entries the guest takes: flags and addresses past any RAM. */
#define CASE_BITS	(~PTE_PFN_MASK | 0x000ffff000000000UL)
#define CASE_BITS_2M	(CASE_BITS | 0x1fe000UL)	/* reserved in a 2 MiB PDE */
#define CASE_BITS_1G	(CASE_BITS | 0x3fffe000UL)	/* reserved in a 1 GiB PDPTE */
#define CR4_BITS	(PW_AC_CR4_SMEP | PW_AC_CR4_SMAP | PW_AC_CR4_PKE)
#define CASE_FLAGS	(PW_AC_EFLAGS_AC | PW_AC_PDPTE)	/* per case, not per mode */
#define MODE_BITS	(PW_AC_CR0_WP | PW_AC_EFER_NXE | CR4_BITS | (~0UL << PW_AC_PKRU_SHIFT))
#define _PAGE_SOFTW5	(1UL << 58)	/* ignored by the MMU: the kernel's NX waits here */

static struct pw_access_case cases[PW_ACCESS_TEST_MAX];
/* A fetch runs its first instruction, `jmp *%rsi`. */
static uint8_t test_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE))) = { 0xff, 0xe6 };
static DEFINE_SPINLOCK(access_lock);	/* the table, `at` and the kernel's NX are global */

/* While cases run: faults at [start, end) of mm are the test's. */
static struct access_at {
	struct mm_struct *mm;
	unsigned long start, end;
	int64_t error_code;
} at __attribute__((used));

/* What access_pf_entry reads by number. */
_Static_assert(offsetof(struct access_at, start) == 8 && offsetof(struct access_at, end) == 16 &&
	       offsetof(struct access_at, error_code) == 24 && X86_TRAP_PF == 14,
	       "access_pf_entry's offsets");

/*
 * The #PF entry of the IDT the op loads on its CPU while cases run (in
 * mm, so at.mm needs no check here): a fault at the test page is a result,
 * not work for the paging core.  Record its error code and resume past the
 * access, with no pt_regs and no do_trap() (~60 instructions a case less
 * than through the kernel's entry): ring 3 goes straight back to the
 * kernel (return_to_kernel(0, 0)); a kernel fetch (the fault is at the
 * fetched address), access_read() or access_write() to where %rsi says.
 * Any other #PF goes on to the kernel's entry with the frame as it came:
 * the error code, then RIP, CS, RFLAGS, RSP and SS (8 bytes further up
 * while %rax is saved).
 */
asm(".pushsection .text\n"
    ".type access_pf_entry, @function\n"
    "access_pf_entry:\n\t"
    "pushq %rax\n\t"
    "movq %cr2, %rax\n\t"
    "cmpq at+8(%rip), %rax\n\t"
    "jb 9f\n\t"
    "cmpq at+16(%rip), %rax\n\t"
    "jae 9f\n\t"
    "testb $3, 24(%rsp)\n\t"		/* CS: from ring 3 */
    "jnz 2f\n\t"
    "cmpq %rax, 16(%rsp)\n\t"		/* RIP: a fetch of the page */
    "je 1f\n\t"
    "leaq access_read_insn(%rip), %rax\n\t"
    "cmpq %rax, 16(%rsp)\n\t"
    "je 1f\n\t"
    "leaq access_write_insn(%rip), %rax\n\t"
    "cmpq %rax, 16(%rsp)\n\t"
    "jne 9f\n"
    "1:\n\t"
    "movq %rsi, 16(%rsp)\n\t"
    "movq 8(%rsp), %rax\n\t"
    "movq %rax, at+24(%rip)\n\t"
    "popq %rax\n\t"
    "addq $8, %rsp\n\t"		/* the error code */
    "iretq\n"
    "2:\n\t"
    "movq 8(%rsp), %rax\n\t"
    "movq %rax, at+24(%rip)\n\t"
    "xorl %edi, %edi\n\t"
    "xorl %esi, %esi\n\t"
    "jmp return_to_kernel\n"
    "9:\n\t"
    "popq %rax\n\t"
    "jmp *exception_stub_table+14*8(%rip)\n"
    ".size access_pf_entry, . - access_pf_entry\n"
    /* void access_read(unsigned long addr), access_write(): 8 bytes, as probe_kernel_*() */
    ".type access_read, @function\n"
    "access_read:\n\t"
    "leaq 1f(%rip), %rsi\n"
    "access_read_insn:\n\t"
    "movq (%rdi), %rax\n"
    "1:\n\t"
    "ret\n"
    ".size access_read, . - access_read\n"
    ".type access_write, @function\n"
    "access_write:\n\t"
    "leaq 1f(%rip), %rsi\n"
    "access_write_insn:\n\t"
    "movq $0, (%rdi)\n"
    "1:\n\t"
    "ret\n"
    ".size access_write, . - access_write\n"
    ".popsection");

extern const char access_pf_entry[];
void access_read(unsigned long addr);
void access_write(unsigned long addr);

/*
 * The kernel's #PF path while cases run: a fault at the test page that
 * access_pf_entry passed on came from no access of the test's.
 */
static bool access_test_fault(struct pt_regs *regs)
{
	unsigned long address = read_cr2();

	if (!at.mm || at.mm != current_mm || address < at.start || address >= at.end)
		return false;
	die(regs, address);
}

/* The kernel's IDT with access_pf_entry at #PF (its IST stack kept), built once. */
static uint64_t test_idt[256][2] __attribute__((aligned(16)));
static bool test_idt_built;

static void build_test_idt(const struct desc_ptr *kernel)
{
	uint64_t a = (uint64_t)access_pf_entry, *g = test_idt[X86_TRAP_PF];

	memcpy(test_idt, (const void *)kernel->address, sizeof(test_idt));
	/* SDM vol. 3A 6.14.1: offset 15:0 in bits 15:0, 31:16 in 63:48, 63:32 in the next word. */
	g[0] = (g[0] & 0x0000ffffffff0000UL) | (a & 0xffff) | ((a >> 16) & 0xffff) << 48;
	g[1] = (g[1] & ~0xffffffffUL) | a >> 32;
	test_idt_built = true;
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

	for (unsigned long va = start & PAGE_MASK, next; va < end; va = next) {
		pmd_t *pmd = pmd_offset(pud_offset(p4d_offset(pgd_offset_k(va), va), va), va);

		next = pmd_addr_end(va, end);
		if (pmd_none(*pmd) || (pmd->pmd & _PAGE_PSE)) {
			set_pmd(pmd, (pmd_t){ nx_move(pmd->pmd, from, to) });
			continue;
		}
		/* The rest of this PTE table, walked down to once. */
		for (pte_t *pte = pte_offset_kernel(pmd, va); va < next; va += PAGE_SIZE, pte++)
			set_pte(pte, (pte_t){ nx_move(pte->pte, from, to) });
	}
	flush_tlb_kernel_range(start, end);
}

static uint64_t cr4_of(uint64_t mode)
{
	return (mode & PW_AC_CR4_SMEP ? X86_CR4_SMEP : 0) | (mode & PW_AC_CR4_SMAP ? X86_CR4_SMAP : 0) |
	       (mode & PW_AC_CR4_PKE ? X86_CR4_PKE : 0);
}

/* The PW_AC_* mode bits this CPU can take. */
static uint64_t modes_offered(void)
{
	return PW_AC_CR0_WP | PW_AC_EFER_NXE |
	       (boot_cpu_has(X86_FEATURE_SMEP) ? PW_AC_CR4_SMEP : 0) |
	       (boot_cpu_has(X86_FEATURE_SMAP) ? PW_AC_CR4_SMAP | PW_AC_EFLAGS_AC : 0) |
	       (boot_cpu_has(X86_FEATURE_PKU) ? PW_AC_CR4_PKE | (~0UL << PW_AC_PKRU_SHIFT) : 0) |
	       (boot_cpu_has(X86_FEATURE_GBPAGES) ? PW_AC_PDPTE : 0);
}

/* CR0.WP, EFER.NXE, CR4's SMEP, SMAP and PKE, and PKRU from mode `from` to mode `to`. */
static void set_mode(uint64_t from, uint64_t to)
{
	bool park = !(to & PW_AC_EFER_NXE);

	if ((from ^ to) & PW_AC_CR0_WP)
		write_cr0(to & PW_AC_CR0_WP ? read_cr0() | X86_CR0_WP : read_cr0() & ~X86_CR0_WP);
	if ((from ^ to) & CR4_BITS)
		write_cr4((read_cr4() & ~cr4_of(CR4_BITS)) | cr4_of(to));
	if ((to & PW_AC_CR4_PKE) && (!(from & PW_AC_CR4_PKE) || (from ^ to) >> PW_AC_PKRU_SHIFT))
		wrpkru(to >> PW_AC_PKRU_SHIFT);
	if (!((from ^ to) & PW_AC_EFER_NXE))
		return;
	if (!park)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	for (unsigned int i = 0; i < boot_params.nr_memory; i++)
		kernel_nx_park(PAGE_OFFSET + boot_params.memory[i].start,
			       PAGE_OFFSET + boot_params.memory[i].start + boot_params.memory[i].size,
			       park);
	kernel_nx_park((unsigned long)_text, (unsigned long)_end, park);
	if (park)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_NXE);
}

/* Where the cases' entries go: the mm's own PUD, PMD and PTE entries over the test page. */
struct slot {
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte;
	pud_t pud_table;		/* the PUD entry as the mm had it */
	uint64_t pte_table;		/* the PTE table's physical address */
	unsigned long va, va_1g;	/* the test page through a PTE or 2 MiB PDE, through a 1 GiB PDPTE */
};

/* One case; > 0 if a user access died elsewhere than at the test page (TASK_KILLED()). */
static long run_case(struct pw_access_case *c, const struct slot *sl)
{
	uint64_t data = __pa_symbol(test_page), access = c->how & PW_AC_ACCESS, v;
	bool user = c->how & PW_AC_USER, gb = c->how & PW_AC_PDPTE;
	unsigned long va = gb ? sl->va_1g : sl->va;
	long ret = 0;

	if (gb) {
		set_pud(sl->pud, (pud_t){ (data & PUD_MASK) | (c->pde & CASE_BITS_1G) });
	} else if (c->pde & _PAGE_PSE) {
		set_pmd(sl->pmd, (pmd_t){ (data & PMD_MASK) | (c->pde & CASE_BITS_2M) });
		pte_clear(sl->pte);
	} else {
		set_pmd(sl->pmd, (pmd_t){ sl->pte_table | (c->pde & CASE_BITS) });
		set_pte(sl->pte, (pte_t){ data | (c->pte & CASE_BITS) });
	}
	invlpg(va);	/* the TLB entry and any paging-structure cache entries */
	at.start = va;
	at.end = va + PAGE_SIZE;
	at.error_code = -1;
	if (user) {
		/* touch_current(va, access, true, 0, &v)'s entry into ring 3, without its dispatch */
		if (access == PW_ACCESS_FETCH)
			ret = enter_user(trampoline_addr(user_fetch), va, trampoline_addr(user_ret), &v);
		else
			ret = enter_user(trampoline_addr(access == PW_ACCESS_READ ? user_read : user_write),
					 va + PW_AC_DATA, 0, &v);
	} else if (access == PW_ACCESS_FETCH) {
		kernel_fetch(va);
	} else {
		/* Not touch_current(): EFLAGS.AC is the case's to choose. */
		if (c->how & PW_AC_EFLAGS_AC)
			stac();
		if (access == PW_ACCESS_READ)
			access_read(va + PW_AC_DATA);
		else
			access_write(va + PW_AC_DATA);
		if (c->how & PW_AC_EFLAGS_AC)
			clac();
	}
	c->error_code = at.error_code;
	if (gb) {
		c->pde_after = sl->pud->pud;
		c->pte_after = 0;
		set_pud(sl->pud, sl->pud_table);
		invlpg(va);
	} else {
		c->pde_after = sl->pmd->pmd;
		c->pte_after = sl->pte->pte;
	}
	return ret;
}

/*
 * The mm's own tables down to the PTE table hold the cases' entries, so
 * that they are the mm's to free; the op leaves them as it found them.
 */
static long access_test(struct mm_struct *mm, unsigned long addr, unsigned long n,
			struct pw_access_test_out *out)
{
	struct slot sl = { .va = addr + (__pa_symbol(test_page) & ~PMD_MASK),
			   .va_1g = addr + (__pa_symbol(test_page) & ~PUD_MASK) };
	struct vm_area_struct *vma = find_vma(mm, addr);
	uint64_t mode, cpu_mode, offered = modes_offered(), how_any = 0;
	struct desc_ptr kernel_idt, test_idtr = { sizeof(test_idt) - 1, (unsigned long)test_idt };
	pmd_t table;
	long ret = n;

	out->table = __pa_symbol(cases);
	out->page = __pa_symbol(test_page);
	if (n > ARRAY_SIZE(cases) || (addr & ~PMD_MASK) || !vma || vma->vm_start > addr ||
	    vma->vm_end - addr < PMD_SIZE)
		return -PW_EINVAL;
	/* Any case's bit is in their OR: only the access, two bits, is checked case by case. */
	for (unsigned long i = 0; i < n; i++) {
		if ((cases[i].how & PW_AC_ACCESS) > PW_ACCESS_FETCH)
			return -PW_EINVAL;
		how_any |= cases[i].how;
	}
	if (how_any & ~(PW_AC_ACCESS | PW_AC_USER | CASE_FLAGS | MODE_BITS) ||
	    how_any & (MODE_BITS | CASE_FLAGS) & ~offered ||
	    ((how_any & PW_AC_PDPTE) && (addr & ~PUD_MASK)))
		return -PW_EINVAL;
	sl.pmd = walk_to_pmd(mm, addr);
	if (!sl.pmd || pte_alloc(mm, sl.pmd))
		return -PW_ENOMEM;
	sl.pud = pud_offset(p4d_offset(pgd_offset(mm, addr), addr), addr);
	sl.pte = pte_offset_kernel(sl.pmd, sl.va);
	if (!pte_none(*sl.pte))
		return -PW_EEXIST;

	spin_lock(&access_lock);
	table = *sl.pmd;
	sl.pud_table = *sl.pud;
	sl.pte_table = table.pmd & PTE_PFN_MASK;
	/* The kernel's own mode (SMEP and SMAP where offered, no PKE), restored after. */
	cpu_mode = (read_cr0() & X86_CR0_WP ? PW_AC_CR0_WP : 0) |
		   (rdmsr(MSR_EFER) & EFER_NXE ? PW_AC_EFER_NXE : 0) |
		   (read_cr4() & X86_CR4_SMEP ? PW_AC_CR4_SMEP : 0) |
		   (read_cr4() & X86_CR4_SMAP ? PW_AC_CR4_SMAP : 0);
	mode = cpu_mode;
	at.mm = mm;
	set_exception_handler(X86_TRAP_PF, access_test_fault);
	asm volatile("sidt %0" : "=m"(kernel_idt));
	if (!test_idt_built)
		build_test_idt(&kernel_idt);
	asm volatile("lidt %0" : : "m"(test_idtr));
	switch_mm(mm);
	local_irq_enable();	/* as task_touch(): take the mm's shootdowns */
	for (unsigned long i = 0; i < n && ret >= 0; i++) {
		if ((cases[i].how & MODE_BITS) != mode) {
			set_mode(mode, cases[i].how & MODE_BITS);
			mode = cases[i].how & MODE_BITS;
		}
		if (run_case(&cases[i], &sl) > 0)
			ret = -PW_EFAULT;
	}
	local_irq_disable();
	pte_clear(sl.pte);
	set_pmd(sl.pmd, table);
	invlpg(sl.va);
	set_mode(mode, cpu_mode);
	switch_mm(&init_mm);
	asm volatile("lidt %0" : : "m"(kernel_idt));
	set_exception_handler(X86_TRAP_PF, NULL);
	at.mm = NULL;
	spin_unlock(&access_lock);
	return ret;
}

static int64_t op_access_test(struct task_struct *t, struct mm_struct *mm,
			      const struct pw_access_test_args *a, struct pw_access_test_out *o)
{
	(void)t;
	return access_test(mm, a->addr, a->n, o);
}
DEFINE_TASK_OP(access_test, op_access_test);
