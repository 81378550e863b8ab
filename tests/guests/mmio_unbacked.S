/*
 * Writes to guest-physical 16 MiB, just past the end of RAM under
 * `--mem 16M`.  The boot page tables map RAM only, so the guest first maps
 * [16 MiB, 18 MiB) itself: it follows CR3 -> (PML5[0] with CR4.LA57 ->)
 * PML4[0] -> PDPT[0] to the identity map's PD (tables in RAM,
 * identity-mapped) and fills entry 8 with a 2 MiB page.  The walk then succeeds, no memslot backs the address, and
 * KVM exits to the VMM with KVM_EXIT_MMIO.
 */
#define PTE_ADDR	0x000ffffffffff000
#define PD_8_PAST_RAM	(0x1000000 | 0x83)	/* 16 MiB, PS | RW | P */

	.text
	.globl _start
_start:
	movabsq	$PTE_ADDR, %rcx
	movq	%cr3, %rax
	andq	%rcx, %rax
	movq	%cr4, %rdx
	btq	$12, %rdx		/* CR4.LA57 */
	jnc	1f
	movq	(%rax), %rax		/* PML5[0] */
	andq	%rcx, %rax
1:	movq	(%rax), %rax		/* PML4[0] */
	andq	%rcx, %rax
	movq	(%rax), %rax		/* PDPT[0] */
	andq	%rcx, %rax
	movq	$PD_8_PAST_RAM, 8 * 8(%rax)
	movl	$0x2a, 0x1000000
written_past_ram:
	hlt
