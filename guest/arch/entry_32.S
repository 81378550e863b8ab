/*
 * i386 exception entry for vectors 0-31 and the two interrupts
 * (arch/x86/entry/entry_32.S): no IST on i386, so a fault in ring 0 runs
 * on the stack it interrupted and one from ring 3 on the TSS's sp0 stack;
 * SAVE_ALL builds a struct pt_regs, loads the kernel's segments (%fs the
 * per-CPU one, %gs the stack canary's) and calls do_trap().
 */
#include "apic.h"
#include "segment_32.h"

	.text

	.macro vector_stub v
	.balign 16
vector_\v:
	/* vectors with a CPU-pushed error code (SDM 3A 6.13) skip the dummy */
	.if !(((\v) == 8) || (((\v) >= 10) && ((\v) <= 14)) || ((\v) == 17) || ((\v) == 21) || ((\v) == 29) || ((\v) == 30))
	pushl	$0
	.endif
	pushl	$\v
	jmp	common_exception
	.endm

	.globl exception_stubs
	.balign 16
exception_stubs:
	.altmacro
	.set v, 0
	.rept 32
	vector_stub %v
	.set v, v + 1
	.endr

	.balign 16
	.globl tlb_ipi_entry, spurious_entry
tlb_ipi_entry:
	pushl	$0
	pushl	$TLB_IPI_VECTOR
	jmp	common_exception
spurious_entry:
	pushl	$0
	pushl	$SPURIOUS_VECTOR
	jmp	common_exception

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

	.section .rodata
	.globl exception_stub_table
	.balign 4
exception_stub_table:
	.set v, 0
	.rept 32
	.long	exception_stubs + v * 16
	.set v, v + 1
	.endr
