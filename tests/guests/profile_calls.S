/*
 * A foreign guest whose instructions can be counted by reading it, for
 * the profiler (tests/test_profile.c): in ring 0, CALLS times, `outer`
 * (which calls `leaf_a` twice) and `leaf_b` (a loop of SPIN); then ring 3
 * (a GDT of its own, the first 2 MiB made user-accessible in the VMM's
 * 4-level boot tables, IOPL 3) runs a loop of USER_LOOPS and exits with
 * status 0 from there.  The functions have frames and ELF sizes, as C
 * built with frame pointers does.  Instruction counts are in the comments;
 * the exit's outl is never counted (the VM stops on it).
 */
#define CALLS		10
#define SPIN		20
#define USER_LOOPS	7
#define USER_CS		0x23
#define USER_DS		0x1b

	.text
	.globl _start
_start:					/* 4 * CALLS + 21 */
	movl	$CALLS, %ecx
1:	call	outer
	call	leaf_b
	decl	%ecx
	jnz	1b
	lgdt	gdt_ptr(%rip)
	movabsq	$0x000ffffffffff000, %rbx
	movq	%cr3, %rax
	andq	%rbx, %rax
	orq	$4, (%rax)		/* PML4[0].U */
	movq	(%rax), %rax
	andq	%rbx, %rax
	orq	$4, (%rax)		/* PDPT[0].U */
	movq	(%rax), %rax
	andq	%rbx, %rax
	orq	$4, (%rax)		/* PD[0].U: the 2 MiB page of this code */
	movq	%cr3, %rax
	movq	%rax, %cr3
	pushq	$USER_DS
	pushq	$0
	pushq	$0x3002			/* IOPL 3: ring 3 may write the exit port */
	pushq	$USER_CS
	leaq	user(%rip), %rax
	pushq	%rax
	iretq

	.type	outer, @function
outer:					/* 6 per call, 16 with its two leaf_a */
	pushq	%rbp
	movq	%rsp, %rbp
	call	leaf_a
	call	leaf_a
	popq	%rbp
	ret
	.size	outer, . - outer

	.type	leaf_a, @function
leaf_a:					/* 5 per call */
	pushq	%rbp
	movq	%rsp, %rbp
	nop
	popq	%rbp
	ret
	.size	leaf_a, . - leaf_a

	.type	leaf_b, @function
leaf_b:					/* 5 + 2 * SPIN per call */
	pushq	%rbp
	movq	%rsp, %rbp
	movl	$SPIN, %eax
2:	decl	%eax
	jnz	2b
	popq	%rbp
	ret
	.size	leaf_b, . - leaf_b

user:					/* ring 3: 2 * USER_LOOPS + 3 */
	movl	$USER_LOOPS, %ecx
3:	decl	%ecx
	jnz	3b
	xorl	%eax, %eax
	movw	$0xf4, %dx
	outl	%eax, %dx

	.section .rodata
	.balign 8
gdt:	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08: kernel code */
	.quad	0x00cf93000000ffff	/* 0x10: kernel data */
	.quad	0x00cff3000000ffff	/* 0x18: user data, DPL 3 */
	.quad	0x00affb000000ffff	/* 0x20: user code, DPL 3, 64-bit */
gdt_end:
gdt_ptr:
	.word	gdt_end - gdt - 1
	.quad	gdt
