/* SPDX-License-Identifier: MIT */
/*
 * Ops a host can post to the guest's mailbox, defined once: each entry of
 * PW_OPS gives the op's number, its name, its arguments IN(name, kind) and
 * its extra results OUT(name, kind).  From it come struct pw_<name>_args
 * and struct pw_<name>_out (members of union pw_op_args and union
 * pw_op_out), which the guest's handler, libvmm's VM_OP() and the tests all
 * use, and the host's descriptors of every op.  An op's result is >= 0 on
 * success or a negative errno from the list below.
 *
 * echo: result = a + b, computed by the guest; cpu = the CPU that did it.
 * emit: n SEQ events; result = n.
 * probe: a kernel access to addr (a write of value if write); -EFAULT on #PF.
 * raise: raise exception vector (0, 3, 6, 14) with no handler for it.
 * exit: the guest exits with status.
 * task_create: a new task with an empty mm; result = its id.
 * mmap: fixed, private, anonymous; result = addr.
 * touch: one access from ring 3 (user) or the kernel: PW_ACCESS_*.
 * task_exit: exit_mmap and free everything.
 * mm_info: result = pgtables_bytes; the tables per level (p4d: 0 when the
 *   level is folded), anonymous pages.
 * meminfo: result = total pages; free, page-table, anonymous and slab pages.
 * ptlock_info: result = ptlocks in the ptlock cache; split locks on?,
 *   ALLOC_SPLIT_PTLOCKS, SPLIT_PTLOCK_CPUS, sizeof(spinlock_t).
 * vmalloc: size bytes at or above low (0: anywhere); result = the address
 *   (negative as an int64_t: a kernel address) or -ENOMEM.
 * fork: result = the child task.
 * kinfo: result = swapper_pg_dir's physical address; pgd_list length,
 *   kernel syncs, vmalloc faults, tables preallocate_vmalloc_pages() made.
 * vmalloc_sync: vmalloc_sync_mappings() into every pgd; result = entries
 *   copied.
 * race_delay: spin `loops` between allocating a table of one of `levels`
 *   and locking to install it (a fault-injection site).
 * lock_stats: result = acquisitions of lock class `lock`, over all CPUs,
 *   counted from the first lock_stats op on (lock_stat off until then).
 * tlb_info: result = shootdown IPIs sent; the task's mm_cpumask (task 0:
 *   none), flushes done on IPI.
 * inject: arm one fault-injection site with Linux's fault_attr
 *   (probability 0 disarms; times -1: no limit; levels 0: all).
 * fail_nth: fail the n-th injectable call from now (0: off); result = calls
 *   counted since the last fail_nth.
 */
#ifndef PAGEWALK_OPS_H
#define PAGEWALK_OPS_H

#include <stdint.h>

#include "fields.h"
#include "test_ops.h"

#define PW_OP_ARG_WORDS		6
#define PW_OP_OUT_WORDS		5

#define PW_CORE_OPS(X, IN, OUT)						\
	X(ECHO, 1, echo, IN(a, U) IN(b, U), OUT(cpu, U))		\
	X(EMIT, 2, emit, IN(n, U), )					\
	X(PROBE, 3, probe, IN(addr, ADDR) IN(write, BOOL) IN(value, HEX), OUT(value, HEX)) \
	X(RAISE, 4, raise, IN(vector, U), )				\
	X(EXIT, 5, exit, IN(status, U), )				\
	X(TASK_CREATE, 6, task_create, , )				\
	X(MMAP, 7, mmap, IN(task, TASK) IN(addr, HEX) IN(len, HEX) IN(prot, PROT), ) \
	X(MUNMAP, 8, munmap, IN(task, TASK) IN(addr, HEX) IN(len, HEX), )	\
	X(MPROTECT, 9, mprotect, IN(task, TASK) IN(addr, HEX) IN(len, HEX) IN(prot, PROT), ) \
	X(TOUCH, 10, touch, IN(task, TASK) IN(addr, HEX) IN(access, ACCESS) IN(user, BOOL) \
			    IN(value, HEX), OUT(value, HEX))		\
	X(TASK_EXIT, 11, task_exit, IN(task, TASK), )			\
	X(MM_INFO, 12, mm_info, IN(task, TASK),				\
	  OUT(p4ds, U) OUT(puds, U) OUT(pmds, U) OUT(ptes, U) OUT(anon, U))		\
	X(MEMINFO, 13, meminfo, , OUT(free, U) OUT(pgtable, U) OUT(anon, U) OUT(slab, U)) \
	X(PTLOCK_INFO, 14, ptlock_info, , OUT(split, BOOL) OUT(alloc_split, BOOL) \
					  OUT(split_cpus, U) OUT(spinlock_size, U)) \
	X(VMALLOC, 15, vmalloc, IN(size, HEX) IN(low, HEX), )		\
	X(VFREE, 16, vfree, IN(addr, HEX), )				\
	X(FORK, 17, fork, IN(task, TASK), )				\
	X(KINFO, 18, kinfo, , OUT(pgd_list, U) OUT(syncs, U) OUT(vmalloc_faults, U) \
			      OUT(preallocated, U))			\
	X(VMALLOC_SYNC, 19, vmalloc_sync, , )				\
	X(RACE_DELAY, 20, race_delay, IN(levels, LEVELS) IN(loops, U), ) \
	X(LOCK_STATS, 21, lock_stats, IN(lock, PTL), OUT(contended, U))	\
	X(TLB_INFO, 22, tlb_info, IN(task, TASK), OUT(cpumask, HEX) OUT(ipi_flushes, U)) \
	X(INJECT, 24, inject, IN(site, SITE) IN(levels, LEVELS) IN(probability, U) \
			      IN(interval, U) IN(times, D) IN(space, U), ) \
	X(FAIL_NTH, 25, fail_nth, IN(n, U), )

/* Every op: the core's and the test image's (test_ops.h). */
#define PW_OPS(X, IN, OUT) PW_CORE_OPS(X, IN, OUT) PW_TEST_OPS(X, IN, OUT)

/* Each op twice: PW_OP_MMAP, and PW_OP_ID_mmap for macros that take the name. */
enum pw_op {
#define PW_OP_ENUM(NAME, id, name, in, out) PW_OP_##NAME = id, PW_OP_ID_##name = id,
	PW_OPS(PW_OP_ENUM, , )
#undef PW_OP_ENUM
	PW_OP_MAX
};

#define PW_OP_STRUCTS(NAME, id, name, in, out)				\
	struct pw_##name##_args { in };					\
	struct pw_##name##_out { out };
PW_OPS(PW_OP_STRUCTS, PW_FIELD_MEMBER, PW_FIELD_MEMBER)
#undef PW_OP_STRUCTS

union pw_op_args {
	uint64_t words[PW_OP_ARG_WORDS];
#define PW_OP_ARGS_MEMBER(NAME, id, name, in, out) struct pw_##name##_args name;
	PW_OPS(PW_OP_ARGS_MEMBER, , )
#undef PW_OP_ARGS_MEMBER
};

union pw_op_out {
	uint64_t words[PW_OP_OUT_WORDS];
#define PW_OP_OUT_MEMBER(NAME, id, name, in, out) struct pw_##name##_out name;
	PW_OPS(PW_OP_OUT_MEMBER, , )
#undef PW_OP_OUT_MEMBER
};

_Static_assert(sizeof(union pw_op_args) == PW_OP_ARG_WORDS * 8, "op arguments fit the mailbox");
_Static_assert(sizeof(union pw_op_out) == PW_OP_OUT_WORDS * 8, "op results fit the mailbox");

/* Page-table lock classes for lock_stats. */
#define PW_PTL_MM	0	/* mm->page_table_lock */
#define PW_PTL_PMD	1	/* split locks of PMD table pages */
#define PW_PTL_PTE	2	/* split locks of PTE table pages */

#define PW_PROT_READ	1	/* PROT_* values of Linux */
#define PW_PROT_WRITE	2
#define PW_PROT_EXEC	4

#define PW_ACCESS_READ	0	/* touch: load 8 bytes, out value */
#define PW_ACCESS_WRITE	1	/* touch: store the 8-byte value */
#define PW_ACCESS_FETCH	2	/* touch: jump there (user only); the code must return */
#define PW_ACCESS_READ_LOOP 3	/* touch: read it `value` times from ring 3 */
#define PW_ACCESS_WRITE_PAGES 4	/* touch: write a byte to each of `value` pages from there, ring 3 */

#define PW_ESRCH	3
#define PW_EFAULT	14
#define PW_EEXIST	17
#define PW_ENOMEM	12
#define PW_EINVAL	22
#define PW_ENOSYS	38

#endif
