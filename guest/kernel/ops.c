/* The op loop: the host drives the guest one op at a time through the mailbox. */
#include "asm.h"
#include "fault_inject.h"
#include "kernel.h"
#include "mm.h"
#include "ops.h"
#include "percpu.h"
#include "task.h"

extern const struct op_handler __start_ops[], __stop_ops[];

static int64_t op_echo(const struct pw_echo_args *a, struct pw_echo_out *o)
{
	o->cpu = smp_processor_id();
	return a->a + a->b;
}
DEFINE_OP(echo, op_echo);

static int64_t op_emit(const struct pw_emit_args *a, struct pw_emit_out *o)
{
	(void)o;
	for (uint64_t i = 0; i < a->n; i++)
		trace(seq, i, a->n);
	return a->n;
}
DEFINE_OP(emit, op_emit);

static int64_t op_probe(const struct pw_probe_args *a, struct pw_probe_out *o)
{
	return a->write ? probe_kernel_write(a->addr, a->value) : probe_kernel_read(a->addr, &o->value);
}
DEFINE_OP(probe, op_probe);

static int64_t op_raise(const struct pw_raise_args *a, struct pw_raise_out *o)
{
	(void)o;
	raise_exception(a->vector);
	return -PW_EINVAL;	/* not a vector we know how to raise */
}
DEFINE_OP(raise, op_raise);

static int64_t op_exit(const struct pw_exit_args *a, struct pw_exit_out *o)
{
	(void)o;
	pw_exit(a->status);
}
DEFINE_OP(exit, op_exit);

static int64_t op_task_create(const struct pw_task_create_args *a, struct pw_task_create_out *o)
{
	(void)a, (void)o;
	return task_create();
}
DEFINE_OP(task_create, op_task_create);

static int64_t op_mmap(struct task_struct *t, struct mm_struct *mm, const struct pw_mmap_args *a,
		       struct pw_mmap_out *o)
{
	long ret = do_mmap(mm, a->addr, a->len, a->prot);

	(void)t, (void)o;
	return IS_ERR_VALUE(ret) ? (int64_t)ret : (int64_t)(unsigned long)ret;
}
DEFINE_TASK_OP(mmap, op_mmap);

static int64_t op_munmap(struct task_struct *t, struct mm_struct *mm,
			 const struct pw_munmap_args *a, struct pw_munmap_out *o)
{
	(void)t, (void)o;
	return do_munmap(mm, a->addr, a->len);
}
DEFINE_TASK_OP(munmap, op_munmap);

static int64_t op_mprotect(struct task_struct *t, struct mm_struct *mm,
			   const struct pw_mprotect_args *a, struct pw_mprotect_out *o)
{
	(void)t, (void)o;
	return do_mprotect(mm, a->addr, a->len, a->prot);
}
DEFINE_TASK_OP(mprotect, op_mprotect);

static int64_t op_touch(struct task_struct *t, struct mm_struct *mm, const struct pw_touch_args *a,
			struct pw_touch_out *o)
{
	(void)mm;
	return task_touch(t, a->addr, a->access, a->user, a->value, &o->value);
}
DEFINE_TASK_OP(touch, op_touch);

static int64_t op_task_exit(struct task_struct *t, struct mm_struct *mm,
			    const struct pw_task_exit_args *a, struct pw_task_exit_out *o)
{
	(void)mm, (void)a, (void)o;
	task_exit(t, 0);
	return 0;
}
DEFINE_TASK_OP(task_exit, op_task_exit);

static int64_t op_fork(struct task_struct *t, struct mm_struct *mm, const struct pw_fork_args *a,
		       struct pw_fork_out *o)
{
	(void)mm, (void)a, (void)o;
	return task_fork(t);
}
DEFINE_TASK_OP(fork, op_fork);

static int64_t op_mm_info(struct task_struct *t, struct mm_struct *mm,
			  const struct pw_mm_info_args *a, struct pw_mm_info_out *o)
{
	(void)t, (void)a;
	o->p4ds = mm->nr_tables[PT_P4D];
	o->puds = mm->nr_tables[PT_PUD];
	o->pmds = mm->nr_tables[PT_PMD];
	o->ptes = mm->nr_tables[PT_PTE];
	o->anon = mm->nr_anon;
	return mm->pgtables_bytes;
}
DEFINE_TASK_OP(mm_info, op_mm_info);

static int64_t op_meminfo(const struct pw_meminfo_args *a, struct pw_meminfo_out *o)
{
	(void)a;
	o->free = mm_counters.free;
	o->pgtable = mm_counters.pgtable;
	o->anon = mm_counters.anon;
	o->slab = mm_counters.slab;
	return mm_counters.total;
}
DEFINE_OP(meminfo, op_meminfo);

static int64_t op_ptlock_info(const struct pw_ptlock_info_args *a, struct pw_ptlock_info_out *o)
{
	(void)a;
	o->split = use_split_ptlocks;
	o->alloc_split = ALLOC_SPLIT_PTLOCKS;
	o->split_cpus = split_ptlock_cpus;
	o->spinlock_size = sizeof(spinlock_t);
	return page_ptl_cachep ? page_ptl_cachep->objects : 0;
}
DEFINE_OP(ptlock_info, op_ptlock_info);

static int64_t op_vmalloc(const struct pw_vmalloc_args *a, struct pw_vmalloc_out *o)
{
	void *va = vmalloc(a->size, a->low);

	(void)o;
	return va ? (int64_t)(uintptr_t)va : -PW_ENOMEM;
}
DEFINE_OP(vmalloc, op_vmalloc);

static int64_t op_vfree(const struct pw_vfree_args *a, struct pw_vfree_out *o)
{
	(void)o;
	return vfree((void *)(uintptr_t)a->addr);
}
DEFINE_OP(vfree, op_vfree);

static int64_t op_kinfo(const struct pw_kinfo_args *a, struct pw_kinfo_out *o)
{
	(void)a;
	o->pgd_list = pgd_list_len;
	o->syncs = ksync_stats.syncs;
	o->vmalloc_faults = ksync_stats.vmalloc_faults;
	o->preallocated = ksync_stats.preallocated;
	return __pa(swapper_pg_dir());
}
DEFINE_OP(kinfo, op_kinfo);

static int64_t op_vmalloc_sync(const struct pw_vmalloc_sync_args *a, struct pw_vmalloc_sync_out *o)
{
	uint64_t before = ksync_stats.syncs;

	(void)a, (void)o;
#ifdef CONFIG_X86_32
	arch_sync_kernel_mappings(VMALLOC_START, VMALLOC_END);	/* i386's vmalloc_sync(): the same loop */
#else
	sync_global_pgds(VMALLOC_START, VMALLOC_END);
#endif
	return ksync_stats.syncs - before;
}
DEFINE_OP(vmalloc_sync, op_vmalloc_sync);

static int64_t op_race_delay(const struct pw_race_delay_args *a, struct pw_race_delay_out *o)
{
	(void)o;
	inject_race_delay(a->levels, a->loops);
	return 0;
}
DEFINE_OP(race_delay, op_race_delay);

static int64_t op_lock_stats(const struct pw_lock_stats_args *a, struct pw_lock_stats_out *o)
{
	uint64_t acq = 0;

	if (a->lock >= PTL_CLASSES)
		return -PW_EINVAL;
	lock_stat_enable();
	o->contended = 0;
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		acq += READ_ONCE(lock_stats[cpu][a->lock].acquisitions);
		o->contended += READ_ONCE(lock_stats[cpu][a->lock].contended);
	}
	return acq;
}
DEFINE_OP(lock_stats, op_lock_stats);

/* Not a task op: task 0 (or one that is gone) still reports the IPI counts. */
static int64_t op_tlb_info(const struct pw_tlb_info_args *a, struct pw_tlb_info_out *o)
{
	struct task_struct *t = find_task(a->task);
	struct mm_struct *mm = t ? get_task_mm(t) : NULL;

	o->cpumask = mm ? __atomic_load_n(&mm->cpumask, __ATOMIC_ACQUIRE) : 0;
	o->ipi_flushes = tlb_ipi_flushes;
	if (mm)
		mmput(mm);
	return tlb_ipis_sent;
}
DEFINE_OP(tlb_info, op_tlb_info);

static int64_t op_inject(const struct pw_inject_args *a, struct pw_inject_out *o)
{
	struct fault_attr attr = {
		.levels = a->levels, .probability = a->probability, .interval = a->interval,
		.times = (int32_t)a->times, .space = a->space,
	};

	(void)o;
	if (!a->site || a->site >= PW_INJECT_SITE_MAX || a->probability > 100)
		return -PW_EINVAL;
	fault_inject_set(a->site, &attr);
	return 0;
}
DEFINE_OP(inject, op_inject);

static int64_t op_fail_nth(const struct pw_fail_nth_args *a, struct pw_fail_nth_out *o)
{
	(void)o;
	return fault_inject_fail_nth(a->n);
}
DEFINE_OP(fail_nth, op_fail_nth);

static int64_t do_op(uint32_t op, const union pw_op_args *args, union pw_op_out *out)
{
	struct task_struct *t;
	struct mm_struct *mm;
	int64_t ret;

	for (const struct op_handler *h = __start_ops; h < __stop_ops; h++) {
		if (h->op != op)
			continue;
		if (h->fn)
			return h->fn(args, out);
		t = find_task(args->words[0]);		/* DEFINE_TASK_OP: the task comes first */
		mm = t ? get_task_mm(t) : NULL;
		if (!mm)
			return -PW_ESRCH;
		ret = h->task_fn(t, mm, args, out);
		mmput(mm);
		return ret;
	}
	return -PW_ENOSYS;
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
		union pw_op_args args;
		union pw_op_out out = { 0 };
		uint64_t seq;
		uint32_t op;
		int64_t ret;

		doorbell(PW_DOORBELL_WAIT_OP);
		seq = READ_ONCE(mb->req_seq);
		if (seq == done)
			continue;
		op = READ_ONCE(mb->op);
		args = mb->args;
		flush_tlb_kernel_catch_up();

		ret = do_op(op, &args, &out);

		mb->out = out;
		mb->result = ret;
		barrier();
		WRITE_ONCE(mb->done_seq, seq);
		done = seq;
		trace(op, op, ret, args.words[0], args.words[1]);
	}
}
