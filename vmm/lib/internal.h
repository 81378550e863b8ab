/* libvmm internals: the VM and vCPU structs every libvmm file shares. */
#ifndef LIBVMM_INTERNAL_H
#define LIBVMM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <time.h>

#include <pagewalk/sizes.h>

#include "libvmm.h"

struct vm;
struct vcpu;

/* vCPU threads count exits and events concurrently. */
#define STAT_INC(x)	__atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)

/* Guest debug registers (the gdb stub, the profiler): DR7's GE and reserved bit 10, as QEMU sets them. */
#define DR7_BASE	0x600ULL
#define DR7_G(n)	(2ULL << (2 * (n)))	/* global enable of DRn; R/Wn and LENn 0: execution */
#define DR6_BS		(1ULL << 14)

/*
 * Guest RAM: one host mapping the guest sees as one or two ranges, below
 * and above the hole under 4 GiB (layout.h).  Everything that turns a
 * guest-physical address into a host pointer goes through ram_ptr().
 */
struct ram_range {
	uint64_t gpa, size;
	uint64_t offset;		/* into the host mapping */
};

struct guest_ram {
	uint8_t *host;			/* the one mapping, `size` bytes */
	uint64_t size;			/* all RAM, --mem */
	struct ram_range range[2];	/* ascending */
	unsigned int nranges;
};

void ram_layout(struct guest_ram *ram, uint64_t size);	/* the ranges; host stays NULL */
/* The RAM range that holds all of [gpa, gpa + len), or NULL. */
const struct ram_range *ram_range_of(const struct guest_ram *ram, uint64_t gpa, uint64_t len);
/* Its host address, or NULL if it is not all in one RAM range or RAM is not mapped yet. */
void *ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len);
/* The end of the last range: the top of RAM. */
uint64_t ram_end(const struct guest_ram *ram);

/* A guest-physical range the VMM owns; ELF segments may not overlap one. */
struct region {
	const char *name;
	uint64_t start, size;
};

/* The loaded image: where it is and what its symbols are (elf_load.c, symbols.c). */
struct symbol {
	uint64_t addr, size;
	char *name;
};

struct guest_image {
	uint64_t entry;
	struct {
		uint64_t vaddr, paddr, memsz;
	} seg[16];
	unsigned int nseg;
	struct symbol *syms;		/* sorted by addr */
	size_t nsyms;
};

/*
 * levels: the paging mode (vm->levels), which decides the ELF class (ELF32
 * i386 for 2 and 3) and where the boot tables map RAM (PW_PAGE_OFFSET).
 */
int elf_load(const char *path, const struct guest_ram *ram, unsigned int levels,
	     const struct region *rsv, unsigned int nrsv, struct guest_image *img, char *err,
	     size_t errlen);
/* The same from a file image in memory, e.g. the fuzzer's input. */
int elf_load_image(char *image, size_t size, const char *path, const struct guest_ram *ram,
		   unsigned int levels, const struct region *rsv, unsigned int nrsv, struct guest_image *img,
		   char *err, size_t errlen);
/* "path: " and the reason into err; returns -1. */
int elf_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int symbols_load(struct guest_image *img, void *elf, const char *path, char *err, size_t errlen);	/* Elf * */
void symbols_free(struct guest_image *img);
const char *symbolise(const struct guest_image *img, uint64_t addr, char *buf, size_t len);
long symbol_index(const struct guest_image *img, uint64_t addr);	/* -1: none */

/* What an exit handler leaves the vCPU loop to do, as kvmtool's kvm_cpu__start() and Solo5's hvt loop. */
enum exit_action {
	EXIT_CONTINUE,		/* re-enter the guest */
	EXIT_WAIT_OP,		/* the guest asks for its next op: park the vCPU */
	EXIT_STOP,		/* the VM stopped; vm->status says why */
};

/* Port I/O: handlers registered per port range, as kvmtool's ioport.c. */
typedef enum exit_action (*ioport_fn)(struct vcpu *vcpu, uint16_t port, bool is_write,
				      uint8_t *data, unsigned int size, void *priv);

struct ioport {
	uint16_t start, len;
	ioport_fn fn;
	void *priv;
};

int ioport_register(struct vm *vm, uint16_t start, uint16_t len, ioport_fn fn, void *priv);
enum exit_action ioport_dispatch(struct vcpu *vcpu, struct kvm_run *run);
int devices_init(struct vm *vm);	/* debugcon, COM1, exit port, doorbell */

/* One vCPU's side of the channel (channel.c). */
struct channel {
	struct pw_ring *ring;		/* host view of guest RAM */
	struct pw_event *records;
	uint64_t tail;			/* host's own copy; the guest's is advisory */
	uint64_t req_seq;		/* last op posted */
};

enum vcpu_state {
	VCPU_RUNNABLE,
	VCPU_WAIT_OP,		/* parked on a WAIT_OP doorbell exit */
	VCPU_STOPPED,
};

/* An op run on its own thread (vm_op_start/vm_op_wait). */
struct vcpu_op {
	pthread_t thread;
	bool started;
	enum pw_op op;
	union pw_op_args args;
	int64_t result;
	union pw_op_out out;
	enum vmm_status status;
};

/* The registers at the vCPU's last exit that kept them (KVM_CAP_SYNC_REGS), or as set at boot. */
struct vcpu_seen {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t exit;			/* which exit, counted from 1; 0: boot */
};

/*
 * The registers of the first full register report that stopped the VM
 * (triple fault, watchdog, KVM internal error), for the JSON summary;
 * stale when they are the last state libvmm saw, not the crash's.
 */
struct crash_regs {
	bool valid, stale;
	unsigned int cpu;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* A vCPU's console line not yet ended: --trace and --json print whole lines. */
struct console_line {
	char text[256];
	size_t len;
	uint64_t seq, tsc;		/* of its first record */
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	uint64_t exits;			/* KVM_RUN returns */
	struct vcpu_seen seen;
	enum vcpu_state state;
	struct channel chan;
	struct vcpu_op async;
	pthread_t thread;	/* running it, while in_run (under vm->lock) */
	bool in_run;
	bool halted_cli;	/* at its last timer tick: HLT with IF clear (vcpu.c) */
	uint64_t halted_rip;	/* there (under vm->lock) */
	struct console_line line;	/* report.c, under vm->lock */
};

struct vm {
	struct vmm_config cfg;
	int kvm_fd, vm_fd;
	struct guest_ram ram;
	struct region rsv[3];
	unsigned int nrsv;
	uint64_t chan_base, chan_stride;
	struct guest_image img;
	struct ioport ioports[8];
	unsigned int nioports;
	struct vcpu *vcpus;
	unsigned int nvcpus;
	bool booted;			/* every vCPU has reached its op loop */
	pthread_mutex_t lock;		/* how it ended, events, reports */

	/* The CPUID the vCPUs run with (KVM's supported CPUID, read once), and
	 * what their MMU makes of it. */
	struct kvm_cpuid2 *cpuid;
	bool nx;			/* leaf 0x80000001 EDX[20]: EFER.NXE at boot */
	unsigned int maxphyaddr;	/* leaf 0x80000008 EAX[7:0] */
	bool gbpages;			/* 1 GiB pages: leaf 0x80000001 EDX[26] */
	bool amd;			/* AMD/Hygon: bit 8 of PML4Es and PML5Es is reserved */
	unsigned int levels;		/* 4, or 5: boot tables and vCPUs with CR4.LA57;
					   i386: 2 (two-level, CR4.PSE) or 3 (PAE) */

	/* How it ended. */
	bool stopped;
	enum vmm_status status;
	bool guest_exited;
	uint32_t guest_status;
	char msg[2048];			/* why it stopped: the first vm_stop() */
	struct crash_regs crash;

	/* Why the last API call was refused (vm_refuse()), apart from how it ended. */
	bool refused;
	char refusal[256];

	struct vmm_stats stats;
	struct timespec t0;
	unsigned int tsc_khz;		/* the guest TSC's rate (KVM_GET_TSC_KHZ), 0 if unknown */
	bool tsc0_set;
	uint64_t tsc0;			/* the first reported event's: --trace's time 0 */
	struct pw_event *events;	/* cfg.record */
	size_t nevents, events_cap;

	struct gdb *gdb;		/* the gdb stub (gdbstub.c), set before the VM runs */
	struct profile *profile;	/* profile.c, from the first vm_profile_start() */
};

void vm_lock_init(struct vm *vm);
/* Refuse an API call the caller got wrong: VMM_BAD_INPUT, the VM runs on. */
enum vmm_status vm_refuse(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vm_api_enter(struct vm *vm);	/* an API call starts: forget the last refusal */
void vm_finish(struct vm *vm);	/* record the end once: wall time, JSON summary */
enum vmm_status vm_layout(struct vm *vm, const struct vmm_config *cfg, char *err, size_t errlen);
int vm_set_memslots(struct vm *vm, bool present);	/* -1 with errno */

/* The first error or stop wins; later ones keep the original message. */
enum vmm_status vm_stop(struct vm *vm, enum vmm_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* boot.c: boot page tables, GDT, FDT, vCPU registers */
int boot_setup_memory(struct vm *vm, char *err, size_t errlen);
int boot_setup_vcpu(struct vcpu *vcpu, char *err, size_t errlen);
int fdt_build(struct vm *vm, void *buf, size_t size, char *err, size_t errlen);

/* boot32.c: the same for i386 guests, vm->levels 2 or 3 */
void boot32_build_tables(struct vm *vm);
void boot32_build_gdt(uint64_t *gdt);
void boot32_sregs(unsigned int levels, uint64_t cr3, struct kvm_sregs *sregs);

/* channel.c */
int channel_init(struct vcpu *vcpu);
int channel_drain(struct vcpu *vcpu);

/* mailbox.c: the op protocol, post -> run -> validate -> result */
enum exit_action mailbox_wait_op(struct vcpu *vcpu);	/* a WAIT_OP doorbell */

/* probe.c */
bool la57_usable(char *why, size_t len);	/* vmm_probe_la57(), once per process */
bool paging32_usable(unsigned int levels, char *why, size_t len);	/* vmm_probe_paging32(), once per mode */
struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd);	/* NULL with errno set */
int vm_load_cpuid(struct vm *vm, char *err, size_t errlen);	/* vm->cpuid and its facts */
const struct kvm_cpuid_entry2 *cpuid_entry(const struct kvm_cpuid2 *c, uint32_t function,
					   uint32_t index);

/* vcpu.c */
uint64_t vcpu_deadline(const struct vm *vm);	/* now + timeout, 0 for none */
void vcpu_kick_others(struct vm *vm);
int vcpu_run(struct vcpu *vcpu, uint64_t deadline);	/* until WAIT_OP or stop */
void vcpu_report_registers(struct vcpu *vcpu, char *buf, size_t len, bool full);
void vcpu_complete_io(struct vcpu *vcpu);	/* finish a pending I/O or MMIO instruction */
int vcpu_pkru(struct vcpu *vcpu, uint32_t *pkru);

/* The gdb stub's hooks (gdb_control.c, gdbstub.c), called only with vm->gdb set. */
bool gdb_vcpu_gate(struct vcpu *vcpu);		/* before KVM_RUN: true if the VM stopped meanwhile */
enum exit_action gdb_debug_exit(struct vcpu *vcpu);	/* KVM_EXIT_DEBUG */
void gdb_vm_stopped(struct vm *vm);		/* from vm_stop(), vm->lock held */
void gdb_destroy(struct vm *vm);

/* profile.c: its hooks in the vCPU loop, called only with vm->profile set */
enum exit_action profile_debug_exit(struct vcpu *vcpu);	/* KVM_EXIT_DEBUG: one step */
void profile_sample(struct vcpu *vcpu);		/* KVM_RUN interrupted: a sample, when sampling */
uint64_t profile_tick_ns(const struct vm *vm);	/* the sampling period; 0 when not sampling */
void profile_mark(struct vcpu *vcpu, uint64_t id);	/* the channel drained a MARK event */
void profile_check_step(struct vcpu *vcpu);		/* any other exit: did the steps reach it? */
void profile_free(struct vm *vm);

/* walk.c: the page walker's pieces ptdump.c shares */

struct mmu {
	unsigned int levels;		/* 4, or 5 with CR4.LA57; 2 two-level, 3 PAE */
	uint64_t rsvd[2][6];		/* [leaf?][level]: bits the MMU faults on */
	bool pse;			/* two-level: CR4.PSE, a PDE with PS maps 4 MiB */
	bool pse36;			/* ... with physical bits 35:32 in its bits 16:13 */
};

enum pt_kind { PT_NONE, PT_TABLE, PT_LEAF, PT_RSVD };

int mmu_init(const struct vm *vm, const struct vm_paging *pg, struct mmu *mmu);
enum pt_kind pt_classify(const struct mmu *mmu, unsigned int level, uint64_t e);

/* The lowest va bit of a level-`level` entry's index. */
static inline unsigned int pt_shift(unsigned int level)
{
	return 12 + 9 * (level - 1);
}

/* walk32.c: the i386 modes' geometry, and reads that know an entry's size. */
int mmu_init_32(const struct vm *vm, const struct vm_paging *pg, struct mmu *mmu);
unsigned int mmu_shift(const struct mmu *mmu, unsigned int level);	/* pt_shift() in any mode */
unsigned int mmu_entries(const struct mmu *mmu, unsigned int level);	/* 512, 1024, PAE's 4 PDPTEs */
static inline unsigned int mmu_index(const struct mmu *mmu, uint64_t va, unsigned int level)
{
	return (va >> mmu_shift(mmu, level)) & (mmu_entries(mmu, level) - 1);
}
/* Entry `index` of the level-`level` table `table` (CR3 or the entry above); false outside RAM. */
bool mmu_read(const struct vm *vm, const struct mmu *mmu, uint64_t table, unsigned int level,
	      unsigned int index, uint64_t *e);
uint64_t mmu_table_addr(const struct mmu *mmu, uint64_t table, unsigned int level);
uint64_t mmu_leaf_phys(const struct mmu *mmu, unsigned int level, uint64_t e, uint64_t va);

/* report.c: trace lines, JSON lines */
void report_event(struct vm *vm, const struct pw_event *ev);
void report_flush(struct vm *vm);	/* console lines left unended */
void report_json_summary(struct vm *vm);

#endif
