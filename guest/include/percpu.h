/*
 * Per-CPU data: one block per CPU, FS and GS bases both point at it.
 * x86-64: %fs:0x28 is the stack-protector canary (libfdt.a and our code
 * are built with -mstack-protector-guard-reg=fs), %gs holds the rest as
 * Linux's per-CPU area does.  i386 swaps them as Linux i386 does: %fs is
 * the per-CPU segment (__KERNEL_PERCPU), %gs the canary's
 * (__KERNEL_STACK_CANARY), whose word 20 is where i386's libfdt.a looks.
 * Offsets used from assembly are checked below.
 */
#ifndef GUEST_PERCPU_H
#define GUEST_PERCPU_H

#include <pagewalk/boot.h>

#define NR_CPUS			PW_MAX_CPUS
#define PERCPU_SELF		0x00
#ifdef CONFIG_X86_32
#define PERCPU_SIZE		256
#define PERCPU_CANARY		0x14
#define PERCPU_RESUME_RSP	0x18
#define PERCPU_SEG		"fs"
#else
#define PERCPU_SIZE		384
#define PERCPU_CANARY		0x28
#define PERCPU_RESUME_RSP	0x30
#define PERCPU_SEG		"gs"
#endif

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include <pagewalk/ring.h>

struct mm_struct;
struct pt_regs;

#define NR_EXCEPTION_VECTORS	32

struct percpu {
	struct percpu *self;
	unsigned long pad[4];
	unsigned long stack_canary;	/* PERCPU_CANARY */
	unsigned long kernel_resume_rsp; /* PERCPU_RESUME_RSP: enter_user()'s frame */
	unsigned int cpu;
	/* kernel/channel.c: this CPU's ring */
	struct pw_ring *ring;		/* NULL until channel_init(); the records follow its header */
	uint64_t ring_flush_at;		/* the head at which trace_end() calls channel_flush() */
	uint64_t event_hdr;		/* a record's first word for this CPU, type 0 */
	/* mm/tlb.c: whose pgd this CPU's CR3 holds */
	struct mm_struct *loaded_mm;	/* cpu_tlbstate.loaded_mm */
	/* mm/memory.c: tables installed by the fault being handled here */
	unsigned int fault_tables_installed;
	/* mm/tlb.c: the kernel-range flushes this CPU has caught up with */
	uint64_t kernel_flush_gen;
	/* arch/traps.c: handlers a test installed here, per exception vector */
	bool (*exception_handlers[NR_EXCEPTION_VECTORS])(struct pt_regs *regs);
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct percpu) == PERCPU_SIZE, "asm size");
_Static_assert(__builtin_offsetof(struct percpu, self) == PERCPU_SELF, "asm offset");
_Static_assert(__builtin_offsetof(struct percpu, stack_canary) == PERCPU_CANARY, "asm offset");
_Static_assert(__builtin_offsetof(struct percpu, kernel_resume_rsp) == PERCPU_RESUME_RSP, "asm offset");

extern struct percpu percpu[NR_CPUS];

/* A CPU's block never changes, so the load needs no volatile. */
static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	asm("mov %%" PERCPU_SEG ":0, %0" : "=r"(p));
	return p;
}

static inline unsigned int smp_processor_id(void)
{
	return this_cpu()->cpu;
}
#endif

#endif
