/*
 * A foreign guest: not pagewalk's kernel, linked low at 1 MiB, using only
 * the debug console (0xe9) and the isa-debug-exit port (0xf4).  Prints a
 * line and exits with status 42.
 */
	.text
	.globl _start
_start:
	leaq	msg(%rip), %rsi
	movl	$msg_len, %ecx
	movw	$0xe9, %dx
	rep outsb
	movl	$42, %eax
	movw	$0xf4, %dx
	outl	%eax, %dx
	hlt

	.section .rodata
msg:	.ascii "hello from a foreign guest\n"
	.set msg_len, . - msg
