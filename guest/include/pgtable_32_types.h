/*
 * i386's address space (arch/x86/include/asm/page_32_types.h,
 * pgtable_32_areas.h): the 3G/1G split, lowmem only, the geometry of
 * two-level paging (pgtable-2level.h) or, with CONFIG_X86_PAE, of PAE
 * (pgtable-3level.h): a build-time choice, as in Linux.
 */
#ifndef GUEST_PGTABLE_32_TYPES_H
#define GUEST_PGTABLE_32_TYPES_H

#ifdef CONFIG_X86_PAE
#include "pgtable-3level.h"
#define PAGING_LEVELS		3	/* layout.h's `levels` */
#else
#include "pgtable-2level.h"
#define PAGING_LEVELS		2
#endif

#define PAGE_OFFSET		((unsigned long)PW_PAGE_OFFSET_32)	/* __PAGE_OFFSET, CONFIG_VMSPLIT_3G */
#define TASK_SIZE_MAX		PAGE_OFFSET	/* user space is everything below the kernel */
#define KERNEL_PGD_BOUNDARY	pgd_index(PAGE_OFFSET)	/* 768: 0xc0000000 >> 22; PAE: 3 */
/* Linux's 32-bit CR3_ADDR_MASK: all of it, as a PAE pgd is 32-byte aligned (bits 31:5). */
#define CR3_ADDR_MASK		0xffffffffUL
/* The kernel image is in the direct map: no __START_KERNEL_map on i386. */
#define __pa_symbol(x)		__pa(x)
static inline bool pgtable_l5_enabled(void)
{
	return false;
}

/*
 * VMALLOC_START: an 8 MiB hole (VMALLOC_OFFSET) after high_memory, the end
 * of lowmem, as pgtable_32_areas.h has it (high_memory an address, not
 * Linux's void *), set by paging_init() from the RAM the FDT gives.
 * VMALLOC_END: PW_VMALLOC_END_32.
 */
extern unsigned long high_memory;
#define VMALLOC_OFFSET		(8UL << 20)
#define VMALLOC_START		(high_memory + VMALLOC_OFFSET)
#define VMALLOC_END		((unsigned long)PW_VMALLOC_END_32)

#endif
