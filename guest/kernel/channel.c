/* The producer side of the event channel: set-up, the slow path and console text. */
#include "asm.h"
#include "channel.h"
#include "kernel.h"
#include "percpu.h"

/* The same for every CPU's ring; each CPU keeps its own ring in struct percpu. */
uint32_t channel_mask;
static uint32_t threshold;
static uint16_t doorbell_port;

int channel_init(unsigned int cpu)
{
	struct pw_ring *r = __va(boot_params.chan_base + cpu * boot_params.chan_stride);
	uint32_t cap = boot_params.chan_capacity, thr = boot_params.chan_threshold;
	struct percpu *pc = this_cpu();

	if (cpu >= boot_params.ncpus || r->magic != PW_RING_MAGIC || r->version != PW_RING_VERSION ||
	    !cap || (cap & (cap - 1)) || !thr || thr > cap ||
	    PW_RING_HDR_SIZE + (uint64_t)cap * sizeof(struct pw_event) > boot_params.chan_stride)
		return -1;
	channel_mask = cap - 1;
	threshold = thr;
	doorbell_port = boot_params.doorbell_port;
	pc->event_hdr = (uint64_t)pc->cpu << 16;	/* struct pw_event: type, cpu, len 0 */
	pc->ring_flush_at = r->head + 1;		/* the first record asks channel_flush() */
	barrier();
	pc->ring = r;
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

/*
 * `head` records published: ring the doorbell once the ring holds
 * `threshold` of them, and until the host has made room for the next
 * record if it is full; then the head at which to ask again.
 */
void channel_flush(struct percpu *pc, uint64_t head)
{
	struct pw_ring *ring = pc->ring;
	uint64_t tail = READ_ONCE(ring->tail);

	if (head - tail >= threshold) {
		doorbell(PW_DOORBELL_FLUSH);
		tail = READ_ONCE(ring->tail);
	}
	while (head - tail > channel_mask) {
		doorbell(PW_DOORBELL_FLUSH);
		tail = READ_ONCE(ring->tail);
	}
	/* Past the threshold and not drained (the host reads on its own exits too): ask at the next. */
	pc->ring_flush_at = head - tail >= threshold ? head + 1 : tail + threshold;
}

/* Console text: on the channel once it is up, byte by byte to 0xe9 before. */
void emit_text(const char *s, size_t len)
{
	struct percpu *pc = this_cpu();

	if (!pc->ring) {
		for (size_t i = 0; i < len; i++)
			outb(s[i], PW_PORT_DEBUGCON);
		return;
	}
	while (len) {
		size_t n = len < PW_EVENT_TEXT_MAX ? len : PW_EVENT_TEXT_MAX;
		uint64_t head;
		struct pw_event *ev = trace_begin(pc, pc->ring, PW_EV_CONSOLE, &head);

		ev->len = n;
		memcpy(ev->u.text, s, n);
		trace_end(pc, pc->ring, head);
		s += n;
		len -= n;
	}
}
