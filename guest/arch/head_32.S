/*
 * i386 entry from the VMM, on every CPU (arch/x86/kernel/head_32.S's
 * startup_32 after paging is on): 32-bit protected mode, ring 0,
 * interrupts off, on the VMM's boot page tables; EDI = guest-physical
 * address of the FDT, ESI = this CPU's index (0 = the boot CPU).
 */
#include "percpu.h"

#define BOOT_STACK_SHIFT	14	/* 16 KiB per CPU */

	.section .text.head, "ax"
	.globl _start
_start:
	cli
	cmpl	$NR_CPUS, %esi
	jae	2f
#ifdef CONFIG_X86_PAE
	/* EFER.NX where CPUID has it, as Linux's head_32.S before its first PAE tables. */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax	/* is leaf 0x80000001 there? */
	jb	1f
	movl	$0x80000001, %eax
	cpuid
	btl	$20, %edx		/* X86_FEATURE_NX */
	jnc	1f
	movl	$0xc0000080, %ecx	/* MSR_EFER */
	rdmsr
	btsl	$11, %eax		/* _EFER_NX */
	wrmsr
1:
#endif
	movl	%esi, %eax
	incl	%eax
	shll	$BOOT_STACK_SHIFT, %eax
	leal	boot_stacks(%eax), %esp
	movl	%edi, %ebx
	movl	%esi, %ebp

	/* The per-CPU and canary segments, before any C that has a canary. */
	pushl	%ebp
	call	setup_percpu_segments
	addl	$4, %esp
	rdtsc
	xorl	%edx, %eax
	movl	%eax, %fs:PERCPU_CANARY

	pushl	%ebp			/* cpu */
	pushl	$0			/* fdt_pa: the high half, then the low */
	pushl	%ebx
	call	start_kernel
2:	cli
	hlt
	jmp	2b

	.comm	boot_stacks, NR_CPUS << BOOT_STACK_SHIFT, 4096	/* in .bss */
