/*
 * Fault injection, as Linux's lib/fault-inject.c: each site has a
 * fault_attr, and every call that may fail asks should_fail() first; the
 * one fail-nth counter, global to the guest, plays the part of
 * /proc/self/fail-nth.
 */
#ifndef GUEST_FAULT_INJECT_H
#define GUEST_FAULT_INJECT_H

#include <stdbool.h>
#include <stdint.h>

#include <pagewalk/boot.h>

struct fault_attr {
	uint32_t probability;	/* percent; 0: the site is off */
	uint32_t interval;	/* only every interval-th call may fail */
	int32_t times;		/* failures left; -1: no limit */
	int64_t space;		/* calls that pass before any may fail */
	uint32_t levels;	/* pgtable_alloc: bit 1 << level, 0: every level */
	uint64_t count;		/* calls seen, for interval */
	uint64_t calls;		/* every call that asked, for reports */
};

extern uint64_t nr_injected;	/* failures injected so far */

/*
 * Set while any site is armed or fail-nth counts: the static key Linux
 * flips when a fault_attr is configured (should_failslab_active,
 * fail_page_alloc's key), so that a call site with nothing armed costs one
 * flag test and no call.
 */
extern bool fault_inject_active;

void fault_inject_init(uint64_t seed);
void fault_inject_set(enum pw_inject_site site, const struct fault_attr *attr);
uint64_t fault_inject_fail_nth(uint64_t n);	/* returns calls counted since the last */
uint64_t fault_inject_calls(void);	/* calls of armed sites (all, under fail-nth) since armed */
bool __should_fail_site(enum pw_inject_site site, unsigned int level);

static inline bool should_fail(enum pw_inject_site site, unsigned int level)
{
	return __builtin_expect(__atomic_load_n(&fault_inject_active, __ATOMIC_RELAXED), 0) &&
	       __should_fail_site(site, level);
}

/*
 * The table-allocation race, forced: between allocating a table and taking
 * the lock that installs it, spin as long as set for that level, so that
 * CPUs faulting into one empty range really do race (PW_OP_RACE_DELAY).
 */
void inject_race_delay(unsigned int levels, uint64_t loops);	/* bit 1 << level */
void inject_race_window(unsigned int level);

#endif
