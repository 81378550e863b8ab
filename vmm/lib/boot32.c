/*
 * The i386 boot protocol (README.md, "Running other guests"): for
 * `--paging 2` a page directory of 4 MiB pages (CR4.PSE), for `--paging 3`
 * PAE's four PDPTEs over one directory of 2 MiB pages; each maps RAM twice,
 * identity and at PAGE_OFFSET (0xC0000000).  The vCPU starts in 32-bit
 * protected mode with paging on, EFER clear, at e_entry with EDI = the
 * FDT's guest-physical address, as the 64-bit protocol passes it in RDI.
 */
#include <string.h>

#include <pagewalk/layout.h>

#include "internal.h"

/*
 * Linux i386's GDT numbering (asm/segment.h): GDT_ENTRY_KERNEL_CS 12 and
 * GDT_ENTRY_KERNEL_DS 13, so a guest with Linux's GDT need not reload.
 */
#define BOOT32_CS	0x60
#define BOOT32_DS	0x68

#define SZ_4M		(4 * SZ_1M)

_Static_assert(PW_MAX_MEM_32 <= SZ_1G, "PAE boot tables: one page directory maps 1 GiB");
_Static_assert(PW_PAGE_OFFSET_32 % SZ_1G == 0, "PAGE_OFFSET is not on a PDPTE boundary");

void boot32_build_tables(struct vm *vm)
{
	uint64_t end = ram_end(&vm->ram);

	if (vm->levels == 2) {
		uint32_t *pgd = ram_ptr(&vm->ram, PW_BOOT_PGD, 4096);

		memset(pgd, 0, 4096);
		/* A 4 MiB page's PDE: bits 31:22 the frame (SDM vol. 3A table 4-4). */
		for (uint64_t pa = 0; pa < end; pa += SZ_4M)
			pgd[pa / SZ_4M] = pgd[(PW_PAGE_OFFSET_32 + pa) / SZ_4M] =
				pa | PT_PRESENT | PT_RW | PT_PSE;
		return;
	}
	uint64_t *pdpt = ram_ptr(&vm->ram, PW_BOOT_PGD, 32);
	uint64_t *pd = ram_ptr(&vm->ram, PW_BOOT_PD, 4096);

	memset(pdpt, 0, 32);
	memset(pd, 0, 4096);
	/* PDPTEs have no R/W or U/S: bits 2:1 are reserved (SDM vol. 3A table 4-8). */
	pdpt[0] = pdpt[PW_PAGE_OFFSET_32 / SZ_1G] = PW_BOOT_PD | PT_PRESENT;
	for (uint64_t pa = 0; pa < end; pa += 2 * SZ_1M)
		pd[pa / (2 * SZ_1M)] = pa | PT_PRESENT | PT_RW | PT_PSE;
}

void boot32_build_gdt(uint64_t *gdt)
{
	gdt[BOOT32_CS / 8] = 0x00cf9b000000ffffULL;	/* 32-bit code, DPL0, flat */
	gdt[BOOT32_DS / 8] = 0x00cf93000000ffffULL;	/* data, DPL0, flat */
}

/* Flat 4 GiB segments: db set, no l. */
static void set_seg32(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

void boot32_sregs(unsigned int levels, uint64_t cr3, struct kvm_sregs *sregs)
{
	set_seg32(&sregs->cs, BOOT32_CS, 11);
	set_seg32(&sregs->ds, BOOT32_DS, 3);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->tr = (struct kvm_segment){ .limit = 0x67, .type = 11, .present = 1 };
	sregs->ldt = (struct kvm_segment){ .type = 2, .unusable = 1 };
	sregs->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
		     X86_CR0_AM | X86_CR0_PG;
	sregs->cr3 = cr3;
	sregs->cr4 = X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |
		     (levels == 2 ? X86_CR4_PSE : X86_CR4_PAE);
	sregs->efer = 0;
}
