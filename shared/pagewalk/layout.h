/* SPDX-License-Identifier: MIT */
/*
 * Guest address-space layout and the I/O ports of the boot protocol.
 * Included by the VMM and by the guest; README.md, "Running other guests".
 */
#ifndef PAGEWALK_LAYOUT_H
#define PAGEWALK_LAYOUT_H

/* Linux x86-64 virtual layout (Documentation/arch/x86/x86_64/mm.rst). */
#define PW_PAGE_OFFSET		0xffff888000000000ULL	/* direct map of all RAM */
#define PW_VMALLOC_START	0xffffc90000000000ULL
#define PW_START_KERNEL_MAP	0xffffffff80000000ULL	/* kernel image: va = pa + this */
#define PW_KERNEL_MAP_SIZE	0x40000000ULL		/* 1 GiB mapped by the boot tables */

/* Where every task sees the user trampoline (a VM_SPECIAL page): the last page
 * below TASK_SIZE_MAX, which itself is the guard page Linux keeps unmapped. */
#define PW_USER_TRAMPOLINE	0x00007fffffffe000ULL

/*
 * Guest-physical regions the VMM reserves below 640 KiB, the classic
 * conventional-memory hole, so that a guest linked at 1 MiB or above is
 * free to load anywhere else.  The channel rings sit at the top of RAM and
 * are described in the FDT, never assumed.
 */
#define PW_BOOT_GDT		0x1000ULL
#define PW_BOOT_PML4		0x2000ULL
#define PW_BOOT_PDPT_LOW	0x3000ULL	/* shared by identity and direct map */
#define PW_BOOT_PDPT_KERNEL	0x4000ULL
#define PW_BOOT_PD		0x5000ULL	/* one 2 MiB-page PD per GiB up to the end of RAM */
#define PW_MAX_MEM_GIB		64ULL
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
