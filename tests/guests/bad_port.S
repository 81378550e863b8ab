/*
 * Writes 4 bytes to one I/O port: 0x80 (the POST-code port Linux writes
 * for I/O delays) as built; tests patch the word after the "PWPORT" marker
 * to try others.
 */
	.text
	.globl _start
_start:
	movzwl	port(%rip), %edx
	movl	$0x2a, %eax
	outl	%eax, %dx
port_written:
	hlt

	.section .rodata
	.ascii	"PWPORT"
port:	.word	0x80
