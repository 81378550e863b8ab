/* Tasks: one mm each, run in ring 3 one access at a time through the trampoline. */
#include "asm.h"
#include "cpufeature.h"
#include "kernel.h"
#include "mm.h"
#include "task.h"

static struct task_struct tasks[64];
static spinlock_t tasks_lock;	/* slots: a task's mm is set and cleared under it */

void task_init(void)
{
	spin_lock_init(&tasks_lock);
}

/* Claim a free slot with its new mm, or NULL. */
static struct task_struct *task_install(struct mm_struct *mm)
{
	struct task_struct *t = NULL;

	spin_lock(&tasks_lock);
	for (unsigned int i = 0; i < ARRAY_SIZE(tasks) && !t; i++) {
		if (!tasks[i].mm) {
			t = &tasks[i];
			t->id = i + 1;
			t->mm = mm;
		}
	}
	spin_unlock(&tasks_lock);
	if (!t)
		mmput(mm);
	return t;
}

long task_create(void)
{
	struct mm_struct *mm = mm_alloc();
	struct task_struct *t;
	long err;

	if (!mm)
		return -PW_ENOMEM;
	t = task_install(mm);
	if (!t)
		return -PW_ENOMEM;
	/* Like the vDSO: a kernel page every task can execute. */
	err = install_special_mapping(mm, USER_TRAMPOLINE,
				      __pa_symbol(__user_trampoline) >> PAGE_SHIFT);
	if (IS_ERR_VALUE(err)) {
		task_exit(t, 0);
		return err;
	}
	return t->id;
}

/* fork() with copy-on-write: the child gets dup_mm() of the parent's mm. */
long task_fork(struct task_struct *parent)
{
	struct mm_struct *oldmm = get_task_mm(parent), *mm;
	struct task_struct *t;

	if (!oldmm)
		return -PW_ESRCH;
	mm = dup_mm(oldmm);
	mmput(oldmm);
	if (!mm)
		return -PW_ENOMEM;
	t = task_install(mm);
	if (!t)
		return -PW_ENOMEM;
	trace(fork, parent->id, t->id);
	return t->id;
}

struct task_struct *find_task(uint64_t id)
{
	if (id < 1 || id > ARRAY_SIZE(tasks) || !READ_ONCE(tasks[id - 1].mm))
		return NULL;
	return &tasks[id - 1];
}

/* get_task_mm(): the task's mm with a reference for the caller, or NULL if it ended. */
struct mm_struct *get_task_mm(struct task_struct *t)
{
	struct mm_struct *mm;

	spin_lock(&tasks_lock);
	mm = t->mm;
	if (mm)
		mmget(mm);
	spin_unlock(&tasks_lock);
	return mm;
}

/*
 * do_exit() -> exit_mm() -> mmput(): the task's reference goes; a CPU still
 * running in the mm keeps it alive until its own mmput().  Only the first
 * of several CPUs ending the same task does it, and only while the slot
 * still holds `mm` (NULL: whatever it holds), not a new task's.
 */
static void exit_task_mm(struct task_struct *t, struct mm_struct *mm, int signal)
{
	spin_lock(&tasks_lock);
	if (!t->mm || (mm && t->mm != mm)) {
		spin_unlock(&tasks_lock);
		return;
	}
	mm = t->mm;
	t->mm = NULL;
	spin_unlock(&tasks_lock);
	trace(task_exit, t->id, signal);
	mmput(mm);
}

void task_exit(struct task_struct *t, int signal)
{
	exit_task_mm(t, NULL, signal);
}

/*
 * One access to `addr` in the mm this CPU runs in: from ring 3 through the
 * trampoline, or from the kernel through the exception-table probes inside
 * the SMAP brackets, as __get_user() and __put_user() do.  A user access
 * that ends in a signal returns TASK_KILLED(signal).
 */
long touch_current(uint64_t addr, uint64_t access, bool user, uint64_t value, uint64_t *out)
{
	long ret;

	if (!user) {
		if (access != PW_ACCESS_READ && access != PW_ACCESS_WRITE)
			return -PW_EINVAL;	/* the kernel never executes user memory */
		__uaccess_begin();
		ret = access == PW_ACCESS_READ ? probe_kernel_read(addr, out)
					       : probe_kernel_write(addr, value);
		__uaccess_end();
		return ret;
	}
	switch (access) {
	case PW_ACCESS_READ:
		return enter_user(trampoline_addr(user_read), addr, 0, out);
	case PW_ACCESS_WRITE:
		return enter_user(trampoline_addr(user_write), addr, value, out);
	case PW_ACCESS_FETCH:
		return enter_user(trampoline_addr(user_fetch), addr, trampoline_addr(user_ret), out);
	case PW_ACCESS_READ_LOOP:
		return value ? enter_user(trampoline_addr(user_read_loop), addr, value, out) : -PW_EINVAL;
	case PW_ACCESS_WRITE_PAGES:
		return value ? enter_user(trampoline_addr(user_write_pages), addr, value, out) : -PW_EINVAL;
	}
	return -PW_EINVAL;
}

/*
 * The CPU runs in t's mm only for the access: it holds a reference
 * meanwhile and switches back to init_mm after, so an idle CPU never has a
 * user mm loaded (a lazy-TLB CPU that shootdowns may skip).
 */
long task_touch(struct task_struct *t, uint64_t addr, uint64_t access, bool user, uint64_t value,
		uint64_t *out)
{
	struct mm_struct *mm = get_task_mm(t);
	long ret;

	if (!mm)
		return -PW_ESRCH;
	switch_mm(mm);
	local_irq_enable();	/* while in the mm, take its shootdowns */
	ret = touch_current(addr, access, user, value, out);
	local_irq_disable();
	switch_mm(&init_mm);
	if (user && ret > 0) {		/* TASK_KILLED(signal) */
		exit_task_mm(t, mm, ret & 0xff);
		ret = -PW_EFAULT;
	}
	mmput(mm);
	return ret;
}
