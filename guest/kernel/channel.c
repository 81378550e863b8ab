/* The producer side of the event channel (shared/pagewalk/channel.h). */
#include "asm.h"
#include "kernel.h"
#include "percpu.h"

/* The same for every CPU's ring; each CPU keeps its own ring in struct percpu. */
static uint32_t capacity, threshold;
static uint16_t doorbell_port;

int channel_init(unsigned int cpu)
{
	struct pw_ring *r = __va(boot_params.chan_base + cpu * boot_params.chan_stride);
	uint32_t cap = boot_params.chan_capacity, thr = boot_params.chan_threshold;

	if (cpu >= boot_params.ncpus || r->magic != PW_RING_MAGIC || r->version != PW_RING_VERSION ||
	    !cap || (cap & (cap - 1)) || !thr || thr > cap ||
	    PW_RING_HDR_SIZE + (uint64_t)cap * sizeof(struct pw_event) > boot_params.chan_stride)
		return -1;
	capacity = cap;
	threshold = thr;
	doorbell_port = boot_params.doorbell_port;
	this_cpu()->records = (struct pw_event *)((char *)r + PW_RING_HDR_SIZE);
	this_cpu()->ring = r;
	return 0;
}

void doorbell(enum pw_doorbell why)
{
	outl(why, doorbell_port);
}

struct pw_mailbox *channel_mailbox(void)
{
	return &this_cpu()->ring->mbox;
}

static void ring_put(struct pw_ring *ring, struct pw_event *records, const struct pw_event *ev)
{
	uint64_t head = ring->head;
	struct pw_event *slot;

	while (head - READ_ONCE(ring->tail) >= capacity)
		doorbell(PW_DOORBELL_FLUSH);

	slot = &records[head & (capacity - 1)];
	*slot = *ev;
	slot->seq = head;
	barrier();		/* record before head: the host reads head first */
	WRITE_ONCE(ring->head, head + 1);

	if (head + 1 - READ_ONCE(ring->tail) >= threshold)
		doorbell(PW_DOORBELL_FLUSH);
}

void emit(enum pw_event_type type, const union pw_event_fields *fields)
{
	struct percpu *pc = this_cpu();
	struct pw_event ev = {
		.type = type,
		.cpu = pc->cpu,
		.tsc = rdtsc(),
		.u = *fields,
	};

	if (pc->ring)
		ring_put(pc->ring, pc->records, &ev);
}

/* Console text: on the channel once it is up, byte by byte to 0xe9 before. */
void emit_text(const char *s, size_t len)
{
	struct percpu *pc = this_cpu();

	while (len) {
		struct pw_event ev = { .type = PW_EV_CONSOLE, .cpu = pc->cpu };
		size_t n = len < PW_EVENT_TEXT_MAX ? len : PW_EVENT_TEXT_MAX;

		if (!pc->ring) {
			for (size_t i = 0; i < len; i++)
				outb(s[i], PW_PORT_DEBUGCON);
			return;
		}
		ev.len = n;
		ev.tsc = rdtsc();
		memcpy(ev.u.text, s, n);
		ring_put(pc->ring, pc->records, &ev);
		s += n;
		len -= n;
	}
}
