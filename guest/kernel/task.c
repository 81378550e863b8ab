/* Tasks: one mm each, run in ring 3 one access at a time through the trampoline. */
#include "asm.h"
#include "kernel.h"
#include "mm.h"
#include "task.h"

static struct task_struct tasks[64];

static struct task_struct *free_task_slot(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(tasks); i++) {
		if (!tasks[i].mm) {
			tasks[i].id = i + 1;
			return &tasks[i];
		}
	}
	return NULL;
}

long task_create(void)
{
	struct task_struct *t = free_task_slot();
	long err;

	if (!t)
		return -PW_ENOMEM;
	t->mm = mm_alloc();
	if (!t->mm)
		return -PW_ENOMEM;
	/* Like the vDSO: a kernel page every task can execute. */
	err = install_special_mapping(t->mm, PW_USER_TRAMPOLINE,
				      __pa_symbol(__user_trampoline) >> PAGE_SHIFT);
	if (err < 0) {
		mmput(t->mm);
		t->mm = NULL;
		return err;
	}
	return t->id;
}

/* fork() with copy-on-write: the child gets dup_mm() of the parent's mm. */
long task_fork(struct task_struct *parent)
{
	struct task_struct *t = free_task_slot();

	if (!t)
		return -PW_ENOMEM;
	t->mm = dup_mm(parent->mm);
	if (!t->mm)
		return -PW_ENOMEM;
	emit(PW_EV_FORK, parent->id, t->id, 0, 0, 0);
	return t->id;
}

struct task_struct *find_task(uint64_t id)
{
	if (id < 1 || id > ARRAY_SIZE(tasks) || !tasks[id - 1].mm)
		return NULL;
	return &tasks[id - 1];
}

/* do_exit() -> exit_mm() -> mmput(). */
void task_exit(struct task_struct *t, int signal)
{
	emit(PW_EV_TASK_EXIT, t->id, signal, 0, 0, 0);
	mmput(t->mm);
	t->mm = NULL;
}

/*
 * One access to `addr` in t's address space: from ring 3 through the
 * trampoline, or from the kernel through the exception-table probes (as
 * copy_from_user() would, there being no SMAP).  A user access that ends in
 * a signal ends the task.
 */
long task_touch(struct task_struct *t, uint64_t addr, uint64_t access, bool user, uint64_t value,
		uint64_t *out)
{
	long status;

	switch_mm(t->mm);
	if (!user) {
		if (access == PW_ACCESS_READ)
			return probe_kernel_read(addr, out);
		if (access == PW_ACCESS_WRITE)
			return probe_kernel_write(addr, value);
		return -PW_EINVAL;	/* the kernel never executes user memory */
	}
	switch (access) {
	case PW_ACCESS_READ:
		status = enter_user(trampoline_addr(user_read), addr, 0, out);
		break;
	case PW_ACCESS_WRITE:
		status = enter_user(trampoline_addr(user_write), addr, value, out);
		break;
	case PW_ACCESS_FETCH:
		status = enter_user(trampoline_addr(user_fetch), addr, trampoline_addr(user_ret), out);
		break;
	default:
		return -PW_EINVAL;
	}
	if (status) {
		task_exit(t, status & 0xff);
		return -PW_EFAULT;
	}
	return 0;
}
