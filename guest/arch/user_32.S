/*
 * i386 ring 3: entering it, coming back from it, and the one page of user
 * code every task maps at USER_TRAMPOLINE, as arch/user.S on x86-64 (the
 * same ud2 at user_ret brings user code back).  C calls these with
 * i386's stack convention: a uint64_t argument is two words, low first.
 */
#include "percpu.h"
#include "user_trampoline.h"
#include "segment_32.h"

	.text

/* long enter_user(uint64_t rip, uint64_t rdi, uint64_t rsi, uint64_t *value): EDI, ESI the low halves */
	.globl enter_user
enter_user:
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	44(%esp), %eax		/* value, past 4 saved registers, the return address, 3 quadwords */
	pushl	%eax
	movl	%esp, %fs:PERCPU_RESUME_RSP

	movl	24(%esp), %ecx		/* rip */
	movl	32(%esp), %edi
	movl	40(%esp), %esi
	pushl	$__USER_DS		/* ss */
	pushl	$0			/* esp: the trampoline uses no stack */
	pushl	$0x202			/* eflags: interrupts on, for shootdown IPIs */
	pushl	$__USER_CS		/* cs */
	pushl	%ecx			/* eip */
	xorl	%eax, %eax		/* no kernel values leak into ring 3 */
	movl	%eax, %fs
	movl	%eax, %gs
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%ebp, %ebp
	iret

/* void return_to_kernel(uint64_t value, long status): back into enter_user's caller. */
	.globl return_to_kernel
return_to_kernel:
	cli
	movl	4(%esp), %eax		/* value */
	movl	8(%esp), %edx
	movl	12(%esp), %ecx		/* status */
	movl	%fs:PERCPU_RESUME_RSP, %esp
	popl	%ebx
	movl	%eax, (%ebx)
	movl	%edx, 4(%ebx)
	movl	%ecx, %eax
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret

	user_trampoline
