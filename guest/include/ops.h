/*
 * Op handlers, one per entry of PW_OPS, found by op code in one table the
 * linker collects (section .ops), so that guest/test/ adds its ops without
 * kernel/ops.c naming them.  A handler takes its op's own argument and
 * result structs: DEFINE_OP(mmap, fn) does not compile unless fn takes
 * struct pw_mmap_args and struct pw_mmap_out.  A task op's first argument
 * is its task: the serving loop looks it up (-ESRCH if there is none) and
 * holds a reference to its mm around the call.
 */
#ifndef GUEST_OPS_H
#define GUEST_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <pagewalk/ops.h>

struct task_struct;
struct mm_struct;

struct op_handler {
	uint32_t op;
	int64_t (*fn)(const union pw_op_args *args, union pw_op_out *out);
	int64_t (*task_fn)(struct task_struct *t, struct mm_struct *mm,
			   const union pw_op_args *args, union pw_op_out *out);
} __attribute__((aligned(8)));	/* the linker's stride in .ops: 16 bytes on i386, not 12 */

#define __OP_HANDLER(name, member, wrapper)					\
	static const struct op_handler __op_handler_##name			\
	__attribute__((used, section(".ops"), aligned(8))) =			\
		{ .op = PW_OP_ID_##name, .member = wrapper }

#define DEFINE_OP(name, handler)						\
	static int64_t __op_##name(const union pw_op_args *args, union pw_op_out *out) \
	{									\
		return handler(&args->name, &out->name);			\
	}									\
	__OP_HANDLER(name, fn, __op_##name)

#define DEFINE_TASK_OP(name, handler)						\
	_Static_assert(offsetof(struct pw_##name##_args, task) == 0,		\
		       "a task op's first argument is its task");		\
	static int64_t __op_##name(struct task_struct *t, struct mm_struct *mm,	\
				   const union pw_op_args *args, union pw_op_out *out) \
	{									\
		return handler(t, mm, &args->name, &out->name);			\
	}									\
	__OP_HANDLER(name, task_fn, __op_##name)

#endif
