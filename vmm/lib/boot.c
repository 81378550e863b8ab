/*
 * The boot protocol (README.md, "Running other guests"): boot page tables
 * and GDT in the reserved low area, and a vCPU that starts in 64-bit long
 * mode at e_entry with RDI = the FDT's guest-physical address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <pagewalk/layout.h>

#include "internal.h"

#define PML5_INDEX(va)	(((va) >> 48) & 511)
#define PML4_INDEX(va)	(((va) >> 39) & 511)
#define PUD_INDEX(va)	(((va) >> 30) & 511)

/* Selectors match the guest's own GDT (Linux numbering): no reload needed. */
#define BOOT_CS		0x10
#define BOOT_DS		0x18

/* The PDs for the most RAM and the hole, then the two PML4s of LA57, below the boot stack. */
_Static_assert(PW_BOOT_PD + (PW_MAX_MEM_GIB + 1) * 4096 <= PW_BOOT_P4D_LOW, "boot PDs overlap the LA57 PML4s");
_Static_assert(PW_BOOT_P4D_KERNEL == PW_BOOT_P4D_LOW + 4096 &&
	       PW_BOOT_P4D_KERNEL + 4096 <= PW_BOOT_STACK_TOP - PW_BOOT_STACK_SIZE,
	       "the LA57 PML4s overlap the boot stack");

/* Boot-area pages: always RAM, every guest has at least 4 MiB from 0. */
static uint64_t *table(struct vm *vm, uint64_t gpa)
{
	return ram_ptr(&vm->ram, gpa, 4096);
}

/*
 * Three windows onto RAM with 2 MiB pages (no 1 GiB pages on every host):
 * identity and the direct map share one PDPT, the kernel map's PDPT points
 * its entry 510 at the first PD, so all three share the same PD pages.
 * One PD per GiB up to the end of RAM, laid out back to back: the PDE of
 * guest-physical pa is entry pa / 2 MiB from the first.  Only the RAM
 * ranges are mapped, never the hole below 4 GiB.  With LA57 the top table
 * is a PML5 over two PML4s: one for identity and the direct map (PML4
 * index 0 in both layouts' low windows), one for the kernel map.
 */
static void build_boot_page_tables(struct vm *vm)
{
	uint64_t *pgd = table(vm, PW_BOOT_PGD);
	uint64_t *pdpt_low = table(vm, PW_BOOT_PDPT_LOW);
	uint64_t *pdpt_kernel = table(vm, PW_BOOT_PDPT_KERNEL);
	uint64_t ngib = (ram_end(&vm->ram) + SZ_1G - 1) / SZ_1G;
	uint64_t *pde = ram_ptr(&vm->ram, PW_BOOT_PD, ngib * 4096);
	uint64_t page_offset = PW_PAGE_OFFSET(vm->levels);
	uint64_t *p4d_low = pgd, *p4d_kernel = pgd;

	memset(pgd, 0, PW_BOOT_PD - PW_BOOT_PGD);
	memset(pde, 0, ngib * 4096);
	if (vm->levels == 5) {
		p4d_low = table(vm, PW_BOOT_P4D_LOW);
		p4d_kernel = table(vm, PW_BOOT_P4D_KERNEL);
		memset(p4d_low, 0, 2 * 4096);
		pgd[0] = PW_BOOT_P4D_LOW | PT_PRESENT | PT_RW;
		pgd[PML5_INDEX(page_offset)] = PW_BOOT_P4D_LOW | PT_PRESENT | PT_RW;
		pgd[PML5_INDEX(PW_START_KERNEL_MAP)] = PW_BOOT_P4D_KERNEL | PT_PRESENT | PT_RW;
	}
	p4d_low[0] = PW_BOOT_PDPT_LOW | PT_PRESENT | PT_RW;
	p4d_low[PML4_INDEX(page_offset)] = PW_BOOT_PDPT_LOW | PT_PRESENT | PT_RW;
	p4d_kernel[PML4_INDEX(PW_START_KERNEL_MAP)] = PW_BOOT_PDPT_KERNEL | PT_PRESENT | PT_RW;
	pdpt_kernel[PUD_INDEX(PW_START_KERNEL_MAP)] = PW_BOOT_PD | PT_PRESENT | PT_RW;
	for (uint64_t g = 0; g < ngib; g++)
		pdpt_low[g] = (PW_BOOT_PD + g * 4096) | PT_PRESENT | PT_RW;
	for (unsigned int i = 0; i < vm->ram.nranges; i++) {
		const struct ram_range *r = &vm->ram.range[i];

		for (uint64_t pa = r->gpa; pa < r->gpa + r->size; pa += 2 * SZ_1M)
			pde[pa / (2 * SZ_1M)] = pa | PT_PRESENT | PT_RW | PT_PSE;
	}
}

static void build_boot_gdt(struct vm *vm)
{
	uint64_t *gdt = table(vm, PW_BOOT_GDT);

	memset(gdt, 0, 4096);
	gdt[BOOT_CS / 8] = 0x00af9b000000ffffULL;	/* 64-bit code, DPL0 */
	gdt[BOOT_DS / 8] = 0x00cf93000000ffffULL;	/* data, DPL0 */
	if (PW_PAGING_32(vm->levels))
		boot32_build_gdt(gdt);
}

int boot_setup_memory(struct vm *vm, char *err, size_t errlen)
{
	if (vm->ram.size > PW_MAX_MEM_GIB * SZ_1G) {
		snprintf(err, errlen, "guest RAM %llu MiB is above the %llu GiB the boot tables map",
			 (unsigned long long)(vm->ram.size / SZ_1M), PW_MAX_MEM_GIB);
		return -1;
	}
	build_boot_gdt(vm);
	if (PW_PAGING_32(vm->levels))
		boot32_build_tables(vm);
	else
		build_boot_page_tables(vm);
	return 0;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !code64, .s = 1, .l = code64, .g = 1,
	};
}

/*
 * Give the guest the CPUID KVM can really run, as every VMM must, with this
 * vCPU's initial APIC ID.  Before KVM_SET_SREGS: CR4 bits that CPUID gates
 * (LA57, SMEP, ...) are reserved until the vCPU has that CPUID.
 */
static int setup_cpuid(struct vcpu *vcpu, char *err, size_t errlen)
{
	const struct kvm_cpuid2 *all = vcpu->vm->cpuid;
	size_t size = sizeof(*all) + all->nent * sizeof(all->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	int ret = -1;

	if (!cpuid) {
		snprintf(err, errlen, "out of memory for CPUID");
		return -1;
	}
	memcpy(cpuid, all, size);
	for (unsigned int i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ebx = (cpuid->entries[i].ebx & 0x00ffffff) | (vcpu->id << 24);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid))
		snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(errno));
	else
		ret = 0;
	free(cpuid);
	return ret;
}

#define SYNC_REGS	(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

int boot_setup_vcpu(struct vcpu *vcpu, char *err, size_t errlen)
{
	struct vm *vm = vcpu->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (setup_cpuid(vcpu, err, errlen))
		return -1;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs)) {
		snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	sregs.gdt.base = PW_BOOT_GDT;
	sregs.gdt.limit = 4095;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;	/* any exception before the guest's own IDT triple-faults */
	if (PW_PAGING_32(vm->levels)) {
		boot32_sregs(vm->levels, PW_BOOT_PGD, &sregs);
	} else {
		set_seg(&sregs.cs, BOOT_CS, 11, true);
		set_seg(&sregs.ds, BOOT_DS, 3, false);
		sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
		sregs.tr = (struct kvm_segment){ .limit = 0x67, .type = 11, .present = 1 };
		sregs.ldt = (struct kvm_segment){ .type = 2, .unusable = 1 };
		sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
			    X86_CR0_AM | X86_CR0_PG;
		sregs.cr3 = PW_BOOT_PGD;
		sregs.cr4 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |
			    (vm->levels == 5 ? X86_CR4_LA57 : 0);
		sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | (vm->nx ? EFER_NXE : 0);
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs)) {
		snprintf(err, errlen, "KVM_SET_SREGS (%s, %u-level paging): %s",
			 PW_PAGING_32(vm->levels) ? "32-bit protected mode" : "64-bit long mode",
			 vm->levels, strerror(errno));
		return -1;
	}

	memset(&regs, 0, sizeof(regs));
	regs.rip = vm->img.entry;
	regs.rsp = PW_BOOT_STACK_TOP;
	regs.rdi = PW_BOOT_FDT;
	regs.rsi = vcpu->id;	/* which CPU this is: the guest picks its boot stack by it */
	regs.rflags = 0x2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs)) {
		snprintf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	vcpu->seen = (struct vcpu_seen){ .regs = regs, .sregs = sregs };
	/* KVM stores the registers into kvm_run on every exit: the last state seen, for free. */
	if ((ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & SYNC_REGS) == SYNC_REGS)
		vcpu->run->kvm_valid_regs = SYNC_REGS;
	/* With the in-kernel APIC, APs wait for INIT/SIPI: start them like the BSP instead. */
	if (vcpu->id && ioctl(vcpu->fd, KVM_SET_MP_STATE,
			      &(struct kvm_mp_state){ .mp_state = KVM_MP_STATE_RUNNABLE })) {
		snprintf(err, errlen, "KVM_SET_MP_STATE: %s", strerror(errno));
		return -1;
	}
	return 0;
}
