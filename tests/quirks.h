/*
 * Where a host's MMU departs from the SDM/APM.  Each quirk is a class of
 * #PF error code a test may meet instead of the architectural one, named
 * with its evidence.  A test that meets one counts it and logs it by name;
 * any other difference still fails.
 */
#ifndef PAGEWALK_TEST_QUIRKS_H
#define PAGEWALK_TEST_QUIRKS_H

#include <stdint.h>

enum host_quirk {
	QUIRK_NONE = -1,
	/*
	 * QEMU's TCG page walker (target/i386/tcg/sysemu/excp_helper.c,
	 * mmu_translate(), label do_fault_rsvd) reports a reserved-bit fault
	 * with RSVD but without P.  SDM vol. 3A 4.7: reserved bits are only
	 * checked in present entries, so "bit 3 of the error code can be set
	 * only if bit 0 is also set".  KVM's own walker sets both.
	 */
	QUIRK_RSVD_WITHOUT_P,
	NR_HOST_QUIRKS
};

extern const char *const host_quirk_names[NR_HOST_QUIRKS];

/* The quirk that explains error code `got` where the SDM says `want`; QUIRK_NONE if none does. */
enum host_quirk pf_error_quirk(int64_t want, int64_t got);

#endif
