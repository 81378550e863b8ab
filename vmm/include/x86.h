/*
 * The x86 architectural bits libvmm and its users speak in, once, with
 * Linux's names (asm/processor-flags.h, asm/msr-index.h, asm/trap_pf.h);
 * page-table entry bits are pgtable_types.h's _PAGE_* as PT_*.
 */
#ifndef LIBVMM_X86_H
#define LIBVMM_X86_H

#define X86_EFLAGS_TF		(1ULL << 8)
#define X86_EFLAGS_IF		(1ULL << 9)
#define X86_EFLAGS_AC		(1ULL << 18)

#define X86_CR0_PE		(1ULL << 0)
#define X86_CR0_MP		(1ULL << 1)
#define X86_CR0_ET		(1ULL << 4)
#define X86_CR0_NE		(1ULL << 5)
#define X86_CR0_WP		(1ULL << 16)
#define X86_CR0_AM		(1ULL << 18)
#define X86_CR0_PG		(1ULL << 31)

#define X86_CR4_PSE		(1ULL << 4)	/* 4 MiB pages in two-level paging */
#define X86_CR4_PAE		(1ULL << 5)
#define X86_CR4_PGE		(1ULL << 7)
#define X86_CR4_OSFXSR		(1ULL << 9)
#define X86_CR4_OSXMMEXCPT	(1ULL << 10)
#define X86_CR4_LA57		(1ULL << 12)
#define X86_CR4_SMEP		(1ULL << 20)
#define X86_CR4_SMAP		(1ULL << 21)
#define X86_CR4_PKE		(1ULL << 22)

#define EFER_SCE		(1ULL << 0)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define EFER_NXE		(1ULL << 11)

#define PT_PRESENT		(1ULL << 0)
#define PT_RW			(1ULL << 1)
#define PT_USER			(1ULL << 2)
#define PT_PWT			(1ULL << 3)
#define PT_PCD			(1ULL << 4)
#define PT_ACCESSED		(1ULL << 5)
#define PT_DIRTY		(1ULL << 6)
#define PT_PSE			(1ULL << 7)	/* PAT in a PTE */
#define PT_GLOBAL		(1ULL << 8)
#define PT_PAT_LARGE		(1ULL << 12)
#define PT_PKEY_SHIFT		59		/* protection key, bits 62:59 of a leaf */
#define PT_NX			(1ULL << 63)
#define PT_ADDR_MASK		0x000ffffffffff000ULL
#define PT_ADDR_MASK_32		0xfffff000ULL	/* two-level paging's 4-byte entries */
#define PT_PAE_PDPT_MASK	0xffffffe0ULL	/* CR3 under PAE: the 32-byte-aligned PDPT */

/* The #PF error code. */
#define X86_PF_PROT		(1u << 0)
#define X86_PF_WRITE		(1u << 1)
#define X86_PF_USER		(1u << 2)
#define X86_PF_RSVD		(1u << 3)
#define X86_PF_INSTR		(1u << 4)
#define X86_PF_PK		(1u << 5)

#endif
