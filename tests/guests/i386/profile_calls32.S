/*
 * tests/guests/profile_calls.S for i386, `--paging 2`: the same calls in
 * ring 0 with %ebp frames and ELF sizes, as C built with frame pointers
 * on i386 has them, then ring 3 through an iret (a GDT of its own with
 * Linux i386's selectors, the boot tables' first 4 MiB page made
 * user-accessible, IOPL 3) and the exit from there.  Instruction counts
 * are in the comments; the exit's outl is never counted.
 */
#define CALLS		10
#define SPIN		20
#define USER_LOOPS	7
#define USER_CS		0x73		/* __USER_CS: entry 14, RPL 3 */
#define USER_DS		0x7b		/* __USER_DS: entry 15, RPL 3 */

	.code32
	.text
	.globl _start
_start:					/* 4 * CALLS + 13 */
	movl	$CALLS, %ecx
1:	call	outer
	call	leaf_b
	decl	%ecx
	jnz	1b
	lgdt	gdt_ptr
	movl	%cr3, %eax
	andl	$0xfffff000, %eax
	orl	$4, (%eax)		/* PDE 0.U: the 4 MiB page of this code */
	movl	%cr3, %eax
	movl	%eax, %cr3
	pushl	$USER_DS
	pushl	$0
	pushl	$0x3002			/* IOPL 3: ring 3 may write the exit port */
	pushl	$USER_CS
	pushl	$user
	iret

	.type	outer, @function
outer:					/* 6 per call, 16 with its two leaf_a */
	pushl	%ebp
	movl	%esp, %ebp
	call	leaf_a
	call	leaf_a
	popl	%ebp
	ret
	.size	outer, . - outer

	.type	leaf_a, @function
leaf_a:					/* 5 per call */
	pushl	%ebp
	movl	%esp, %ebp
	nop
	popl	%ebp
	ret
	.size	leaf_a, . - leaf_a

	.type	leaf_b, @function
leaf_b:					/* 5 + 2 * SPIN per call */
	pushl	%ebp
	movl	%esp, %ebp
	movl	$SPIN, %eax
2:	decl	%eax
	jnz	2b
	popl	%ebp
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
gdt:	.fill	12, 8, 0
	.quad	0x00cf9b000000ffff	/* 0x60: __KERNEL_CS, as the VMM's boot GDT */
	.quad	0x00cf93000000ffff	/* 0x68: __KERNEL_DS */
	.quad	0x00cffb000000ffff	/* 0x73: user code, DPL 3, 32-bit */
	.quad	0x00cff3000000ffff	/* 0x7b: user data, DPL 3 */
gdt_end:
gdt_ptr:
	.word	gdt_end - gdt - 1
	.long	gdt
