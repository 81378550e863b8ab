/* Tasks: an mm and a life in ring 3 (kernel/task.c, arch/user.S). */
#ifndef GUEST_TASK_H
#define GUEST_TASK_H

#include <stdint.h>

#include "mm.h"

#define SIGBUS	7
#define SIGKILL	9
#define SIGSEGV	11

/* How enter_user() came back: 0, or the task died of a signal. */
#define TASK_KILLED(sig)	(0x100 | (sig))
#define TASK_KILLED_SEGV	TASK_KILLED(SIGSEGV)
#define TASK_KILLED_OOM		TASK_KILLED(SIGKILL)
#define TASK_KILLED_BUS		TASK_KILLED(SIGBUS)

struct task_struct {
	unsigned int id;
	struct mm_struct *mm;		/* NULL: slot free */
};

/*
 * Run user code at `rip` (ring 3, interrupts off, no stack) with RDI and
 * RSI set; it comes back through the ud2 at user_ret, whose RAX lands in
 * *value, or through return_to_kernel() from a trap handler that ends the
 * task.
 */
long enter_user(uint64_t rip, uint64_t rdi, uint64_t rsi, uint64_t *value);
__attribute__((noreturn)) void return_to_kernel(uint64_t value, long status);

extern const char __user_trampoline[], user_read[], user_write[], user_fetch[], user_read_loop[],
	user_write_pages[], user_ret[];

#ifdef CONFIG_X86_32
#define USER_TRAMPOLINE	PW_USER_TRAMPOLINE_32
#else
#define USER_TRAMPOLINE	PW_USER_TRAMPOLINE
#endif

static inline uint64_t trampoline_addr(const char *entry)
{
	return USER_TRAMPOLINE + (entry - __user_trampoline);
}

void task_init(void);
long task_create(void);
long task_fork(struct task_struct *parent);
struct mm_struct *get_task_mm(struct task_struct *t);	/* mmput() when done */
struct task_struct *find_task(uint64_t id);

long task_touch(struct task_struct *t, uint64_t addr, uint64_t access, bool user, uint64_t value,
		uint64_t *out);
long touch_current(uint64_t addr, uint64_t access, bool user, uint64_t value, uint64_t *out);
void task_exit(struct task_struct *t, int signal);

#endif
