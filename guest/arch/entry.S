/*
 * Exception entry for vectors 0-31 and the two interrupts.  Every vector
 * runs on an IST stack (see arch/desc.c), builds a struct pt_regs and
 * calls do_trap().
 */
#include "apic.h"

	.text


	.macro vector_stub v
	.balign 16
vector_\v:
	/* vectors with a CPU-pushed error code (SDM 3A 6.13) skip the dummy */
	.if !(((\v) == 8) || (((\v) >= 10) && ((\v) <= 14)) || ((\v) == 17) || ((\v) == 21) || ((\v) == 29) || ((\v) == 30))
	pushq	$0
	.endif
	pushq	$\v
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

/* The two interrupt vectors the guest uses (arch/apic.c), through the same path. */
	.balign 16
	.globl tlb_ipi_entry, spurious_entry
tlb_ipi_entry:
	pushq	$0
	pushq	$TLB_IPI_VECTOR
	jmp	common_exception
spurious_entry:
	pushq	$0
	pushq	$SPURIOUS_VECTOR
	jmp	common_exception

common_exception:
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	do_trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	addq	$16, %rsp		/* vector, error code */
	iretq

	.section .rodata
	.globl exception_stub_table
	.balign 8
exception_stub_table:
	.set v, 0
	.rept 32
	.quad	exception_stubs + v * 16
	.set v, v + 1
	.endr
