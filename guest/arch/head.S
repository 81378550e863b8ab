/*
 * Entry from the VMM, on every CPU: 64-bit long mode, ring 0, interrupts
 * off, on the VMM's boot page tables; RDI = guest-physical address of the
 * FDT, RSI = this CPU's index (0 = the boot CPU).
 */
#include "percpu.h"

#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define BOOT_STACK_SHIFT	14	/* 16 KiB per CPU */

	.section .text.head, "ax"
	.globl _start
_start:
	cli
	cmpq	$NR_CPUS, %rsi
	jae	2f
	movq	%rdi, %r12
	movq	%rsi, %r13

	leaq	boot_stacks(%rip), %rsp
	leaq	1(%rsi), %rax
	shlq	$BOOT_STACK_SHIFT, %rax
	addq	%rax, %rsp

	/*
	 * FS and GS bases: this CPU's struct percpu.  %fs:0x28 is the stack-
	 * protector canary libfdt.a and our own code read.  The selectors are
	 * nulled first, so that an iretq to ring 3 has no DPL-0 selector to
	 * null; the bases are MSRs.
	 */
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	imulq	$PERCPU_SIZE, %r13, %rbx
	leaq	percpu(%rip), %rax
	addq	%rax, %rbx
	movq	%rbx, PERCPU_SELF(%rbx)
	movq	%rbx, %rax
	movq	%rbx, %rdx
	shrq	$32, %rdx
	movl	$MSR_FS_BASE, %ecx
	wrmsr
	movq	%rbx, %rax
	movl	$MSR_GS_BASE, %ecx
	wrmsr
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, PERCPU_CANARY(%rbx)

	movq	%r12, %rdi
	movq	%r13, %rsi
	call	start_kernel
2:	cli
	hlt
	jmp	2b

	.section .bss
	.balign 4096
boot_stacks:
	.skip	NR_CPUS << BOOT_STACK_SHIFT
