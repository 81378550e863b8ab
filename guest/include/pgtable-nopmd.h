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

static inline unsigned long pmd_index(unsigned long a) { (void)a; return 0; }
static inline int pud_none(pud_t pud) { (void)pud; return 0; }
static inline int pud_present(pud_t pud) { (void)pud; return 1; }
static inline void pud_clear(pud_t *p) { (void)p; }
static inline pmd_t *pmd_offset(pud_t *pud, unsigned long a) { (void)a; return (pmd_t *)pud; }
static inline unsigned long pmd_addr_end(unsigned long addr, unsigned long end) { (void)addr; return end; }

#endif
