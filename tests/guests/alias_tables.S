/*
 * Page tables that alias: every entry of the PML4 at 0x200000 points at
 * one PDPT, every PDPT entry at one PD, every PD entry at one page table,
 * every PTE at the page of this code, so that the code still runs after
 * the CR3 switch (every address then maps to that page): 512^4 PTEs
 * reachable from four table pages.  Then cli; hlt, which stops the guest.
 */
	.text
	.globl _start
_start:
	movq	$0x203000, %rdi		/* the page table: every PTE -> this code */
	leaq	_start(%rip), %rax
	andq	$~0xfff, %rax
	orq	$3, %rax		/* P | RW */
	call	fill
	movq	$0x202000, %rdi		/* the PD -> the page table */
	movq	$0x203003, %rax
	call	fill
	movq	$0x201000, %rdi		/* the PDPT -> the PD */
	movq	$0x202003, %rax
	call	fill
	movq	$0x200000, %rdi		/* the PML4 -> the PDPT */
	movq	$0x201003, %rax
	call	fill
	movq	$0x200000, %rax
	movq	%rax, %cr3
	cli
aliased:
	hlt
	jmp	aliased

/* 512 copies of %rax from %rdi on. */
fill:
	movl	$512, %ecx
	rep stosq
	ret
