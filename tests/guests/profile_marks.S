/*
 * Two markers around a loop whose instructions can be counted by reading
 * it, for the profiler's marker regions (tests/test_profile.c): MARK
 * events written into cpu 0's ring by hand (ring.h: `vmm --mem 16M`, one
 * vCPU), each published by its store of ring head.  A marker's count is
 * the instructions before that store, so from marker 1 to marker 2:
 * marker 1's store, the loop (1 + 2 * SPIN) and marker 2's three record
 * stores: 2 * SPIN + 5.
 */
#include "ring.h"

#define SPIN		20
#define RECORD(seq)	(RING + RECORDS + (seq) * 64)

/* Record `seq` (type, seq, id: cpu and len stay 0 from the host), then publish it. */
.macro mark id, seq
	movw	$EV_MARK, RECORD(\seq) + EV_TYPE
	movq	$\seq, RECORD(\seq) + EV_SEQ
	movq	$\id, RECORD(\seq) + EV_FIELDS
	movq	$(\seq + 1), RING + RING_HEAD
.endm

	.text
	.globl _start
_start:
	mark	1, 0			/* 3 before its store: marker 1 at 3 */
	movl	$SPIN, %ecx
1:	decl	%ecx
	jnz	1b
	mark	2, 1			/* marker 2 at 3 + 1 + 1 + 2 * SPIN + 3 */
	xorl	%eax, %eax
	movw	$0xf4, %dx
	outl	%eax, %dx
