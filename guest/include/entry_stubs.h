/*
 * The exception and interrupt stubs of arch/entry.S and arch/entry_32.S,
 * for assembly: each pushes a dummy error code where the CPU pushes none,
 * then its vector, and jumps to the file's common_exception (`push` is
 * pushq or pushl by the mode); exception_stub_table lists the 32
 * exception stubs for the IDT (ENTRY_STUB_PTR: .quad or .long).
 */
#ifndef GUEST_ENTRY_STUBS_H
#define GUEST_ENTRY_STUBS_H

#include "apic.h"

#ifdef CONFIG_X86_32
#define ENTRY_STUB_PTR	.long
#else
#define ENTRY_STUB_PTR	.quad
#endif

	.macro vector_stub v
	.balign 16
vector_\v:
	/* vectors with a CPU-pushed error code (SDM 3A 6.13) skip the dummy */
	.if !(((\v) == 8) || (((\v) >= 10) && ((\v) <= 14)) || ((\v) == 17) || ((\v) == 21) || ((\v) == 29) || ((\v) == 30))
	push	$0
	.endif
	push	$\v
	jmp	common_exception
	.endm

	.macro entry_stubs
	.globl exception_stubs
	.balign 16
exception_stubs:
	.altmacro
	.set v, 0
	.rept 32
	vector_stub %v
	.set v, v + 1
	.endr

/* The two interrupt vectors the guest uses (arch/apic.c), through the same path. */
	.balign 16
	.globl tlb_ipi_entry, spurious_entry
tlb_ipi_entry:
	push	$0
	push	$TLB_IPI_VECTOR
	jmp	common_exception
spurious_entry:
	push	$0
	push	$SPURIOUS_VECTOR
	jmp	common_exception
	.endm

	.macro entry_stub_table
	.section .rodata
	.globl exception_stub_table
	.balign 8
exception_stub_table:
	.set v, 0
	.rept 32
	ENTRY_STUB_PTR	exception_stubs + v * 16
	.set v, v + 1
	.endr
	.endm

#endif
