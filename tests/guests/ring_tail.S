/* Writes the host's ring tail, one past the ring's capacity, then rings the doorbell. */
#include "ring.h"

	.text
	.globl _start
_start:
	movq	$4097, RING + RING_TAIL
	movl	$DOORBELL_FLUSH, %eax
	movw	$DOORBELL, %dx
	outl	%eax, %dx
	hlt
