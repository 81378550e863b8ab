/* start_kernel and start_secondary: from the VMM's hand-off to the op loop. */
#include "apic.h"
#include "asm.h"
#include "cpufeature.h"
#include "fault_inject.h"
#include "kernel.h"
#include "mm.h"
#include "percpu.h"
#include "task.h"

struct boot_params boot_params;
struct percpu percpu[NR_CPUS];
static int smp_boot_done;
static unsigned int cpus_online;

__attribute__((noreturn)) void start_kernel(uint64_t fdt_pa, unsigned int cpu);

/* The FDT's fault-injection specs, from the workload on (boot itself never fails). */
static void arm_fault_injection(void)
{
	for (unsigned int i = 0; i < boot_params.nr_inject; i++) {
		const uint32_t *c = boot_params.inject[i];
		struct fault_attr attr = {
			.levels = c[1], .probability = c[2], .interval = c[3],
			.times = (int32_t)c[4], .space = c[5],
		};

		if (c[0] && c[0] < PW_INJECT_SITE_MAX)
			fault_inject_set(c[0], &attr);
	}
	fault_inject_fail_nth(boot_params.fail_nth);
}

/* The last CPU to leave the VMM's boot page tables gives them back. */
static void cpu_online(void)
{
	if (__atomic_add_fetch(&cpus_online, 1, __ATOMIC_ACQ_REL) == boot_params.ncpus)
		free_boot_tables();
}

/* An AP: wait for the boot CPU, then the same per-CPU set-up and the op loop. */
static __attribute__((noreturn)) void start_secondary(unsigned int cpu)
{
	while (!__atomic_load_n(&smp_boot_done, __ATOMIC_ACQUIRE))
		asm volatile("pause");
	cpu_init(cpu);
	cpu_setup_protection();
	x2apic_enable();
	write_cr3(__pa(swapper_pg_dir()));
	if (channel_init(cpu))
		panic("cpu %u: no channel ring in the FDT", cpu);
	cpu_online();
	serve_ops();
}

__attribute__((noreturn)) void start_kernel(uint64_t fdt_pa, unsigned int cpu)
{
	int err;

	this_cpu()->cpu = cpu;
	current_mm = &init_mm;
	if (cpu)
		start_secondary(cpu);

	trap_init();
	cpu_init(0);
#ifdef CONFIG_X86_32
	/* The mode is built in, as Linux's CONFIG_X86_PAE: the VMM must have started this one. */
	if (!!(read_cr4() & X86_CR4_PAE) != (PAGING_LEVELS == 3))
		panic("built for %s paging, started with CR4.PAE %s (--paging %u)",
		      PAGING_LEVELS == 2 ? "two-level" : "PAE", read_cr4() & X86_CR4_PAE ? "set" : "clear",
		      PAGING_LEVELS);
#else
	check_la57_support();	/* before any __va() */
#endif
	boot_params.paging_levels = PAGING_LEVELS;
	err = parse_boot_fdt(fdt_pa, &boot_params);
	if (err)
		panic("bad boot FDT at %#lx (step %d)", (unsigned long)fdt_pa, -err);
	cpu_features_init();	/* after the FDT: its bootargs may clear some */
	cpu_setup_protection();
	if (channel_init(0))
		panic("bad channel description in the FDT");

	if (boot_params.ncpus > 1)
		x2apic_enable();	/* the VMM made in-kernel APICs: IPIs for shootdowns */
	page_alloc_init();
	pgtable_init(boot_params.ncpus, boot_params.split_ptlock_cpus);
	tlb_init();
	paging_init();
	mmap_init();
	vmalloc_init();
	task_init();

	fault_inject_init(boot_params.inject_seed);
	trace(boot, boot_params.ram_bytes, boot_params.ncpus, boot_params.paging_levels,
	      (uintptr_t)_text - PW_START_KERNEL_MAP, (uintptr_t)_end - PW_START_KERNEL_MAP);
	__atomic_store_n(&smp_boot_done, 1, __ATOMIC_RELEASE);
	cpu_online();
	if (!strcmp(boot_params.workload, PW_WORKLOAD_FAULTS))
		prepare_faults_workload();	/* before injection is armed */
	arm_fault_injection();

	if (!strcmp(boot_params.workload, PW_WORKLOAD_OPS))
		serve_ops();
	if (!strcmp(boot_params.workload, PW_WORKLOAD_DEFAULT))
		run_default_workload();
	if (!strcmp(boot_params.workload, PW_WORKLOAD_FAULTS))
		run_faults_workload();
	panic("unknown workload '%s'", boot_params.workload);
}
