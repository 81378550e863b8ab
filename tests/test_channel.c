/* The event channel: complete, in order, and batched. */
#include "harness.h"

/*
 * 10 000 SEQ events plus the OP event that closes the op.  The guest rings
 * the doorbell when PW_RING_THRESHOLD (3072) records are pending, and the
 * host drains the whole ring on that exit: flushes at 3072, 6144 and 9216
 * records, then 785 left for the WAIT_OP doorbell that ends the op.  So the
 * op costs exactly 4 doorbell exits, not one per event.
 */
Test(channel, ten_thousand_events_in_order_with_few_exits, .timeout = 120)
{
	const uint64_t n = 10000;
	const struct vmm_stats *st;
	const struct pw_event *ev;
	uint64_t exits0, bells0, intr0, seq_index = 0, prev_seq = 0;
	size_t nev, first = 0;
	struct vm *vm;
	int64_t res;

	require_kvm();
	vm = boot_ops_guest(0);
	cr_assert_eq(vm_op(vm, 0, PW_OP_ECHO, NULL, &res, NULL), VMM_OK, "%s", vm_message(vm));
	st = vm_stats(vm);
	exits0 = st->exits;
	bells0 = st->exits_by_kind[VMM_EXIT_DOORBELL];
	intr0 = st->exits_by_kind[VMM_EXIT_INTR];
	vm_events(vm, &first);

	cr_assert_eq(VM_OP(vm, 0, emit, &res, NULL, n), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, (int64_t)n);

	ev = vm_events(vm, &nev);
	cr_assert_eq(nev - first, n + 1, "%zu events arrived", nev - first);
	for (size_t i = first; i < nev; i++) {
		if (i > first)
			cr_assert_eq(ev[i].seq, prev_seq + 1, "sequence gap at event %zu", i);
		prev_seq = ev[i].seq;
		if (ev[i].type != PW_EV_SEQ)
			continue;
		cr_assert_eq(ev[i].u.seq.index, seq_index, "payload %lu out of order",
			     (unsigned long)ev[i].u.seq.index);
		cr_assert_eq(ev[i].u.seq.total, n);
		seq_index++;
	}
	cr_assert_eq(seq_index, n);
	cr_assert_eq(ev[nev - 1].type, PW_EV_OP, "the op's own event comes last");

	cr_assert_eq(st->exits_by_kind[VMM_EXIT_DOORBELL] - bells0, 4);
	/* Every exit of the op was a doorbell (watchdog interrupts aside). */
	cr_assert_eq(st->exits - exits0 - (st->exits_by_kind[VMM_EXIT_INTR] - intr0), 4,
		     "%lu exits for %lu events", (unsigned long)(st->exits - exits0), (unsigned long)n);
	end_vm(vm);
}
