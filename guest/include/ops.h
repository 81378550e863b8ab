/*
 * Ops that act on one task's mm, found by op code in one table the linker
 * collects (section .task_ops), so that guest/test/ adds its ops without
 * kernel/ops.c naming them.  The serving loop looks the task up and holds
 * a reference to its mm around the call.
 */
#ifndef GUEST_OPS_H
#define GUEST_OPS_H

#include <stdint.h>

struct task_struct;
struct mm_struct;

struct task_op {
	uint32_t op;
	int64_t (*fn)(struct task_struct *t, struct mm_struct *mm, const uint64_t *args,
		      uint64_t *out);
};

#define DEFINE_TASK_OP(code, handler)						\
	static const struct task_op __task_op_##handler				\
	__attribute__((used, section(".task_ops"), aligned(8))) = { (code), (handler) }

#endif
