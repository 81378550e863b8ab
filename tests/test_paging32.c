/*
 * i386 paging in the VMM: an ELF32 guest (tests/guests/i386/paging32.S)
 * booted with `--paging 2` (two-level, CR4.PSE) and `--paging 3` (PAE),
 * then the host walker, KVM_TRANSLATE and ptdump on the tables it left.
 * Where the host cannot run a mode (PVM shuts the vCPU down at once) the
 * tests skip with the probe's reason; the nested SVM host runs them.
 *
 * Expected values come from the SDM's geometry (vol. 3A 4.3: 4-byte
 * entries, 10 index bits a level, 4 MiB PSE pages; 4.4: PAE's 4 PDPTEs,
 * 2 MiB pages), the boot protocol (RAM mapped identity and at 0xC0000000
 * with the largest page), the guest's source (word 0x5a17c0de at
 * guest-physical 0x200000, mapped by a 4 KiB page at 0x40000000), and
 * Linux's folding (two-level PDEs are pmds, PAE's PDPTEs puds).
 */
#include <stdio.h>

#include <pagewalk/layout.h>
#include <pagewalk/sizes.h>

#include "harness.h"
#include "quirks.h"

#define PAGING32_ELF	TEST_GUEST("paging32")
#define WORD		0x5a17c0deU
#define PHYS		0x200000ULL
#define VIRT		0x40000000ULL

/* Boot paging32.elf in `levels`-level paging, run it to its exit: status 0 said the word read back. */
static struct vm *run_paging32(unsigned int levels)
{
	struct vmm_config cfg;
	struct vm *vm;

	test_config(&cfg, PAGING32_ELF, PW_WORKLOAD_DEFAULT);
	cfg.paging = levels;
	vm = test_vm_create(&cfg);
	cr_assert_eq(vm_levels(vm), levels);
	cr_assert_eq(vm_run(vm), VMM_OK, "%s", vm_message(vm));
	cr_assert(vm_guest_exited(vm));
	/* 2: EDI was not the FDT; 1: the word did not read back through the 4 KiB page. */
	cr_assert_eq(vm_guest_status(vm), 0, "guest status %u", vm_guest_status(vm));
	return vm;
}

/*
 * PAE on the second host: its MMU leaves A in the PDPTEs it used, a bit
 * the SDM reserves there.  The walker must call such a PDPTE reserved
 * (checked on VIRT's); then the bit is cleared, so that the tables are
 * the guest's again for the walker, KVM_TRANSLATE and ptdump.  Any other
 * reserved bit in a PDPTE fails.
 */
static bool pdpte_a_quirk(struct vm *vm)
{
	struct vm_paging pg;
	struct vm_walk w;
	uint64_t pdpt[4];
	bool seen = false;

	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	cr_assert_eq(vm_read_phys(vm, pg.cr3 & PT_PAE_PDPT_MASK, pdpt, sizeof(pdpt)), 0);
	for (unsigned int i = 0; i < 4; i++) {
		if (!(pdpt[i] & PT_ACCESSED))
			continue;
		cr_assert_eq(pdpte_quirk(pdpt[i]), QUIRK_A_IN_PAE_PDPTE, "PDPTE %u = %#llx", i,
			     (unsigned long long)pdpt[i]);
		if (i == VIRT >> 30) {
			cr_assert_eq(vm_walk(vm, &pg, VIRT, &w), VMM_OK);
			cr_assert(w.rsvd && w.level == 3, "PDPTE %#llx with A is not reserved to the walker",
				  (unsigned long long)pdpt[i]);
		}
		pdpt[i] &= ~PT_ACCESSED;
		seen = true;
	}
	if (!seen)
		return false;
	cr_log_info("paging32: host quirk: %s", host_quirk_names[QUIRK_A_IN_PAE_PDPTE]);
	cr_assert_eq(vm_write_phys(vm, pg.cr3 & PT_PAE_PDPT_MASK, pdpt, sizeof(pdpt)), 0);
	return true;
}

static struct vm_walk walk(struct vm *vm, const struct vm_paging *pg, uint64_t va)
{
	struct vm_walk w;

	cr_assert_eq(vm_walk(vm, pg, va, &w), VMM_OK, "walk %#llx", (unsigned long long)va);
	return w;
}

static void check_translate(struct vm *vm)
{
	unsigned int agree, n, mapped, unmapped;
	char report[4096];

	cr_assert_eq(vm_check_translate(vm, 0, 64, report, sizeof(report)), VMM_OK, "%s", report);
	cr_assert_eq(sscanf(report, "KVM_TRANSLATE agrees on %u of %u addresses (%u mapped, %u unmapped)",
			    &agree, &n, &mapped, &unmapped), 4, "%s", report);
	cr_assert(agree == n && mapped > 0 && unmapped > 0, "%s", report);
}

/* What the walker finds in either mode; `large` is the boot tables' page size. */
static void check_walks(struct vm *vm, unsigned int levels, uint64_t large)
{
	struct vm_paging pg;
	struct vm_walk w;
	uint32_t word;

	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	cr_assert_eq(vm_paging_levels(&pg), levels);
	cr_assert_not(pg.efer & EFER_LMA, "the boot protocol leaves EFER clear");

	/* The guest's own 4 KiB page. */
	w = walk(vm, &pg, VIRT + 0x123);
	cr_assert(w.present && w.level == 1 && w.phys == PHYS + 0x123 && !w.user && w.writable,
		  "level %u phys %#llx, entries %#llx %#llx %#llx",
		  w.level, (unsigned long long)w.phys, (unsigned long long)w.entries[2],
		  (unsigned long long)w.entries[1], (unsigned long long)w.entries[0]);
	cr_assert_eq(vm_read_phys(vm, w.phys - 0x123, &word, 4), 0);
	cr_assert_eq(word, WORD);
	/* Its page table's other entries are empty: the walk ends at the PTE. */
	w = walk(vm, &pg, VIRT + 0x1000);
	cr_assert(!w.present && w.level == 1);

	/* The boot tables' direct map: the largest page of the mode, at PAGE_OFFSET. */
	w = walk(vm, &pg, PW_PAGE_OFFSET_32 + PHYS + 0x345);
	cr_assert(w.present && w.level == 2 && w.phys == PHYS + 0x345 && w.writable,
		  "level %u phys %#llx", w.level, (unsigned long long)w.phys);
	w = walk(vm, &pg, PW_PAGE_OFFSET_32 + large + 8);
	cr_assert(w.present && w.phys == large + 8);

	/* The mode's bit: PSE for 4 MiB pages in two-level paging, PAE for the other. */
	cr_assert(pg.cr4 & (levels == 2 ? X86_CR4_PSE : X86_CR4_PAE));
	/*
	 * 0x80000000 is PDE 512 (>> 22), below the direct map's 768 on, or
	 * PDPTE 2 (>> 30), between the boot tables' 0 and 3 and the guest's
	 * 1: empty, and the top table's entry either way.
	 */
	w = walk(vm, &pg, 0x80000000ULL);
	cr_assert(!w.present && w.level == levels && !w.rsvd);
	/* Above 4 GiB is no address at all outside long mode. */
	cr_assert_eq(vm_walk(vm, &pg, 1ULL << 32, &w), VMM_BAD_INPUT);
	check_translate(vm);
}

Test(paging32, two_level_boot_and_walk)
{
	struct vm_paging pg;
	struct vm_walk w;
	struct vm *vm;

	require_paging32(2);
	vm = run_paging32(2);
	/* 4 MiB pages under CR4.PSE (SDM vol. 3A 4.3). */
	check_walks(vm, 2, 4 * SZ_1M);
	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	/* The PDE for the guest's page points at its page table: 32-bit, 4-byte entries. */
	w = walk(vm, &pg, VIRT);
	cr_assert_eq(w.entries[1] >> 32, 0);
	cr_assert_eq(w.entries[0] & ~0xfffULL, PHYS);
	vm_destroy(vm);
}

Test(paging32, pae_boot_and_walk)
{
	struct vm_paging pg;
	struct vm_walk w;
	struct vm *vm;

	require_paging32(3);
	vm = run_paging32(3);
	pdpte_a_quirk(vm);
	/* 2 MiB pages under PAE (SDM vol. 3A 4.4). */
	check_walks(vm, 3, 2 * SZ_1M);
	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	/* PDPTE 1, written by the guest with P only (bits 2:1 are reserved there). */
	w = walk(vm, &pg, VIRT);
	cr_assert_eq(w.entries[2] & 0xfff, PT_PRESENT);
	vm_destroy(vm);
}

static char *ptdump_text(struct vm *vm)
{
	struct vm_paging pg;
	char *text = NULL;
	size_t len;
	FILE *f;

	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	f = open_memstream(&text, &len);
	cr_assert_eq(vm_ptdump(vm, &pg, f), VMM_OK);
	fclose(f);
	return text;
}

/* The run starting with `range` ends its line with Linux's level name `level`. */
static void expect_run(const char *text, const char *range, const char *level)
{
	const char *line = strstr(text, range), *end;

	cr_assert(line, "no run %s in:\n%s", range, text);
	end = strchr(line, '\n');
	cr_assert(end && end - line > (long)strlen(level) && !strncmp(end - strlen(level), level, strlen(level)),
		  "run %s is not at the %s level:\n%s", range, level, text);
}

/*
 * ptdump as i386 Linux prints it: 8 hex digits an address, one range over
 * the whole space, and the levels named where Linux's walk meets them:
 * two-level's PDEs as pmds (pgd, p4d and pud fold into them).
 */
Test(paging32, two_level_ptdump_folded_levels)
{
	struct vm *vm;
	char *text;

	require_paging32(2);
	vm = run_paging32(2);
	text = ptdump_text(vm);
	cr_assert(strstr(text, "---[ User Space ]---\n"), "%s", text);
	cr_assert(strstr(text, "---[ Kernel Mapping ]---\n"), "%s", text);
	expect_run(text, "0x40000000-0x40001000 ", "pte");
	expect_run(text, "0x40001000-0x40400000 ", "pte");
	/* The PDEs from 257 to the direct map's 768 are empty: a hole at the pmd. */
	expect_run(text, "0x40400000-0xc0000000 ", "pmd");
	cr_assert_null(strstr(text, "pud\n"), "two-level paging has no pud:\n%s", text);
	cr_assert_null(strstr(text, "0x0000000040000000"), "64-bit addresses:\n%s", text);
	free(text);
	vm_destroy(vm);
}

/*
 * PAE: the PDPTEs are puds, the PDEs pmds.  Where the host's MMU left A in
 * the PDPTEs (the quirk above) the dump is the same, the tables under
 * them shown, and a note names the bit; once it is cleared, no note.
 */
Test(paging32, pae_ptdump_folded_levels)
{
	char *text[2];
	struct vm *vm;
	bool quirk;

	require_paging32(3);
	vm = run_paging32(3);
	text[0] = ptdump_text(vm);
	quirk = pdpte_a_quirk(vm);
	text[1] = ptdump_text(vm);
	for (int i = 0; i < 2; i++) {
		expect_run(text[i], "0x40000000-0x40001000 ", "pte");
		expect_run(text[i], "0x40001000-0x40200000 ", "pte");
		expect_run(text[i], "0x40200000-0x80000000 ", "pmd");
		/* PDPTE 2, empty: a hole at the pud. */
		expect_run(text[i], "0x80000000-0xc0000000 ", "pud");
		cr_assert_null(strstr(text[i], "(reserved bits)"), "%s", text[i]);
	}
	cr_assert_eq(strstr(text[0], "with A set, bit 5, which the SDM reserves there") != NULL, quirk, "%s",
		     text[0]);
	cr_assert_null(strstr(text[1], "with A set"), "%s", text[1]);
	free(text[0]);
	free(text[1]);
	vm_destroy(vm);
}

/* The loader: an ELF32 i386 guest runs only in the i386 modes, an ELF64 one never in them. */
Test(paging32, elf_class_must_match_the_mode)
{
	struct vmm_config cfg;
	struct vm *vm;
	char err[1024];

	require_paging32(2);
	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_DEFAULT);
	cfg.paging = 2;
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_BAD_INPUT);
	cr_assert(strstr(err, "runs ELF32 i386 guests only"), "%s", err);
}

/* Lowmem only: the 3G/1G split maps at most 768 MiB here, whatever the host. */
Test(paging32, ram_above_lowmem_refused)
{
	struct vmm_config cfg;
	struct vm *vm;
	char err[1024];

	test_config(&cfg, PAGING32_ELF, PW_WORKLOAD_DEFAULT);
	cfg.paging = 3;
	cfg.mem_bytes = PW_MAX_MEM_32 + 2 * SZ_1M;
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_BAD_INPUT);
	cr_assert(strstr(err, "above the 768 MiB of lowmem"), "%s", err);
}

/* Where the probe says no, vm_create refuses with its reason and VMM_NO_KVM, as --paging 5 without LA57. */
Test(paging32, refused_with_the_probe_reason)
{
	struct vmm_config cfg;
	struct vm *vm;
	char err[1024], why[256];

	require_kvm();
	for (unsigned int levels = 2; levels <= 3; levels++) {
		if (vmm_probe_paging32(levels, why, sizeof(why)))
			continue;
		test_config(&cfg, PAGING32_ELF, PW_WORKLOAD_DEFAULT);
		cfg.paging = levels;
		cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_NO_KVM);
		cr_assert(strstr(err, why), "%s does not give the probe's reason %s", err, why);
	}
}

/*
 * The command: `vmm --paging 2|3` runs the ELF32 guest to its status 0 and
 * --ptdump prints its tables, where the host runs the mode; elsewhere
 * status 5 (VMM_NO_KVM) with the probe's reason on stderr, as --paging 5
 * without LA57.
 */
Test(paging32, cli_status_and_ptdump_or_the_probe_reason)
{
	char why[256];

	require_kvm();
	for (const char *const *mode = (const char *const[]){ "2", "3", NULL }; *mode; mode++) {
		const char *const argv[] = { VMM_BIN, "--paging", *mode, "--ptdump", PAGING32_ELF, NULL };
		struct cli_run r;

		run_vmm(&r, argv);
		if (vmm_probe_paging32(**mode - '0', why, sizeof(why))) {
			cr_assert_eq(r.status, VMM_OK, "--paging %s: %s", *mode, r.err);
			cr_assert(strstr(r.out, "---[ Kernel Mapping ]---\n0xc0000000-"), "%s", r.out);
		} else {
			cr_assert_eq(r.status, VMM_NO_KVM, "--paging %s: %s", *mode, r.err);
			cr_assert(strstr(r.err, why), "--paging %s: %s", *mode, r.err);
		}
		cli_run_free(&r);
	}
}

/*
 * vm_corrupt() on two-level paging's 4-byte entries: clearing P in the
 * guest's PTE unmaps its page and leaves the next entry, in the same
 * 8 bytes, as it was.
 */
Test(paging32, corrupt_a_4_byte_pte)
{
	struct vm_paging pg;
	struct vm_walk w;
	uint64_t old;
	uint32_t pte[2];
	struct vm *vm;

	require_paging32(2);
	vm = run_paging32(2);
	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	w = walk(vm, &pg, VIRT);
	/* The page table is the PDE's frame (bits 31:12); the guest's PTE is its entry 0. */
	cr_assert_eq(vm_write_phys(vm, (w.entries[1] & PT_ADDR_MASK_32) + 4, &(uint32_t){ 0xabc00001 }, 4), 0);
	cr_assert_eq(vm_corrupt(vm, &pg, VIRT, 1, VM_CORRUPT_CLEAR_PRESENT, 0, &old), VMM_OK, "%s",
		     vm_message(vm));
	cr_assert_eq(old, w.entries[0]);
	cr_assert_eq(vm_read_phys(vm, w.entries[1] & PT_ADDR_MASK_32, pte, sizeof(pte)), 0);
	cr_assert_eq(pte[0], (uint32_t)(old & ~PT_PRESENT));
	cr_assert_eq(pte[1], 0xabc00001);
	w = walk(vm, &pg, VIRT);
	cr_assert(!w.present && w.level == 1);
	/* No address bit above MAXPHYADDR in a 32-bit entry: refused, not written. */
	cr_assert_eq(vm_corrupt(vm, &pg, VIRT, 1, VM_CORRUPT_SET_RESERVED, 0, NULL), VMM_BAD_INPUT);
	vm_destroy(vm);
}

/*
 * PAE's PDPTE registers against the MMU (tests/guests/i386/pdpte_reload.S):
 * per the SDM (vol. 3A 4.4.1) a PDPTE made present in memory is not used
 * until CR3 is written again, so the read before the reload faults
 * (status 0); a host whose MMU reads PDPTEs from memory at every walk
 * reads the word at once (status 3), a named quirk.
 */
Test(paging32, pae_pdpte_change_needs_a_cr3_reload)
{
	struct vmm_config cfg;
	struct vm *vm;
	uint32_t status;

	require_paging32(3);
	test_config(&cfg, TEST_GUEST("pdpte_reload"), PW_WORKLOAD_DEFAULT);
	cfg.paging = 3;
	vm = test_vm_create(&cfg);
	vm_run(vm);
	cr_assert(vm_guest_exited(vm), "%s", vm_message(vm));
	status = vm_guest_status(vm);
	/* 1: no word after the reload either; 2: not PAE. */
	cr_assert(status == 0 || status == 3, "guest status %u", status);
	if (status == 3)
		cr_log_info("paging32: host quirk: %s", host_quirk_names[QUIRK_PDPTE_READ_AT_EVERY_WALK]);
	vm_destroy(vm);
}
