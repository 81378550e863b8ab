/*
 * The consumer side of the event channel (the op mailbox is mailbox.c's).
 * Guest memory is untrusted: the host keeps its own tail, copies
 * each record out before looking at it and checks every field.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int channel_init(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct channel *c = &vcpu->chan;
	/* In RAM: vm_create() put every ring in the last range. */
	uint8_t *base = ram_ptr(&vm->ram, vm->chan_base + vcpu->id * vm->chan_stride, vm->chan_stride);

	memset(base, 0, vm->chan_stride);
	c->ring = (struct pw_ring *)base;
	c->records = (struct pw_event *)(base + PW_RING_HDR_SIZE);
	c->ring->magic = PW_RING_MAGIC;
	c->ring->version = PW_RING_VERSION;
	c->ring->capacity = PW_RING_CAPACITY;
	c->ring->threshold = PW_RING_THRESHOLD;
	c->tail = 0;
	c->req_seq = 0;
	return 0;
}

/* 256 MiB of records: far past any test, short of a guest flooding the host. */
#define MAX_RECORDED_EVENTS (4u << 20)

static int record_event(struct vm *vm, const struct pw_event *ev)
{
	if (vm->nevents == MAX_RECORDED_EVENTS) {
		vm_stop(vm, VMM_GUEST_ERROR, "channel: more than %u events to record", MAX_RECORDED_EVENTS);
		return -1;
	}
	if (vm->nevents == vm->events_cap) {
		size_t cap = vm->events_cap ? vm->events_cap * 2 : 1024;
		struct pw_event *p = realloc(vm->events, cap * sizeof(*p));

		if (!p)
			return -1;
		vm->events = p;
		vm->events_cap = cap;
	}
	vm->events[vm->nevents++] = *ev;
	return 0;
}

static int drain_locked(struct vcpu *vcpu, uint64_t head);

/*
 * The guest owns only head in a ring header: anything else that changed
 * is a wild write into the channel, worth naming before its effects (the
 * producer's view of free space comes from tail) confuse everyone.  Any
 * vCPU can write any ring, so every ring is checked on every exit, and the
 * writer is not named: the vCPU whose exit found it need not be the one.
 */
static int ring_intact(struct vcpu *vcpu, const struct vcpu *found_by)
{
	const struct pw_ring *r = vcpu->chan.ring;
	const struct {
		const char *name;
		uint64_t is, host;
	} f[] = {
		{ "magic", r->magic, PW_RING_MAGIC },
		{ "version", r->version, PW_RING_VERSION },
		{ "capacity", r->capacity, PW_RING_CAPACITY },
		{ "threshold", r->threshold, PW_RING_THRESHOLD },
		{ "tail", __atomic_load_n(&r->tail, __ATOMIC_RELAXED), vcpu->chan.tail },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].is != f[i].host) {
			vm_stop(vcpu->vm, VMM_GUEST_ERROR,
				"channel: the guest overwrote cpu %u's ring header: %s is %#lx, the host "
				"wrote %#lx (found on cpu %u's exit; which vCPU wrote it cannot be known)",
				vcpu->id, f[i].name, (unsigned long)f[i].is, (unsigned long)f[i].host,
				found_by->id);
			return -1;
		}
	}
	return 0;
}

/* Under vm->lock: another vCPU's tail moves only under it (drain_locked()). */
static int headers_intact(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	for (unsigned int i = 0; i < vm->nvcpus && !ret; i++)
		ret = ring_intact(&vm->vcpus[i], vcpu);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* What is wrong with the record the host expected to be number `seq`, or NULL. */
static const char *bad_record(const struct pw_event *ev, uint64_t seq, unsigned int cpu)
{
	if (ev->seq != seq)
		return "out of sequence";
	if (ev->cpu != cpu)
		return "from another cpu";
	if (!vmm_event_desc(ev->type))
		return "unknown type";
	if (ev->type == PW_EV_CONSOLE ? ev->len > PW_EVENT_TEXT_MAX : ev->len != 0)
		return "bad length";
	return NULL;
}

/* Consume everything the guest published; -1 (VM stopped) on garbage. */
int channel_drain(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct channel *c = &vcpu->chan;
	uint64_t head;
	int ret;

	if (headers_intact(vcpu))
		return -1;
	head = __atomic_load_n(&c->ring->head, __ATOMIC_ACQUIRE);
	if (head == c->tail)
		return 0;
	/* One vCPU's batch at a time into the shared log and output streams. */
	pthread_mutex_lock(&vm->lock);
	ret = drain_locked(vcpu, head);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static int drain_locked(struct vcpu *vcpu, uint64_t head)
{
	struct vm *vm = vcpu->vm;
	struct channel *c = &vcpu->chan;

	if (head < c->tail || head - c->tail > PW_RING_CAPACITY) {
		vm_stop(vm, VMM_GUEST_ERROR,
			"channel: cpu %u ring head %lu is impossible (host tail %lu, capacity %u)",
			vcpu->id, (unsigned long)head, (unsigned long)c->tail, PW_RING_CAPACITY);
		return -1;
	}
	for (; c->tail < head; c->tail++) {
		struct pw_event ev = c->records[c->tail & (PW_RING_CAPACITY - 1)];
		const char *why = bad_record(&ev, c->tail, vcpu->id);

		if (why) {
			vm_stop(vm, VMM_GUEST_ERROR,
				"channel: cpu %u bad record at seq %lu, %s (type %u, cpu %u, seq %lu, len %u)",
				vcpu->id, (unsigned long)c->tail, why, ev.type, ev.cpu,
				(unsigned long)ev.seq, ev.len);
			return -1;
		}
		STAT_INC(vm->stats.events);
		STAT_INC(vm->stats.events_by_type[ev.type]);
		/* With --trace the console text is in the trace lines already. */
		if (ev.type == PW_EV_CONSOLE && vm->cfg.console && !vm->cfg.trace)
			fwrite(ev.u.text, 1, ev.len, vm->cfg.console);
		report_event(vm, &ev);
		if (ev.type == PW_EV_MARK && vm->profile)
			profile_mark(vcpu, ev.u.mark.id);
		if (vm->cfg.record && record_event(vm, &ev)) {
			vm_stop(vm, VMM_INTERNAL, "out of memory recording events");
			return -1;	/* the first stop reason wins */
		}
	}
	__atomic_store_n(&c->ring->tail, c->tail, __ATOMIC_RELEASE);
	return 0;
}
