/*
 * check-model: an independent reference model of the guest's address
 * spaces, written from Linux's documented semantics (mm/mmap.c, mm/vma.c,
 * mm/mprotect.c, mm/memory.c, kernel/fork.c, arch/x86/mm/fault.c) and the
 * SDM, never from the guest's code.  README.md, "Reference model".
 */
#ifndef PAGEWALK_MODEL_H
#define PAGEWALK_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libvmm.h"

#define M_PAGE		4096ULL
#define M_PMD_SIZE	(1ULL << 21)
#define M_PUD_SIZE	(1ULL << 30)
#define M_PGDIR_SIZE	(1ULL << 39)
#define M_TASK_SIZE	0x00007ffffffff000ULL	/* TASK_SIZE_MAX, 4-level */
#define M_VMALLOC_START	0xffffc90000000000ULL
#define M_VMALLOC_END	0xffffe8ffffffffffULL	/* 32 TiB, Documentation/arch/x86/x86_64/mm.rst */

#define M_LABELS	16	/* task and vmalloc-area labels per sequence: t1..t15, v1..v15 */
#define M_VMAS		64

/* One op of a sequence, as a line of a replay file (script.c). */
enum mop_kind {
	MOP_TASK_CREATE, MOP_FORK, MOP_TASK_EXIT, MOP_MMAP, MOP_MUNMAP, MOP_MPROTECT,
	MOP_TOUCH, MOP_VMALLOC, MOP_VFREE, MOP_VMALLOC_SYNC, MOP_KINDS
};

struct mop {
	enum mop_kind kind;
	unsigned int task;	/* label of the task it acts on (t1 = 1) */
	unsigned int label;	/* the label it defines: a task (create, fork) or an area (vmalloc) */
	unsigned int area;	/* VFREE: the area's label */
	uint64_t addr, len;	/* VMALLOC: hint, size */
	unsigned int prot;	/* PW_PROT_* */
	unsigned int access;	/* PW_ACCESS_READ, _WRITE or _FETCH */
	bool user;
	uint64_t value;
	unsigned int cpu;	/* the vCPU that runs it */
};

struct mseq {
	struct mop *ops;
	unsigned int n, cap;
};

/* Page-table levels below the pgd, as the model indexes them. */
enum { M_PTE, M_PMD, M_PUD, M_TABLE_LEVELS };

/* A set of tables of one level, keyed by va >> (shift of the range one covers). */
struct tset {
	uint64_t *keys;
	unsigned int n, cap;
};

struct mvma {
	uint64_t start, end;
	unsigned int prot;
	bool anon_vma;		/* anon_vma_prepare() has run: fork copies its PTEs */
	bool special;		/* the trampoline, a VM_SPECIAL-like page */
};

enum mpte_kind { MPTE_ZERO = 1, MPTE_ANON, MPTE_SPECIAL };

struct mpte {
	uint64_t va;
	enum mpte_kind kind;
	int page;		/* MPTE_ANON: index in model.pages */
	bool writable;
};

/* One task and its mm. */
struct mtask {
	bool live;
	unsigned int id;	/* the guest's task id */
	uint64_t mm, pgd;	/* the guest's mm id and pgd, learned from PGD_CTOR */
	struct mvma vmas[M_VMAS];
	unsigned int nvmas;
	struct mpte *ptes;
	unsigned int nptes, cap;
	struct tset tables[M_TABLE_LEVELS];
	uint64_t kernel_pgds[4];	/* bitmap: top-level entries 256..511 this pgd has */
	unsigned int allocs[M_TABLE_LEVELS], frees[M_TABLE_LEVELS];	/* during this op */
};

/* An anonymous page: who maps it, whether it is exclusive, what it holds. */
struct mpage {
	bool live;
	unsigned int mapcount;
	bool exclusive;		/* PageAnonExclusive */
	uint64_t frame;		/* guest-physical, learned from its MAP event; 0 unknown */
	uint64_t *words;	/* 512 */
};

#define M_AREA_WRITES	8

struct marea {
	bool live;
	uint64_t addr, size;
	uint64_t wva[M_AREA_WRITES], wval[M_AREA_WRITES];	/* what the kernel wrote there */
	unsigned int nw;
};

/* What the model says an op must do. */
#define M_MAX_FAULTS	4
enum { M_EV_FAULT, M_EV_MAP, M_EV_EXIT, M_EV_VFAULT };

struct mexpect {
	int64_t result;
	bool any_result;		/* VMALLOC: any address the allocator may give */
	bool check_value;
	uint64_t value;
	struct { uint64_t addr; uint32_t error_code; unsigned int outcome, tables; } faults[M_MAX_FAULTS];
	unsigned int nfaults;
	struct { uint64_t addr; unsigned int kind; int page; } maps[M_MAX_FAULTS];
	unsigned int nmaps;
	int exited;			/* label of a task the op ended (0: none), and why */
	unsigned int exit_signal;
	struct { unsigned int task, index; } vfaults[2];	/* VMALLOC_FAULT */
	unsigned int nvfaults;
	unsigned int syncs;		/* KERNEL_SYNC events */
	unsigned int kernel_allocs[M_TABLE_LEVELS];	/* init_mm tables */
	bool unpredictable;		/* a fetch of code the model does not know */
};

/* The machine the model runs on: what it reads once per VM. */
struct mmachine {
	bool nx;		/* EFER.NXE: NX in every PTE without PROT_EXEC */
	bool wp;		/* CR0.WP: the kernel obeys R/W */
	bool fetch_bit;		/* the #PF error code reports instruction fetches (NXE or SMEP) */
	enum pw_kernel_sync sync;
};

struct model {
	struct mmachine hw;
	struct mtask tasks[M_LABELS];		/* by label */
	struct marea areas[M_LABELS];		/* by label */
	struct mpage *pages;
	unsigned int npages;
	/* The kernel half, which outlives sequences: it lives as long as the VM. */
	uint64_t swapper_pgds[4];		/* bitmap of entries 256..511 */
	struct tset kernel_tables[M_TABLE_LEVELS];	/* init_mm's in the vmalloc area */
	unsigned int kernel_tables_new;		/* installed since the VM booted */
	uint64_t syncs, vmalloc_faults;		/* since the VM booted */
	struct mexpect ex;
};

/* model.c: the user address spaces. */
void model_init(struct model *m, const struct mmachine *hw);
void model_reset_user(struct model *m);	/* after a sequence: no task, no page */
void model_free(struct model *m);
void model_apply(struct model *m, const struct mop *op);	/* fills m->ex */
const struct mvma *model_find_vma(const struct mtask *t, uint64_t addr);
const struct mpte *model_pte(const struct mtask *t, uint64_t va);
unsigned int model_anon_pages(const struct model *m);	/* live anonymous pages */
unsigned int model_mm_anon(const struct mtask *t);	/* MM_ANONPAGES */
void model_exit_mmap(struct model *m, struct mtask *t);

/* pgtables.c: which tables an mm owns, by the geometry. */
bool tset_has(const struct tset *s, uint64_t key);
bool tset_add(struct tset *s, uint64_t key);		/* true if it was new */
bool tset_del(struct tset *s, uint64_t key);
void tset_free(struct tset *s);
unsigned int tables_install(struct mtask *t, uint64_t va);	/* new tables for va's PTE */
void free_pgtables(struct mtask *t, const struct mvma *vmas, unsigned int n, uint64_t floor,
		   uint64_t ceiling);
void copy_tables(struct mtask *child, const struct mtask *parent, const struct mvma *vma);

/* kernel.c: the kernel half, vmalloc and --kernel-sync. */
const char *kernel_vmalloc(struct model *m, unsigned int label, uint64_t hint, uint64_t size,
			   uint64_t addr);	/* NULL, or why addr cannot be Linux's */
void kernel_vfree(struct model *m, unsigned int label);
void kernel_vmalloc_sync(struct model *m);
bool kernel_pgd_has(const uint64_t bitmap[4], uint64_t va);
void kernel_pgd_set(uint64_t bitmap[4], uint64_t va);
struct marea *kernel_area(struct model *m, uint64_t va);	/* the live area mapping va */
struct marea *kernel_access(struct model *m, unsigned int label, uint64_t va);

#endif
