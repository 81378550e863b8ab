/*
 * The model's only door to the guest's op ABI (PW_OPS): every vm_op() of
 * check-model is in ops.c, so that a typed op API replaces it in one place.
 */
#ifndef PAGEWALK_MODEL_OPS_H
#define PAGEWALK_MODEL_OPS_H

#include "model.h"

struct gop_mm {
	int64_t bytes;			/* pgtables_bytes */
	uint64_t tables[M_TABLE_LEVELS];	/* PTE, PMD, PUD tables */
	uint64_t anon;			/* MM_ANONPAGES */
};

struct gop_mem {
	uint64_t total, free, pgtable, anon, slab;
};

struct gop_kinfo {
	uint64_t swapper, pgd_list, syncs, vmalloc_faults;
};

/*
 * Run one op of a sequence on its vCPU: `task` is the guest's id of the
 * op's task, `area` the address of the vmalloc area it names (0: none).
 * *value gets what a read touch read.
 */
enum vmm_status gop_run(struct vm *vm, const struct mop *op, uint64_t task, uint64_t area,
			int64_t *result, uint64_t *value);
enum vmm_status gop_mm_info(struct vm *vm, uint64_t task, struct gop_mm *mi);
enum vmm_status gop_meminfo(struct vm *vm, struct gop_mem *mem);
enum vmm_status gop_kinfo(struct vm *vm, struct gop_kinfo *k);

#endif
