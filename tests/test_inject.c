/*
 * Fault injection: Linux's fault_attr semantics at the guest's allocation
 * sites, fail-nth, and seeded runs that replay exactly.  Every injected
 * failure must end in the real error path, with nothing half-built and no
 * page leaked.
 */
#include <pagewalk/layout.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"

/*
 * interval=3, times=2 on PMD tables: kernel writes (fixed up on failure,
 * so the task survives) at 1 GiB, 2 GiB, ... 9 GiB each need one new PMD
 * table, so PMD allocation calls 1 to 9 happen in order; calls 3 and 6
 * fail (every third, twice), and those two writes get -EFAULT.
 */
Test(inject, interval_and_times_pick_the_calls_that_fail)
{
	const struct pw_event *ev[4];
	uint64_t t, mem0;
	struct vm *vm;
	int64_t res;

	require_kvm();
	vm = boot_ops_guest(0);
	mem0 = free_pages(vm);
	t = new_task(vm);
	map(vm, t, 1 * SZ_1G, 9 * SZ_1G, RW);
	cr_assert_eq(VM_OP(vm, 0, inject, &res, NULL, PW_INJECT_PGTABLE_ALLOC, 1u << PW_LEVEL_PMD,
			   100, 3, 2, 0), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, 0);
	for (uint64_t i = 1; i <= 9; i++) {
		int64_t want = (i == 3 || i == 6) ? -PW_EFAULT : 0;

		cr_assert_eq(touch(vm, t, i * SZ_1G, PW_ACCESS_WRITE, false, i, NULL), want,
			     "write %lu", (unsigned long)i);
	}
	cr_assert_eq(events_since(vm, 0, PW_EV_INJECT, ev, 4), 2);
	cr_assert(ev[0]->u.inject.site == PW_INJECT_PGTABLE_ALLOC && ev[0]->u.inject.level == PW_LEVEL_PMD &&
		  ev[0]->u.inject.call == 3 && ev[1]->u.inject.call == 6, "calls %lu and %lu",
		  (unsigned long)ev[0]->u.inject.call, (unsigned long)ev[1]->u.inject.call);
	/* 7 PMD tables under one PUD: the failed calls left nothing behind. */
	cr_assert_eq(mm_info(vm, t).pmds, 7);
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	cr_assert_eq(free_pages(vm), mem0, "no page leaked");
	end_vm(vm);
}

/*
 * A workload whose allocation calls are counted below.  Results are not
 * checked: under injection any op may fail, cleanly.
 *   task_create: its pgd                                      1 pgd_alloc
 *   write 256 MiB from ring 3: the trampoline's PUD, PMD, PTE,
 *     then the data's PUD, PMD, PTE and page                  6 pgtable + 1 page
 *   write 258 MiB: a second PTE table and a page              1 pgtable + 1 page
 *   fork: the child's pgd, then copy_page_range's PUD, PMD
 *     and 2 PTE tables for the 4 MiB populated                1 pgd + 4 pgtable
 *   the child writes 256 MiB: its trampoline's 3 tables,
 *     then a private copy of the page                         3 pgtable + 1 page
 *   vmalloc 16 KiB: 4 backing pages (init_mm's tables there
 *     come from a warm-up vmalloc before counting: vfree keeps
 *     kernel tables, as Linux does)                           4 vmalloc
 * 23 calls in all; with LA57 2 more: the parent's trampoline fault and
 * fork's copy_p4d_range() each allocate the P4D table of pgd entry 0 (the
 * child's trampoline then finds it).
 */
static void workload(struct vm *vm, uint64_t *tasks)
{
	uint64_t t, c;
	int64_t va;

	t = op(vm, task_create, NULL);
	op(vm, mmap, NULL, t, 256 * SZ_1M, 4 * SZ_1M, RW);
	op(vm, touch, NULL, t, 256 * SZ_1M, PW_ACCESS_WRITE, 1, 1);
	op(vm, touch, NULL, t, 258 * SZ_1M, PW_ACCESS_WRITE, 1, 2);
	c = op(vm, fork, NULL, t);
	op(vm, touch, NULL, c, 256 * SZ_1M, PW_ACCESS_WRITE, 1, 3);
	va = op(vm, vmalloc, NULL, 16384, 0);
	if (va != -PW_ENOMEM)
		op(vm, vfree, NULL, va);
	tasks[0] = t;
	tasks[1] = c;
}

/*
 * One run with the n-th call failing; returns the calls counted, checks it
 * ended cleanly; *user_p4ds: from the mode it booted in.
 */
static uint64_t fail_nth_run(uint64_t n, size_t *injected, unsigned int *user_p4ds)
{
	struct vm *vm = boot_ops_guest(0);
	uint64_t mem0, tasks[2], calls;

	*user_p4ds = vm_geometry(vm).user_p4ds;
	op(vm, vfree, NULL, op(vm, vmalloc, NULL, 16384, 0));
	mem0 = free_pages(vm);
	op(vm, fail_nth, NULL, n);
	workload(vm, tasks);
	calls = op(vm, fail_nth, NULL, 0);
	*injected = events_since(vm, 0, PW_EV_INJECT, NULL, 0);
	for (int i = 0; i < 2; i++)
		op(vm, task_exit, NULL, tasks[i]);	/* -ESRCH if it died */
	cr_assert_eq(free_pages(vm), mem0, "fail-nth %lu leaked %ld pages", (unsigned long)n,
		     (long)(mem0 - free_pages(vm)));
	end_vm(vm);
	return calls;
}

Test(inject, fail_nth_sweep_ends_clean_every_time, .timeout = 300)
{
	unsigned int p4ds;
	size_t injected;
	uint64_t calls;

	require_kvm();
	calls = fail_nth_run(1000, &injected, &p4ds);
	cr_assert_eq(injected, 0);
	cr_assert_eq(calls, 23 + 2 * p4ds, "the workload's injectable calls: %lu", (unsigned long)calls);
	for (uint64_t n = 1; n <= calls; n++) {
		fail_nth_run(n, &injected, &p4ds);
		cr_assert_eq(injected, 1, "fail-nth %lu injected %zu", (unsigned long)n, injected);
	}
	fail_nth_run(calls + 1, &injected, &p4ds);
	cr_assert_eq(injected, 0, "past the last call the workload runs untouched");
}

/* The event stream of the workload under probability=50 at every site, without timestamps. */
static size_t seeded_run(uint64_t seed, struct pw_event **out)
{
	struct vmm_config cfg;
	const struct pw_event *ev;
	struct vm *vm;
	char err[512];
	uint64_t tasks[2];
	size_t n, k = 0;

	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	cfg.inject_seed = seed;
	for (unsigned int s = PW_INJECT_PGTABLE_ALLOC; s < PW_INJECT_SITE_MAX; s++)
		cfg.inject[cfg.ninject++] = (struct vmm_inject){ .site = s, .probability = 50,
								 .interval = 1, .times = -1 };
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_OK, "%s", err);
	workload(vm, tasks);
	ev = vm_events(vm, &n);
	*out = calloc(n, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		(*out)[k] = ev[i];
		(*out)[k++].tsc = 0;
	}
	end_vm(vm);
	return k;
}

Test(inject, the_same_seed_replays_the_same_run)
{
	struct pw_event *a, *b, *c;
	size_t na, nb, nc, injected = 0;
	bool differs;

	require_kvm();
	na = seeded_run(42, &a);
	nb = seeded_run(42, &b);
	nc = seeded_run(43, &c);
	cr_assert_eq(na, nb);
	cr_assert_eq(memcmp(a, b, na * sizeof(*a)), 0, "seed 42 twice, two event streams");
	for (size_t i = 0; i < na; i++)
		injected += a[i].type == PW_EV_INJECT;
	cr_assert_gt(injected, 0);
	differs = na != nc || memcmp(a, c, na * sizeof(*a));
	cr_assert(differs, "seeds 42 and 43 gave the same run");
	free(a);
	free(b);
	free(c);
}

/* The command line arms it through the FDT: the default workload's first call is its task's pgd. */
Test(inject, cli_fail_nth_reaches_the_guest)
{
	const char *argv[] = { VMM_BIN, "--fail-nth", "1", "--trace", GUEST_ELF, NULL };
	const char *bad[] = { VMM_BIN, "--inject", "pgtable_alloc:level=pgd", GUEST_ELF, NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert(strstr(r.out, "inject    site=pgd_alloc level=pgd call=1"), "%s", r.out);
	cr_assert(strstr(r.out, "workload: task_create: -12"), "the workload saw -ENOMEM: %s", r.out);
	cr_assert_eq(r.status, 0, "reported and survived: %s", r.out);
	cli_run_free(&r);
	run_vmm(&r, bad);
	cr_assert_eq(r.status, VMM_BAD_INPUT);
	cr_assert(strstr(r.err, "bad attribute"), "%s", r.err);
	cli_run_free(&r);
}

/*
 * The default workload (guest/kernel/workload.c) under fail-nth from the
 * command line.  Its injectable calls, in order:
 *   demand_paging: task_create's pgd                          1 pgd_alloc
 *     first entry to ring 3: the trampoline's PUD, PMD, PTE    3 pgtable
 *     write 4 MiB: PUD, PMD, PTE and a page                   3 pgtable + 1 page
 *     write 4 MiB + 4 KiB: a page; read 4 MiB + 8 KiB: the
 *     zero page, nothing                                      1 page
 *     write 6 MiB: a second PTE table and a page              1 pgtable + 1 page
 *   pgd_sharing: a task's pgd, its trampoline (3 tables),
 *     its write at 4 MiB (3 tables and a page)                1 pgd + 6 pgtable + 1 page
 *     fork: the child's pgd, copy_page_range's PUD, PMD, PTE  1 pgd + 3 pgtable
 *     vmalloc 16 KiB across pgd entries 402 and 403: a PMD
 *     and a PTE table under each, 4 backing pages             4 pgtable + 4 vmalloc
 *     a third task's pgd                                      1 pgd
 *     the child's copy-on-write: its trampoline, a copy       3 pgtable + 1 page
 * 36 calls in all.  With LA57 (tests/geometry.h) 5 more: a P4D table in
 * each of the two trampoline faults of a new mm and in fork's
 * copy_p4d_range() (the child's trampoline then finds it), and the
 * vmalloc needs a PUD table under each of its two preallocated P4D tables.  Whichever fails, Linux would not panic: a failed
 * task creation, fork or vmalloc is -ENOMEM to the caller, a failed
 * allocation in a user fault ends that process (VM_FAULT_OOM).  So every
 * run reports one error on the console (a "workload: " line) and the
 * guest exits 0; call 37 does not exist and nothing fails.
 */
Test(inject, default_workload_survives_every_fail_nth, .timeout = 300)
{
	unsigned int calls = 0;
	char nth[16];
	const char *argv[] = { VMM_BIN, "--fail-nth", nth, GUEST_ELF, NULL };
	struct cli_run r;

	require_kvm();
	for (unsigned int n = 1; n == 1 || n <= calls + 1; n++) {
		bool hit;

		snprintf(nth, sizeof(nth), "%u", n);
		run_vmm(&r, argv);
		if (n == 1) {
			const struct geometry g = geometry(console_levels(r.out));

			calls = 32 + 3 * g.user_p4ds + 2 * g.vmalloc_tables;
		}
		hit = n <= calls;
		cr_assert_null(strstr(r.out, "Kernel panic"), "fail-nth %u: %s", n, r.out);
		cr_assert_eq(r.status, 0, "fail-nth %u: status %d: %s%s", n, r.status, r.out, r.err);
		cr_assert_eq(!!strstr(r.err, " inject=1"), hit, "fail-nth %u: %s", n, r.err);
		cr_assert_eq(!!strstr(r.out, "workload: "), hit, "fail-nth %u reported: %s", n, r.out);
		cli_run_free(&r);
	}
}
