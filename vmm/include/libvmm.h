/* SPDX-License-Identifier: MIT */
/*
 * libvmm: boot the pagewalk guest (or any ELF64 x86-64 guest) on /dev/kvm,
 * drain its event channel and drive it op by op.
 *
 * Every function returns an enum vmm_status; on anything but VMM_OK the
 * reason is in vm_message() (or the caller's buffer for vm_create()).
 */
#ifndef LIBVMM_H
#define LIBVMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pagewalk/boot.h>
#include <pagewalk/layout.h>
#include <pagewalk/ring.h>

#include "x86.h"

#define PW_VERSION "0.1.0"	/* vmm --version, the JSON summary, libvmm.pc */

/* Also the exit statuses of the `vmm` command. */
enum vmm_status {
	VMM_OK = 0,		/* guest wrote 0 to port 0xf4, or halted */
	VMM_GUEST_FAILED = 1,	/* guest wrote a non-zero status to port 0xf4 */
	VMM_BAD_INPUT = 2,	/* bad option, or an ELF that cannot be loaded */
	VMM_TRIPLE_FAULT = 3,	/* KVM_EXIT_SHUTDOWN */
	VMM_WATCHDOG = 4,	/* the guest ran past the timeout */
	VMM_NO_KVM = 5,		/* /dev/kvm missing or not usable */
	VMM_GUEST_ERROR = 6,	/* guest broke the protocol: channel garbage,
				   unbacked MMIO, unhandled port or exit */
	VMM_INTERNAL = 7,	/* a KVM ioctl or a host resource failed */
};

const char *vmm_status_name(enum vmm_status s);

/* One fault-injection site armed at boot (see vmm_parse_inject()). */
struct vmm_inject {
	enum pw_inject_site site;
	uint32_t levels;		/* bit 1 << PW_LEVEL_*; 0: every level */
	uint32_t probability;		/* percent */
	uint32_t interval;
	int32_t times;			/* -1: no limit */
	uint32_t space;
};

struct vmm_config {
	const char *guest;		/* path of the ELF to boot */
	uint64_t mem_bytes;		/* guest RAM, a multiple of 2 MiB */
	unsigned int ncpus;		/* vCPUs, 1 to 16 */
	const char *workload;		/* /chosen pagewalk,workload */
	unsigned int split_ptlock_cpus;	/* /chosen pagewalk,split-ptlock-cpus; 0 = guest default (4) */
	bool init_on_free;		/* "init_on_free=1" in /chosen bootargs: zero pages at free */
	const char *kernel_sync;	/* /chosen pagewalk,kernel-sync: prealloc, fault, eager */
	unsigned int paging;		/* 4, 5 (CR4.LA57) or 0: 5 where vmm_probe_la57() says the host can;
					   2 or 3: an ELF32 i386 guest with two-level or PAE paging */
	struct vmm_inject inject[PW_INJECT_MAX_SPECS];	/* armed when the workload starts */
	unsigned int ninject;
	uint32_t fail_nth;		/* fail the n-th injectable call (0: off) */
	uint64_t inject_seed;		/* the guest's fault-injection PRNG: same seed, same run */
	unsigned int timeout_ms;	/* watchdog per vm_run()/vm_op() call; 0 = none */
	FILE *console;			/* guest console text; NULL discards it */
	FILE *trace;			/* one line per event; NULL = off */
	FILE *json;			/* JSON lines per event + summary; NULL = off */
	bool record;			/* keep events for vm_events() */
};

#define VMM_DEFAULT_MEM		(256ULL << 20)
#define VMM_DEFAULT_TIMEOUT_MS	10000u

void vmm_config_init(struct vmm_config *cfg, const char *guest);

/*
 * "SITE[:key=value,...]" as `vmm --inject` takes it: SITE is pgtable_alloc,
 * page_alloc, ptlock_alloc, vmalloc or pgd_alloc; keys are probability
 * (percent, default 100), interval (default 1), times (default -1, no
 * limit), space (default 0) and, for pgtable_alloc, level=p4d|pud|pmd|pte (p4d: LA57 only).
 * VMM_BAD_INPUT with the reason in err if it does not parse.
 */
enum vmm_status vmm_parse_inject(const char *spec, struct vmm_inject *out, char *err, size_t errlen);

/*
 * The one parser of numbers from the command line: decimal, or hex after
 * 0x; no sign, no blanks, at most `max`, checked before any narrowing.
 * With `rest` the number may be followed by more text, else it must be all
 * of `s`.  False if `s` is not such a number.
 */
bool vmm_parse_u64(const char *s, uint64_t max, uint64_t *out, const char **rest);

/* Counters the channel tests and `make bench` read. */
enum vmm_exit_kind {
	VMM_EXIT_IO,		/* port I/O but the doorbell's: the kinds add up to exits */
	VMM_EXIT_DOORBELL,
	VMM_EXIT_MMIO,
	VMM_EXIT_HLT,
	VMM_EXIT_SHUTDOWN,
	VMM_EXIT_INTR,		/* KVM_RUN interrupted by the watchdog */
	VMM_EXIT_DEBUG,		/* a breakpoint or single step for the gdb stub */
	VMM_EXIT_OTHER,
	VMM_EXIT_KINDS
};

struct vmm_stats {
	uint64_t exits;				/* every return from KVM_RUN */
	uint64_t exits_by_kind[VMM_EXIT_KINDS];
	uint64_t events;
	uint64_t events_by_type[PW_EV_MAX];
	uint64_t wall_ns;			/* from vm_create() to the guest's stop */
};

struct vm;

enum vmm_status vm_create(const struct vmm_config *cfg, struct vm **out, char *err, size_t errlen);
void vm_destroy(struct vm *vm);

/* Run until the guest stops; a guest waiting for an op is told to exit. */
enum vmm_status vm_run(struct vm *vm);

/*
 * Post one op to vCPU `cpu`'s mailbox and run until the guest asks for the
 * next one.  The first op boots every vCPU to its op loop.  `args` may be
 * NULL (zeros), `result` and `out` may be NULL.  If the guest stops
 * instead of finishing the op, returns why.
 */
enum vmm_status vm_op(struct vm *vm, unsigned int cpu, enum pw_op op,
		      const union pw_op_args *args, int64_t *result, union pw_op_out *out);

/*
 * The same, with the vCPU running on a thread of its own, so that ops on
 * several vCPUs run at the same time: start it, then wait for its result.
 */
enum vmm_status vm_op_start(struct vm *vm, unsigned int cpu, enum pw_op op,
			    const union pw_op_args *args);
enum vmm_status vm_op_wait(struct vm *vm, unsigned int cpu, int64_t *result, union pw_op_out *out);

/*
 * Typed: VM_OP(vm, cpu, mmap, &result, NULL, task, addr, len, prot) gives
 * every argument of the op's PW_OPS entry in order (too few or too many do
 * not compile) and takes `out` as a struct pw_<op>_out * or NULL (zeros
 * when the op did not complete).  VM_OP_START() and VM_OP_WAIT() likewise.
 */
#define VM_OP(vm, cpu, name, result, out, ...)					\
	__VM_OP_OUT(name, out, vm_op((vm), (cpu), PW_OP_ID_##name,		\
				     &VM_OP_ARGS(name, __VA_ARGS__), (result), &__vm_op_out))
#define VM_OP_START(vm, cpu, name, ...)						\
	vm_op_start((vm), (cpu), PW_OP_ID_##name, &VM_OP_ARGS(name, __VA_ARGS__))
#define VM_OP_WAIT(vm, cpu, name, result, out)					\
	__VM_OP_OUT(name, out, vm_op_wait((vm), (cpu), (result), &__vm_op_out))
#define VM_OP_ARGS(name, ...)							\
	(const union pw_op_args){ .name = (struct pw_##name##_args){ __VA_ARGS__ } }
#define __VM_OP_OUT(name, out, call) ({						\
	union pw_op_out __vm_op_out = { 0 };					\
	struct pw_##name##_out *__vm_op_want = (out);				\
	enum vmm_status __vm_op_s = (call);					\
										\
	if (__vm_op_want)							\
		*__vm_op_want = __vm_op_out.name;				\
	__vm_op_s;								\
})

/*
 * The event and op tables as data: names, fields and their kinds, for
 * printing or parsing them.  NULL for a type or op that does not exist.
 */
struct vmm_field_desc {
	const char *name;
	enum pw_field_kind kind;
};

struct vmm_event_desc {
	const char *name;
	unsigned int nfields;
	const struct vmm_field_desc *fields;
};

struct vmm_op_desc {
	const char *name;
	unsigned int nargs, nout;
	const struct vmm_field_desc *args, *out;
};

const struct vmm_event_desc *vmm_event_desc(unsigned int type);
const struct vmm_op_desc *vmm_op_desc(unsigned int op);
const char *vmm_field_kind_name(enum pw_field_kind kind);	/* "u", "hex", "addr", ... */
/* The name of value v of an enumerated kind (op, outcome, level, ...); NULL if none. */
const char *vmm_value_name(enum pw_field_kind kind, uint64_t v);

const char *vm_message(const struct vm *vm);	/* why the last call was refused, else why it stopped */
bool vm_guest_exited(const struct vm *vm);		/* wrote to port 0xf4 */
uint32_t vm_guest_status(const struct vm *vm);		/* what it wrote there */
const struct vmm_stats *vm_stats(const struct vm *vm);
const struct pw_event *vm_events(const struct vm *vm, size_t *n);	/* if cfg.record */

/* Copy guest-physical memory out; -1 if [gpa, gpa+len) is not all RAM. */
int vm_read_phys(const struct vm *vm, uint64_t gpa, void *buf, size_t len);
/* Copy into guest-physical memory, e.g. between ops; -1 likewise. */
int vm_write_phys(struct vm *vm, uint64_t gpa, const void *buf, size_t len);

/*
 * The host's own x86 page walker over guest RAM (4- and 5-level paging,
 * 2 MiB and 1 GiB pages; i386's two-level paging with 4 MiB pages and PAE
 * with 2 MiB pages), independent of KVM and of the guest's code.  It
 * reads only table pages that lie inside guest RAM.
 */

/* What a walk depends on, as KVM_GET_SREGS gives it. */
struct vm_paging {
	uint64_t cr0;		/* WP: supervisor writes obey R/W */
	uint64_t cr3;		/* the top table, bits 51:12 */
	uint64_t cr4;		/* LA57: 5 levels; SMEP, SMAP, PKE */
	uint64_t efer;		/* LMA: long mode; NXE: bit 63 is XD, else reserved */
	uint64_t rflags;	/* AC: the kernel may touch user pages under SMAP */
	uint32_t pkru;		/* under CR4.PKE: access- and write-disable per key */
};

/*
 * The level of the table CR3 points at: 4 or 5 (CR4.LA57) in long mode;
 * outside it 3 with CR4.PAE (the PDPT), else 2 (the page directory).
 */
static inline unsigned int vm_paging_levels(const struct vm_paging *pg)
{
	if (!(pg->efer & EFER_LMA))
		return pg->cr4 & X86_CR4_PAE ? 3 : 2;
	return pg->cr4 & X86_CR4_LA57 ? 5 : 4;
}

/* cpu's control registers, RFLAGS and PKRU now: VMM_BAD_INPUT for no such cpu, VMM_INTERNAL if KVM fails. */
enum vmm_status vm_cpu_paging(const struct vm *vm, unsigned int cpu, struct vm_paging *pg);

/*
 * One linear address.  Levels are numbered as in the SDM: 1 = PTE, 2 = PDE,
 * 3 = PDPTE, 4 = PML4E, 5 = PML5E (the guest's events call the top table
 * "pgd" whatever its level); two-level paging has levels 2 (4-byte PDEs,
 * 4 MiB pages under CR4.PSE) and 1, PAE 3 (the PDPTEs), 2 and 1.  A walk that does not reach a leaf says why:
 * a clear P bit, a set reserved bit (the MMU's #PF with RSVD), or a table
 * outside guest RAM; `level` is then where it stopped.
 */
struct vm_walk {
	bool present;		/* a leaf maps va */
	bool rsvd;		/* entries[level - 1] has a reserved bit set */
	bool outside_ram;	/* the level-`level` table lies outside guest RAM */
	unsigned int level;	/* leaf level: 1 = 4 KiB, 2 = 2 MiB (4 MiB in two-level paging), 3 = 1 GiB */
	uint64_t phys;		/* va's guest-physical address */
	bool user, writable, nx;	/* effective: U/S and R/W ANDed, XD ORed over all levels */
	bool accessed, dirty;	/* the leaf's A and D bits */
	unsigned int pkey;	/* the leaf's protection key, bits 62:59 */
	uint64_t entries[5];	/* entries[l - 1]: the entry read at level l, else 0 */
};

/*
 * Walk va under pg.  Returns VMM_BAD_INPUT if paging is off, or va is not
 * canonical (a #GP, not a walk) or, outside long mode, above 4 GiB;
 * otherwise VMM_OK, with the result in *w.
 */
enum vmm_status vm_walk(const struct vm *vm, const struct vm_paging *pg, uint64_t va,
			struct vm_walk *w);

/*
 * The geometry of pg's paging mode at SDM level `level`: va's index into
 * that level's table (512 entries; 1024 in two-level paging; PAE's 4
 * PDPTEs), and the size of a page a leaf there maps, as "4K", "2M",
 * "4M" (two-level) or "1G".
 */
unsigned int vm_walk_index(const struct vm_paging *pg, uint64_t va, unsigned int level);
const char *vm_walk_page_size(const struct vm_paging *pg, unsigned int level);

/* Accesses, as the W, U and I bits of a #PF error code. */
#define VM_ACCESS_WRITE	(1u << 1)
#define VM_ACCESS_USER	(1u << 2)
#define VM_ACCESS_FETCH	(1u << 4)

/*
 * What the access `access` makes of w's walk, under the same pg: 0 if it
 * may use the translation, else the #PF error code the SDM gives it (P, W,
 * U, RSVD, I, PK).  CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP with EFLAGS.AC,
 * and CR4.PKE with PKRU apply.  vm_walk_permits(): a translation, and no
 * fault.
 */
uint32_t vm_walk_fault(const struct vm_paging *pg, const struct vm_walk *w, unsigned int access);
bool vm_walk_permits(const struct vm_paging *pg, const struct vm_walk *w, unsigned int access);

/*
 * Cross-check the walker with KVM_TRANSLATE under cpu's current control
 * registers, on up to n_samples addresses: the loaded image, the direct map
 * (and just past it), the start of vmalloc, the addresses of the most recent
 * recorded MAP and FAULT events, then pages spread over the direct map.  Both
 * must agree on whether each address translates and to what.  The report's
 * first line reads "KVM_TRANSLATE agrees on A of N addresses (M mapped, U
 * unmapped), CR3 0x...", then one line per disagreement.  VMM_INTERNAL if
 * they disagree or an ioctl fails.  Like any walk, KVM's sets accessed bits
 * in the guest's tables.
 */
enum vmm_status vm_check_translate(struct vm *vm, unsigned int cpu, unsigned int n_samples,
				   char *report, size_t len);

/*
 * The page tables under pg as Linux 6.16's /sys/kernel/debug/page_tables/
 * prints them (arch/x86/mm/dump_pagetables.c, mm/ptdump.c): its
 * address markers, one line per run of entries with the same level, flags
 * and effective permission, then, under EFER.NXE, its W+X check line.  An
 * entry with reserved bits set or pointing to a table outside guest RAM
 * ends its line with "(reserved bits)" or "(table outside RAM)"; a table
 * page already shown 4 times at its level is not expanded again, its
 * entry ends with "(table shown before)"; the dump stops after 100 000
 * lines and says so.  i386's modes print as its Linux does: one range,
 * 8-digit addresses, folded levels named where the walk meets them (PDEs
 * as pmds, PAE's PDPTEs as puds).  VMM_BAD_INPUT if pg has paging off,
 * VMM_GUEST_ERROR (nothing printed) if CR3 is outside RAM, VMM_INTERNAL
 * if out of memory.
 */
enum vmm_status vm_ptdump(const struct vm *vm, const struct vm_paging *pg, FILE *f);

/*
 * The pgds ptdump can show, from the recorded events (cfg.record; none
 * without): init_mm's swapper_pg_dir (KERNEL_PGD, mm 0), then each mm's
 * pgd on pgd_list (PGD_CTOR, no PGD_DTOR since), in the order they came.
 * Fills out[] with up to max of them and returns how many there are.
 */
struct vm_pgd {
	uint64_t mm;		/* 0: init_mm */
	uint64_t phys;		/* the top table, as CR3 holds it */
};

size_t vm_pgds(const struct vm *vm, struct vm_pgd *out, size_t max);

/*
 * The invariants tests check when a guest stops (cfg.record needed): every
 * present entry under a live pgd inside RAM; per mm, the tables in RAM are
 * those the events installed; no page user-writable in two mms; under
 * prealloc, kernel halves identical to swapper_pg_dir.  A user table
 * reached twice (tables that alias) is a violation and is walked once, so
 * time and memory stay linear in RAM.  VMM_GUEST_ERROR with the
 * violations in report, VMM_INTERNAL if out of memory.
 */
enum vmm_status vm_check_invariants(struct vm *vm, char *report, size_t len);

/*
 * Host-side fault injection, between ops (every vCPU parked, else
 * VMM_BAD_INPUT).  vm_corrupt() edits the level-`level` entry (SDM
 * numbering, 1 = PTE) on va's walk under pg: clear its P bit, set the
 * first reserved bit above MAXPHYADDR, point it at guest-physical `arg`,
 * or zero the whole table below it; *old gets the entry as it was.
 * vm_inject_page_fault() makes cpu's next KVM_RUN deliver a #PF with that
 * CR2 and error code, one the guest never caused.
 */
enum vm_corruption {
	VM_CORRUPT_CLEAR_PRESENT,
	VM_CORRUPT_SET_RESERVED,
	VM_CORRUPT_REDIRECT_PFN,
	VM_CORRUPT_ZERO_TABLE,
};

enum vmm_status vm_corrupt(struct vm *vm, const struct vm_paging *pg, uint64_t va, unsigned int level,
			   enum vm_corruption kind, uint64_t arg, uint64_t *old);
enum vmm_status vm_inject_page_fault(struct vm *vm, unsigned int cpu, uint64_t cr2, uint32_t error_code);

/*
 * A gdb remote stub on 127.0.0.1:port (0: a free port, vm_gdb_port() says
 * which), served by a thread of its own until vm_destroy().  Start it
 * before the VM runs: every vCPU then waits before its first instruction
 * until gdb resumes it (QEMU's -s -S).  The watchdog counts the time the
 * guest sits stopped in gdb: give timeout_ms 0.  VMM_BAD_INPUT if the port
 * cannot be listened on (in use, no permission), with the reason in err.
 */
enum vmm_status vm_gdb_listen(struct vm *vm, uint16_t port, char *err, size_t errlen);
uint16_t vm_gdb_port(const struct vm *vm);

/*
 * The profiler.  vm_profile_start() with hz 0 single-steps every vCPU
 * (KVM_GUESTDBG_SINGLESTEP) from then on and counts each ring-0
 * instruction against its guest symbol (self) and, through the call stack
 * unwound along the guest's frame pointers, against every symbol on it
 * (inclusive); ring 3 is counted in one sum, where the host steps it
 * (an iretq loads RFLAGS.TF clear; its entries are counted anyway).  With hz > 0 it samples
 * instead: each vCPU is kicked out of KVM_RUN hz times a second and its
 * RIP counted.  Start and stop between calls (before vm_run(), around a
 * vm_op(): no op in flight); the counts stay readable until the next
 * start or vm_destroy().  Not with the gdb stub.  Single-stepping makes
 * every instruction a VM exit: give the watchdog time.
 */
struct vm_profile_totals {
	unsigned int hz;		/* 0: exact instructions; else samples per second */
	uint64_t ring0, ring3;		/* instructions (samples) */
	uint64_t rep_iterations;	/* single steps that repeated a rep string instruction, in no count */
	uint64_t ring3_entries;		/* iretqs to ring 3 (which KVM may not step: then ring3 is 0) */
	uint64_t steps_lost;		/* exits single-stepping did not lead to: the counts are short */
	bool handlers_stepped;		/* single-stepped, and exception handlers the CPU enters itself
					   stepped too: this host's execution breakpoints fire (README, Profiling) */
};

enum vmm_status vm_profile_start(struct vm *vm, unsigned int hz);
enum vmm_status vm_profile_stop(struct vm *vm);
void vm_profile_totals(const struct vm *vm, struct vm_profile_totals *t);
/* A symbol's self and inclusive counts; false if no symbol has that name. */
bool vm_profile_symbol(const struct vm *vm, const char *name, uint64_t *self, uint64_t *inclusive);
/*
 * Markers: a MARK event the guest emits while the profiler single-steps
 * (README, "Profiling").  `ring0` is the ring-0 instructions its vCPU had
 * completed in this region before the store that published the event.
 */
struct vm_profile_mark {
	uint64_t id;
	unsigned int cpu;
	uint64_t ring0;
};

/* The region's n-th marker, in the order the host saw them; false past the last. */
bool vm_profile_mark(const struct vm *vm, size_t n, struct vm_profile_mark *m);
/*
 * The ring-0 instructions between the region's first marker `from` and the
 * first marker `to` after it on the same vCPU (from `from`'s publishing
 * store to `to`'s, that one not included); false if there is no such pair.
 */
bool vm_profile_between(const struct vm *vm, uint64_t from, uint64_t to, uint64_t *ring0);
/* A `perf report`-like table, by self count; and folded stacks (flamegraph.pl), root first. */
enum vmm_status vm_profile_report(const struct vm *vm, FILE *f);
enum vmm_status vm_profile_folded(const struct vm *vm, FILE *f);

/* "sym+0xoff" for a guest virtual address inside the loaded image, else "". */
const char *vm_symbolise(const struct vm *vm, uint64_t addr, char *buf, size_t len);

/*
 * Can this host run 5-level paging (LA57)?  Checks KVM's CPUID and that
 * KVM_SET_SREGS really accepts CR4.LA57; `why` says what was found.
 */
bool vmm_probe_la57(char *why, size_t len);

/*
 * Can this host run an i386 guest with `levels`-level paging (2: two-level
 * with CR4.PSE, 3: PAE)?  Sets up 32-bit protected mode with paging on and
 * runs one instruction: some hosts accept the registers and then shut the
 * vCPU down.  `why` says what was found.
 */
bool vmm_probe_paging32(unsigned int levels, char *why, size_t len);

/* 2, 3, 4 or 5: the paging mode the vCPUs start in, cfg.paging resolved (`auto` by the probe). */
unsigned int vm_levels(const struct vm *vm);

/*
 * One recorded event as --trace prints it (json false) or as a --json line;
 * a console record as its own text (up to 40 bytes).  Scripts' `events`
 * and gdb's `monitor events`.
 */
void vm_print_event(struct vm *vm, const struct pw_event *ev, FILE *f, bool json);

/* The human summary (counts by event type, exits, wall time) and the JSON one. */
void vm_print_summary(const struct vm *vm, FILE *f);

#endif
