/* Test-and-test-and-set spinlocks; the debug build checks magic and owner like DEBUG_SPINLOCK. */
#include "asm.h"
#include "kernel.h"
#include "spinlock.h"

void spin_lock_init(spinlock_t *lock)
{
	*lock = (spinlock_t){ 0 };
#ifdef CONFIG_DEBUG_SPINLOCK
	lock->magic = SPINLOCK_MAGIC;
	lock->owner_cpu = ~0U;
#endif
}

/* debug_spin_lock_before()/_after() of kernel/locking/spinlock_debug.c; nothing without the config. */
static inline void debug_spin_lock_before(spinlock_t *lock, const char *who)
{
#ifdef CONFIG_DEBUG_SPINLOCK
	if (lock->magic != SPINLOCK_MAGIC)
		panic("%s: bad magic %#x on lock %p", who, lock->magic, lock);
#else
	(void)lock, (void)who;
#endif
}

static inline void debug_spin_lock_after(spinlock_t *lock, void *owner)
{
#ifdef CONFIG_DEBUG_SPINLOCK
	lock->owner_cpu = 0;
	lock->owner = owner;
#else
	(void)lock, (void)owner;
#endif
}

/* The lock was taken: wait until it looks free before trying again (test-and-test-and-set). */
void spin_lock_slowpath(spinlock_t *lock)
{
	do {
		while (READ_ONCE(lock->locked))
			asm volatile("pause");
	} while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE));
}

#ifdef CONFIG_DEBUG_SPINLOCK
void spin_lock(spinlock_t *lock)
{
	debug_spin_lock_before(lock, "spin_lock");
	if (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		spin_lock_slowpath(lock);
	debug_spin_lock_after(lock, __builtin_return_address(0));
}
#endif

bool spin_trylock(spinlock_t *lock)
{
	debug_spin_lock_before(lock, "spin_trylock");
	if (READ_ONCE(lock->locked) || __atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		return false;
	debug_spin_lock_after(lock, __builtin_return_address(0));
	return true;
}

#ifdef CONFIG_DEBUG_SPINLOCK
void spin_unlock(spinlock_t *lock)
{
	if (!lock->locked)
		panic("spin_unlock: lock %p not held", lock);
	lock->owner_cpu = ~0U;
	lock->owner = NULL;
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}
#endif

void rwlock_init(rwlock_t *lock)
{
	lock->count = 0;
}

bool read_trylock(rwlock_t *lock)
{
	int32_t c = READ_ONCE(lock->count);

	return c >= 0 && __atomic_compare_exchange_n(&lock->count, &c, c + 1, false,
						     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void read_lock(rwlock_t *lock)
{
	while (!read_trylock(lock))
		asm volatile("pause");
}

void read_unlock(rwlock_t *lock)
{
	__atomic_sub_fetch(&lock->count, 1, __ATOMIC_RELEASE);
}

void write_lock(rwlock_t *lock)
{
	int32_t zero = 0;

	while (!__atomic_compare_exchange_n(&lock->count, &zero, -1, false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		zero = 0;
		asm volatile("pause");
	}
}

void write_unlock(rwlock_t *lock)
{
	__atomic_store_n(&lock->count, 0, __ATOMIC_RELEASE);
}
