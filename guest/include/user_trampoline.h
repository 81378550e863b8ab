/*
 * The one page of user code every task maps (arch/user.S, user_32.S),
 * for assembly: the same instructions in both modes on the registers of
 * Linux's asm.h (_ASM_AX, _ASM_SI, _ASM_DI: %rax or %eax ...).  Each
 * entry takes its arguments in DI and SI and ends at user_ret, whose ud2
 * brings AX back to the kernel (do_trap()).
 */
#ifndef GUEST_USER_TRAMPOLINE_H
#define GUEST_USER_TRAMPOLINE_H

#ifdef CONFIG_X86_32
#define _ASM_AX	%eax
#define _ASM_SI	%esi
#define _ASM_DI	%edi
#else
#define _ASM_AX	%rax
#define _ASM_SI	%rsi
#define _ASM_DI	%rdi
#endif

	.macro user_trampoline
	.section .user_trampoline, "ax"
	.balign 4096
	.globl __user_trampoline, user_read, user_write, user_fetch, user_read_loop, user_write_pages
	.globl user_ret
__user_trampoline:
user_read:
	mov	(_ASM_DI), _ASM_AX
	jmp	user_ret
user_write:
	mov	_ASM_SI, (_ASM_DI)
	jmp	user_ret
user_fetch:				/* the code at DI jumps to SI = user_ret */
	jmp	*_ASM_DI
user_read_loop:				/* read (DI) SI times */
	mov	(_ASM_DI), _ASM_AX
	dec	_ASM_SI
	jnz	user_read_loop
	jmp	user_ret
user_write_pages:			/* page_fault1: a byte into each of SI pages from DI */
	movb	$1, (_ASM_DI)
	add	$4096, _ASM_DI
	dec	_ASM_SI
	jnz	user_write_pages
	jmp	user_ret
user_ret:
	ud2
	.balign 4096
	.endm

#endif
