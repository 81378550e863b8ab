/* Privileged instructions and barriers, as <asm/io.h>, <asm/msr.h> and
 * <asm/special_insns.h> give them to Linux. */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#include <stdint.h>

#include <pagewalk/layout.h>

#define barrier()	asm volatile("" ::: "memory")
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#define MSR_EFER	0xc0000080
#define MSR_FS_BASE	0xc0000100
#define EFER_NXE	(1ULL << 11)
#define X86_CR0_WP	(1ULL << 16)
#define X86_EFLAGS_IF	(1ULL << 9)
#define X86_EFLAGS_AC	(1ULL << 18)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_PGE	(1ULL << 7)
#define X86_CR4_LA57	(1ULL << 12)
#define X86_CR4_SMEP	(1ULL << 20)
#define X86_CR4_SMAP	(1ULL << 21)
#define X86_CR4_PKE	(1ULL << 22)

static inline void outb(uint8_t v, uint16_t port)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint32_t v, uint16_t port)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}


static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void local_irq_enable(void)
{
	asm volatile("sti" ::: "memory");
}

static inline void local_irq_disable(void)
{
	asm volatile("cli" ::: "memory");
}

static inline uint64_t read_cr0(void)
{
	unsigned long v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(uint64_t v)
{
	asm volatile("mov %0, %%cr0" : : "r"((unsigned long)v) : "memory");
}

static inline uint64_t read_cr2(void)
{
	unsigned long v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	unsigned long v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	asm volatile("mov %0, %%cr3" : : "r"((unsigned long)v) : "memory");
}

static inline void invlpg(unsigned long addr)
{
	asm volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

static inline uint64_t read_cr4(void)
{
	unsigned long v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint64_t v)
{
#ifdef CONFIG_X86_PAE
	/*
	 * Not Linux's: a workaround for the second host.  QEMU's TCG page
	 * walker sets A (bit 5) in PAE PDPTEs, where it is reserved (SDM vol.
	 * 3A table 4-8), and KVM's load_pdptrs(), which a CR4 write changing
	 * PGE, PSE, PAE or SMEP runs, refuses such PDPTEs with #GP.  So the
	 * PDPT that CR3 holds (in the direct map) loses its A bits first,
	 * locked so as to lose no other bit.  Best effort: a walk may set A
	 * again before the CR4 write (it does at every instruction under
	 * single-step); in practice the translations this needs are in the TLB.
	 */
	uint32_t *pdpt = (uint32_t *)(uintptr_t)((read_cr3() & ~0x1fUL) + PW_PAGE_OFFSET_32);

	for (int i = 0; i < 4; i++)
		__atomic_and_fetch(&pdpt[2 * i], ~0x20u, __ATOMIC_RELAXED);
#endif
	asm volatile("mov %0, %%cr4" : : "r"((unsigned long)v) : "memory");
}

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
			       uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

/* Needs CR4.PKE. */
static inline void wrpkru(uint32_t pkru)
{
	asm volatile("wrpkru" : : "a"(pkru), "c"(0), "d"(0) : "memory");
}

/* Need SMAP in CPUID. */
static inline void stac(void)
{
	asm volatile("stac" ::: "memory");
}

static inline void clac(void)
{
	asm volatile("clac" ::: "memory");
}

static inline __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

#endif
