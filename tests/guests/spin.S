/* A guest that never stops: only the watchdog ends it. */
	.text
	.globl _start
_start:
	pause
spin_forever:
	jmp	spin_forever
