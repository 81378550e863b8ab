/*
 * Interrupts off, then HLT, on whichever vCPU runs it: stopped for good
 * whatever the vCPU count, the in-kernel irqchip's included.
 */
	.text
	.globl _start
_start:
	cli
halted:
	hlt
	jmp	halted
