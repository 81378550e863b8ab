/*
 * i386's GDT, TSS and IDT (arch/x86/kernel/cpu/common.c, idt.c with
 * CONFIG_X86_32): per-CPU GDTs with Linux i386's selectors, the per-CPU
 * and stack-canary segments based at the CPU's struct percpu, one TSS per
 * CPU whose sp0 stack takes exceptions from ring 3.  Unlike x86-64 there
 * is no IST: a ring-0 exception runs on the stack it interrupted, and #DF
 * has an interrupt gate here, not Linux's task gate.
 */
#include <stdint.h>

#include "apic.h"
#include "desc_defs.h"
#include "kernel.h"
#include "percpu.h"
#include "segment_32.h"

#define ENTRY_STACK_SIZE 8192

struct tss32 {			/* struct x86_hw_tss, 32-bit */
	uint32_t prev, sp0, ss0, sp1, ss1, sp2, ss2, cr3, ip, flags;
	uint32_t ax, cx, dx, bx, sp, bp, si, di, es, cs, ss, ds, fs, gs, ldt;
	uint16_t trace, io_bitmap_base;
} __attribute__((packed));

struct gate_desc {
	uint16_t offset_low;
	uint16_t segment;
	uint16_t bits;		/* zero:8, type:4, zero:1, dpl:2, p:1 */
	uint16_t offset_high;
};

static const uint64_t gdt_template[GDT_ENTRIES] = {
	[GDT_ENTRY_KERNEL_CS]		= 0x00cf9b000000ffffULL,	/* 32-bit code, DPL0, flat */
	[GDT_ENTRY_KERNEL_DS]		= 0x00cf93000000ffffULL,
	[GDT_ENTRY_DEFAULT_USER_CS]	= 0x00cffb000000ffffULL,
	[GDT_ENTRY_DEFAULT_USER_DS]	= 0x00cff3000000ffffULL,
};
static uint64_t gdt[NR_CPUS][GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss32 tss[NR_CPUS] __attribute__((aligned(64)));
static uint8_t entry_stacks[NR_CPUS][ENTRY_STACK_SIZE] __attribute__((aligned(16)));
static struct gate_desc idt[256] __attribute__((aligned(16)));

extern const uint32_t exception_stub_table[32];
extern const char tlb_ipi_entry[], spurious_entry[];

/* A GDT descriptor: base, limit and the access/flags bits of pack_descriptor(). */
static uint64_t make_desc(uint32_t base, uint32_t limit, uint64_t flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | (flags << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)(base >> 24) << 56);
}

/* A 32-bit interrupt gate (IF cleared on entry), present. */
static struct gate_desc gate(uint32_t addr, unsigned int dpl)
{
	return (struct gate_desc){
		.offset_low = addr & 0xffff,
		.segment = __KERNEL_CS,
		.bits = (0xeU << 8) | (dpl << 13) | (1U << 15),
		.offset_high = addr >> 16,
	};
}

/*
 * From head_32.S, before any code with a stack canary: this CPU's GDT with
 * its per-CPU segments (flat 4 GiB, based at its struct percpu), then every
 * segment register reloaded from it (Linux's switch_gdt_and_percpu_base()).
 */
__attribute__((no_stack_protector)) void setup_percpu_segments(unsigned int cpu)
{
	uint32_t base = (uint32_t)&percpu[cpu];
	struct desc_ptr gdtr = { sizeof(gdt[cpu]) - 1, (uint32_t)gdt[cpu] };

	for (unsigned int i = 0; i < GDT_ENTRIES; i++)
		gdt[cpu][i] = gdt_template[i];
	gdt[cpu][GDT_ENTRY_PERCPU] = make_desc(base, 0xfffff, 0xc093);		/* G, D, P, DPL0, data */
	gdt[cpu][GDT_ENTRY_STACK_CANARY] = make_desc(base, 0xfffff, 0xc093);
	percpu[cpu].self = &percpu[cpu];

	asm volatile("lgdt %0" : : "m"(gdtr));
	asm volatile("ljmp %[cs], $1f\n"
		     "1:\n\t"
		     "movl %[ds], %%eax\n\t"
		     "movl %%eax, %%ss\n\t"
		     "movl %[uds], %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "movl %[pcpu], %%eax\n\t"
		     "movl %%eax, %%fs\n\t"
		     "movl %[canary], %%eax\n\t"
		     "movl %%eax, %%gs\n\t"
		     : : [cs] "i"(__KERNEL_CS), [ds] "i"(__KERNEL_DS), [uds] "i"(__USER_DS),
		       [pcpu] "i"(__KERNEL_PERCPU), [canary] "i"(__KERNEL_STACK_CANARY)
		     : "eax", "memory");
}

/* idt_setup_traps(): one IDT for every CPU, set up once by the boot CPU. */
void trap_init(void)
{
	for (unsigned int v = 0; v < ARRAY_SIZE(exception_stub_table); v++)
		idt[v] = gate(exception_stub_table[v], 0);
	idt[TLB_IPI_VECTOR] = gate((uint32_t)tlb_ipi_entry, 0);
	idt[SPURIOUS_VECTOR] = gate((uint32_t)spurious_entry, 0);
}

/* cpu_init(): the TSS (ring 3's way back to ring 0) and the IDT; the GDT is already loaded. */
void cpu_init(unsigned int cpu)
{
	struct desc_ptr idtr = { sizeof(idt) - 1, (uint32_t)idt };
	struct tss32 *t = &tss[cpu];

	t->sp0 = (uint32_t)&entry_stacks[cpu][ENTRY_STACK_SIZE];
	t->ss0 = __KERNEL_DS;
	t->io_bitmap_base = sizeof(*t);		/* no I/O bitmap: ring 3 gets no ports */
	gdt[cpu][GDT_ENTRY_TSS] = make_desc((uint32_t)t, sizeof(*t) - 1, 0x89);	/* P, available 32-bit TSS */
	asm volatile("ltr %w0" : : "r"(__TSS_SEL));
	asm volatile("lidt %0" : : "m"(idtr));
}
