/* Publishes one well-formed record of event type 999, which does not exist. */
#include "ring.h"

	.text
	.globl _start
_start:
	movw	$999, RING + RECORDS + EV_TYPE
	movw	$0, RING + RECORDS + EV_CPU
	movl	$0, RING + RECORDS + EV_LEN
	movq	$0, RING + RECORDS + EV_SEQ
	movq	$1, RING + RING_HEAD
	movl	$DOORBELL_FLUSH, %eax
	movw	$DOORBELL, %dx
	outl	%eax, %dx
	hlt
