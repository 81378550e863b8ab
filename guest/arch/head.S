/*
 * Entry from the VMM: 64-bit long mode, ring 0, interrupts off, on the
 * VMM's boot page tables; RDI = guest-physical address of the FDT.
 */

#define MSR_FS_BASE 0xc0000100

	.section .text.head, "ax"
	.globl _start
_start:
	cli
	leaq	boot_stack_top(%rip), %rsp
	movq	%rdi, %r12

	/*
	 * %fs:0x28 is the stack-protector canary libfdt.a and our own code read
	 * (-mstack-protector-guard-reg=fs).  The selector is nulled first, so
	 * that an iretq to ring 3 has no DPL-0 selector to null, and the base
	 * is the MSR.
	 */
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	leaq	boot_percpu(%rip), %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	$MSR_FS_BASE, %ecx
	wrmsr
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, %fs:0x28

	movq	%r12, %rdi
	call	start_kernel
1:	cli
	hlt
	jmp	1b

	.section .bss
	.balign 4096
boot_stack:
	.skip	16384
boot_stack_top:
	.balign 64
	.globl boot_percpu
boot_percpu:
	.skip	64
