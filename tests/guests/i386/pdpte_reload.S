/*
 * PAE's PDPTE registers (SDM vol. 3A 4.4.1): the CPU loads the four
 * PDPTEs when CR3 is written, and a PDPTE changed in memory counts only
 * from the next load.  Run with `--paging 3`, linked at 1 MiB (identity):
 * it makes PDPTE 1 present in memory, reads 0x40000000 through it before
 * and after writing CR3 again, a #PF handler recording the first read's
 * fault, and exits with
 *   0  the read before the reload faulted, the one after it read the word
 *      (PDPTEs held in registers, as the SDM has them);
 *   3  both read the word (the MMU read the PDPTE from memory);
 *   1  the read after the reload did not read the word;
 *   2  not PAE paging.
 */
#define WORD		0x5a17c0de
#define PHYS		0x200000
#define VIRT		0x40000000	/* PDPTE 1, PDE 0, PTE 0 */
#define KERNEL_CS	0x60		/* the boot GDT's, Linux i386's __KERNEL_CS */

	.code32
	.text
	.globl _start
_start:
	movl	$2, %eax
	movl	%cr4, %ecx
	testl	$0x20, %ecx		/* X86_CR4_PAE */
	jz	exit
	/* IDT entry 14: a 32-bit interrupt gate (type 0xe, P, DPL 0) to pf. */
	movl	$pf, %eax
	movw	%ax, idt + 14 * 8
	movw	$KERNEL_CS, idt + 14 * 8 + 2
	movw	$0x8e00, idt + 14 * 8 + 4
	shrl	$16, %eax
	movw	%ax, idt + 14 * 8 + 6
	lidt	idtr

	movl	$WORD, PHYS
	movl	$pt + 3, pd		/* P | RW */
	movl	$PHYS + 3, pt
	movl	%cr3, %ebx
	andl	$0xffffffe0, %ebx
	movl	$pd + 1, (VIRT >> 30) * 8(%ebx)	/* P only: the rest is reserved in a PDPTE */

	movl	VIRT, %eax		/* before the reload: may fault to pf */
	movl	$3, %esi		/* it read: */
	cmpl	$WORD, %eax
	je	reload
	movl	$1, %eax		/* it read something else */
	jmp	exit
faulted:
	movl	$0, %esi
reload:	movl	%cr3, %eax
	movl	%eax, %cr3
	movl	$1, %eax
	cmpl	$WORD, VIRT
	jne	exit
	movl	%esi, %eax
exit:	movw	$0xf4, %dx		/* isa-debug-exit: the status */
	outl	%eax, %dx
	hlt

	/* #PF: drop the error code, return to faulted instead of the read. */
pf:	addl	$4, %esp
	movl	$faulted, (%esp)
	iret

	.data
	.balign 8
idtr:	.word	256 * 8 - 1
	.long	idt

	.bss
	.balign 4096
pd:	.skip	4096
pt:	.skip	4096
idt:	.skip	256 * 8
