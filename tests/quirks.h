/*
 * Where a host's MMU departs from the SDM/APM.  Each quirk is a class of
 * #PF error code a test may meet instead of the architectural one, named
 * with its evidence.  A test that meets one counts it and logs it by name;
 * any other difference still fails.
 */
#ifndef PAGEWALK_TEST_QUIRKS_H
#define PAGEWALK_TEST_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

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
	/*
	 * QEMU's TCG walker sets A in a 1 GiB PDPTE before it checks the leaf
	 * (mmu_translate(), restart_3_lma: ptw_setl() comes before the PS
	 * test, and the leaf's reserved bits 29:13 and rights are checked
	 * after, at do_check_protect), so a faulting 1 GiB leaf comes back
	 * accessed; at 2 MiB it tests PS first and leaves A alone, as KVM's
	 * walker does at every level (paging_tmpl.h sets A only after the
	 * permission check).
	 */
	QUIRK_A_IN_FAULTING_1G_LEAF,
	/*
	 * QEMU's TCG walker reads PAE's PDPTEs from memory on every walk
	 * (mmu_translate(), restart_3_nolma) and sets A, bit 5, in the one it
	 * used (ptw_setl()), a bit the SDM reserves in a PDPTE (vol. 3A table
	 * 4-8: 8:5 and 2:1 reserved); it checks neither range.  KVM's
	 * load_pdptrs() then finds the PDPTEs reserved and keeps the ones it
	 * loaded last, so KVM_TRANSLATE and KVM_GET_SREGS2 walk with stale ones.
	 */
	QUIRK_A_IN_PAE_PDPTE,
	/*
	 * The same walker holds no PDPTE registers: restart_3_nolma loads the
	 * PDPTE from memory (ptw_ldq()) at every walk, so a PDPTE made
	 * present in memory maps at once, where the SDM (vol. 3A 4.4.1) has
	 * the CPU use the PDPTEs it loaded at the last CR3 write.
	 */
	QUIRK_PDPTE_READ_AT_EVERY_WALK,
	NR_HOST_QUIRKS
};

extern const char *const host_quirk_names[NR_HOST_QUIRKS];

/* The quirk that explains error code `got` where the SDM says `want`; QUIRK_NONE if none does. */
enum host_quirk pf_error_quirk(int64_t want, int64_t got);

/* The quirk that explains 1 GiB leaf `got` after a faulting access where the model says `want`. */
enum host_quirk gb_leaf_quirk(uint64_t want, uint64_t got);

/* The quirk that explains PAE PDPTE `e` having reserved bits: only A, in a present one. */
enum host_quirk pdpte_quirk(uint64_t e);

/*
 * Undo QUIRK_A_IN_PAE_PDPTE in every live pgd (swapper_pg_dir and each
 * mm's, from the recorded events), so that the walker, the invariants and
 * KVM_TRANSLATE see the PDPTEs the guest wrote; a PDPTE with any other
 * reserved bit stays, for them to report.  How many it cleared.
 */
size_t pdpte_quirk_clear(struct vm *vm);

/*
 * Whether this host's MMU leaves A in the PAE PDPTEs it uses: found by
 * running tests/guests/i386/paging32.S under --paging 3 and reading back
 * the VMM's boot PDPTE 0, which the VMM wrote as P alone and that guest
 * never writes; once per test process.  pdpte_quirk_clear() clears only
 * where it says yes, so that elsewhere a guest writing A is caught.
 */
bool host_sets_a_in_pdptes(void);

#endif
