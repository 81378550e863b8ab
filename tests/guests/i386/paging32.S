/*
 * An i386 guest for `--paging 2` and `--paging 3`, linked low at 1 MiB,
 * where the boot tables map it identity.  It checks that EDI points at
 * the FDT, puts a word at guest-physical 0x200000, maps it with a 4 KiB
 * page at 0x40000000 through tables of its own in the mode CR4 says it
 * runs in, reads it back there and exits with status 0 if the word is
 * right, 1 if not, 2 if EDI is not the FDT.
 */
#define WORD		0x5a17c0de
#define PHYS		0x200000
#define VIRT		0x40000000	/* pgd slot 256 two-level, PDPTE 1 in PAE */
#define PT_P_RW		3		/* _PAGE_PRESENT | _PAGE_RW */

	.code32
	.text
	.globl _start
_start:
	movl	$2, %eax
	cmpl	$0xedfe0dd0, (%edi)	/* FDT_MAGIC 0xd00dfeed, big-endian */
	jne	exit
	movl	$WORD, PHYS		/* through the identity map */
	movl	%cr3, %ebx
	movl	%cr4, %eax
	testl	$0x20, %eax		/* X86_CR4_PAE */
	jnz	pae

	/* Two-level: PDE 256 -> pt, PTE 0 -> PHYS; 4-byte entries. */
	andl	$0xfffff000, %ebx
	movl	$pt + PT_P_RW, (VIRT >> 22) * 4(%ebx)
	movl	$PHYS + PT_P_RW, pt
	jmp	check

	/*
	 * PAE: PDPTE 1 -> pd (a PDPTE has P only), PDE 0 -> pt, PTE 0 -> PHYS;
	 * 8-byte entries, the high halves zero in .bss.  The PDPTE registers
	 * load on a CR3 write: write it again.
	 */
pae:	andl	$0xffffffe0, %ebx
	movl	$pd + 1, (VIRT >> 30) * 8(%ebx)
	movl	$0, (VIRT >> 30) * 8 + 4(%ebx)
	movl	$pt + PT_P_RW, pd
	movl	$PHYS + PT_P_RW, pt
	movl	%cr3, %eax
	movl	%eax, %cr3

check:	movl	$1, %eax
	cmpl	$WORD, VIRT
	jne	exit
	movl	$0, %eax
exit:	movw	$0xf4, %dx		/* isa-debug-exit: the status */
	outl	%eax, %dx
	hlt

	.bss
	.balign 4096
pd:	.skip	4096
pt:	.skip	4096
