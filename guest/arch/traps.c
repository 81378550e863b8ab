/* Exception dispatch (arch/x86/kernel/traps.c) and the exception table. */
#include "apic.h"
#include "asm.h"
#include "kernel.h"
#include "mm.h"
#include "percpu.h"
#include "ptrace.h"
#include "task.h"
#include "traps.h"

#define SIGILL	4
#define SIGTRAP	5
#define SIGFPE	8

extern const struct exception_table_entry __start___ex_table[], __stop___ex_table[];

const struct exception_table_entry *search_exception_tables(uint64_t ip)
{
	for (const struct exception_table_entry *e = __start___ex_table; e < __stop___ex_table; e++)
		if (e->insn == ip)
			return e;
	return NULL;
}

/* An oops: report the exception over the channel and stop the guest. */
__attribute__((noreturn)) void die(struct pt_regs *regs, uint64_t cr2)
{
	trace(exception, regs->vector, regs->error_code, regs->ip, cr2, regs_stack_pointer(regs));
	printk("unexpected exception %lu error_code=%#lx rip=%#lx cr2=%#lx\n",
	       (unsigned long)regs->vector, (unsigned long)regs->error_code,
	       (unsigned long)regs->ip, (unsigned long)cr2);
	pw_exit(PW_GUEST_EXIT_PANIC);
}

/* The signal a user-mode exception sends (do_trap()/do_error_trap()); it ends the task. */
static int trap_signal(uint64_t vector)
{
	switch (vector) {
	case X86_TRAP_DE: return SIGFPE;
	case X86_TRAP_BP: return SIGTRAP;
	case X86_TRAP_UD: return SIGILL;
	default:	  return SIGSEGV;
	}
}

/*
 * Test handlers installed on any CPU: while none is, an exception costs
 * one flag test for them (a static key in Linux, as kprobe_page_fault()'s
 * kprobe_running() is only asked when kprobes are in use).
 */
static unsigned int nr_exception_handlers;

exception_handler_t set_exception_handler(unsigned int vector, exception_handler_t fn)
{
	exception_handler_t old = this_cpu()->exception_handlers[vector];

	this_cpu()->exception_handlers[vector] = fn;
	__atomic_add_fetch(&nr_exception_handlers, (fn != NULL) - (old != NULL), __ATOMIC_RELAXED);
	return old;
}

/* The handler a test installed for this exception on this CPU, if any, took it. */
static bool test_handler_took(struct pt_regs *regs)
{
	exception_handler_t fn = regs->vector < NR_EXCEPTION_VECTORS ?
				 this_cpu()->exception_handlers[regs->vector] : NULL;

	return fn && fn(regs);
}

/* Every vector but #PF: interrupts, then the exceptions that end a task or oops. */
static __attribute__((noinline)) void do_other_trap(struct pt_regs *regs)
{
	const struct exception_table_entry *e;

	if (regs->vector == TLB_IPI_VECTOR) {
		flush_tlb_func();
		return;
	}
	if (regs->vector == SPURIOUS_VECTOR)
		return;		/* no EOI for a spurious interrupt */
	if (user_mode(regs) && regs->vector == X86_TRAP_UD && regs->ip == trampoline_addr(user_ret))
		return_to_kernel(regs->ax, 0);
	if (user_mode(regs)) {
		trace(exception, regs->vector, regs->error_code, regs->ip, 0, regs_stack_pointer(regs));
		return_to_kernel(0, TASK_KILLED(trap_signal(regs->vector)));
	}
	/* exc_general_protection(): a non-canonical address in a probe is fixed up too. */
	e = regs->vector == X86_TRAP_GP ? search_exception_tables(regs->ip) : NULL;
	if (!e)
		die(regs, read_cr2());
	regs->ip = e->fixup;
}

/* #PF goes straight on to exc_page_fault(), as its own IDT entry does in Linux. */
void do_trap(struct pt_regs *regs)
{
	if (__builtin_expect(__atomic_load_n(&nr_exception_handlers, __ATOMIC_RELAXED) != 0, 0) &&
	    test_handler_took(regs))
		return;
	if (regs->vector == X86_TRAP_PF)
		exc_page_fault(regs);
	else
		do_other_trap(regs);
}

/*
 * The access at label 1 may fault: its __ex_table entry resumes at an
 * out-of-line fixup that sets err to -EFAULT and jumps back to label 2
 * (Linux's _ASM_EXTABLE with an -EFAULT fixup).
 */
#define ASM_EFAULT_FIXUP						\
	"2:\n"								\
	".pushsection .fixup, \"ax\"\n"					\
	"3:	movl %[efault], %[err]\n"					\
	"	jmp 2b\n"							\
	".popsection\n"							\
	".pushsection __ex_table, \"a\"\n"					\
	_ASM_PTR "1b, 3b\n"						\
	".popsection\n"

/*
 * copy_from_kernel_nofault() for one word (a quadword; on i386 a long,
 * zero-extended): 0, or -EFAULT after a #PF.
 */
int probe_kernel_read(uintptr_t addr, uint64_t *val)
{
	int err = 0;
	unsigned long v = 0;

	asm volatile("1:	mov (%[addr]), %[v]\n"
		     ASM_EFAULT_FIXUP
		     : [err] "+r"(err), [v] "+r"(v)
		     : [addr] "r"(addr), [efault] "i"(-PW_EFAULT)
		     : "memory");
	*val = v;
	return err;
}

/* copy_to_kernel_nofault() for one word (on i386 the low long of val). */
int probe_kernel_write(uintptr_t addr, uint64_t val)
{
	int err = 0;

	asm volatile("1:	mov %[v], (%[addr])\n"
		     ASM_EFAULT_FIXUP
		     : [err] "+r"(err)
		     : [addr] "r"(addr), [v] "r"((unsigned long)val), [efault] "i"(-PW_EFAULT)
		     : "memory");
	return err;
}

/* Take an exception nobody handles; the caller never gets control back. */
void raise_exception(unsigned int vector)
{
	volatile unsigned int zero = 0;

	switch (vector) {
	case X86_TRAP_DE:
		asm volatile("divl %0" : : "r"(zero), "a"(1), "d"(0));
		break;
	case X86_TRAP_BP:
		asm volatile("int3");
		break;
	case X86_TRAP_UD:
		asm volatile("ud2");
		break;
	case X86_TRAP_PF:
		(void)READ_ONCE(*(volatile uint64_t *)VMALLOC_START);
		break;
	}
}
