/* start_kernel: from the VMM's hand-off to the selected workload. */
#include "asm.h"
#include "kernel.h"
#include "mm.h"

struct boot_params boot_params;

__attribute__((noreturn)) void start_kernel(uint64_t fdt_pa);

__attribute__((noreturn)) void start_kernel(uint64_t fdt_pa)
{
	int err;

	trap_init();

	err = parse_boot_fdt(fdt_pa, &boot_params);
	if (err)
		panic("bad boot FDT at %#lx (step %d)", (unsigned long)fdt_pa, -err);
	boot_params.paging_levels = (read_cr4() & X86_CR4_LA57) ? 5 : 4;
	if (channel_init(0))
		panic("bad channel description in the FDT");

	page_alloc_init();
	pgtable_init(boot_params.ncpus, boot_params.split_ptlock_cpus);
	paging_init();
	mmap_init();
	vmalloc_init();

	emit(PW_EV_BOOT, boot_params.ram_bytes, boot_params.ncpus, boot_params.paging_levels,
	     (uintptr_t)_text - PW_START_KERNEL_MAP, (uintptr_t)_end - PW_START_KERNEL_MAP);

	if (!strcmp(boot_params.workload, PW_WORKLOAD_OPS))
		serve_ops();
	if (!strcmp(boot_params.workload, PW_WORKLOAD_DEFAULT))
		run_default_workload();
	panic("unknown workload '%s'", boot_params.workload);
}
