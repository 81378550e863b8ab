/* The profiler's pieces: counting (profile.c), the guest unwinder (unwind.c), the reports (profile_report.c). */
#ifndef LIBVMM_PROFILE_H
#define LIBVMM_PROFILE_H

#include "internal.h"

#define UNWIND_MAX_DEPTH	64
#define PROFILE_GATES		3	/* debug address registers 0-2; 3 for an iretq's return (profile.c) */

/* Per guest symbol, what its code tells the unwinder (computed once, on first use). */
enum frame_kind {
	FRAME_UNKNOWN,		/* not looked at yet */
	FRAME_POINTER,		/* C with push %rbp; mov %rsp,%rbp at `prologue` */
	FRAME_NONE,		/* a sized function without that prologue (libfdt.a: -fomit-frame-pointer) */
	FRAME_ASM,		/* an assembly label: no frame to follow, a root */
};

struct unwinder {
	const struct vm *vm;
	unsigned int word;		/* a stack word: 8 bytes, 4 for an i386 guest */
	uint8_t *kind;			/* enum frame_kind per symbol */
	uint32_t *prologue;		/* offset of push %rbp, for FRAME_POINTER */
	long entry;			/* common_exception: pt_regs above its return address; -1 none */
};

int unwind_init(struct unwinder *u, const struct vm *vm);
void unwind_free(struct unwinder *u);

/*
 * The ring-0 call stack at these registers, leaf first, as symbol indices
 * (vm->img.nsyms for an address outside every symbol).  Returns its depth,
 * at least 1.
 */
unsigned int unwind_stack(struct unwinder *u, const struct kvm_regs *r, const struct kvm_sregs *s,
			  uint32_t *ids);

/* Is the instruction at these registers an iretq?  Where it returns to, and whether to ring 3. */
bool unwind_iret(const struct unwinder *u, const struct kvm_regs *r, const struct kvm_sregs *s,
		 uint64_t *to, bool *to_ring3);
/* Is rip where a gate of the IDT points, the first instruction of an exception or interrupt? */
bool unwind_at_gate(const struct unwinder *u, const struct kvm_sregs *s, uint64_t rip);
/* The handlers of those of the n vectors whose gates are present, in order; returns how many. */
unsigned int unwind_gates(const struct unwinder *u, const struct kvm_sregs *s, const unsigned int *vectors,
			  unsigned int n, uint64_t *handlers);

/* Is the instruction at va a string instruction with a rep prefix? */
bool unwind_is_rep(const struct unwinder *u, uint64_t va);

/* One distinct call stack and its count (folded stacks). */
struct profile_stack {
	uint64_t count;
	uint32_t depth;
	uint32_t *ids;			/* leaf first */
};

/* What a region counted: the reports read it once the region is over. */
struct profile_counts {
	uint64_t ring0, ring3, rep_iterations, ring3_entries;
	uint64_t stacks_lost;		/* counted, but their stacks not kept: out of memory */
	uint64_t *cpu_ring0;		/* per vCPU: its ring-0 instructions so far */
	struct vm_profile_mark *marks;	/* the guest's MARK events, in the order drained */
	size_t nmarks, marks_cap;
	uint64_t marks_lost;		/* out of memory */
	uint64_t steps_lost;		/* exits KVM's single-step did not lead to (profile_check_step()) */
	uint64_t lost_rip;		/* the first such exit's RIP */
	uint64_t *self, *total;		/* per symbol, nsyms + 1 ("[unknown]" last) */
	struct profile_stack *stacks;	/* open addressing, `cap` slots */
	size_t nstacks, cap;
};

struct profile {
	unsigned int hz;		/* 0: every instruction (single-step); else samples per second */
	bool active;
	int breakpoints;		/* the host's execution breakpoints fire: 1, 0, -1 not probed yet */
	struct unwinder unw;
	struct profile_counts c;
	uint64_t gen, *seen;		/* per symbol: the last count that included it */
	pthread_mutex_t lock;		/* vCPU threads count concurrently */
	struct {
		bool valid, ring3, to_ring3;	/* to_ring3: an iretq to ring 3 */
		uint64_t rip;
		uint64_t iret_to;		/* an iretq within ring 0: where it returns; else 0 */
		unsigned int depth;
		uint32_t ids[UNWIND_MAX_DEPTH];
	} *pending;			/* per vCPU: the instruction it is about to execute */
	struct {
		uint64_t idt_base;
		uint16_t idt_limit;
		unsigned int n;			/* handlers found, of PROFILE_GATES */
		uint64_t handler[PROFILE_GATES];
	} *gates;			/* per vCPU: breakpoints on exception handlers (profile.c) */
};

#endif
