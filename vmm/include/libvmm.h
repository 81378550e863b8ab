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

#include <pagewalk/channel.h>

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

struct vmm_config {
	const char *guest;		/* path of the ELF to boot */
	uint64_t mem_bytes;		/* guest RAM, a multiple of 2 MiB */
	unsigned int ncpus;		/* vCPUs, 1 to 16 */
	const char *workload;		/* /chosen pagewalk,workload */
	unsigned int split_ptlock_cpus;	/* /chosen pagewalk,split-ptlock-cpus; 0 = guest default (4) */
	const char *kernel_sync;	/* /chosen pagewalk,kernel-sync: prealloc, fault, eager */
	unsigned int timeout_ms;	/* watchdog per vm_run()/vm_op() call; 0 = none */
	FILE *console;			/* guest console text; NULL discards it */
	FILE *trace;			/* one line per event; NULL = off */
	FILE *json;			/* JSON lines per event + summary; NULL = off */
	bool record;			/* keep events for vm_events() */
};

#define VMM_DEFAULT_MEM		(256ULL << 20)
#define VMM_DEFAULT_TIMEOUT_MS	10000u

void vmm_config_init(struct vmm_config *cfg, const char *guest);

/* Counters the channel tests and `make bench` read. */
enum vmm_exit_kind {
	VMM_EXIT_IO,		/* any port I/O, doorbell included */
	VMM_EXIT_DOORBELL,
	VMM_EXIT_MMIO,
	VMM_EXIT_HLT,
	VMM_EXIT_SHUTDOWN,
	VMM_EXIT_INTR,		/* KVM_RUN interrupted by the watchdog */
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
 * NULL (zeros), `result` and `out` (4 words) may be NULL.  If the guest
 * stops instead of finishing the op, returns why.
 */
enum vmm_status vm_op(struct vm *vm, unsigned int cpu, enum pw_op op, const uint64_t args[6],
		      int64_t *result, uint64_t out[4]);

/*
 * The same, with the vCPU running on a thread of its own, so that ops on
 * several vCPUs run at the same time: start it, then wait for its result.
 */
enum vmm_status vm_op_start(struct vm *vm, unsigned int cpu, enum pw_op op, const uint64_t args[6]);
enum vmm_status vm_op_wait(struct vm *vm, unsigned int cpu, int64_t *result, uint64_t out[4]);

const char *vm_message(const struct vm *vm);		/* why it stopped or failed */
bool vm_guest_exited(const struct vm *vm);		/* wrote to port 0xf4 */
uint32_t vm_guest_status(const struct vm *vm);		/* what it wrote there */
const struct vmm_stats *vm_stats(const struct vm *vm);
const struct pw_event *vm_events(const struct vm *vm, size_t *n);	/* if cfg.record */

/* Copy guest-physical memory out; -1 if [gpa, gpa+len) is not all RAM. */
int vm_read_phys(const struct vm *vm, uint64_t gpa, void *buf, size_t len);

/* "sym+0xoff" for a guest virtual address inside the loaded image, else "". */
const char *vm_symbolise(const struct vm *vm, uint64_t addr, char *buf, size_t len);

/*
 * Can this host run 5-level paging (LA57)?  Checks KVM's CPUID and that
 * KVM_SET_SREGS really accepts CR4.LA57; `why` says what was found.
 */
bool vmm_probe_la57(char *why, size_t len);

/* The human summary (counts by event type, exits, wall time) and the JSON one. */
void vm_print_summary(const struct vm *vm, FILE *f);

#endif
