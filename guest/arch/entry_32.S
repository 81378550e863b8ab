/*
 * i386 exception entry for vectors 0-31 and the two interrupts
 * (arch/x86/entry/entry_32.S): no IST on i386, so a fault in ring 0 runs
 * on the stack it interrupted and one from ring 3 on the TSS's sp0 stack;
 * SAVE_ALL builds a struct pt_regs, loads the kernel's segments (%fs the
 * per-CPU one, %gs the stack canary's) and calls do_trap().
 */
#include "entry_stubs.h"
#include "segment_32.h"

	.text

	entry_stubs

common_exception:
	pushl	%gs
	pushl	%fs
	pushl	%es
	pushl	%ds
	pushl	%eax
	pushl	%ebp
	pushl	%edi
	pushl	%esi
	pushl	%edx
	pushl	%ecx
	pushl	%ebx
	movl	$__USER_DS, %eax	/* as Linux i386: user data segments in the kernel too */
	movl	%eax, %ds
	movl	%eax, %es
	movl	$__KERNEL_PERCPU, %eax
	movl	%eax, %fs
	movl	$__KERNEL_STACK_CANARY, %eax
	movl	%eax, %gs
	movl	%esp, %eax
	cld
	pushl	%eax
	call	do_trap
	addl	$4, %esp
	popl	%ebx
	popl	%ecx
	popl	%edx
	popl	%esi
	popl	%edi
	popl	%ebp
	popl	%eax
	popl	%ds
	popl	%es
	popl	%fs
	popl	%gs
	addl	$8, %esp		/* vector, error code */
	iret

	entry_stub_table
