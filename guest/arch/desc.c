/* GDT, TSS and IDT: the descriptor tables of arch/x86/kernel/{cpu/common,idt}.c. */
#include <stdint.h>

#include "apic.h"
#include "desc_defs.h"
#include "kernel.h"
#include "percpu.h"

/* Selectors as Linux numbers them (arch/x86/include/asm/segment.h). */
#define GDT_ENTRY_KERNEL_CS	2
#define GDT_ENTRY_KERNEL_DS	3
#define GDT_ENTRY_USER32_CS	4
#define GDT_ENTRY_USER_DS	5
#define GDT_ENTRY_USER_CS	6
#define GDT_ENTRY_TSS		8
#define GDT_ENTRIES		10
#define __KERNEL_CS		(GDT_ENTRY_KERNEL_CS * 8)
#define __KERNEL_DS		(GDT_ENTRY_KERNEL_DS * 8)
#define __TSS_SEL		(GDT_ENTRY_TSS * 8)

/*
 * Every exception gets an IST stack, so that even a fault taken with a bad
 * RSP is reported instead of escalating to a triple fault.  #PF has its own
 * stack because it is the vector the paging core lives on; #DF, NMI and #MC
 * get theirs as in Linux.  A #PF taken while handling a #PF would reuse the
 * same IST stack, so the #PF path must not fault (it only touches the
 * direct map and the kernel image).
 */
enum { IST_PF = 1, IST_DF, IST_NMI, IST_MC, IST_IRQ, IST_OTHER, IST_COUNT = IST_OTHER };
#define IST_STACK_SIZE 8192

struct tss64 {
	uint32_t reserved0;
	uint64_t sp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t io_bitmap_base;
} __attribute__((packed));

struct gate_desc {
	uint16_t offset_low;
	uint16_t segment;
	uint16_t bits;		/* ist:3, zero:5, type:4, zero:1, dpl:2, p:1 */
	uint16_t offset_middle;
	uint32_t offset_high;
	uint32_t reserved;
};

static const uint64_t gdt_template[GDT_ENTRIES] = {
	[GDT_ENTRY_KERNEL_CS]	= 0x00af9b000000ffffULL,	/* L, P, DPL0, code */
	[GDT_ENTRY_KERNEL_DS]	= 0x00cf93000000ffffULL,
	[GDT_ENTRY_USER32_CS]	= 0x00cffb000000ffffULL,
	[GDT_ENTRY_USER_DS]	= 0x00cff3000000ffffULL,
	[GDT_ENTRY_USER_CS]	= 0x00affb000000ffffULL,
};
/* cpu_init(): each CPU its own GDT (the TSS descriptor), TSS and IST stacks. */
static uint64_t gdt[NR_CPUS][GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss64 tss[NR_CPUS] __attribute__((aligned(64)));
static uint8_t ist_stacks[NR_CPUS][IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));
static struct gate_desc idt[256] __attribute__((aligned(16)));

extern const uint64_t exception_stub_table[32];
extern const char tlb_ipi_entry[], spurious_entry[];

/* A 64-bit interrupt gate (IF cleared on entry), present. */
static struct gate_desc gate(uint64_t addr, unsigned int ist, unsigned int dpl)
{
	return (struct gate_desc){
		.offset_low = addr & 0xffff,
		.segment = __KERNEL_CS,
		.bits = ist | (0xeU << 8) | (dpl << 13) | (1U << 15),
		.offset_middle = (addr >> 16) & 0xffff,
		.offset_high = addr >> 32,
	};
}

static void set_tss_desc(uint64_t *gdt, const struct tss64 *tss)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;

	gdt[GDT_ENTRY_TSS] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			     (0x89ULL << 40) |		/* P, available 64-bit TSS */
			     (((limit >> 16) & 0xf) << 48) |
			     (((base >> 24) & 0xff) << 56);
	gdt[GDT_ENTRY_TSS + 1] = base >> 32;
}

static unsigned int ist_for_vector(unsigned int v)
{
	switch (v) {
	case 14: return IST_PF;
	case 8:	 return IST_DF;
	case 2:	 return IST_NMI;
	case 18: return IST_MC;
	default: return IST_OTHER;
	}
}

/* idt_setup_traps(): one IDT for every CPU, set up once by the boot CPU. */
void trap_init(void)
{
	for (unsigned int v = 0; v < ARRAY_SIZE(exception_stub_table); v++)
		idt[v] = gate(exception_stub_table[v], ist_for_vector(v), 0);
	/* Interrupts have their own IST stack: they may arrive inside a #PF handler. */
	idt[TLB_IPI_VECTOR] = gate((uint64_t)tlb_ipi_entry, IST_IRQ, 0);
	idt[SPURIOUS_VECTOR] = gate((uint64_t)spurious_entry, IST_IRQ, 0);
}

void cpu_init(unsigned int cpu)
{
	struct desc_ptr gdtr = { sizeof(gdt[cpu]) - 1, (uint64_t)gdt[cpu] };
	struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };
	struct tss64 *t = &tss[cpu];

	memcpy(gdt[cpu], gdt_template, sizeof(gdt_template));
	for (unsigned int i = 0; i < IST_COUNT; i++)
		t->ist[i] = (uint64_t)&ist_stacks[cpu][i][IST_STACK_SIZE];
	t->io_bitmap_base = sizeof(*t);		/* no I/O bitmap: ring 3 gets no ports */
	set_tss_desc(gdt[cpu], t);

	asm volatile("lgdt %0" : : "m"(gdtr));
	/* Reload CS with a far return, then the data segments and TR. FS base
	 * (the canary) is an MSR and survives the reload of FS. */
	asm volatile("pushq %[cs]\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movl %[ds], %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "movl %%eax, %%ss\n\t"
		     : : [cs] "i"(__KERNEL_CS), [ds] "i"(__KERNEL_DS) : "rax", "memory");
	asm volatile("ltr %w0" : : "r"(__TSS_SEL));
	asm volatile("lidt %0" : : "m"(idtr));
}
