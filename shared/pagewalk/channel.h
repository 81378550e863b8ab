/* SPDX-License-Identifier: MIT */
/*
 * The guest->host event channel and the host->guest op mailbox.
 *
 * Per vCPU the VMM reserves one region (address, stride and geometry are in
 * the FDT /channel node): a header page holding the ring indices and the op
 * mailbox, then `capacity` fixed-size event records.  The vCPU is the single
 * producer; the host consumes on every exit of that vCPU.  The guest writes
 * the doorbell port only when the ring is past its threshold, when it waits
 * for an op, or when it is full, so reporting costs about one VM exit per
 * `threshold` events, not one per event.
 *
 * Everything the host reads from here is untrusted guest memory.
 */
#ifndef PAGEWALK_CHANNEL_H
#define PAGEWALK_CHANNEL_H

#include <stdint.h>

#define PW_RING_MAGIC		0x4b4c4157u	/* "WALK" */
#define PW_RING_VERSION		1u
#define PW_RING_HDR_SIZE	4096u
#define PW_RING_CAPACITY	4096u		/* records; a power of two */
#define PW_RING_THRESHOLD	3072u		/* ring the doorbell at 3/4 full */
#define PW_EVENT_ARGS		5
#define PW_EVENT_TEXT_MAX	(PW_EVENT_ARGS * 8)

/* One record: 64 bytes, one cache line. */
struct pw_event {
	uint16_t type;		/* enum pw_event_type */
	uint16_t cpu;		/* producing vCPU; must match the ring */
	uint32_t len;		/* PW_EV_CONSOLE: bytes of text in args */
	uint64_t seq;		/* per-ring sequence number, from 0, no gaps */
	uint64_t tsc;		/* guest rdtsc when the event was made */
	uint64_t args[PW_EVENT_ARGS];
};

/* Host -> guest: one op in flight per vCPU. */
struct pw_mailbox {
	uint64_t req_seq;	/* host: bumped when it posts an op */
	uint32_t op;		/* enum pw_op */
	uint32_t pad;
	uint64_t args[6];
	uint64_t done_seq;	/* guest: req_seq of the op it completed */
	int64_t result;		/* >= 0 op-specific, < 0 a -PW_E* error */
	uint64_t out[4];	/* op-specific extra results */
};

struct pw_ring {
	uint32_t magic;
	uint32_t version;
	uint32_t capacity;
	uint32_t threshold;
	uint8_t pad0[48];
	uint64_t head;		/* guest: records produced (next seq) */
	uint8_t pad1[56];
	uint64_t tail;		/* host: records consumed */
	uint8_t pad2[56];
	struct pw_mailbox mbox;
};

_Static_assert(sizeof(struct pw_event) == 64, "event record is one cache line");
_Static_assert(sizeof(struct pw_ring) <= PW_RING_HDR_SIZE, "ring header fits its page");

/* Value written (32 bits) to the doorbell port: why the guest exited. */
enum pw_doorbell {
	PW_DOORBELL_FLUSH = 1,	/* ring past threshold or full: drain it */
	PW_DOORBELL_WAIT_OP = 2,	/* previous op done (if any); give me the next */
};

/*
 * Event types, defined once.  Each field spec is "name:kind" for args[0..]:
 * u unsigned, d signed, x hex, a guest address (symbolised by the host),
 * o op code, k fault outcome, l page-table level, m page-map kind, y
 * kernel-sync mode, s fault-injection site.  The
 * host decodes, traces and writes JSON from this table alone.
 *
 * FAULT: one per #PF the guest handles; `tables` is how many page tables
 *   that fault installed (races lost not counted).
 * PGTABLE_ALLOC/FREE: a page-table page of `level` at physical `phys` for
 *   mm `mm` (0 = init_mm); ALLOC also when the table then loses a race.
 * RACE_LOST: another CPU populated the entry first; the table at `phys` is
 *   freed (a PGTABLE_FREE follows).
 * MAP: a PTE now maps `phys` at `addr` in mm `mm`, for the reason `kind`.
 * TASK_EXIT: task `task` ended, `signal` 0 for an exit, else the signal
 *   that killed it (Linux's numbers): 11 SIGSEGV, 7 SIGBUS, 9 SIGKILL (out
 *   of memory), or 4 SIGILL, 5 SIGTRAP, 8 SIGFPE for other exceptions.
 * KERNEL_PGD: swapper_pg_dir at `phys` is init_mm's pgd; the kernel-mapping
 *   sync mode; how many tables preallocate_vmalloc_pages() installed.
 * PGD_CTOR/PGD_DTOR: mm's pgd at `phys` joined/left pgd_list, which now
 *   has `pgd_list` entries.
 * KERNEL_SYNC: a kernel top-level entry `index` copied from init_mm into
 *   the pgd at `phys` of mm `mm` (eager sync or vmalloc_fault).
 * VMALLOC_FAULT: a kernel access through mm's pgd found top-level entry
 *   `index` missing and vmalloc_fault() copied it.
 * VMALLOC/VFREE: a vmap area of `size` bytes at `addr`.
 * FORK: task `child` is a copy of `parent` (dup_mm).
 * INJECT: fault injection failed call number `call` of `site` (at `level`
 *   for page tables); the caller then takes its real error path.
 */
#define PW_EVENT_TYPES(X)						\
	X(CONSOLE,   1, "console",   "")				\
	X(BOOT,      2, "boot",	     "ram_bytes:u ncpus:u paging_levels:u kernel_start:x kernel_end:x") \
	X(EXCEPTION, 3, "exception", "vector:u error_code:x rip:a cr2:a rsp:x") \
	X(FAULT,     4, "fault",     "addr:a error_code:x rip:a outcome:k tables:u") \
	X(OP,        5, "op",	     "op:o result:d arg0:x arg1:x")	\
	X(SEQ,       6, "seq",	     "index:u total:u")			\
	X(EXIT,      7, "exit",	     "status:u")			\
	X(PGTABLE_ALLOC, 8, "pgtable_alloc", "level:l phys:x mm:u addr:x") \
	X(PGTABLE_FREE,  9, "pgtable_free",  "level:l phys:x mm:u")	\
	X(RACE_LOST, 10, "race_lost", "level:l phys:x mm:u")		\
	X(MAP,       11, "map",	     "mm:u addr:x phys:x kind:m")	\
	X(TASK_EXIT, 12, "task_exit", "task:u signal:u")		\
	X(KERNEL_PGD, 13, "kernel_pgd", "phys:x sync:y preallocated:u")	\
	X(PGD_CTOR,  14, "pgd_ctor",  "mm:u phys:x pgd_list:u")		\
	X(PGD_DTOR,  15, "pgd_dtor",  "mm:u phys:x pgd_list:u")		\
	X(KERNEL_SYNC, 16, "kernel_sync", "sync:y phys:x index:u mm:u")	\
	X(VMALLOC_FAULT, 17, "vmalloc_fault", "mm:u addr:x index:u")	\
	X(VMALLOC,   18, "vmalloc",   "addr:x size:x")			\
	X(VFREE,     19, "vfree",     "addr:x size:x")			\
	X(FORK,      20, "fork",      "parent:u child:u")			\
	X(INJECT,    21, "inject",    "site:s level:l call:u")

/* Page-table levels, as the guest's enum pt_level numbers them. */
#define PW_LEVELS(X)							\
	X(PTE, 1, "pte") X(PMD, 2, "pmd") X(PUD, 3, "pud") X(P4D, 4, "p4d") X(PGD, 5, "pgd")

/*
 * How kernel mappings reach every pgd (FDT /chosen pagewalk,kernel-sync):
 * as x86-64 has done it over the years.
 */
#define PW_KERNEL_SYNC_MODES(X)						\
	X(PREALLOC, 1, "prealloc") /* preallocate_vmalloc_pages(): top level never changes */ \
	X(FAULT,    2, "fault")    /* vmalloc_fault() copies entries on first use */ \
	X(EAGER,    3, "eager")    /* arch_sync_kernel_mappings() over pgd_list */

/*
 * Fault-injection sites, each with Linux's fault_attr (probability,
 * interval, times, space) and counted for fail-nth.
 */
#define PW_INJECT_SITES(X)						\
	X(PGTABLE_ALLOC, 1, "pgtable_alloc") /* a PUD/PMD/PTE table (filter: level) */ \
	X(PAGE_ALLOC,    2, "page_alloc")    /* an anonymous data page */	\
	X(PTLOCK_ALLOC,  3, "ptlock_alloc")  /* a split ptlock from the ptlock cache */ \
	X(VMALLOC,       4, "vmalloc")       /* a vmalloc backing page */	\
	X(PGD_ALLOC,     5, "pgd_alloc")     /* a new mm's pgd */

#define PW_INJECT_MAX_SPECS	8
#define PW_INJECT_CELLS		6	/* per spec in /chosen pagewalk,inject: site, levels,
					   probability, interval, times (-1: no limit), space */

/* Why a PTE was set (PW_EV_MAP kind). */
#define PW_MAP_KINDS(X)							\
	X(ZERO,    1, "zero")	 /* read fault: the shared zero page, read-only */ \
	X(ANON,    2, "anon")	 /* write fault: a new zeroed private page */ \
	X(WP_COPY, 3, "wp_copy") /* write to a shared/zero page: private copy */ \
	X(WP_REUSE, 4, "wp_reuse") /* write to a page we hold alone: made writable */ \
	X(SPECIAL, 5, "special") /* a kernel page mapped for user space */

enum pw_event_type {
#define PW_EV_ENUM(name, id, str, fields) PW_EV_##name = id,
	PW_EVENT_TYPES(PW_EV_ENUM)
#undef PW_EV_ENUM
	PW_EV_MAX
};

enum pw_level {
#define PW_LEVEL_ENUM(name, id, str) PW_LEVEL_##name = id,
	PW_LEVELS(PW_LEVEL_ENUM)
#undef PW_LEVEL_ENUM
};

enum pw_kernel_sync {
#define PW_SYNC_ENUM(name, id, str) PW_SYNC_##name = id,
	PW_KERNEL_SYNC_MODES(PW_SYNC_ENUM)
#undef PW_SYNC_ENUM
};

enum pw_inject_site {
#define PW_INJECT_ENUM(name, id, str) PW_INJECT_##name = id,
	PW_INJECT_SITES(PW_INJECT_ENUM)
#undef PW_INJECT_ENUM
	PW_INJECT_SITE_MAX
};

enum pw_map_kind {
#define PW_MAP_ENUM(name, id, str) PW_MAP_##name = id,
	PW_MAP_KINDS(PW_MAP_ENUM)
#undef PW_MAP_ENUM
};

/* How the guest disposed of a #PF (PW_EV_FAULT outcome). */
#define PW_FAULT_OUTCOMES(X)						\
	X(FIXUP, 1, "fixup")	/* kernel access failed; exception-table fixup */ \
	X(MAPPED, 2, "mapped")	/* handle_mm_fault() made the access possible */ \
	X(SEGV_MAPERR, 3, "segv_maperr") /* no VMA (or a kernel address): SIGSEGV */ \
	X(SEGV_ACCERR, 4, "segv_accerr") /* VMA forbids the access: SIGSEGV */ \
	X(OOM, 5, "oom")	/* a table or page could not be allocated */ \
	X(SPURIOUS, 6, "spurious") /* the tables already allow it: a stale TLB entry */ \
	X(SIGBUS, 7, "sigbus")	/* a non-present PTE that is not none: bad page map */

enum pw_fault_outcome {
#define PW_FO_ENUM(name, id, str) PW_FAULT_##name = id,
	PW_FAULT_OUTCOMES(PW_FO_ENUM)
#undef PW_FO_ENUM
	PW_FAULT_OUTCOME_MAX
};

/*
 * Ops a host can post.  Results are >= 0 on success or a negative errno
 * from the list below.
 */
#define PW_OPS(X)							\
	X(ECHO,  1, "echo")	/* result = args[0] + args[1], computed by the guest; \
				   out[0] = the CPU that did it */ \
	X(EMIT,  2, "emit")	/* emit args[0] SEQ events; result = args[0] */	\
	X(PROBE, 3, "probe")	/* kernel access args[0], write if args[1]; -EFAULT on #PF, out[0] = value */ \
	X(RAISE, 4, "raise")	/* raise exception vector args[0] unhandled (0, 3, 6, 14) */ \
	X(EXIT,  5, "exit")	/* guest exits with status args[0] */	\
	X(TASK_CREATE, 6, "task_create") /* new task with an empty mm; result = task id */ \
	X(MMAP,  7, "mmap")	/* task, addr, len, PW_PROT_*: fixed, private, anonymous */ \
	X(MUNMAP, 8, "munmap")	/* task, addr, len */			\
	X(MPROTECT, 9, "mprotect") /* task, addr, len, PW_PROT_* */	\
	X(TOUCH, 10, "touch")	/* task, addr, PW_ACCESS_*, user?, value: one access */ \
	X(TASK_EXIT, 11, "task_exit") /* task: exit_mmap and free everything */ \
	X(MM_INFO, 12, "mm_info") /* task: result pgtables_bytes; out = puds, pmds, ptes, anon pages */ \
	X(MEMINFO, 13, "meminfo") /* result total pages; out = free, pgtable, anon, slab pages */ \
	X(PTLOCK_INFO, 14, "ptlock_info") /* result ptlocks in the ptlock cache; out = split locks on?, \
					     ALLOC_SPLIT_PTLOCKS, SPLIT_PTLOCK_CPUS, sizeof(spinlock_t) */ \
	X(VMALLOC, 15, "vmalloc") /* size, lowest address wanted (0: any); result = address \
				     (negative: it is a kernel address) or -ENOMEM */ \
	X(VFREE, 16, "vfree")	/* address */					\
	X(FORK,  17, "fork")	/* task; result = the child task */		\
	X(KINFO, 18, "kinfo")	/* result swapper_pg_dir phys; out = pgd_list length, \
				   kernel syncs, vmalloc faults, preallocated tables */ \
	X(VMALLOC_SYNC, 19, "vmalloc_sync") /* vmalloc_sync_mappings(): sync the whole \
					       vmalloc area into every pgd; result = entries copied */ \
	X(RACE_DELAY, 20, "race_delay") /* levels (bit 1 << PW_LEVEL_*), loops: spin that long \
					   between allocating a table and locking to install it */ \
	X(LOCK_STATS, 21, "lock_stats") /* class (PW_PTL_*): result = acquisitions, \
					   out[0] = contended, over all CPUs */ \
	X(TLB_INFO, 22, "tlb_info") /* task or 0: result = shootdown IPIs sent; out[0] = the \
				       task's mm_cpumask, out[1] = flushes done on IPI */ \
	X(BENCH_FAULTS, 23, "bench_faults") /* task, addr, pages, floor?: page_fault1 from \
				       ring 3 over a mapped range; result = TSC cycles, \
				       out[0] = faults the paging core handled */ \
	X(INJECT, 24, "inject")	/* site, levels (bit 1 << PW_LEVEL_*, 0: all), probability, \
				   interval, times, space: arm one site (probability 0 disarms) */ \
	X(FAIL_NTH, 25, "fail_nth") /* n: fail the n-th call of any site from now (0: off); \
				       result = calls counted since the last fail_nth */ \
	X(ACCESS_TEST, 26, "access_test") /* task, addr, n: run cases 0..n-1 of the access-test \
				       table in the task's 2 MiB at addr (below); result = n, \
				       out[0] = the table's, out[1] = the test page's \
				       guest-physical address */

enum pw_op {
#define PW_OP_ENUM(name, id, str) PW_OP_##name = id,
	PW_OPS(PW_OP_ENUM)
#undef PW_OP_ENUM
};

/* Page-table lock classes for PW_OP_LOCK_STATS. */
#define PW_PTL_MM	0	/* mm->page_table_lock */
#define PW_PTL_PMD	1	/* split locks of PMD table pages */
#define PW_PTL_PTE	2	/* split locks of PTE table pages */

#define PW_PROT_READ	1	/* PROT_* values of Linux */
#define PW_PROT_WRITE	2
#define PW_PROT_EXEC	4

#define PW_ACCESS_READ	0	/* TOUCH: load 8 bytes, out[0] = value */
#define PW_ACCESS_WRITE	1	/* TOUCH: store the 8-byte value */
#define PW_ACCESS_FETCH	2	/* TOUCH: jump there (user only); the code must return */
#define PW_ACCESS_READ_LOOP 3	/* TOUCH: read it `value` times from ring 3 */
#define PW_ACCESS_WRITE_PAGES 4	/* TOUCH: write a byte to each of `value` pages from there, ring 3 */

/*
 * PW_OP_ACCESS_TEST, after kvm-unit-tests' x86/access.c: per case the guest
 * maps its test page at addr + (the page's physical address modulo 2 MiB)
 * through a PDE and a PTE with the host's bits, or through a 2 MiB PDE if
 * pde has PS, sets CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP, CR4.PKE with
 * PKRU, and EFLAGS.AC for a kernel access, as asked (-EINVAL for a feature
 * the CPU lacks), makes one access and reports.  Data accesses go to PW_AC_DATA in the page; a fetch runs its
 * first instruction, `jmp *%rsi`, back to the caller as PW_ACCESS_FETCH's
 * code does.  Of pde and pte the guest takes bits 11:0 and 63:36 (no RAM
 * address has those) and, in a 2 MiB PDE, the reserved bits 20:13.  addr
 * must be 2 MiB-aligned, in one VMA, with nothing mapped at the test page.
 */
struct pw_access_case {
	uint64_t pde, pte;		/* host: the bits to set */
	uint64_t how;			/* host: PW_ACCESS_READ, _WRITE or _FETCH | PW_AC_* */
	int64_t error_code;		/* guest: the #PF's error code, -1 if none */
	uint64_t pde_after, pte_after;	/* guest: the entries after the access */
};

#define PW_AC_ACCESS	3u		/* PW_ACCESS_READ, _WRITE or _FETCH */
#define PW_AC_USER	(1u << 2)	/* from ring 3, else from the kernel */
#define PW_AC_CR0_WP	(1u << 3)
#define PW_AC_EFER_NXE	(1u << 4)
#define PW_AC_CR4_SMEP	(1u << 5)
#define PW_AC_CR4_SMAP	(1u << 6)
#define PW_AC_EFLAGS_AC	(1u << 7)	/* stac around a kernel access */
#define PW_AC_CR4_PKE	(1u << 8)
#define PW_AC_PDPTE	(1u << 9)	/* pde is a 1 GiB PDPTE (PS) at addr's PUD slot: addr
					   1 GiB-aligned, the page at addr + its address mod 1 GiB */
#define PW_AC_PKRU_SHIFT 32		/* how's bits 63:32: PKRU under PW_AC_CR4_PKE */
#define PW_AC_DATA	64		/* offset of data accesses in the test page */
#define PW_ACCESS_TEST_MAX 1024		/* cases in the table */

/* Where every task sees the user trampoline (a VM_SPECIAL page): the last page
 * below TASK_SIZE_MAX, which itself is the guard page Linux keeps unmapped. */
#define PW_USER_TRAMPOLINE	0x00007fffffffe000ULL

#define PW_ESRCH	3
#define PW_EFAULT	14
#define PW_EEXIST	17
#define PW_ENOMEM	12
#define PW_EINVAL	22
#define PW_ENOSYS	38

/* Built-in workloads, named by /chosen "pagewalk,workload". */
#define PW_WORKLOAD_DEFAULT	"default"	/* boot facts, one handled #PF, exit */
#define PW_WORKLOAD_OPS		"ops"		/* serve host ops until PW_OP_EXIT */
#define PW_WORKLOAD_FAULTS	"faults"	/* fault-injection target: tolerate every error, check for leaks */

/* Guest exit statuses (port 0xf4) the pagewalk guest itself uses. */
#define PW_GUEST_EXIT_OK	0
#define PW_GUEST_EXIT_PANIC	0x70	/* unexpected exception or panic() */
#define PW_GUEST_EXIT_LEAK	0x71	/* the faults workload ended with pages missing */

#endif
