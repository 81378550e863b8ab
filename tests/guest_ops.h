/* Ops on the pagewalk guest's tasks, each asserting that the op itself ran. */
#ifndef PAGEWALK_TEST_GUEST_OPS_H
#define PAGEWALK_TEST_GUEST_OPS_H

#include <stdbool.h>

#include <pagewalk/sizes.h>

#include "libvmm.h"

#define RW (PW_PROT_READ | PW_PROT_WRITE)

struct mm_info {
	int64_t bytes;			/* pgtables_bytes */
	uint64_t p4ds, puds, pmds, ptes, anon;	/* p4ds: 0 where the level is folded */
};

/*
 * op(vm, mmap, out, task, addr, len, prot): VM_OP on cpu 0, which must
 * return VMM_OK; gives the op's result.  `out` is a struct pw_<op>_out *
 * or NULL.
 */
#define op(vm, name, out, ...) ({						\
	int64_t __op_res;							\
										\
	op_ran((vm), #name, VM_OP((vm), 0, name, &__op_res, (out), __VA_ARGS__)); \
	__op_res;								\
})
void op_ran(struct vm *vm, const char *name, enum vmm_status s);
uint64_t new_task(struct vm *vm);
void map(struct vm *vm, uint64_t t, uint64_t addr, uint64_t len, uint64_t prot);
void unmap(struct vm *vm, uint64_t t, uint64_t addr, uint64_t len);
int64_t touch(struct vm *vm, uint64_t t, uint64_t addr, int access, bool user, uint64_t val,
	      uint64_t *out);
struct mm_info mm_info(struct vm *vm, uint64_t t);
void warm_up(struct vm *vm, uint64_t t);
uint64_t free_pages(struct vm *vm);	/* the guest allocator's, from MEMINFO */
uint64_t anon_pages(struct vm *vm);	/* anonymous pages mapped, from MEMINFO */
void cow_write(struct vm *vm, uint64_t t, uint64_t addr, uint64_t val, enum pw_map_kind kind);
uint64_t user_read(struct vm *vm, uint64_t t, uint64_t addr);
struct vm_walk walk_user(struct vm *vm, uint64_t mm, uint64_t addr);


/* The physical address of mm's pgd (mm ids count from 1; 0 is init_mm), from PGD_CTOR. */
uint64_t pgd_of(struct vm *vm, uint64_t mm);

/*
 * The host's own count, from guest RAM: tables reachable from entries
 * first..last of the table at paging level `level` (the pgd is at the
 * vCPU's vm_levels(): 4, or 5 under LA57).  tables[] is indexed by the
 * events' level numbers, enum pw_level (tables[PW_LEVEL_PUD] counts PUD
 * tables): below the pgd the two numberings agree, p4d being level 4.
 */
void count_tables(struct vm *vm, uint64_t table, unsigned int level, unsigned int first,
		  unsigned int last, unsigned int tables[PW_LEVEL_PGD]);

#endif
