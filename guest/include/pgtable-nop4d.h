/*
 * The p4d folded into the pgd at build time (include/asm-generic/pgtable-nop4d.h):
 * a p4d_t is the pgd entry, the pgd is never "none", and clearing or
 * populating it is the level below's business.
 */
#ifndef GUEST_PGTABLE_NOP4D_H
#define GUEST_PGTABLE_NOP4D_H

/*
 * What folding `lower` into `upper` gives, the same at every level of the
 * asm-generic headers: one `lower` entry per `upper` entry, the `upper`
 * entry itself, never none, always present, cleared with the level below;
 * an address range never ends early at the folded level.
 */
#define __PGTABLE_FOLD(upper, lower)							\
static inline unsigned long lower##_index(unsigned long a) { (void)a; return 0; }		\
static inline int upper##_none(upper##_t e) { (void)e; return 0; }				\
static inline int upper##_present(upper##_t e) { (void)e; return 1; }				\
static inline void upper##_clear(upper##_t *p) { (void)p; }					\
static inline lower##_t *lower##_offset(upper##_t *e, unsigned long a) { (void)a; return (lower##_t *)e; } \
static inline unsigned long lower##_addr_end(unsigned long addr, unsigned long end) { (void)addr; return end; }

#define P4D_SHIFT	PGDIR_SHIFT
#define PTRS_PER_P4D	1
__PGTABLE_FOLD(pgd, p4d)

#endif
