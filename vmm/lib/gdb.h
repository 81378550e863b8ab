/*
 * The gdb stub's pieces, shared by its files: the all-stop control of the
 * vCPUs and the debug registers (gdb_control.c), the register file as gdb
 * sees it (gdb_regs.c), what the host's KVM really delivers (gdb_probe.c),
 * the monitor commands (gdb_monitor.c) and the protocol (gdbstub.c).
 */
#ifndef LIBVMM_GDB_H
#define LIBVMM_GDB_H

#include "internal.h"

/* What this host's KVM delivers, measured on a scratch VM (gdb_probe.c). */
struct gdb_host {
	int debug_flags;		/* KVM_CAP_SET_GUEST_DEBUG2: the control bits it takes; -1 unknown */
	bool singlestep;		/* KVM_GUESTDBG_SINGLESTEP stops after one instruction */
	bool hw_exec;			/* a DR0 execution breakpoint is a KVM_EXIT_DEBUG */
	bool sw_int3;			/* int3 under KVM_GUESTDBG_USE_SW_BP is a KVM_EXIT_DEBUG */
	bool watch_write;		/* a DR0 write watchpoint fires */
	bool watch_access;		/* a DR0 read/write watchpoint fires on a read */
	char report[1024];		/* one line per probe: what happened */
};

void gdb_probe_host(struct vm *vm, struct gdb_host *h);

/* A debug register slot (DR0-DR3). */
enum gdb_bp_kind { BP_NONE, BP_EXEC, BP_WRITE, BP_ACCESS };

struct gdb_hw_slot {
	enum gdb_bp_kind kind;
	uint64_t addr;
	unsigned int len;		/* 1, 2, 4 or 8 */
	bool from_z0;			/* a software breakpoint the host cannot deliver */
	uint64_t watch_addr;		/* the address gdb asked to watch (a split range's start) */
};

#define GDB_MAX_SW_BPS	64

struct gdb_sw_bp {
	uint64_t addr, phys;
	uint8_t orig;
};

/* Why the stop: the stop reply's signal and reason. */
struct gdb_stop {
	int cpu;			/* -1: none yet */
	int signal;			/* 5 SIGTRAP, 2 SIGINT */
	const char *reason;		/* "hwbreak", "swbreak", "watch", "awatch" or NULL */
	uint64_t addr;			/* watch: the data address */
};

struct gdb_vcpu {
	bool allowed;			/* may enter the guest (atomic reads at the gate) */
	bool parked;			/* waiting at its gate */
	bool step;			/* single-step when resumed */
	bool pending;			/* a debug exit that came while another stop was reported */
	struct gdb_stop pending_stop;
};

struct gdb {
	struct vm *vm;
	int listen_fd, wake_fd;		/* wake_fd: an eventfd the vCPUs and vm_stop() write */
	uint16_t port;
	pthread_t thread;
	bool thread_started, quit;
	pthread_cond_t cond;		/* with vm->lock: parked vCPUs and whoever waits for them */
	struct gdb_host host;

	/* Under vm->lock. */
	struct gdb_vcpu cpu[PW_MAX_CPUS];
	bool running;			/* resumed: a stop reply is owed */
	struct gdb_stop stop;
	struct gdb_hw_slot hw[4];
	struct gdb_sw_bp sw[GDB_MAX_SW_BPS];
	unsigned int nsw;

	/* The protocol's state (gdbstub.c, its thread only). */
	int g_cpu, c_cpu;		/* Hg, Hc: the vCPU registers and memory are of, the one to step */
	bool noack;
	bool ext_reasons;		/* gdb said swbreak+/hwbreak+ */
};

/* gdb_control.c: all-stop, resume, breakpoints. */
void gdb_stop_all(struct gdb *g, int signal);			/* vm->lock held, running */
void gdb_halt(struct gdb *g, int signal);	/* stop whatever runs, and wait for it */
void gdb_wait_parked(struct gdb *g);
int gdb_resume(struct gdb *g, const bool run[], const bool step[]);	/* 1: a pending stop reported instead */
void gdb_release(struct gdb *g);		/* detach: breakpoints out, every vCPU runs */
int gdb_insert_bp(struct gdb *g, int type, uint64_t addr, unsigned int len);	/* 0, or an errno */
int gdb_remove_bp(struct gdb *g, int type, uint64_t addr, unsigned int len);
void gdb_shadow_sw_bps(struct gdb *g, uint64_t addr, uint8_t *buf, size_t len);
void gdb_write_around_sw_bps(struct gdb *g, uint64_t addr, uint8_t *buf, size_t len);

/* gdb_mem.c: guest virtual memory through cpu's current page tables. */
size_t gdb_read_virt(struct gdb *g, unsigned int cpu, uint64_t va, uint8_t *buf, size_t len);
size_t gdb_write_virt(struct gdb *g, unsigned int cpu, uint64_t va, const uint8_t *buf, size_t len);
bool gdb_virt_to_phys(struct vm *vm, unsigned int cpu, uint64_t va, uint64_t *phys);

/* gdb_regs.c */
const char *gdb_target_xml(void);
size_t gdb_regs_read(struct vcpu *v, int regno, char *hex, size_t len);	/* -1 regno: all; 0 on error */
int gdb_regs_write(struct vcpu *v, int regno, const char *hex);		/* -1 regno: all; 0 or -1 */

/* gdb_monitor.c: `monitor CMD`; the text to print into out. */
void gdb_monitor(struct gdb *g, const char *cmd, FILE *out);

#endif
