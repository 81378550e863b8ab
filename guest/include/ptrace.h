/* The exception frame arch/entry.S builds, laid out as Linux's pt_regs. */
#ifndef GUEST_PTRACE_H
#define GUEST_PTRACE_H

#include <stdint.h>

#ifdef CONFIG_X86_32
/* arch/x86/include/asm/ptrace.h's i386 frame, saved by arch/entry_32.S. */
struct pt_regs {
	unsigned long bx, cx, dx, si, di, bp, ax;
	unsigned long ds, es, fs, gs;
	unsigned long vector;
	unsigned long error_code;	/* 0 for vectors without one */
	unsigned long ip, cs, flags;	/* pushed by the CPU */
	unsigned long sp, ss;		/* pushed by the CPU only from ring 3 */
};
#else
struct pt_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t ax, cx, dx, si, di;
	uint64_t vector;
	uint64_t error_code;	/* 0 for vectors without one */
	uint64_t ip, cs, flags, sp, ss;	/* pushed by the CPU */
};
#endif

/* The interrupted stack pointer: i386 pushes SS:ESP only from ring 3
 * (Linux's kernel_stack_pointer() finds a kernel one where the frame ends). */
static inline unsigned long regs_stack_pointer(const struct pt_regs *regs)
{
#ifdef CONFIG_X86_32
	if (!(regs->cs & 3))
		return (unsigned long)&regs->sp;
#endif
	return regs->sp;
}

void do_trap(struct pt_regs *regs);

#endif
