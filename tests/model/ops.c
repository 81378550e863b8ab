/* check-model's ops, as PW_OPS in shared/pagewalk/channel.h defines their arguments. */
#include "ops.h"

static const enum pw_op op_of[MOP_KINDS] = {
	[MOP_TASK_CREATE] = PW_OP_TASK_CREATE, [MOP_FORK] = PW_OP_FORK,
	[MOP_TASK_EXIT] = PW_OP_TASK_EXIT, [MOP_MMAP] = PW_OP_MMAP, [MOP_MUNMAP] = PW_OP_MUNMAP,
	[MOP_MPROTECT] = PW_OP_MPROTECT, [MOP_TOUCH] = PW_OP_TOUCH, [MOP_VMALLOC] = PW_OP_VMALLOC,
	[MOP_VFREE] = PW_OP_VFREE, [MOP_VMALLOC_SYNC] = PW_OP_VMALLOC_SYNC,
};

enum vmm_status gop_run(struct vm *vm, const struct mop *op, uint64_t task, uint64_t area,
			int64_t *result, uint64_t *value)
{
	uint64_t args[6] = { 0 }, out[4] = { 0 };
	enum vmm_status s;

	switch (op->kind) {
	case MOP_MMAP:
	case MOP_MUNMAP:
	case MOP_MPROTECT:
		args[0] = task;
		args[1] = op->addr;
		args[2] = op->len;
		args[3] = op->prot;
		break;
	case MOP_TOUCH:
		args[0] = task;
		args[1] = area + op->addr;
		args[2] = op->access;
		args[3] = op->user;
		args[4] = op->value;
		break;
	case MOP_VMALLOC:
		args[0] = op->len;
		args[1] = op->addr;
		break;
	case MOP_VFREE:
		args[0] = area;
		break;
	default:
		args[0] = task;
		break;
	}
	s = vm_op(vm, op->cpu, op_of[op->kind], args, result, out);
	*value = out[0];
	return s;
}

enum vmm_status gop_mm_info(struct vm *vm, uint64_t task, struct gop_mm *mi)
{
	uint64_t args[6] = { task }, out[4];
	enum vmm_status s = vm_op(vm, 0, PW_OP_MM_INFO, args, &mi->bytes, out);

	mi->tables[M_PUD] = out[0];
	mi->tables[M_PMD] = out[1];
	mi->tables[M_PTE] = out[2];
	mi->anon = out[3];
	return s;
}

enum vmm_status gop_meminfo(struct vm *vm, struct gop_mem *mem)
{
	uint64_t out[4];
	int64_t total;
	enum vmm_status s = vm_op(vm, 0, PW_OP_MEMINFO, NULL, &total, out);

	*mem = (struct gop_mem){ total, out[0], out[1], out[2], out[3] };
	return s;
}

enum vmm_status gop_kinfo(struct vm *vm, struct gop_kinfo *k)
{
	uint64_t out[4];
	int64_t swapper;
	enum vmm_status s = vm_op(vm, 0, PW_OP_KINFO, NULL, &swapper, out);

	*k = (struct gop_kinfo){ swapper, out[0], out[1], out[2] };
	return s;
}
