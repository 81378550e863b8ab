/*
 * A kernel bug on purpose (kernel_deref): a plain load or store of a user
 * address in the task's mm, with no exception-table entry and no stac, as
 * a driver that dereferences a __user pointer does.  What follows is
 * do_user_addr_fault()'s to decide: under SMAP an oops; without it the
 * fault is handled as the user's own would be, and only an address no VMA
 * allows ends in an oops (no fixup to take).
 */
#include "asm.h"
#include "mm.h"
#include "ops.h"
#include "task.h"

static int64_t op_kernel_deref(struct task_struct *t, struct mm_struct *mm,
			       const struct pw_kernel_deref_args *a, struct pw_kernel_deref_out *o)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)a->addr;

	(void)t;
	switch_mm(mm);
	local_irq_enable();
	if (a->write)
		*p = a->value;
	else
		o->value = *p;
	local_irq_disable();
	switch_mm(&init_mm);
	return 0;
}
DEFINE_TASK_OP(kernel_deref, op_kernel_deref);
