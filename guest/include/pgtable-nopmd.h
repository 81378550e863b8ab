/*
 * The pmd folded into the pud (include/asm-generic/pgtable-nopmd.h): on
 * two-level paging the pmd entry pmd_offset() returns is the pgd entry
 * itself, so pmd_none() tests the page-directory entry and pmd_alloc()
 * never allocates.
 */
#ifndef GUEST_PGTABLE_NOPMD_H
#define GUEST_PGTABLE_NOPMD_H

#include "pgtable-nopud.h"

#define PMD_SHIFT	PUD_SHIFT
#define PTRS_PER_PMD	1
#define __PAGETABLE_PMD_FOLDED 1
__PGTABLE_FOLD(pud, pmd)

#endif
