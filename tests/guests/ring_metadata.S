/*
 * Overwrites its ring's capacity with 16 times the real one and publishes a
 * head that only such a ring could hold: a host trusting either would read
 * records far past the channel region.
 */
#include "ring.h"

	.text
	.globl _start
_start:
	movl	$0x10000, RING + RING_CAPACITY
	movq	$0x8000, RING + RING_HEAD
	movl	$DOORBELL_FLUSH, %eax
	movw	$DOORBELL, %dx
	outl	%eax, %dx
	hlt
