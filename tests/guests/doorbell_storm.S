/*
 * A guest that rings the channel doorbell (port 0x500, "flush") forever:
 * every ring is a VM exit, so only a watchdog checked on every exit, not
 * just on a timer signal, stops it.
 */
	.text
	.globl _start
_start:
	movl	$1, %eax
	movw	$0x500, %dx
ring_forever:
	outl	%eax, %dx
	jmp	ring_forever
