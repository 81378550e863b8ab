/*
 * The producer side of the event channel (shared/pagewalk/ring.h).  A
 * trace() writes its record in place in the next ring slot and publishes
 * it with one store of head, inline, as Linux's perf ring buffer writes
 * into the pages the reader maps (perf_output_begin()/_end()); the ring is
 * per CPU and only this CPU writes it, so there is nothing to lock, and no
 * interrupt handler traces (the TLB IPI's flush_tlb_func() emits nothing),
 * so no record is begun inside another.  The doorbell and a full ring are
 * the out-of-line slow path, channel_flush().
 */
#ifndef GUEST_CHANNEL_H
#define GUEST_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <pagewalk/ring.h>

#include "asm.h"
#include "percpu.h"

int channel_init(unsigned int cpu);
void channel_flush(struct percpu *pc, uint64_t head);
void emit_text(const char *s, size_t len);
void doorbell(enum pw_doorbell why);
struct pw_mailbox *channel_mailbox(void);

extern uint32_t channel_mask;	/* capacity - 1 */

/* event_hdr is a record's first word, type 0: these offsets make it so (x86 is little-endian). */
_Static_assert(offsetof(struct pw_event, type) == 0 && offsetof(struct pw_event, cpu) == 2 &&
	       offsetof(struct pw_event, len) == 4, "record header layout");

/*
 * The slot for the next record, its header, seq and time written; NULL
 * before the ring is up.  The TSC goes in as the two halves rdtsc gives.
 */
static inline struct pw_event *trace_begin(struct percpu *pc, struct pw_ring *r, uint16_t type,
					   uint64_t *head)
{
	uint64_t h, hdr = pc->event_hdr | type;
	struct pw_event *ev;

	if (!r)
		return NULL;
	h = r->head;
	ev = (struct pw_event *)((char *)r + PW_RING_HDR_SIZE) + (h & channel_mask);
	__builtin_memcpy(ev, &hdr, sizeof(hdr));
	ev->seq = h;
	asm volatile("rdtsc\n\tmovl %%eax, %0\n\tmovl %%edx, 4+%0" : "=m"(ev->tsc) : : "eax", "edx");
	*head = h;
	return ev;
}

/* Publish the record: the host reads head first, then the records below it. */
static inline void trace_end(struct percpu *pc, struct pw_ring *r, uint64_t head)
{
	barrier();
	WRITE_ONCE(r->head, head + 1);
	if (head + 1 >= pc->ring_flush_at)
		channel_flush(pc, head + 1);
}

/*
 * trace(name, field, ...): one event of PW_EVENT_TYPES with every field in
 * order (too few or too many do not compile), as Linux's trace_<event>().
 * The fields are evaluated before the slot is taken, so an exception
 * while computing them may trace its own event first.  Only the event's
 * own fields are written; the record's words past them are left as they
 * were (the host reads a record by its type's fields).
 */
#define trace(name, ...) do {							\
	const struct pw_ev_##name __tf = { __VA_ARGS__ };			\
	struct percpu *__tpc = this_cpu();					\
	struct pw_ring *__tr = __tpc->ring;					\
	uint64_t __th;								\
	struct pw_event *__tev = trace_begin(__tpc, __tr, PW_EV_ID_##name, &__th); \
										\
	if (__tev) {								\
		__tev->u.name = __tf;						\
		trace_end(__tpc, __tr, __th);					\
	}									\
} while (0)

#endif
