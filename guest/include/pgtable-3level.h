/*
 * Three-level i386 paging, PAE (arch/x86/include/asm/pgtable-3level_types.h):
 * 8-byte entries with NX in bit 63, a pgd of four PDPTEs over 512-entry PMD
 * and PTE tables; p4d and pud are folded into the pgd (pgtable-nopud.h),
 * the pmd is not.
 */
#ifndef GUEST_PGTABLE_3LEVEL_H
#define GUEST_PGTABLE_3LEVEL_H

typedef uint64_t pteval_t;
#define PGDIR_SHIFT	30		/* a PDPTE maps 1 GiB */
#define PTRS_PER_PGD	4
#define PMD_SHIFT	21
#define PTRS_PER_PMD	512
#define PTRS_PER_PTE	512
#define PTE_PFN_MASK	0x000ffffffffff000ULL	/* __PHYSICAL_MASK_SHIFT 52 */
#define __PAGE_NX	(1ULL << 63)
/*
 * Every pgd points at swapper_pg_dir's one kernel PMD (under PDPTE 3), as
 * PAE kernels without PTI did (SHARED_KERNEL_PMD is !X86_FEATURE_PTI since
 * 4.19; with PTI each pgd has its own) until 2025, when Dave Hansen's
 * series "x86/mm: Preallocate all PAE page tables" gave every pgd its own.
 */
#define SHARED_KERNEL_PMD	1

#endif
