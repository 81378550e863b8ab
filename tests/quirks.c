/* Host MMU quirks: tests/quirks.h. */
#include <pagewalk/layout.h>
#include <pagewalk/sizes.h>

#include "harness.h"
#include "libvmm.h"
#include "quirks.h"

const char *const host_quirk_names[NR_HOST_QUIRKS] = {
	[QUIRK_RSVD_WITHOUT_P] = "RSVD without P in the #PF error code (QEMU TCG's walker; "
				 "SDM vol. 3A 4.7 sets P with RSVD)",
	[QUIRK_A_IN_FAULTING_1G_LEAF] = "A set in a 1 GiB PDPTE whose access faults (QEMU TCG's "
					"walker sets it before checking the leaf; at 2 MiB it does not)",
	[QUIRK_A_IN_PAE_PDPTE] = "A set in a PAE PDPTE, where the SDM reserves bit 5 (QEMU TCG's "
				 "walker reads PDPTEs at every walk and sets it)",
	[QUIRK_PDPTE_READ_AT_EVERY_WALK] = "a PAE PDPTE changed in memory maps before CR3 is written "
					   "again (QEMU TCG's walker holds no PDPTE registers)",
};

enum host_quirk pf_error_quirk(int64_t want, int64_t got)
{
	const int64_t rsvd = X86_PF_RSVD | X86_PF_PROT;

	if (want >= 0 && (want & rsvd) == rsvd && got == (want & ~X86_PF_PROT))
		return QUIRK_RSVD_WITHOUT_P;
	return QUIRK_NONE;
}

enum host_quirk gb_leaf_quirk(uint64_t want, uint64_t got)
{
	return !(want & PT_ACCESSED) && got == (want | PT_ACCESSED) ? QUIRK_A_IN_FAULTING_1G_LEAF : QUIRK_NONE;
}

enum host_quirk pdpte_quirk(uint64_t e)
{
	/* SDM vol. 3A table 4-8: all but P, PWT, PCD and the address are reserved; here only A is set. */
	const uint64_t reserved = 0x1e6 | (1ULL << 63);

	return (e & PT_PRESENT) && (e & reserved) == PT_ACCESSED ? QUIRK_A_IN_PAE_PDPTE : QUIRK_NONE;
}

bool host_sets_a_in_pdptes(void)
{
	static int known = -1;
	struct vmm_config cfg;
	uint64_t pdpte0;
	struct vm *vm;

	if (known >= 0)
		return known;
	test_config(&cfg, TEST_GUEST("paging32"), PW_WORKLOAD_DEFAULT);
	cfg.paging = 3;
	cfg.mem_bytes = 16 * SZ_1M;
	vm = test_vm_create(&cfg);
	cr_assert_eq(vm_run(vm), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(vm_read_phys(vm, PW_BOOT_PGD, &pdpte0, sizeof(pdpte0)), 0);
	cr_assert_eq(pdpte0 & ~PT_ACCESSED, PW_BOOT_PD | PT_PRESENT, "boot PDPTE 0 %#llx",
		     (unsigned long long)pdpte0);
	known = !!(pdpte0 & PT_ACCESSED);
	vm_destroy(vm);
	return known;
}

size_t pdpte_quirk_clear(struct vm *vm)
{
	struct vm_pgd pgds[128];
	size_t n = vm_pgds(vm, pgds, 128), cleared = 0;

	if (!host_sets_a_in_pdptes())
		return 0;
	for (size_t i = 0; i < n && i < 128; i++) {
		uint64_t pdpt[4];
		bool changed = false;

		if (vm_read_phys(vm, pgds[i].phys, pdpt, sizeof(pdpt)))
			continue;
		for (unsigned int j = 0; j < 4; j++) {
			if (pdpte_quirk(pdpt[j]) == QUIRK_A_IN_PAE_PDPTE) {
				pdpt[j] &= ~PT_ACCESSED;
				changed = true;
				cleared++;
			}
		}
		if (changed)
			vm_write_phys(vm, pgds[i].phys, pdpt, sizeof(pdpt));
	}
	return cleared;
}
