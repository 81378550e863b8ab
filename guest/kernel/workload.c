/* The built-in workload `./vmm guest.elf` runs when no host drives ops. */
#include "kernel.h"

__attribute__((noreturn)) void run_default_workload(void)
{
	uint64_t v;
	int err;

	printk("pagewalk guest: %lu MiB RAM, %u CPU%s, %u-level paging\n",
	       (unsigned long)(boot_params.ram_bytes >> 20), boot_params.ncpus,
	       boot_params.ncpus == 1 ? "" : "s", boot_params.paging_levels);

	/*
	 * Nothing maps the vmalloc area yet, so this read takes a real #PF
	 * (error code 0: not present, read, supervisor) that the exception
	 * table turns into -EFAULT.
	 */
	err = probe_kernel_read(PW_VMALLOC_START, &v);
	printk("deliberate #PF at %#lx: %s\n", (unsigned long)PW_VMALLOC_START,
	       err == -PW_EFAULT ? "handled, -EFAULT" : "NOT taken");
	pw_exit(err == -PW_EFAULT ? PW_GUEST_EXIT_OK : PW_GUEST_EXIT_PANIC);
}
