/* The exception frame arch/entry.S builds, laid out as Linux's pt_regs. */
#ifndef GUEST_PTRACE_H
#define GUEST_PTRACE_H

#include <stdint.h>

struct pt_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t ax, cx, dx, si, di;
	uint64_t vector;
	uint64_t error_code;	/* 0 for vectors without one */
	uint64_t ip, cs, flags, sp, ss;	/* pushed by the CPU */
};

void do_trap(struct pt_regs *regs);

#endif
