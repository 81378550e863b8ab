/* SPDX-License-Identifier: MIT */
/*
 * The guest->host event ring and the host->guest op mailbox.
 *
 * Per vCPU the VMM reserves one region (address, stride and geometry are in
 * the FDT /channel node): a header page holding the ring indices and the op
 * mailbox, then `capacity` fixed-size event records.  The vCPU is the single
 * producer; the host consumes on every exit of that vCPU.  The guest writes
 * the doorbell port only when the ring is past its threshold, when it waits
 * for an op, or when it is full, so reporting costs about one VM exit per
 * `threshold` events, not one per event.
 *
 * Everything the host reads from here is untrusted guest memory.
 */
#ifndef PAGEWALK_RING_H
#define PAGEWALK_RING_H

#include <stdint.h>

#include "events.h"
#include "ops.h"

#define PW_RING_MAGIC		0x4b4c4157u	/* "WALK" */
#define PW_RING_VERSION		1u
#define PW_RING_HDR_SIZE	4096u
#define PW_RING_CAPACITY	4096u		/* records; a power of two */
#define PW_RING_THRESHOLD	3072u		/* ring the doorbell at 3/4 full */

/* One record: 64 bytes, one cache line. */
struct pw_event {
	uint16_t type;		/* enum pw_event_type */
	uint16_t cpu;		/* producing vCPU; must match the ring */
	uint32_t len;		/* PW_EV_CONSOLE: bytes of text */
	uint64_t seq;		/* per-ring sequence number, from 0, no gaps */
	uint64_t tsc;		/* guest rdtsc when the event was made */
	union pw_event_fields u;	/* by type: u.fault, u.map, ... */
};

/* Host -> guest: one op in flight per vCPU. */
struct pw_mailbox {
	uint64_t req_seq;	/* host: bumped when it posts an op */
	uint32_t op;		/* enum pw_op */
	uint32_t pad;
	union pw_op_args args;	/* by op: args.mmap, args.touch, ... */
	uint64_t done_seq;	/* guest: req_seq of the op it completed */
	int64_t result;		/* >= 0 op-specific, < 0 a -PW_E* error */
	union pw_op_out out;	/* by op: op-specific extra results */
};

struct pw_ring {
	uint32_t magic;
	uint32_t version;
	uint32_t capacity;
	uint32_t threshold;
	uint8_t pad0[48];
	uint64_t head;		/* guest: records produced (next seq) */
	uint8_t pad1[56];
	uint64_t tail;		/* host: records consumed */
	uint8_t pad2[56];
	struct pw_mailbox mbox;
};

_Static_assert(sizeof(struct pw_event) == 64, "event record is one cache line");
_Static_assert(sizeof(struct pw_ring) <= PW_RING_HDR_SIZE, "ring header fits its page");

/* Value written (32 bits) to the doorbell port: why the guest exited. */
enum pw_doorbell {
	PW_DOORBELL_FLUSH = 1,	/* ring past threshold or full: drain it */
	PW_DOORBELL_WAIT_OP = 2,	/* previous op done (if any); give me the next */
};

#endif
