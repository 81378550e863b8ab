/*
 * Two-level i386 paging without PAE (arch/x86/include/asm/pgtable-2level_types.h):
 * 4-byte entries, a 1024-entry page directory over 1024-entry page tables;
 * p4d, pud and pmd are folded into the pgd (pgtable-nopmd.h).
 */
#ifndef GUEST_PGTABLE_2LEVEL_H
#define GUEST_PGTABLE_2LEVEL_H

typedef uint32_t pteval_t;
#define PGDIR_SHIFT	22		/* a pgd entry maps 4 MiB */
#define PTRS_PER_PGD	1024
#define PTRS_PER_PTE	1024
#define PTE_PFN_MASK	0xfffff000UL	/* 32-bit physical addresses */
#define __PAGE_NX	0		/* no NX bit in a 4-byte entry */
#define SHARED_KERNEL_PMD	0	/* the kernel's pgd entries are copied into every pgd */

#endif
