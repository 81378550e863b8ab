/*
 * A ring-0 #PF, single-stepped (tests/test_profile.c): the guest puts a
 * #PF gate in an IDT of its own, loads from an address its boot tables do
 * not map, and the handler resumes past the load.  The CPU enters the
 * handler itself and clears TF doing so; the profiler must still count
 * the handler, and not the load, which never completes.  Instruction
 * counts are in the comments; the exit's outl is never counted.
 */
#define UNMAPPED	0x40000000000	/* 4 TiB: canonical, and past every RAM the VMM maps */

	.text
	.globl _start
_start:					/* 1 + 8 + 3 + 2: the load not counted */
	leaq	stack_top(%rip), %rsp
	leaq	pf_handler(%rip), %rax	/* the gate: offset 15:0, 31:16, 63:32, CS, P|DPL 0|type 14 */
	movw	%ax, idt + 14 * 16(%rip)
	shrq	$16, %rax
	movw	%ax, idt + 14 * 16 + 6(%rip)
	shrq	$16, %rax
	movl	%eax, idt + 14 * 16 + 8(%rip)
	movw	%cs, idt + 14 * 16 + 2(%rip)
	movw	$0x8e00, idt + 14 * 16 + 4(%rip)
	lidt	idt_ptr(%rip)
	leaq	1f(%rip), %rsi
	movabsq	$UNMAPPED, %rax
	movq	(%rax), %rbx		/* #PF: never completes */
1:	xorl	%eax, %eax
	movw	$0xf4, %dx
	outl	%eax, %dx

	.type	pf_handler, @function
pf_handler:				/* 3 */
	movq	%rsi, 8(%rsp)		/* RIP, above the error code */
	addq	$8, %rsp
	iretq
	.size	pf_handler, . - pf_handler

	.data
	.balign	16
idt:
	.fill	15 * 16, 1, 0
idt_ptr:
	.word	15 * 16 - 1
	.quad	idt

	.bss
	.balign	16
	.skip	4096
stack_top:
