/* SPDX-License-Identifier: MIT */
/*
 * Guest address-space layout and the I/O ports of the boot protocol.
 * Included by the VMM and by the guest; README.md, "Running other guests".
 */
#ifndef PAGEWALK_LAYOUT_H
#define PAGEWALK_LAYOUT_H

/*
 * Linux x86-64 virtual layout (Documentation/arch/x86/x86_64/mm.rst), by
 * paging mode: `levels` is 4, or 5 with CR4.LA57.  The direct map and
 * vmalloc move (Linux's __PAGE_OFFSET_BASE_L4/L5, __VMALLOC_BASE_L4/L5,
 * VMALLOC_SIZE_TB_L4/L5); the kernel image stays at -2 GiB in both.
 */
#define PW_PAGE_OFFSET_L4	0xffff888000000000ULL	/* direct map of all RAM */
#define PW_PAGE_OFFSET_L5	0xff11000000000000ULL
#define PW_VMALLOC_START_L4	0xffffc90000000000ULL
#define PW_VMALLOC_START_L5	0xffa0000000000000ULL
#define PW_VMALLOC_SIZE_L4	(32ULL << 40)		/* 32 TiB */
#define PW_VMALLOC_SIZE_L5	(12800ULL << 40)	/* 12.5 PiB */
/*
 * i386 (`levels` 2: two-level paging with PSE; 3: PAE): Linux's 3G/1G
 * split (CONFIG_VMSPLIT_3G, __PAGE_OFFSET 0xC0000000), lowmem only: at
 * most 768 MiB of RAM, all of it in the direct map, which leaves the top
 * 256 MiB of the address space to vmalloc and the fixmap (no highmem).
 */
#define PW_PAGE_OFFSET_32	0xc0000000ULL
#define PW_MAX_MEM_32		(768ULL << 20)
/* The pagewalk guest's VMALLOC_END: 8 MiB below the top for the fixmap
 * (Linux's LDT_BASE_ADDR - 2 pages moves with the CPU entry area). */
#define PW_VMALLOC_END_32	(0xff800000ULL - 2 * 0x1000ULL - 1)
#define PW_PAGING_32(levels)	((levels) <= 3)
#define PW_PAGE_OFFSET(levels)	((levels) == 5 ? PW_PAGE_OFFSET_L5 :			\
				 PW_PAGING_32(levels) ? PW_PAGE_OFFSET_32 : PW_PAGE_OFFSET_L4)
#define PW_VMALLOC_START(levels) ((levels) == 5 ? PW_VMALLOC_START_L5 : PW_VMALLOC_START_L4)
#define PW_VMALLOC_SIZE(levels)	((levels) == 5 ? PW_VMALLOC_SIZE_L5 : PW_VMALLOC_SIZE_L4)
/* TASK_SIZE_MAX: user addresses are below 2^47, or 2^56 with LA57 (__VIRTUAL_MASK_SHIFT). */
#define PW_TASK_SIZE_MAX(levels) ((1ULL << ((levels) == 5 ? 56 : 47)) - 0x1000ULL)
#define PW_START_KERNEL_MAP	0xffffffff80000000ULL	/* kernel image: va = pa + this */
#define PW_KERNEL_MAP_SIZE	0x40000000ULL		/* 1 GiB mapped by the boot tables */

/*
 * The rest of Linux's map, the address markers of its ptdump
 * (arch/x86/mm/dump_pagetables.c), as pgtable_64_types.h and fixmap.h
 * compute them for x86_64_defconfig booted with nokaslr: PGDIR_SHIFT 39,
 * or 48 with LA57; P4D_SHIFT 39 in both.  The guest maps none of them.
 */
#define PW_PGDIR_SHIFT(levels)	((levels) == 5 ? 48 : 39)
/* GUARD_HOLE_BASE_ADDR + GUARD_HOLE_SIZE: pgd entries -256 to -241, the hypervisor's. */
#define PW_GUARD_HOLE_END(levels) ((-256ULL + 16) << PW_PGDIR_SHIFT(levels))
#define PW_LDT_BASE(levels)	(-240ULL << PW_PGDIR_SHIFT(levels))	/* LDT_PGD_ENTRY */
#define PW_VMEMMAP_START_L4	0xffffea0000000000ULL	/* __VMEMMAP_BASE_L4 */
#define PW_VMEMMAP_START_L5	0xffd4000000000000ULL
#define PW_VMEMMAP_START(levels) ((levels) == 5 ? PW_VMEMMAP_START_L5 : PW_VMEMMAP_START_L4)
#define PW_CPU_ENTRY_AREA_BASE	(-4ULL << 39)		/* CPU_ENTRY_AREA_PGD << P4D_SHIFT */
#define PW_ESPFIX_BASE		(-2ULL << 39)		/* ESPFIX_PGD_ENTRY << P4D_SHIFT */
#define PW_EFI_VA_END		(-68ULL << 30)
/* MODULES_VADDR: the image's KERNEL_IMAGE_SIZE, 1 GiB with CONFIG_RANDOMIZE_BASE, after it. */
#define PW_MODULES_VADDR	(PW_START_KERNEL_MAP + (1ULL << 30))
#define PW_MODULES_END		0xffffffffff000000ULL
/*
 * FIXADDR_TOP - FIXADDR_SIZE: FIXADDR_TOP is the page below the 2 MiB
 * above the vsyscall page, 0xffffffffff7ff000; the permanent fixmap slots
 * end after VSYSCALL_PAGE (511), FIX_DBGP_BASE, FIX_EARLYCON_MEM_BASE,
 * FIX_APIC_BASE and the 128 FIX_IO_APIC_BASE_*: 643 pages.
 */
#define PW_FIXADDR_START	(0xffffffffff7ff000ULL - (643ULL << 12))

/* Where every task sees the user trampoline (a VM_SPECIAL page): the last page
 * below 4-level TASK_SIZE_MAX (itself the guard page Linux keeps unmapped),
 * in both modes, as Linux keeps the stack below 47 bits with LA57
 * (DEFAULT_MAP_WINDOW). */
#define PW_USER_TRAMPOLINE	0x00007fffffffe000ULL
/* i386: the same, the last page below TASK_SIZE (0xc0000000) but one. */
#define PW_USER_TRAMPOLINE_32	0xbfffe000ULL

/*
 * Guest-physical regions the VMM reserves below 640 KiB, the classic
 * conventional-memory hole, so that a guest linked at 1 MiB or above is
 * free to load anywhere else.  The channel rings sit at the top of RAM and
 * are described in the FDT, never assumed.
 */
#define PW_BOOT_GDT		0x1000ULL
#define PW_BOOT_PGD		0x2000ULL	/* the table CR3 holds: PML4, PML5 with LA57;
						   i386: the page directory, or PAE's 4 PDPTEs */
#define PW_BOOT_PDPT_LOW	0x3000ULL	/* shared by identity and direct map */
#define PW_BOOT_PDPT_KERNEL	0x4000ULL
#define PW_BOOT_PD		0x5000ULL	/* one 2 MiB-page PD per GiB up to the end of RAM
						   (PAE: the one PD under PDPTEs 0 and 3) */
#define PW_MAX_MEM_GIB		64ULL
#define PW_BOOT_P4D_LOW		0x46000ULL	/* LA57 only: the PML4 of identity and direct map */
#define PW_BOOT_P4D_KERNEL	0x47000ULL	/* LA57 only: the PML4 of the kernel map */
#define PW_BOOT_STACK_TOP	0x60000ULL	/* 16 KiB initial RSP for any guest */
#define PW_BOOT_STACK_SIZE	0x4000ULL
#define PW_BOOT_FDT		0x60000ULL
#define PW_BOOT_FDT_MAX		0x10000ULL
#define PW_BOOT_AREA_START	0x1000ULL
#define PW_BOOT_AREA_END	0xa0000ULL

/*
 * Guest-physical RAM as PCs and kvmtool lay it out: [0, min(size, hole
 * start)), and the rest from 4 GiB.  The hole below 4 GiB is never RAM:
 * the IOAPIC (0xfec00000), the LAPIC and KVM's private APIC-access page
 * (0xfee00000) live there.  The guest reads the ranges from FDT /memory.
 */
#define PW_RAM_HOLE_START	0xd0000000ULL	/* 4 GiB - 768 MiB, kvmtool's KVM_32BIT_GAP_START */
#define PW_RAM_HOLE_END		0x100000000ULL

/* The image of the pagewalk guest itself (guest/guest.lds). */
#define PW_KERNEL_PHYS		0x200000ULL
#define PW_KERNEL_VIRT		(PW_START_KERNEL_MAP + PW_KERNEL_PHYS)

/* Ports every guest may use (README.md, "Running other guests"). */
#define PW_PORT_DEBUGCON	0xe9	/* Bochs/QEMU debug console */
#define PW_PORT_COM1		0x3f8	/* 16550 THR; LSR at +5 */
#define PW_PORT_EXIT		0xf4	/* isa-debug-exit: 32-bit write = status */
#define PW_PORT_DOORBELL	0x500	/* default; the guest reads it from the FDT */

#define PW_UART_LSR_THRE	0x20	/* transmit holding register empty */
#define PW_UART_LSR_TEMT	0x40	/* transmitter empty */

#endif
