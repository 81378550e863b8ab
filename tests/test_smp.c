/* Several vCPUs: bring-up, per-CPU rings and mailboxes, ops running at once. */
#include "guest_ops.h"
#include "harness.h"

/* Every CPU boots to its own op loop and answers on its own mailbox. */
static void assert_cpus_serve_ops(unsigned int n)
{
	struct vm *vm = boot_ops_guest_with(GUEST_ELF, NULL, 0, n);
	const struct pw_event *boot[2];
	uint64_t out[4];

	for (unsigned int cpu = 0; cpu < n; cpu++) {
		int64_t res;
		uint64_t args[6] = { cpu, 100 };

		cr_assert_eq(vm_op(vm, cpu, PW_OP_ECHO, args, &res, out), VMM_OK, "cpu %u: %s", cpu,
			     vm_message(vm));
		cr_assert_eq(res, cpu + 100);
		cr_assert_eq(out[0], cpu, "op for cpu %u ran on cpu %lu", cpu, (unsigned long)out[0]);
	}
	cr_assert_eq(events_since(vm, 0, PW_EV_BOOT, boot, 2), 1);
	cr_assert_eq(boot[0]->args[1], n, "CPUs in /cpus");
	vm_destroy(vm);
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
	uint64_t out[4];
	int64_t res;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, NULL, 0, n);
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		uint64_t args[6] = { cpu, 1000 };

		cr_assert_eq(vm_op_start(vm, cpu, PW_OP_ECHO, args), VMM_OK, "%s", vm_message(vm));
	}
	cr_assert_eq(vm_op_start(vm, 1, PW_OP_ECHO, NULL), VMM_BAD_INPUT, "cpu 1 is busy");
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		cr_assert_eq(vm_op_wait(vm, cpu, &res, out), VMM_OK, "cpu %u: %s", cpu, vm_message(vm));
		cr_assert_eq(res, cpu + 1000);
		cr_assert_eq(out[0], cpu);
	}
	vm_destroy(vm);
}
