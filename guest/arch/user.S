/*
 * Ring 3: entering it, coming back from it, and the one page of user code
 * every task maps at PW_USER_TRAMPOLINE.  User code comes back with a ud2
 * at user_ret, an exception like any other: on nested PVM-based KVM both
 * int $0x80 (#UD) and syscall (stays in ring 3) fail to reach ring 0 from
 * a guest that is not PVM-aware, while exceptions from ring 3 always do.
 */
#include "percpu.h"
#include "user_trampoline.h"

#define __USER_DS	0x2b
#define __USER_CS	0x33

	.text

/* long enter_user(rip, rdi, rsi, uint64_t *value) */
	.globl enter_user
enter_user:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rcx			/* value */
	movq	%rsp, %gs:PERCPU_RESUME_RSP

	pushq	$__USER_DS		/* ss */
	pushq	$0			/* rsp: the trampoline uses no stack */
	pushq	$0x202			/* rflags: interrupts on, for shootdown IPIs */
	pushq	$__USER_CS		/* cs */
	pushq	%rdi			/* rip */
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	xorl	%eax, %eax		/* no kernel values leak into ring 3 */
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	iretq

/* void return_to_kernel(uint64_t value, long status): back into enter_user's caller. */
	.globl return_to_kernel
return_to_kernel:
	cli
	movq	%gs:PERCPU_RESUME_RSP, %rsp
	popq	%rcx
	movq	%rdi, (%rcx)
	movq	%rsi, %rax
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret

	user_trampoline
