/* The local APIC in x2APIC mode: IPIs between CPUs (arch/apic.c). */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#define TLB_IPI_VECTOR		0xf0	/* INVALIDATE_TLB_VECTOR of old x86 kernels */
#define SPURIOUS_VECTOR		0xff

#ifndef __ASSEMBLER__
void x2apic_enable(void);
void send_ipi(unsigned int cpu, unsigned int vector);
void apic_eoi(void);
#endif

#endif
