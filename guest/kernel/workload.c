/* The built-in workload `./vmm guest.elf` runs when no host drives ops. */
#include "fault_inject.h"
#include "kernel.h"
#include "mm.h"
#include "task.h"
#include "traps.h"

#include <pagewalk/sizes.h>

/*
 * What an allocation failure (fault injection) does to the workload: as a
 * Linux process whose fork() fails, or which the OOM killer ends, it is an
 * error reported on the console that the kernel survives, not a panic.
 * True if err is one.
 */
static bool failed(long err, const char *what)
{
	if (!IS_ERR_VALUE(err))
		return false;
	printk("workload: %s: %ld\n", what, err);
	return true;
}

/*
 * A small process: 4 MiB at 4 MiB, written and read from ring 3.  The
 * trampoline fault installs a PUD, PMD and PTE table under top-level entry
 * 255 (with LA57, a P4D table under pgd entry 0 first, and those under its
 * entry 255); the first write at 4 MiB a PUD, PMD and PTE table under
 * top-level entry 0 (with LA57, p4d entry 0 of the same P4D table); the
 * write at 6 MiB a second PTE table; the other touches only pages.  So 5
 * demand faults, (1 P4D +) 2 PUD + 2 PMD + 3 PTE tables (28672
 * pgtables_bytes: the P4D is not counted, as in Linux) and 3 private
 * pages, the read being served by the zero page.
 */
static void demand_paging(void)
{
	static const struct {
		uint64_t addr, access;
	} touches[] = {
		{ 4 * SZ_1M, PW_ACCESS_WRITE },
		{ 4 * SZ_1M + 4096, PW_ACCESS_WRITE },
		{ 4 * SZ_1M + 8192, PW_ACCESS_READ },
		{ 6 * SZ_1M, PW_ACCESS_WRITE },
	};
	uint64_t faults0 = nr_faults[PW_FAULT_MAPPED], pgtables, anon, v;
	char p4d[16];
	struct task_struct *t;
	struct mm_struct *mm;
	long id = task_create();

	if (failed(id, "task_create"))
		return;
	t = find_task(id);
	mm = t->mm;
	if (failed(do_mmap(mm, 4 * SZ_1M, 4 * SZ_1M, PW_PROT_READ | PW_PROT_WRITE), "mmap"))
		goto out;
	for (unsigned int i = 0; i < ARRAY_SIZE(touches); i++)
		if (failed(task_touch(t, touches[i].addr, touches[i].access, true, i, &v),
			   "user access, task killed"))
			goto out;

	p4d[0] = '\0';
	if (pgtable_l5_enabled())	/* folded, there is no p4d table to count */
		snprintf(p4d, sizeof(p4d), "p4d=%lu ", (unsigned long)mm->nr_tables[PT_P4D]);
	printk("task %ld: %lu demand faults; tables %spud=%lu pmd=%lu pte=%lu (pgtables_bytes %ld); "
	       "%lu private pages\n", id, (unsigned long)(nr_faults[PW_FAULT_MAPPED] - faults0), p4d,
	       (unsigned long)mm->nr_tables[PT_PUD], (unsigned long)mm->nr_tables[PT_PMD],
	       (unsigned long)mm->nr_tables[PT_PTE], (long)mm->pgtables_bytes,
	       (unsigned long)mm->nr_anon);
	pgtables = mm_counters.pgtable;
	anon = mm_counters.anon;
	task_exit(t, 0);
	/* The 7 tables (8 with LA57) and the pgd, and the 3 pages. */
	printk("task %ld exited: %lu page-table pages and %lu private pages freed\n", id,
	       (unsigned long)(pgtables - mm_counters.pgtable),
	       (unsigned long)(anon - mm_counters.anon));
	return;
out:
	task_exit(t, 0);
}

static const char *sync_mode_name(enum pw_kernel_sync mode)
{
	switch (mode) {
#define PW_SYNC_NAME(name, id, str) case id: return str;
	PW_KERNEL_SYNC_MODES(PW_SYNC_NAME)
#undef PW_SYNC_NAME
	}
	return "?";
}

static struct task_struct *spawn(void)
{
	long id = task_create();

	return failed(id, "task_create") ? NULL : find_task(id);
}

/*
 * The pgds on pgd_list that have every present entry of swapper_pg_dir's
 * kernel half; *present: how many entries that is.
 */
static unsigned int pgds_sharing_kernel(unsigned int *present)
{
	const pgd_t *ref = swapper_pg_dir();
	uint16_t idx[PTRS_PER_PGD / 2];
	unsigned int n = 0, shared = 0;

	for (unsigned int i = PTRS_PER_PGD / 2; i < PTRS_PER_PGD; i++)
		if (ref[i].pgd)
			idx[n++] = i;
	for (struct page *p = pgd_list; p; p = p->lru_next) {
		const pgd_t *pgd = page_address(p);
		unsigned int k = 0;

		while (k < n && pgd[idx[k]].pgd == ref[idx[k]].pgd)
			k++;
		shared += k == n;
	}
	*present = n;
	return shared;
}

/*
 * A few processes share the kernel half: a task, its fork, then a vmalloc
 * needing two new top-level entries (402 and 403; 416 and 417 with LA57),
 * then a third task;
 * the kernel reads the vmalloc area through each of them.  With prealloc
 * nothing is ever copied; with fault the two older pgds take a
 * vmalloc_fault per entry (4); with eager the vmalloc syncs both entries
 * into both older pgds (4).  Either way all pgds end up sharing every
 * present kernel entry of swapper_pg_dir.
 */
static void pgd_sharing(void)
{
	const unsigned long va_hint = VMALLOC_START + PGDIR_SIZE - 2 * PAGE_SIZE;
	struct task_struct *t[3];
	unsigned int present, shared;
	char list[96];
	unsigned long va;
	long child;
	uint64_t v;

	t[0] = spawn();
	if (!t[0])
		return;
	if (failed(do_mmap(t[0]->mm, 4 * SZ_1M, 2 * SZ_1M, PW_PROT_READ | PW_PROT_WRITE), "mmap") ||
	    failed(task_touch(t[0], 4 * SZ_1M, PW_ACCESS_WRITE, true, 1, &v), "user access, task killed")) {
		task_exit(t[0], 0);
		return;
	}
	child = task_fork(t[0]);
	t[1] = failed(child, "fork") ? NULL : find_task(child);
	va = (unsigned long)vmalloc(4 * PAGE_SIZE, va_hint);
	failed(va ? 0 : -PW_ENOMEM, "vmalloc");
	t[2] = spawn();
	/* The kernel half needs no allocation to be read: a failure here is a kernel bug. */
	for (unsigned int i = 0; i < ARRAY_SIZE(t) && va; i++)
		if (t[i] && (task_touch(t[i], va, PW_ACCESS_READ, false, 0, &v) ||
			     task_touch(t[i], va + 2 * PAGE_SIZE, PW_ACCESS_READ, false, 0, &v)))
			panic("kernel read of vmalloc area failed");
	if (t[1])	/* copy-on-write */
		failed(task_touch(t[1], 4 * SZ_1M, PW_ACCESS_WRITE, true, 2, &v), "user access, task killed");

	shared = pgds_sharing_kernel(&present);
	if (SHARED_KERNEL_PMD)
		snprintf(list, sizeof(list), "unused, every pgd shares swapper_pg_dir's kernel PMD");
	else
		snprintf(list, sizeof(list), "%u PGDs; %u present kernel entries in swapper_pg_dir, shared by %u of %u",
			 pgd_list_len, present, shared, pgd_list_len);
	printk("pgd_list: %s; %lu syncs, %lu vmalloc faults (%s)\n", list, (unsigned long)ksync_stats.syncs,
	       (unsigned long)ksync_stats.vmalloc_faults, sync_mode_name(boot_params.kernel_sync));
	for (unsigned int i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i])
			task_exit(t[i], 0);
	if (va)
		vfree((void *)va);
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
	err = probe_kernel_read(VMALLOC_START, &v);
	printk("deliberate #PF at %#lx: %s\n", (unsigned long)VMALLOC_START,
	       err == -PW_EFAULT ? "handled, -EFAULT" : "NOT taken");
	if (err != -PW_EFAULT)
		pw_exit(PW_GUEST_EXIT_PANIC);
	demand_paging();
	pgd_sharing();
	pw_exit(PW_GUEST_EXIT_OK);
}

/*
 * The fault-injection workload (`--workload faults`): every allocation
 * site of the paging core, with every error tolerated, then everything
 * freed.  Whatever was injected, the pages free afterwards must equal
 * those free before; else it exits PW_GUEST_EXIT_LEAK.  The vmalloc area
 * is used once before counting: vfree keeps kernel page tables.
 */
static uint64_t faults_free0;

void prepare_faults_workload(void)
{
	void *va = vmalloc(4 * PAGE_SIZE, 0);

	if (va)
		vfree(va);
	faults_free0 = mm_counters.free;
}

__attribute__((noreturn)) void run_faults_workload(void)
{
	long id = task_create(), child = -1;
	struct task_struct *t = id > 0 ? find_task(id) : NULL, *c = NULL;
	void *va;
	uint64_t v;

	if (t) {
		struct mm_struct *mm = get_task_mm(t);

		if (mm) {
			do_mmap(mm, 256 * SZ_1M, 4 * SZ_1M, PW_PROT_READ | PW_PROT_WRITE);
			mmput(mm);
		}
		task_touch(t, 256 * SZ_1M, PW_ACCESS_WRITE, true, 1, &v);
		task_touch(t, 258 * SZ_1M, PW_ACCESS_WRITE, true, 2, &v);
		child = task_fork(t);
	}
	c = child > 0 ? find_task(child) : NULL;
	if (c)
		task_touch(c, 256 * SZ_1M, PW_ACCESS_WRITE, true, 3, &v);
	va = vmalloc(4 * PAGE_SIZE, 0);
	if (va)
		vfree(va);
	if (t)
		task_exit(t, 0);
	if (c)
		task_exit(c, 0);
	printk("faults workload: %lu failures injected in %lu calls, %ld pages missing\n",
	       (unsigned long)nr_injected, (unsigned long)fault_inject_calls(),
	       (long)(faults_free0 - mm_counters.free));
	pw_exit(mm_counters.free == faults_free0 ? PW_GUEST_EXIT_OK : PW_GUEST_EXIT_LEAK);
}
