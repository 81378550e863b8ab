/* How the guest stops: the isa-debug-exit port, after one last event. */
#include "asm.h"
#include "kernel.h"

/* The host drains the ring on this exit too, so nothing needs a separate flush. */
__attribute__((noreturn)) void pw_exit(uint32_t status)
{
	trace(exit, status);
	outl(status, PW_PORT_EXIT);
	halt_forever();
}

/* The stack protector found a smashed canary: report it as an oops (#UD here). */
__attribute__((noreturn)) void __stack_chk_fail(void)
{
	asm volatile("ud2");
	__builtin_unreachable();
}

#ifdef CONFIG_X86_32
/* i386's PIC code (Debian's libfdt.a) calls the hidden local alias. */
__attribute__((noreturn, visibility("hidden"))) void __stack_chk_fail_local(void)
{
	__stack_chk_fail();
}
#endif
