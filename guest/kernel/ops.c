/* The op loop: the host drives the guest one op at a time through the mailbox. */
#include "asm.h"
#include "fault_inject.h"
#include "kernel.h"
#include "mm.h"
#include "ops.h"
#include "percpu.h"
#include "task.h"

extern const struct task_op __start_task_ops[], __stop_task_ops[];

static int64_t op_emit(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		emit(PW_EV_SEQ, i, n, 0, 0, 0);
	return n;
}

static int64_t op_probe(uint64_t addr, uint64_t write, uint64_t val, uint64_t *out)
{
	return write ? probe_kernel_write(addr, val) : probe_kernel_read(addr, out);
}

/* The task ops: args[0] is the task; the caller holds a reference to its mm. */
static int64_t op_mmap(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
		       uint64_t *out)
{
	(void)t, (void)out;
	return do_mmap(mm, args[1], args[2], args[3]);
}
DEFINE_TASK_OP(PW_OP_MMAP, op_mmap);

static int64_t op_munmap(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
			 uint64_t *out)
{
	(void)t, (void)out;
	return do_munmap(mm, args[1], args[2]);
}
DEFINE_TASK_OP(PW_OP_MUNMAP, op_munmap);

static int64_t op_mprotect(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
			   uint64_t *out)
{
	(void)t, (void)out;
	return do_mprotect(mm, args[1], args[2], args[3]);
}
DEFINE_TASK_OP(PW_OP_MPROTECT, op_mprotect);

static int64_t op_touch(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
			uint64_t *out)
{
	(void)mm;
	return task_touch(t, args[1], args[2], args[3], args[4], &out[0]);
}
DEFINE_TASK_OP(PW_OP_TOUCH, op_touch);

static int64_t op_task_exit(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
			    uint64_t *out)
{
	(void)mm, (void)args, (void)out;
	task_exit(t, 0);
	return 0;
}
DEFINE_TASK_OP(PW_OP_TASK_EXIT, op_task_exit);

static int64_t op_fork(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
		       uint64_t *out)
{
	(void)mm, (void)args, (void)out;
	return task_fork(t);
}
DEFINE_TASK_OP(PW_OP_FORK, op_fork);

static int64_t op_mm_info(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
			  uint64_t *out)
{
	(void)t, (void)args;
	out[0] = mm->nr_tables[PT_PUD];
	out[1] = mm->nr_tables[PT_PMD];
	out[2] = mm->nr_tables[PT_PTE];
	out[3] = mm->nr_anon;
	return mm->pgtables_bytes;
}
DEFINE_TASK_OP(PW_OP_MM_INFO, op_mm_info);

static const struct task_op *find_task_op(uint32_t op)
{
	for (const struct task_op *o = __start_task_ops; o < __stop_task_ops; o++)
		if (o->op == op)
			return o;
	return NULL;
}

static int64_t do_op(uint32_t op, const uint64_t *args, uint64_t *out)
{
	const struct task_op *top = find_task_op(op);
	struct task_struct *t;
	struct mm_struct *mm;
	int64_t ret;

	if (top) {
		t = find_task(args[0]);
		mm = t ? get_task_mm(t) : NULL;
		if (!mm)
			return -PW_ESRCH;
		ret = top->fn(t, mm, args, out);
		mmput(mm);
		return ret;
	}
	switch (op) {
	case PW_OP_TASK_CREATE:
		return task_create();
	case PW_OP_MEMINFO:
		out[0] = mm_counters.free;
		out[1] = mm_counters.pgtable;
		out[2] = mm_counters.anon;
		out[3] = mm_counters.slab;
		return mm_counters.total;
	case PW_OP_VMALLOC: {
		void *va = vmalloc(args[0], args[1]);

		return va ? (int64_t)(uintptr_t)va : -PW_ENOMEM;
	}
	case PW_OP_VFREE:
		return vfree((void *)(uintptr_t)args[0]);
	case PW_OP_LOCK_STATS: {
		uint64_t acq = 0;

		if (args[0] >= PTL_CLASSES)
			return -PW_EINVAL;
		out[0] = 0;
		for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
			acq += READ_ONCE(lock_stats[cpu][args[0]].acquisitions);
			out[0] += READ_ONCE(lock_stats[cpu][args[0]].contended);
		}
		return acq;
	}
	case PW_OP_TLB_INFO:
		t = find_task(args[0]);
		mm = t ? get_task_mm(t) : NULL;
		out[0] = mm ? __atomic_load_n(&mm->cpumask, __ATOMIC_ACQUIRE) : 0;
		out[1] = tlb_ipi_flushes;
		if (mm)
			mmput(mm);
		return tlb_ipis_sent;
	case PW_OP_INJECT: {
		struct fault_attr attr = {
			.levels = args[1], .probability = args[2], .interval = args[3],
			.times = (int32_t)args[4], .space = args[5],
		};

		if (!args[0] || args[0] >= PW_INJECT_SITE_MAX || args[2] > 100)
			return -PW_EINVAL;
		fault_inject_set(args[0], &attr);
		return 0;
	}
	case PW_OP_FAIL_NTH:
		return fault_inject_fail_nth(args[0]);
	case PW_OP_RACE_DELAY:
		inject_race_delay(args[0], args[1]);
		return 0;
	case PW_OP_VMALLOC_SYNC: {
		uint64_t before = ksync_stats.syncs;

		sync_global_pgds(VMALLOC_START, VMALLOC_END);
		return ksync_stats.syncs - before;
	}
	case PW_OP_KINFO:
		out[0] = pgd_list_len;
		out[1] = ksync_stats.syncs;
		out[2] = ksync_stats.vmalloc_faults;
		out[3] = ksync_stats.preallocated;
		return __pa(swapper_pg_dir());
	case PW_OP_PTLOCK_INFO:
		out[0] = use_split_ptlocks;
		out[1] = ALLOC_SPLIT_PTLOCKS;
		out[2] = split_ptlock_cpus;
		out[3] = sizeof(spinlock_t);
		return page_ptl_cachep ? page_ptl_cachep->objects : 0;
	case PW_OP_ECHO:
		out[0] = smp_processor_id();
		return args[0] + args[1];
	case PW_OP_EMIT:
		return op_emit(args[0]);
	case PW_OP_PROBE:
		return op_probe(args[0], args[1], args[2], &out[0]);
	case PW_OP_RAISE:
		raise_exception(args[0]);
		return -PW_EINVAL;	/* not a vector we know how to raise */
	case PW_OP_EXIT:
		pw_exit(args[0]);
	default:
		return -PW_ENOSYS;
	}
}

/*
 * Ask for an op, run it, publish the result, ask again.  The result and the
 * OP event are in place before the doorbell, so the host sees both on the
 * same exit that asks for the next op.
 */
__attribute__((noreturn)) void serve_ops(void)
{
	struct pw_mailbox *mb = channel_mailbox();
	uint64_t done = 0;

	for (;;) {
		uint64_t seq, args[ARRAY_SIZE(mb->args)], out[ARRAY_SIZE(mb->out)] = { 0 };
		uint32_t op;
		int64_t ret;

		doorbell(PW_DOORBELL_WAIT_OP);
		seq = READ_ONCE(mb->req_seq);
		if (seq == done)
			continue;
		op = READ_ONCE(mb->op);
		memcpy(args, mb->args, sizeof(args));
		flush_tlb_kernel_catch_up();

		ret = do_op(op, args, out);

		memcpy(mb->out, out, sizeof(out));
		mb->result = ret;
		barrier();
		WRITE_ONCE(mb->done_seq, seq);
		done = seq;
		emit(PW_EV_OP, op, ret, args[0], args[1], 0);
	}
}
