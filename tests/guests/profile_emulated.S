/*
 * Instructions KVM's emulator completes, single-stepped (tests/test_profile.c):
 * LOOPS times a read of CR4 and a write of the same value back, between
 * ordinary instructions.  On SVM without DecodeAssists (the nested host's)
 * KVM emulates every CR4 access (cr_interception() ->
 * emulate_on_interception()), and the emulator writes RFLAGS back without
 * the TF that single-step set: the profiler must re-arm it.  Instruction
 * counts are in the comments; the exit's outl is never counted.
 */
#define LOOPS		8

	.text
	.globl _start
_start:					/* 1 + 5 * LOOPS + 2 */
	movl	$LOOPS, %ecx
1:	movq	%cr4, %rax
	movq	%rax, %cr4
	nop
	decl	%ecx
	jnz	1b
	xorl	%eax, %eax
	movw	$0xf4, %dx
	outl	%eax, %dx
