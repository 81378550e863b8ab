/*
 * Page-table entries and walkers.  x86-64: 4- and 5-level paging in one
 * binary, as Linux's CONFIG_X86_5LEVEL has them
 * (arch/x86/include/asm/pgtable_64.h, pgtable_64_types.h): without LA57
 * the p4d level is folded into the pgd at run time, p4d_offset()
 * returning the pgd entry itself and pgd_none() never true.  i386
 * (CONFIG_X86_32): the geometry of pgtable-2level.h, or pgtable-3level.h
 * with CONFIG_X86_PAE, the levels those fold at build time, as Linux's do.
 */
#ifndef GUEST_PGTABLE_H
#define GUEST_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <pagewalk/layout.h>

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))

#ifdef CONFIG_X86_32
#include "pgtable_32_types.h"
#else
/* arch/head64.c, from CR4.LA57 at boot: Linux's variables of the same names. */
extern bool __pgtable_l5_enabled;
extern unsigned int pgdir_shift;	/* 48 with LA57, else 39 (p4d folded) */
extern unsigned int ptrs_per_p4d;	/* 512 with LA57, else 1 */
extern unsigned long page_offset_base, vmalloc_base;
bool check_la57_support(void);

static inline bool pgtable_l5_enabled(void)
{
	return __pgtable_l5_enabled;
}

typedef uint64_t pteval_t;
#define PMD_SHIFT	21
#define PUD_SHIFT	30
#define P4D_SHIFT	39
#define PGDIR_SHIFT	pgdir_shift
#define PTRS_PER_PTE	512
#define PTRS_PER_PMD	512
#define PTRS_PER_PUD	512
#define PTRS_PER_P4D	ptrs_per_p4d
#define PTRS_PER_PGD	512

#define PAGE_OFFSET		page_offset_base
#define PAGING_LEVELS		(pgtable_l5_enabled() ? 5 : 4)	/* layout.h's `levels` */
#define TASK_SIZE_MAX		PW_TASK_SIZE_MAX(PAGING_LEVELS)
#define KERNEL_PGD_BOUNDARY	pgd_index(PAGE_OFFSET)	/* 273 in both modes */
#define __PAGE_NX		(1ULL << 63)
#define PTE_PFN_MASK		0x000ffffffffff000UL
#define CR3_ADDR_MASK		PTE_PFN_MASK	/* no PCID in the low bits here */
#define SHARED_KERNEL_PMD	0	/* the kernel's top-level entries are copied into every pgd */
#define __pa_symbol(x)	((uint64_t)(uintptr_t)(x) - PW_START_KERNEL_MAP)
#endif

#define PMD_SIZE	(1UL << PMD_SHIFT)
#define PUD_SIZE	(1UL << PUD_SHIFT)
#define P4D_SIZE	(1UL << P4D_SHIFT)
#define PGDIR_SIZE	(1UL << PGDIR_SHIFT)
#define PMD_MASK	(~(PMD_SIZE - 1))
#define PUD_MASK	(~(PUD_SIZE - 1))
#define P4D_MASK	(~(P4D_SIZE - 1))
#define PGDIR_MASK	(~(PGDIR_SIZE - 1))
#define FIRST_USER_ADDRESS	0UL
#define USER_PGTABLES_CEILING	0UL

/* pteval_t, as Linux's _AT(pteval_t, 1): a mask of them keeps PAE's high half. */
#define _PAGE_PRESENT	((pteval_t)1 << 0)
#define _PAGE_RW	((pteval_t)1 << 1)
#define _PAGE_USER	((pteval_t)1 << 2)
#define _PAGE_PWT	((pteval_t)1 << 3)
#define _PAGE_PCD	((pteval_t)1 << 4)
#define _PAGE_ACCESSED	((pteval_t)1 << 5)
#define _PAGE_DIRTY	((pteval_t)1 << 6)
#define _PAGE_PSE	((pteval_t)1 << 7)
#define _PAGE_GLOBAL	((pteval_t)1 << 8)
#define _PAGE_PROTNONE	_PAGE_GLOBAL	/* user PTEs are never global: PROT_NONE, as x86 */
#define _PAGE_SPECIAL	((pteval_t)1 << 9)	/* software bit: no struct page refcount (zero page) */
#define _PAGE_NX	__PAGE_NX	/* 0 where the entries have no NX bit (2-level) */

/* Tables: _PAGE_TABLE grants everything, leaves restrict (arch/x86/include/asm/pgtable_types.h). */
#define _KERNPG_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
#define _PAGE_TABLE	(_KERNPG_TABLE | _PAGE_USER)

/*
 * Folded levels keep their own type with the entry in it, not Linux's
 * nesting (pmd_t holding a pud_t ...): the value is the same entry.
 */
typedef struct { pteval_t pte; } pte_t;
typedef struct { pteval_t pmd; } pmd_t;
typedef struct { pteval_t pud; } pud_t;
typedef struct { pteval_t p4d; } p4d_t;
typedef struct { pteval_t pgd; } pgd_t;
typedef pteval_t pgprot_t;

#define __pa(va)	((uint64_t)(uintptr_t)(va) - PAGE_OFFSET)

static inline void *table_va(uint64_t entry)
{
	return (void *)(uintptr_t)((entry & PTE_PFN_MASK) + PAGE_OFFSET);
}

static inline unsigned long pgd_index(unsigned long a) { return (a >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1); }
static inline unsigned long pte_index(unsigned long a) { return (a >> PAGE_SHIFT) & (PTRS_PER_PTE - 1); }

#if defined(CONFIG_X86_PAE)
#include "pgtable-nopud.h"
#elif defined(CONFIG_X86_32)
#include "pgtable-nopmd.h"
#else
static inline unsigned long p4d_index(unsigned long a) { return (a >> P4D_SHIFT) & (PTRS_PER_P4D - 1); }
static inline unsigned long pud_index(unsigned long a) { return (a >> PUD_SHIFT) & (PTRS_PER_PUD - 1); }

/* Folded (no LA57), a p4d_t is the pgd entry, and the pgd is never "none". */
static inline int pgd_none(pgd_t pgd) { return pgtable_l5_enabled() ? !pgd.pgd : 0; }
static inline int pgd_present(pgd_t pgd) { return pgtable_l5_enabled() ? pgd.pgd & _PAGE_PRESENT : 1; }
static inline p4d_t *p4d_offset(pgd_t *pgd, unsigned long a)
{
	return pgtable_l5_enabled() ? (p4d_t *)table_va(pgd->pgd) + p4d_index(a) : (p4d_t *)pgd;
}
static inline int p4d_none(p4d_t p4d) { return !p4d.p4d; }
static inline int p4d_present(p4d_t p4d) { return p4d.p4d & _PAGE_PRESENT; }
static inline pud_t *pud_offset(p4d_t *p4d, unsigned long a) { return (pud_t *)table_va(p4d->p4d) + pud_index(a); }
#endif
#ifndef __PAGETABLE_PMD_FOLDED	/* x86-64 and PAE: a PMD table under each pud (PAE: PDPTE) */
static inline unsigned long pmd_index(unsigned long a) { return (a >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline int pud_none(pud_t pud) { return !pud.pud; }
static inline int pud_present(pud_t pud) { return pud.pud & _PAGE_PRESENT; }
static inline pmd_t *pmd_offset(pud_t *pud, unsigned long a) { return (pmd_t *)table_va(pud->pud) + pmd_index(a); }
#endif
static inline int pmd_none(pmd_t pmd) { return !pmd.pmd; }
static inline int pmd_present(pmd_t pmd) { return pmd.pmd & _PAGE_PRESENT; }
static inline int pte_none(pte_t pte) { return !pte.pte; }
/* A PROT_NONE PTE is present to the kernel, not to the MMU. */
static inline int pte_present(pte_t pte) { return pte.pte & (_PAGE_PRESENT | _PAGE_PROTNONE); }
static inline int pte_write(pte_t pte) { return pte.pte & _PAGE_RW; }
static inline int pte_special(pte_t pte) { return pte.pte & _PAGE_SPECIAL; }
static inline uint64_t pte_pfn(pte_t pte) { return (pte.pte & PTE_PFN_MASK) >> PAGE_SHIFT; }

static inline pte_t *pte_offset_kernel(pmd_t *pmd, unsigned long a) { return (pte_t *)table_va(pmd->pmd) + pte_index(a); }

static inline unsigned long pgd_addr_end(unsigned long addr, unsigned long end)
{
	unsigned long b = (addr + PGDIR_SIZE) & PGDIR_MASK;

	return b - 1 < end - 1 ? b : end;
}

#ifndef CONFIG_X86_32
/* Folded, P4D_SIZE == PGDIR_SIZE: the one p4d of a pgd entry spans it all. */
static inline unsigned long p4d_addr_end(unsigned long addr, unsigned long end)
{
	unsigned long b = (addr + P4D_SIZE) & P4D_MASK;

	return b - 1 < end - 1 ? b : end;
}

static inline unsigned long pud_addr_end(unsigned long addr, unsigned long end)
{
	unsigned long b = (addr + PUD_SIZE) & PUD_MASK;

	return b - 1 < end - 1 ? b : end;
}
#endif

#ifndef __PAGETABLE_PMD_FOLDED
static inline unsigned long pmd_addr_end(unsigned long addr, unsigned long end)
{
	unsigned long b = (addr + PMD_SIZE) & PMD_MASK;

	return b - 1 < end - 1 ? b : end;
}
#endif

/* Single-copy-atomic accesses: the MMU (or another CPU) may be walking the entry. */

static inline pte_t ptep_get(pte_t *p) { return (pte_t){ __atomic_load_n(&p->pte, __ATOMIC_RELAXED) }; }
/*
 * On PAE an 8-byte store is a cmpxchg8b loop (lib/atomic64_32.c): set_pte()
 * is set_pte_atomic(), since callers here also rewrite present entries,
 * which native_set_pte()'s two 4-byte stores may not (pgtable-3level.h).
 */
static inline void set_pte(pte_t *p, pte_t v) { __atomic_store_n(&p->pte, v.pte, __ATOMIC_RELAXED); }
#ifdef CONFIG_X86_PAE
/* native_pte_clear(): the half with P first, so no walk sees the high half gone under a present low one. */
static inline void pte_clear(pte_t *p)
{
	uint32_t *half = (uint32_t *)&p->pte;

	__atomic_store_n(&half[0], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&half[1], 0, __ATOMIC_RELEASE);	/* smp_wmb() before it */
}
#else
static inline void pte_clear(pte_t *p) { set_pte(p, (pte_t){ 0 }); }
#endif
/* ptep_set_wrprotect(): an atomic clear of R/W, so that A and D the MMU sets meanwhile stay. */
static inline void ptep_set_wrprotect(pte_t *p) { __atomic_and_fetch(&p->pte, ~_PAGE_RW, __ATOMIC_RELAXED); }
static inline void set_pmd(pmd_t *p, pmd_t v) { __atomic_store_n(&p->pmd, v.pmd, __ATOMIC_RELAXED); }
static inline void set_pud(pud_t *p, pud_t v) { __atomic_store_n(&p->pud, v.pud, __ATOMIC_RELAXED); }
static inline void set_p4d(p4d_t *p, p4d_t v) { __atomic_store_n(&p->p4d, v.p4d, __ATOMIC_RELAXED); }
static inline void set_pgd(pgd_t *p, pgd_t v) { __atomic_store_n(&p->pgd, v.pgd, __ATOMIC_RELAXED); }
static inline void pmd_clear(pmd_t *p) { set_pmd(p, (pmd_t){ 0 }); }
#ifndef __PAGETABLE_PMD_FOLDED
/* PAE: a PDPTE cleared is seen only after a CR3 write (the callers flush so). */
static inline void pud_clear(pud_t *p) { set_pud(p, (pud_t){ 0 }); }
#endif
#ifndef CONFIG_X86_32
static inline void p4d_clear(p4d_t *p) { set_p4d(p, (p4d_t){ 0 }); }
/* Folded, the pgd entry is the p4d entry p4d_clear() already cleared. */
static inline void pgd_clear(pgd_t *p)
{
	if (pgtable_l5_enabled())
		set_pgd(p, (pgd_t){ 0 });
}

#endif

#endif
