/*
 * A guest that triple-faults on purpose: the VMM starts every guest with an
 * empty IDT, so the #UD below cannot be delivered, the resulting #DF cannot
 * either, and the CPU shuts down.  RBX carries a marker for the register
 * report.
 */
	.text
	.globl _start
_start:
	movabsq	$0x7269706c65666c74, %rbx
	xorl	%eax, %eax
	lidt	empty_idt(%rip)
crash_here:
	ud2

	.section .rodata
empty_idt:
	.word	0
	.quad	0
