/*
 * The p4d folded into the pgd at build time (include/asm-generic/pgtable-nop4d.h):
 * a p4d_t is the pgd entry, the pgd is never "none", and clearing or
 * populating it is the level below's business.
 */
#ifndef GUEST_PGTABLE_NOP4D_H
#define GUEST_PGTABLE_NOP4D_H

#define P4D_SHIFT	PGDIR_SHIFT
#define PTRS_PER_P4D	1

static inline unsigned long p4d_index(unsigned long a) { (void)a; return 0; }
static inline int pgd_none(pgd_t pgd) { (void)pgd; return 0; }
static inline int pgd_present(pgd_t pgd) { (void)pgd; return 1; }
static inline void pgd_clear(pgd_t *p) { (void)p; }
static inline p4d_t *p4d_offset(pgd_t *pgd, unsigned long a) { (void)a; return (p4d_t *)pgd; }
static inline unsigned long p4d_addr_end(unsigned long addr, unsigned long end) { (void)addr; return end; }

#endif
