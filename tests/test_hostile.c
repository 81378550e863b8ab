/*
 * Hostile guests (tests/guests/): each breaks the boot or channel protocol
 * in one way and must end in status 6 with a report that names the
 * problem.  run_vmm() fails the test on any sanitizer report from the vmm,
 * so under SANITIZE=1 these also show the host read no memory it should not.
 */
#include <stddef.h>

#include <pagewalk/layout.h>

#include "guests/ring.h"
#include "harness.h"

/* The layout the assembly guests hard-code, against the C definition. */
_Static_assert(RING_STRIDE == PW_RING_HDR_SIZE + PW_RING_CAPACITY * sizeof(struct pw_event), "");
_Static_assert(RING_CAPACITY == offsetof(struct pw_ring, capacity), "");
_Static_assert(RING_HEAD == offsetof(struct pw_ring, head), "");
_Static_assert(RING_TAIL == offsetof(struct pw_ring, tail), "");
_Static_assert(MBOX_DONE_SEQ == offsetof(struct pw_ring, mbox.done_seq), "");
_Static_assert(RECORDS == PW_RING_HDR_SIZE, "");
_Static_assert(EV_TYPE == offsetof(struct pw_event, type) && EV_CPU == offsetof(struct pw_event, cpu) &&
	       EV_LEN == offsetof(struct pw_event, len) && EV_SEQ == offsetof(struct pw_event, seq), "");
_Static_assert(DOORBELL == PW_PORT_DOORBELL && DOORBELL_FLUSH == PW_DOORBELL_FLUSH &&
	       DOORBELL_WAIT_OP == PW_DOORBELL_WAIT_OP, "");

/*
 * Run `vmm --mem 16M guest` (where ring.h puts the channel): want its status,
 * a message and, if `where` is set, that symbol in the report's RIP.  VMX
 * and SVM exit with RIP on an I/O or MMIO instruction, PVM after it; libvmm
 * completes the instruction before it reads registers, so on every host
 * that RIP is the next instruction's.
 */
static void expect_stop(const char *guest, int status, const char *want, const char *where)
{
	const char *argv[] = { VMM_BIN, "--mem", "16M", guest, NULL };
	struct cli_run r;

	run_vmm(&r, argv);
	cr_assert_eq(r.status, status, "%s: status %d: %s", guest, r.status, r.err);
	cr_assert(strstr(r.err, want), "%s: stderr should say '%s': %s", guest, want, r.err);
	if (where)
		cr_assert(strstr(r.err, where), "%s: RIP should be at %s: %s", guest, where, r.err);
	cli_run_free(&r);
}

Test(hostile, ring_head_beyond_capacity)
{
	require_kvm();
	expect_stop(TEST_GUEST("ring_head"), VMM_GUEST_ERROR,
		    "channel: cpu 0 ring head 4097 is impossible (host tail 0, capacity 4096)", NULL);
}

/* The tail is the host's: the guest may read it, never write it. */
Test(hostile, ring_tail_written_by_the_guest)
{
	require_kvm();
	expect_stop(TEST_GUEST("ring_tail"), VMM_GUEST_ERROR,
		    "channel: the guest overwrote cpu 0's ring header: tail is 0x1001, the host wrote 0 "
		    "(found on cpu 0's exit; which vCPU wrote it cannot be known)", NULL);
}

/*
 * The same guest on two vCPUs: the rings sit at the top of RAM in cpu
 * order, so the one ring.h names, the last, is cpu 1's, and cpu 0 writes
 * it.  The check on cpu 0's doorbell exit finds it (cpu 1 never runs from
 * the command line) and must not say that cpu 1, or cpu 0, wrote it.
 */
Test(hostile, ring_tail_of_another_cpu)
{
	const char *argv[] = { VMM_BIN, "--mem", "16M", "--cpus", "2", "--timeout", "2",
			       TEST_GUEST("ring_tail"), NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_GUEST_ERROR, "status %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "channel: the guest overwrote cpu 1's ring header: tail is 0x1001, "
			 "the host wrote 0 (found on cpu 0's exit; which vCPU wrote it cannot be known)"),
		  "%s", r.err);
	cli_run_free(&r);
}

/* Neither the capacity the guest claims nor the head that fits it is believed. */
Test(hostile, ring_metadata_overwritten)
{
	require_kvm();
	expect_stop(TEST_GUEST("ring_metadata"), VMM_GUEST_ERROR,
		    "channel: the guest overwrote cpu 0's ring header: capacity is 0x10000, the host wrote 0x1000", NULL);
}

Test(hostile, record_of_unknown_type)
{
	require_kvm();
	expect_stop(TEST_GUEST("bad_record"), VMM_GUEST_ERROR,
		    "channel: cpu 0 bad record at seq 0, unknown type (type 999, cpu 0, seq 0, len 0)", NULL);
}

Test(hostile, op_result_for_an_op_never_posted)
{
	require_kvm();
	expect_stop(TEST_GUEST("op_never_posted"), VMM_GUEST_ERROR,
		    "channel: cpu 0 reported a result for op 5, which the host never posted (last posted: 0)", NULL);
}

/* A copy of bad_port.elf that writes `port` instead of 0x80. */
static char *bad_port_guest(uint16_t port)
{
	char *path = temp_copy(TEST_GUEST("bad_port"));
	FILE *f = fopen(path, "r+");
	char buf[16384], *marker;
	size_t n;

	cr_assert(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	marker = memmem(buf, n, "PWPORT", 6);
	cr_assert(marker, "no PWPORT marker in bad_port.elf");
	cr_assert_eq(fseek(f, marker + 6 - buf, SEEK_SET), 0);
	cr_assert_eq(fwrite(&port, sizeof(port), 1, f), 1);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/*
 * A port a guest may use (0xe9, 0xf4, 0x3f8-0x3ff, the doorbell) is
 * handled; any other stops the VM.  Every unhandled port next to a handled
 * range, the two ends of the port space, and the POST-code port 0x80.  The
 * report names the instruction: bad_port.S's `outl %eax, %dx` (EF, one
 * byte) follows a 7-byte RIP-relative movzwl and a 5-byte movl, at
 * _start+0xc, right before port_written.
 */
Test(hostile, writes_to_unhandled_ports)
{
	static const uint16_t ports[] = {
		0x0000, 0x0080, PW_PORT_DEBUGCON - 1, PW_PORT_DEBUGCON + 1, PW_PORT_EXIT - 1,
		PW_PORT_EXIT + 1, PW_PORT_COM1 - 1, PW_PORT_COM1 + 8, PW_PORT_DOORBELL - 1,
		PW_PORT_DOORBELL + 1, 0xffff,
	};
	char want[128];

	require_kvm();
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		char *guest = bad_port_guest(ports[i]);

		snprintf(want, sizeof(want), "guest wrote unhandled I/O port %#x (4 bytes) by the "
			 "instruction at 0x", ports[i]);
		expect_stop(guest, VMM_GUEST_ERROR, want, " _start+0xc, next rip=0x");
		expect_stop(guest, VMM_GUEST_ERROR, want, " port_written+0x0");
		unlink(guest);
		free(guest);
	}
}

Test(hostile, mmio_to_unbacked_memory)
{
	require_kvm();
	expect_stop(TEST_GUEST("mmio_unbacked"), VMM_GUEST_ERROR,
		    "guest wrote 4 bytes at guest-physical 0x1000000: no RAM or device there; rip=0x",
		    " written_past_ram+0x0");
}

/*
 * Symbol names come from the guest's ELF and reach the terminal in every
 * report: the spinning guest with "spin_forever" renamed, in its string
 * table, to the same 12 bytes "spin" ESC "[2J" 0xff "ver" (ESC [2J clears
 * a terminal).  The watchdog report symbolises the RIP there; ESC (0x1b,
 * a control byte) and 0xff (not ASCII) must come out as \xNN.
 */
Test(hostile, symbol_names_escaped_in_reports)
{
	static const char plain[] = "spin_forever", evil[] = "spin\x1b[2J\xffver";
	char *path = temp_copy(TEST_GUEST("spin"));
	const char *argv[] = { VMM_BIN, "--timeout", "0.3", path, NULL };
	struct cli_run r;
	char *image;
	size_t n = 0;
	FILE *f;

	_Static_assert(sizeof(plain) == sizeof(evil), "same length, nothing else moves");
	require_kvm();
	f = fopen(path, "r+");
	cr_assert(f);
	image = malloc(1 << 20);
	n = fread(image, 1, 1 << 20, f);
	for (size_t i = 0; i + sizeof(plain) <= n; i++)
		if (!memcmp(image + i, plain, sizeof(plain)))
			memcpy(image + i, evil, sizeof(evil));
	rewind(f);
	cr_assert_eq(fwrite(image, 1, n, f), n);
	fclose(f);
	free(image);
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_WATCHDOG, "%s", r.err);
	cr_assert(strstr(r.err, "spin\\x1b[2J\\xffver+0x0"), "%s", r.err);
	cr_assert_null(strchr(r.err, '\x1b'), "a raw ESC on stderr: %s", r.err);
	cli_run_free(&r);
	unlink(path);
	free(path);
}
