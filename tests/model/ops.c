/* check-model's ops, typed by PW_OPS in shared/pagewalk/ops.h (VM_OP). */
#include "ops.h"

enum vmm_status gop_run(struct vm *vm, const struct mop *op, uint64_t task, uint64_t area,
			int64_t *result, uint64_t *value)
{
	struct pw_touch_out out = { 0 };
	unsigned int cpu = op->cpu;

	*value = 0;
	switch (op->kind) {
	case MOP_TASK_CREATE:
		return VM_OP(vm, cpu, task_create, result, NULL);
	case MOP_FORK:
		return VM_OP(vm, cpu, fork, result, NULL, task);
	case MOP_TASK_EXIT:
		return VM_OP(vm, cpu, task_exit, result, NULL, task);
	case MOP_MMAP:
		return VM_OP(vm, cpu, mmap, result, NULL, task, op->addr, op->len, op->prot);
	case MOP_MUNMAP:
		return VM_OP(vm, cpu, munmap, result, NULL, task, op->addr, op->len);
	case MOP_MPROTECT:
		return VM_OP(vm, cpu, mprotect, result, NULL, task, op->addr, op->len, op->prot);
	case MOP_TOUCH: {
		enum vmm_status s = VM_OP(vm, cpu, touch, result, &out, task, area + op->addr,
					  op->access, op->user, op->value);

		*value = out.value;
		return s;
	}
	case MOP_VMALLOC:
		return VM_OP(vm, cpu, vmalloc, result, NULL, op->len, op->addr);
	case MOP_VFREE:
		return VM_OP(vm, cpu, vfree, result, NULL, area);
	case MOP_VMALLOC_SYNC:
		return VM_OP(vm, cpu, vmalloc_sync, result, NULL);
	default:
		return VMM_BAD_INPUT;
	}
}

enum vmm_status gop_mm_info(struct vm *vm, uint64_t task, struct gop_mm *mi)
{
	struct pw_mm_info_out out;
	enum vmm_status s = VM_OP(vm, 0, mm_info, &mi->bytes, &out, task);

	mi->tables[M_PUD] = out.puds;
	mi->tables[M_PMD] = out.pmds;
	mi->tables[M_PTE] = out.ptes;
	mi->anon = out.anon;
	return s;
}

enum vmm_status gop_meminfo(struct vm *vm, struct gop_mem *mem)
{
	struct pw_meminfo_out out;
	int64_t total;
	enum vmm_status s = VM_OP(vm, 0, meminfo, &total, &out);

	*mem = (struct gop_mem){ total, out.free, out.pgtable, out.anon, out.slab };
	return s;
}

enum vmm_status gop_kinfo(struct vm *vm, struct gop_kinfo *k)
{
	struct pw_kinfo_out out;
	int64_t swapper;
	enum vmm_status s = VM_OP(vm, 0, kinfo, &swapper, &out);

	*k = (struct gop_kinfo){ swapper, out.pgd_list, out.syncs, out.vmalloc_faults };
	return s;
}
