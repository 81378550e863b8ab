/* Several vCPUs: bring-up, per-CPU rings and mailboxes, ops running at once. */
#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"

/* Every CPU boots to its own op loop and answers on its own mailbox. */
static void assert_cpus_serve_ops(unsigned int n)
{
	struct vm *vm = boot_ops_guest_with(GUEST_ELF, NULL, 0, n);
	const struct pw_event *boot[2];
	struct pw_echo_out out;

	for (unsigned int cpu = 0; cpu < n; cpu++) {
		int64_t res;

		cr_assert_eq(VM_OP(vm, cpu, echo, &res, &out, cpu, 100), VMM_OK, "cpu %u: %s", cpu,
			     vm_message(vm));
		cr_assert_eq(res, cpu + 100);
		cr_assert_eq(out.cpu, cpu, "op for cpu %u ran on cpu %lu", cpu, (unsigned long)out.cpu);
	}
	cr_assert_eq(events_since(vm, 0, PW_EV_BOOT, boot, 2), 1);
	cr_assert_eq(boot[0]->u.boot.ncpus, n, "CPUs in /cpus");
	end_vm(vm);
}

Test(smp, two_four_and_eight_cpus_boot_and_serve_ops, .timeout = 120)
{
	require_kvm();
	assert_cpus_serve_ops(2);
	assert_cpus_serve_ops(4);
	assert_cpus_serve_ops(8);
}

/* Ops on all CPUs at once, each on its own thread; each answers for itself. */
Test(smp, ops_run_concurrently_on_every_cpu)
{
	const unsigned int n = 4;
	struct vm *vm = NULL;
	struct pw_echo_out out;
	int64_t res;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, NULL, 0, n);
	for (unsigned int cpu = 0; cpu < n; cpu++)
		cr_assert_eq(VM_OP_START(vm, cpu, echo, cpu, 1000), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(VM_OP_START(vm, 1, echo, 0, 0), VMM_BAD_INPUT, "cpu 1 is busy");
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		cr_assert_eq(VM_OP_WAIT(vm, cpu, echo, &res, &out), VMM_OK, "cpu %u: %s", cpu,
			     vm_message(vm));
		cr_assert_eq(res, cpu + 1000);
		cr_assert_eq(out.cpu, cpu);
	}
	end_vm(vm);
}

/* PUD, PMD and PTE tables of mm allocated (alloc) or freed since event `from`. */
static size_t count_for_mm(struct vm *vm, size_t from, bool alloc, uint64_t mm)
{
	const struct pw_event *ev[1024];
	size_t n = events_since(vm, from, alloc ? PW_EV_PGTABLE_ALLOC : PW_EV_PGTABLE_FREE, ev, 1024);
	size_t k = 0;

	cr_assert_leq(n, 1024);
	for (size_t i = 0; i < n; i++)
		k += alloc ? ev[i]->u.pgtable_alloc.mm == mm && ev[i]->u.pgtable_alloc.level != PW_LEVEL_PGD
			   : ev[i]->u.pgtable_free.mm == mm && ev[i]->u.pgtable_free.level != PW_LEVEL_PGD;
	return k;
}

/*
 * One round: n threads of one mm (the same task on n CPUs) write at once
 * into the same empty 2 MiB, each its own page, with a delay between
 * allocating a table and locking to install it at every level.  Whatever
 * the interleaving, each entry gets exactly one table: the trampoline's
 * PUD, PMD and PTE tables and the data's, 2/2/2, and with LA57 the one P4D
 * table of pgd entry 0 both are under; every loser frees the table it
 * allocated (an allocation and a free beyond the 6 or 7 per RACE_LOST); all
 * n pages are mapped; and after exit every page is back.  Returns the races lost.
 */
static size_t race_round(unsigned int n, uint64_t loops)
{
	const uint64_t a = 256 * SZ_1M;
	struct vm *vm = boot_ops_guest_with(GUEST_ELF, NULL, 0, n);
	struct pw_meminfo_out mem0, mem1;
	uint64_t t, v;
	unsigned int tables[PW_LEVEL_PGD] = { 0 };
	struct mm_info mi;
	size_t lost, from;
	const uint64_t levels = (1u << PW_LEVEL_PUD) | (1u << PW_LEVEL_PMD) | (1u << PW_LEVEL_PTE);
	const struct geometry g = vm_geometry(vm);

	cr_assert_eq(op(vm, race_delay, NULL, levels, loops), 0);
	op(vm, meminfo, &mem0);
	t = new_task(vm);
	map(vm, t, a, 2 * SZ_1M, RW);
	vm_events(vm, &from);
	for (unsigned int cpu = 0; cpu < n; cpu++)
		cr_assert_eq(VM_OP_START(vm, cpu, touch, t, a + cpu * 4096, PW_ACCESS_WRITE, true,
					 100 + cpu), VMM_OK, "%s", vm_message(vm));
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		int64_t res;

		cr_assert_eq(vm_op_wait(vm, cpu, &res, NULL), VMM_OK, "cpu %u: %s", cpu, vm_message(vm));
		cr_assert_eq(res, 0, "cpu %u's write", cpu);
	}
	lost = events_since(vm, from, PW_EV_RACE_LOST, NULL, 0);
	mi = mm_info(vm, t);
	cr_assert(mi.p4ds == g.user_p4ds && mi.puds == 2 && mi.pmds == 2 && mi.ptes == 2,
		  "one table per entry: %lu/%lu/%lu/%lu", mi.p4ds, mi.puds, mi.pmds, mi.ptes);
	cr_assert_eq(mi.anon, n);
	/* And in guest RAM, by the host's own walk of the task's user half. */
	count_tables(vm, pgd_of(vm, 1), g.levels, 0, 255, tables);
	cr_assert(tables[PW_LEVEL_P4D] == g.user_p4ds && tables[PW_LEVEL_PUD] == 2 &&
		  tables[PW_LEVEL_PMD] == 2 && tables[PW_LEVEL_PTE] == 2, "in RAM: %u/%u/%u/%u",
		  tables[PW_LEVEL_P4D], tables[PW_LEVEL_PUD], tables[PW_LEVEL_PMD],
		  tables[PW_LEVEL_PTE]);
	cr_assert_eq(count_for_mm(vm, from, true, 1), 6 + g.user_p4ds + lost);
	cr_assert_eq(count_for_mm(vm, from, false, 1), lost);
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		cr_assert_eq(touch(vm, t, a + cpu * 4096, PW_ACCESS_READ, true, 0, &v), 0);
		cr_assert_eq(v, 100 + cpu, "cpu %u's page", cpu);
	}
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	op(vm, meminfo, &mem1);
	cr_assert_eq(mem1.free, mem0.free, "no page leaked: %lu free, %lu before", mem1.free, mem0.free);
	end_vm(vm);
	return lost;
}

/*
 * The window (race_delay loops at each level) need only outlast the skew
 * between the vCPUs starting their writes: here 2000 loops lose nearly
 * every race a round has (6 of 6 with 2 CPUs, 15 to 18 of 18 with 4), as
 * 20000 do at three times the cost.  A round that lost none
 * (a host where the start skew is longer in guest instructions) makes
 * the next round's window ten times wider.
 */
Test(smp, table_allocation_race_is_lost_cleanly, .timeout = 300)
{
	const unsigned int rounds = 3;

	require_kvm();
	for (unsigned int n = 2; n <= 4; n += 2) {
		size_t lost = 0;
		uint64_t loops = 2000;

		for (unsigned int r = 0; r < rounds; r++) {
			size_t round_lost = race_round(n, loops);

			if (!round_lost)
				loops *= 10;
			lost += round_lost;
		}
		cr_log_info("%u CPUs: %zu races lost in %u rounds", n, lost, rounds);
		cr_assert_gt(lost, 0, "%u CPUs never raced in %u rounds", n, rounds);
	}
}

struct lock_counts {
	uint64_t acq[3], contended[3];
};

static struct lock_counts lock_counts(struct vm *vm)
{
	struct lock_counts c;
	struct pw_lock_stats_out out;

	for (int cls = 0; cls < 3; cls++) {
		c.acq[cls] = op(vm, lock_stats, &out, cls);
		c.contended[cls] = out.contended;
	}
	return c;
}

/*
 * n threads of one mm each write into a 2 MiB of its own, all under one
 * PMD table that one sequential write set up first (and the trampoline
 * already mapped), so the concurrent phase installs only PTE tables: each
 * CPU takes the PMD page's lock once (pmd_install) and its new PTE table's
 * once (do_anonymous_page), and page_table_lock never.  Below the split
 * threshold the same 2n acquisitions all land on page_table_lock.  Split,
 * the n PTE locks are n different locks: none can be contended.
 */
static struct lock_counts lock_run(unsigned int n, unsigned int split_cpus)
{
	const uint64_t base = 256 * SZ_1M;
	struct vm *vm = boot_ops_guest_with(GUEST_ELF, NULL, split_cpus, n);
	struct lock_counts before, after, d;
	uint64_t t = new_task(vm);

	map(vm, t, base, (n + 1) * 2 * SZ_1M, RW);
	cr_assert_eq(touch(vm, t, base, PW_ACCESS_WRITE, true, 1, NULL), 0);
	before = lock_counts(vm);
	for (unsigned int cpu = 0; cpu < n; cpu++)
		cr_assert_eq(VM_OP_START(vm, cpu, touch, t, base + (cpu + 1) * 2 * SZ_1M, PW_ACCESS_WRITE,
					 true, cpu), VMM_OK, "%s", vm_message(vm));
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		int64_t res;

		cr_assert_eq(vm_op_wait(vm, cpu, &res, NULL), VMM_OK, "%s", vm_message(vm));
		cr_assert_eq(res, 0);
	}
	after = lock_counts(vm);
	for (int cls = 0; cls < 3; cls++) {
		d.acq[cls] = after.acq[cls] - before.acq[cls];
		d.contended[cls] = after.contended[cls] - before.contended[cls];
	}
	cr_log_info("%u CPUs, split from %u: page_table_lock %lu (%lu contended), pmd %lu (%lu), pte %lu (%lu)",
		    n, split_cpus, d.acq[PW_PTL_MM], d.contended[PW_PTL_MM], d.acq[PW_PTL_PMD],
		    d.contended[PW_PTL_PMD], d.acq[PW_PTL_PTE], d.contended[PW_PTL_PTE]);
	end_vm(vm);
	return d;
}

Test(smp, split_ptlocks_spread_what_page_table_lock_serialises, .timeout = 120)
{
	const unsigned int n = 4;
	struct lock_counts split, whole;

	require_kvm();
	split = lock_run(n, 1);
	whole = lock_run(n, 99);
	cr_assert(split.acq[PW_PTL_MM] == 0 && split.acq[PW_PTL_PMD] == n && split.acq[PW_PTL_PTE] == n,
		  "split: %lu/%lu/%lu", split.acq[PW_PTL_MM], split.acq[PW_PTL_PMD], split.acq[PW_PTL_PTE]);
	cr_assert_eq(split.contended[PW_PTL_PTE], 0, "n PTE tables, n different locks");
	cr_assert(whole.acq[PW_PTL_MM] == 2 * n && whole.acq[PW_PTL_PMD] == 0 && whole.acq[PW_PTL_PTE] == 0,
		  "whole: %lu/%lu/%lu", whole.acq[PW_PTL_MM], whole.acq[PW_PTL_PMD], whole.acq[PW_PTL_PTE]);
}

/*
 * TLB shootdown.  cpu 1 reads a page from ring 3 in an endless loop, so its
 * TLB holds the translation; cpu 0 munmaps the page.  munmap may return
 * only once cpu 1 can no longer use it: cpu 1's next read faults (no VMA:
 * read, not present, user = 0x4, SEGV_MAPERR) and its task ends, where a
 * stale entry would let it read the freed page until the watchdog.  The
 * flush costs exactly one IPI: cpu 0 runs munmap from init_mm, cpus 2 and 3
 * idle in no mm (lazy TLB), cpu 1 is the only other CPU with the mm loaded.
 * (On a nested host with shadow paging, as PVM-based KVM, the host itself
 * makes a guest PTE write visible to every vCPU, so there only the IPI
 * count catches a missing shootdown; checked by removing it.)
 */
#define READER_PAGE (256 * SZ_1M)

/*
 * 4 vCPUs; task t with a page at READER_PAGE that cpu 1 reads in an
 * endless ring-3 loop.  The reader's op spans the whole test, so its
 * watchdog covers every op cpu 0 runs meanwhile: 60 s, since on the nested
 * host, with another test's vCPUs beside these four under one TCG thread,
 * those took over 10 s.
 */
static struct vm *start_reader(uint64_t *t)
{
	struct pw_tlb_info_out out = { 0 };
	struct vmm_config cfg;
	char err[512];
	struct vm *vm;

	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	cfg.ncpus = 4;
	cfg.timeout_ms = 60000;
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_OK, "%s", err);

	*t = new_task(vm);
	map(vm, *t, READER_PAGE, 4096, RW);
	cr_assert_eq(touch(vm, *t, READER_PAGE, PW_ACCESS_WRITE, true, 7, NULL), 0);
	cr_assert_eq(VM_OP_START(vm, 1, touch, *t, READER_PAGE, PW_ACCESS_READ_LOOP, true, 1ULL << 40),
		     VMM_OK, "%s", vm_message(vm));
	for (int tries = 0; tries < 10000 && !(out.cpumask & 2); tries++)
		op(vm, tlb_info, &out, *t);
	cr_assert_eq(out.cpumask, 2, "cpu 1 alone has the mm loaded: cpumask %#lx",
		     (unsigned long)out.cpumask);
	return vm;
}

/* One op on cpu 0 that must succeed and cost exactly one shootdown IPI. */
#define op_with_one_ipi(vm, name, ...) do {					\
	uint64_t __ipis = op(vm, tlb_info, NULL, 0);				\
										\
	cr_assert_geq(op(vm, name, NULL, __VA_ARGS__), 0);			\
	cr_assert_eq(op(vm, tlb_info, NULL, 0) - __ipis, 1, "one shootdown IPI"); \
} while (0)

/* cpu 1's reader must have faulted, once, with this error code and outcome, ending its task. */
static void expect_reader_fault(struct vm *vm, size_t from, uint64_t error_code,
				enum pw_fault_outcome outcome)
{
	const struct pw_event *f[16];
	size_t n, cpu1_faults = 0;
	int64_t res;

	cr_assert_eq(vm_op_wait(vm, 1, &res, NULL), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, -PW_EFAULT, "the reader must fault, not finish its loop");
	n = events_since(vm, from, PW_EV_FAULT, f, 16);
	for (size_t i = 0; i < n && i < 16; i++) {
		if (f[i]->cpu != 1)
			continue;
		cpu1_faults++;
		cr_assert_eq(f[i]->u.fault.addr, READER_PAGE);
		cr_assert_eq(f[i]->u.fault.error_code, error_code, "error code %#lx", (unsigned long)f[i]->u.fault.error_code);
		cr_assert_eq(f[i]->u.fault.outcome, outcome);
	}
	cr_assert_eq(cpu1_faults, 1);
}

Test(smp, munmap_shoots_down_a_reader_on_another_cpu)
{
	struct vm *vm;
	uint64_t t;
	size_t from;

	require_kvm();
	vm = start_reader(&t);
	vm_events(vm, &from);
	op_with_one_ipi(vm, munmap, t, READER_PAGE, 4096);
	expect_reader_fault(vm, from, 0x4, PW_FAULT_SEGV_MAPERR);
	end_vm(vm);
}

/* mprotect(PROT_NONE): the same single IPI, and the reader's next read is SEGV_ACCERR. */
Test(smp, mprotect_shoots_down_a_reader_on_another_cpu)
{
	struct vm *vm;
	uint64_t t;
	size_t from;

	require_kvm();
	vm = start_reader(&t);
	vm_events(vm, &from);
	op_with_one_ipi(vm, mprotect, t, READER_PAGE, 4096, 0);
	expect_reader_fault(vm, from, 0x4, PW_FAULT_SEGV_ACCERR);
	end_vm(vm);
}

/*
 * fork: copy_page_range() write-protects the parent's PTEs, so the parent's
 * mm is flushed on cpu 1 too (one IPI), though reading goes on; a munmap
 * then ends the reader as above.
 */
Test(smp, fork_write_protect_shoots_down_the_parent_on_another_cpu)
{
	struct vm *vm;
	uint64_t t;
	size_t from;

	require_kvm();
	vm = start_reader(&t);
	op_with_one_ipi(vm, fork, t);
	vm_events(vm, &from);
	op_with_one_ipi(vm, munmap, t, READER_PAGE, 4096);
	expect_reader_fault(vm, from, 0x4, PW_FAULT_SEGV_MAPERR);
	end_vm(vm);
}

/*
 * When one vCPU ends the VM, the others are kicked out of the guest at
 * once: cpu 1 reads in an endless ring-3 loop, with no watchdog at all,
 * while cpu 0 takes an unexpected #UD (a guest panic).  Waiting for cpu 1
 * must return with the panic's status; without the kick it never would.
 */
Test(smp, a_guest_panic_stops_every_vcpu, .timeout = 60)
{
	struct vmm_config cfg;
	struct vm *vm;
	char err[512];
	uint64_t t;
	int64_t res;

	require_kvm();
	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	cfg.ncpus = 2;
	cfg.timeout_ms = 0;
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_OK, "%s", err);
	t = new_task(vm);
	map(vm, t, 256 * SZ_1M, 4096, RW);
	cr_assert_eq(VM_OP_START(vm, 1, touch, t, 256 * SZ_1M, PW_ACCESS_READ_LOOP, true, 1ULL << 50),
		     VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(VM_OP(vm, 0, raise, &res, NULL, 6 /* #UD */), VMM_GUEST_FAILED, "%s",
		     vm_message(vm));
	cr_assert_eq(vm_op_wait(vm, 1, &res, NULL), VMM_GUEST_FAILED, "%s", vm_message(vm));
	cr_assert_eq(vm_guest_status(vm), PW_GUEST_EXIT_PANIC);
	vm_destroy(vm);		/* cpu 1 stopped mid-fault: no invariants to hold */
}
