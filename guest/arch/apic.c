/*
 * x2APIC: enabled on every CPU when there is more than one (the VMM then
 * has KVM's in-kernel APIC), used for the TLB shootdown IPI.  KVM numbers
 * APIC IDs as vCPU indices, which are our CPU numbers.
 */
#include "apic.h"
#include "asm.h"
#include "kernel.h"

#define MSR_IA32_APICBASE	0x1b
#define APICBASE_EXTD		(1ULL << 10)
#define APICBASE_ENABLE		(1ULL << 11)
#define MSR_X2APIC_EOI		0x80b
#define MSR_X2APIC_SPIV		0x80f
#define MSR_X2APIC_ICR		0x830
#define APIC_SPIV_ENABLE	(1ULL << 8)
#define APIC_ICR_ASSERT		(1ULL << 14)

void x2apic_enable(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | APICBASE_ENABLE | APICBASE_EXTD);
	wrmsr(MSR_X2APIC_SPIV, APIC_SPIV_ENABLE | SPURIOUS_VECTOR);
}

/* Fixed delivery, physical destination.  The fence orders the request before it. */
void send_ipi(unsigned int cpu, unsigned int vector)
{
	asm volatile("mfence; lfence" ::: "memory");	/* weak_wrmsr_fence() */
	wrmsr(MSR_X2APIC_ICR, ((uint64_t)cpu << 32) | APIC_ICR_ASSERT | vector);
}

void apic_eoi(void)
{
	wrmsr(MSR_X2APIC_EOI, 0);
}
