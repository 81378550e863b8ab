/*
 * The channel as a foreign test guest finds it under `vmm --mem 16M` with
 * one vCPU: vm_create() puts the ring region (a 4 KiB header, then 4096
 * records of 64 bytes) at the top of RAM, where the boot page tables map it
 * identity.  Offsets are those of struct pw_ring, pw_mailbox and pw_event
 * in shared/pagewalk/ring.h (not assembler-safe); tests/test_hostile.c
 * checks them against it.
 */
#define RING_MEM		0x1000000	/* --mem 16M */
#define RING_STRIDE		0x41000		/* PW_RING_HDR_SIZE + 4096 records * 64 */
#define RING			(RING_MEM - RING_STRIDE)

#define RING_CAPACITY		8		/* u32; PW_RING_CAPACITY records */
#define RING_HEAD		64		/* u64, the guest's */
#define RING_TAIL		128		/* u64, the host's */
#define MBOX_DONE_SEQ		256		/* u64, mbox.done_seq */
#define RECORDS			4096		/* record 0, from RING */

#define EV_TYPE			0		/* u16 */
#define EV_CPU			2		/* u16 */
#define EV_LEN			4		/* u32 */
#define EV_SEQ			8		/* u64 */
#define EV_FIELDS		24		/* u64s: the type's fields */
#define EV_MARK			22		/* PW_EV_MARK: one field, id */

#define DOORBELL		0x500		/* PW_PORT_DOORBELL */
#define DOORBELL_FLUSH		1
#define DOORBELL_WAIT_OP	2
