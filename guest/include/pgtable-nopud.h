/* The pud folded into the p4d (include/asm-generic/pgtable-nopud.h). */
#ifndef GUEST_PGTABLE_NOPUD_H
#define GUEST_PGTABLE_NOPUD_H

#include "pgtable-nop4d.h"

#define PUD_SHIFT	P4D_SHIFT
#define PTRS_PER_PUD	1
#define __PAGETABLE_PUD_FOLDED 1

static inline unsigned long pud_index(unsigned long a) { (void)a; return 0; }
static inline int p4d_none(p4d_t p4d) { (void)p4d; return 0; }
static inline int p4d_present(p4d_t p4d) { (void)p4d; return 1; }
static inline void p4d_clear(p4d_t *p) { (void)p; }
static inline pud_t *pud_offset(p4d_t *p4d, unsigned long a) { (void)a; return (pud_t *)p4d; }
static inline unsigned long pud_addr_end(unsigned long addr, unsigned long end) { (void)addr; return end; }

#endif
