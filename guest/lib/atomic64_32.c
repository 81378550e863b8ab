/*
 * i386: the 8-byte atomics GCC calls out of line (libatomic's names, the
 * guest has no libatomic), each a cmpxchg8b loop as Linux's
 * arch/x86/lib/atomic64_cx8_32.S.  Built only into the i386 guest.
 */
#include <stdbool.h>
#include <stdint.h>

static inline uint64_t cmpxchg64(volatile uint64_t *p, uint64_t old, uint64_t new)
{
	asm volatile("lock cmpxchg8b %1"
		     : "+A"(old), "+m"(*p)
		     : "b"((uint32_t)new), "c"((uint32_t)(new >> 32))
		     : "memory");
	return old;	/* what *p held */
}

/* One read-modify-write: op(old, v) stored, old returned. */
#define RMW(p, v, expr)							\
	({								\
		volatile uint64_t *__p = (volatile uint64_t *)(p);	\
		uint64_t __old = *__p, __seen;				\
		while ((__seen = cmpxchg64(__p, __old, (expr))) != __old)	\
			__old = __seen;					\
		__old;							\
	})

uint64_t atomic64_load(const volatile void *p, int order) __asm__("__atomic_load_8");
void atomic64_store(volatile void *p, uint64_t v, int order) __asm__("__atomic_store_8");
uint64_t atomic64_xchg(volatile void *p, uint64_t v, int order) __asm__("__atomic_exchange_8");
bool atomic64_cmpxchg(volatile void *p, void *expected, uint64_t v, bool weak, int so, int fo)
	__asm__("__atomic_compare_exchange_8");
uint64_t atomic64_fetch_add(volatile void *p, uint64_t v, int order) __asm__("__atomic_fetch_add_8");
uint64_t atomic64_fetch_sub(volatile void *p, uint64_t v, int order) __asm__("__atomic_fetch_sub_8");
uint64_t atomic64_fetch_and(volatile void *p, uint64_t v, int order) __asm__("__atomic_fetch_and_8");
uint64_t atomic64_fetch_or(volatile void *p, uint64_t v, int order) __asm__("__atomic_fetch_or_8");

/* atomic64_read_cx8: a cmpxchg8b that compares with what it would write. */
uint64_t atomic64_load(const volatile void *p, int order)
{
	(void)order;
	return cmpxchg64((volatile uint64_t *)p, 0, 0);
}

void atomic64_store(volatile void *p, uint64_t v, int order)
{
	(void)order;
	RMW(p, v, v);
}

uint64_t atomic64_xchg(volatile void *p, uint64_t v, int order)
{
	(void)order;
	return RMW(p, v, v);
}

bool atomic64_cmpxchg(volatile void *p, void *expected, uint64_t v, bool weak, int so, int fo)
{
	uint64_t want = *(uint64_t *)expected, seen = cmpxchg64(p, want, v);

	(void)weak, (void)so, (void)fo;
	*(uint64_t *)expected = seen;
	return seen == want;
}

uint64_t atomic64_fetch_add(volatile void *p, uint64_t v, int order)
{
	(void)order;
	return RMW(p, v, __old + v);
}

uint64_t atomic64_fetch_sub(volatile void *p, uint64_t v, int order)
{
	(void)order;
	return RMW(p, v, __old - v);
}

uint64_t atomic64_fetch_and(volatile void *p, uint64_t v, int order)
{
	(void)order;
	return RMW(p, v, __old & v);
}

uint64_t atomic64_fetch_or(volatile void *p, uint64_t v, int order)
{
	(void)order;
	return RMW(p, v, __old | v);
}
