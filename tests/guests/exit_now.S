/*
 * make bench's twin guest, the same image for vmm and for QEMU microvm:
 * it exits at once with status 0 through isa-debug-exit (0xf4).  vmm
 * enters at _start in long mode; QEMU loads an ELF with a PVH note
 * (XEN_ELFNOTE_PHYS32_ENTRY, type 18) and enters at the note's address in
 * 32-bit protected mode, paging off.  Boot to exit is then each VMM's own.
 */
	.section .note.Xen, "a"
	.balign 4
	.long	4			/* name size: "Xen\0" */
	.long	4			/* descriptor size */
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	pvh_start

	.text
	.code32
pvh_start:
	xorl	%eax, %eax
	movw	$0xf4, %dx
	outl	%eax, %dx
	hlt

	.code64
	.globl _start
_start:
	xorl	%eax, %eax
	movw	$0xf4, %dx
	outl	%eax, %dx
	hlt
