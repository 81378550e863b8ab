/* The built-in workload `./vmm guest.elf` runs when no host drives ops. */
#include "kernel.h"
#include "mm.h"
#include "task.h"
#include "traps.h"

#define MB (1UL << 20)

/*
 * A small process: 4 MiB at 4 MiB, written and read from ring 3.  The
 * trampoline fault installs a PUD, PMD and PTE table under pgd entry 255;
 * the first write at 4 MiB the same under entry 0; the write at 6 MiB a
 * second PTE table; the other touches only pages.  So 5 demand faults,
 * 2 PUD + 2 PMD + 3 PTE tables (28672 pgtables_bytes) and 3 private pages,
 * the read being served by the zero page.
 */
static void demand_paging(void)
{
	static const struct {
		uint64_t addr, access;
	} touches[] = {
		{ 4 * MB, PW_ACCESS_WRITE },
		{ 4 * MB + 4096, PW_ACCESS_WRITE },
		{ 4 * MB + 8192, PW_ACCESS_READ },
		{ 6 * MB, PW_ACCESS_WRITE },
	};
	uint64_t faults0 = nr_faults[PW_FAULT_MAPPED], pgtables, anon, v;
	struct task_struct *t;
	struct mm_struct *mm;
	long id = task_create();

	if (id < 0)
		panic("task_create: %ld", id);
	t = find_task(id);
	mm = t->mm;
	if (do_mmap(mm, 4 * MB, 4 * MB, PW_PROT_READ | PW_PROT_WRITE) < 0)
		panic("mmap failed");
	for (unsigned int i = 0; i < ARRAY_SIZE(touches); i++)
		if (task_touch(t, touches[i].addr, touches[i].access, true, i, &v))
			panic("touch %#lx failed", (unsigned long)touches[i].addr);

	printk("task %ld: %lu demand faults; tables pud=%lu pmd=%lu pte=%lu (pgtables_bytes %ld); %lu private pages\n",
	       id, (unsigned long)(nr_faults[PW_FAULT_MAPPED] - faults0),
	       (unsigned long)mm->nr_tables[PT_PUD], (unsigned long)mm->nr_tables[PT_PMD],
	       (unsigned long)mm->nr_tables[PT_PTE], (long)mm->pgtables_bytes,
	       (unsigned long)mm->nr_anon);
	pgtables = mm_counters.pgtable;
	anon = mm_counters.anon;
	task_exit(t, 0);
	/* The 7 tables and the pgd, and the 3 pages. */
	printk("task %ld exited: %lu page-table pages and %lu private pages freed\n", id,
	       (unsigned long)(pgtables - mm_counters.pgtable),
	       (unsigned long)(anon - mm_counters.anon));
}

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
	if (err != -PW_EFAULT)
		pw_exit(PW_GUEST_EXIT_PANIC);
	demand_paging();
	pw_exit(PW_GUEST_EXIT_OK);
}
