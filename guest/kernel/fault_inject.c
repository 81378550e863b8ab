/* should_fail() and its attributes (lib/fault-inject.c). */
#include "asm.h"
#include "fault_inject.h"
#include "kernel.h"
#include "spinlock.h"

static struct fault_attr attrs[PW_INJECT_SITE_MAX];
static spinlock_t inject_lock;	/* the attributes, the PRNG, fail-nth */
static uint64_t rng_state;
static uint64_t fail_nth, nth_calls;
uint64_t nr_injected;
bool fault_inject_active;
static uint64_t race_delay_loops[PW_LEVEL_PUD + 1];

void fault_inject_init(uint64_t seed)
{
	spin_lock_init(&inject_lock);
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ULL;	/* xorshift needs a non-zero state */
}

void inject_race_delay(unsigned int levels, uint64_t loops)
{
	for (unsigned int l = PW_LEVEL_PTE; l <= PW_LEVEL_PUD; l++)
		if (levels & (1u << l))
			WRITE_ONCE(race_delay_loops[l], loops);
}

void inject_race_window(unsigned int level)
{
	for (uint64_t i = READ_ONCE(race_delay_loops[level]); i; i--)
		asm volatile("pause");
}

/* Under inject_lock: the key on while anything is armed; __should_fail_site() decides exactly. */
static void update_active(void)
{
	bool on = fail_nth;

	for (unsigned int site = 1; site < PW_INJECT_SITE_MAX; site++)
		on |= attrs[site].probability != 0;
	__atomic_store_n(&fault_inject_active, on, __ATOMIC_RELAXED);
}

void fault_inject_set(enum pw_inject_site site, const struct fault_attr *attr)
{
	spin_lock(&inject_lock);
	attrs[site] = *attr;
	attrs[site].count = attrs[site].calls = 0;
	update_active();
	spin_unlock(&inject_lock);
}

uint64_t fault_inject_fail_nth(uint64_t n)
{
	uint64_t calls;

	spin_lock(&inject_lock);
	calls = nth_calls;
	fail_nth = n;
	nth_calls = 0;
	update_active();
	spin_unlock(&inject_lock);
	return calls;
}

/* xorshift64*: a seed replays the same decisions. */
static uint32_t prandom_below(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

/* should_fail_ex(), in its order: fail-nth, probability, times, space, interval, dice. */
static bool __should_fail(struct fault_attr *attr)
{
	if (fail_nth) {
		nth_calls++;
		if (--fail_nth == 0)
			return true;
		return false;
	}
	if (!attr->probability || attr->times == 0)
		return false;
	if (attr->space > 0) {
		attr->space--;
		return false;
	}
	if (attr->interval > 1 && ++attr->count % attr->interval)
		return false;
	if (attr->probability <= prandom_below(100))
		return false;
	if (attr->times != -1)
		attr->times--;
	return true;
}

uint64_t fault_inject_calls(void)
{
	uint64_t calls = 0;

	for (unsigned int site = 1; site < PW_INJECT_SITE_MAX; site++)
		calls += READ_ONCE(attrs[site].calls);
	return calls;
}

/* should_fail() past its key: the site's own attribute and fail-nth. */
bool __should_fail_site(enum pw_inject_site site, unsigned int level)
{
	struct fault_attr *attr = &attrs[site];
	uint64_t call;
	bool fail;

	if (!READ_ONCE(fail_nth) && !READ_ONCE(attr->probability))
		return false;
	spin_lock(&inject_lock);
	if (attr->levels && !(attr->levels & (1u << level)) && !fail_nth) {
		spin_unlock(&inject_lock);
		return false;
	}
	call = ++attr->calls;
	fail = __should_fail(attr);
	spin_unlock(&inject_lock);
	if (fail) {
		__atomic_add_fetch(&nr_injected, 1, __ATOMIC_RELAXED);
		trace(inject, site, level, call);
	}
	return fail;
}
