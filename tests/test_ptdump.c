/*
 * ptdump line for line as Linux prints it: the expected dump is derived
 * from Linux's rules (arch/x86/mm/dump_pagetables.c's note_page() and
 * printk_prot(), mm/ptdump.c's ranges), the geometry and layout.h, for a
 * guest state the test makes, never copied from a run.
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"

#define USER_PAGES	0x400000ULL	/* PMD entry 2 of the first PMD table */

/* Linux's columns for the flags printk_prot() prints; "" for a hole. */
#define NONE		"                              "
#define USER_RW_NX	"USR RW                     NX "
#define USER_RO_X	"USR ro                     x  "
#define KERNEL_RW_NX	"    RW                 GLB NX "
#define KERNEL_LARGE	"    RW         PSE     GLB NX "
#define TEXT		"    ro                 GLB x  "
#define RODATA		"    ro                 GLB NX "

struct want {
	char text[16384];
	size_t len;
};

static void marker(struct want *w, const char *name)
{
	w->len += snprintf(w->text + w->len, sizeof(w->text) - w->len, "---[ %s ]---\n", name);
}

/* A run, its size in note_page()'s units: divided by 1024 while it divides. */
static void run(struct want *w, uint64_t start, uint64_t end, const char *prot, const char *level)
{
	static const char units[] = "BKMGTPE";
	const char *unit = units;
	uint64_t delta = end - start;

	while (!(delta & 1023) && unit[1]) {
		delta >>= 10;
		unit++;
	}
	w->len += snprintf(w->text + w->len, sizeof(w->text) - w->len, "0x%016lx-0x%016lx   %9lu%c %s%s\n",
			   (unsigned long)start, (unsigned long)end, (unsigned long)delta, *unit, prot, level);
}

static char *dump(struct vm *vm, uint64_t cr3)
{
	struct vm_paging pg;
	char *text;
	size_t len;
	FILE *f;

	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	pg.cr3 = cr3;
	f = open_memstream(&text, &len);
	cr_assert_eq(vm_ptdump(vm, &pg, f), VMM_OK);
	fclose(f);
	return text;
}

/*
 * A task that mapped 4 pages at USER_PAGES and wrote the first and the
 * third (present, USR RW NX, A and D set alike), and sees the trampoline
 * (USR ro x); nothing else in its user half.  Each empty entry is a hole
 * at its level (the top table's, with the p4d folded, the pgd's), and
 * equal holes of one level merge.
 */
static void user_half(struct want *w, const struct geometry *g)
{
	uint64_t t = PW_USER_TRAMPOLINE;

	marker(w, "User Space");
	run(w, 0, USER_PAGES, NONE, "pmd");				/* PMD entries 0-1 */
	run(w, USER_PAGES, USER_PAGES + 0x1000, USER_RW_NX, "pte");
	run(w, USER_PAGES + 0x1000, USER_PAGES + 0x2000, NONE, "pte");	/* mapped, never touched */
	run(w, USER_PAGES + 0x2000, USER_PAGES + 0x3000, USER_RW_NX, "pte");
	run(w, USER_PAGES + 0x3000, USER_PAGES + SZ_2M, NONE, "pte");	/* the rest of its PTE table */
	run(w, USER_PAGES + SZ_2M, SZ_1G, NONE, "pmd");
	run(w, SZ_1G, 512 * SZ_1G, NONE, "pud");
	/* Up to the trampoline's 512 GiB entry: the pgd's (4-level) or its P4D table's (5-level). */
	run(w, 512 * SZ_1G, t & ~(512 * SZ_1G - 1), NONE, g->levels == 5 ? "p4d" : "pgd");
	run(w, t & ~(512 * SZ_1G - 1), t & ~(SZ_1G - 1), NONE, "pud");
	run(w, t & ~(SZ_1G - 1), t & ~(SZ_2M - 1), NONE, "pmd");
	run(w, t & ~(SZ_2M - 1), t, NONE, "pte");
	run(w, t, t + 0x1000, USER_RO_X, "pte");
	/*
	 * The last user entry is the trampoline table's PTE 511.  With LA57
	 * the P4D table's entries 256-511 and pgd entries 1-255 follow; the
	 * run before the kernel half ends where mm/ptdump.c's second range
	 * starts, GUARD_HOLE_END_ADDR, with one marker: Kernel Space.
	 */
	if (g->levels == 5) {
		run(w, t + 0x1000, 1ULL << 47, NONE, "pte");
		run(w, 1ULL << 47, 1ULL << 48, NONE, "p4d");
		run(w, 1ULL << 48, PW_GUARD_HOLE_END(5), NONE, "pgd");
	} else {
		run(w, t + 0x1000, PW_GUARD_HOLE_END(4), NONE, "pte");
	}
}

/*
 * swapper_pg_dir's half as guest/mm/init.c builds it under prealloc, 256
 * MiB of RAM, no vmalloc yet.  One marker per run break, so each marker
 * line comes at the first break at or past its address: the LDT remap
 * marker (at the guard hole's end) heads the run after the first.
 */
static void kernel_half(struct want *w, const struct geometry *g, const Elf64_Phdr load[3])
{
	const unsigned int l = g->levels;
	const char *top = "pgd", *below_top = l == 5 ? "p4d" : "pud";
	uint64_t po = g->page_offset, vs = g->vmalloc_start, image_end;

	marker(w, "Kernel Space");
	run(w, PW_GUARD_HOLE_END(l), po, NONE, top);			/* pgd entry 272 */
	marker(w, "LDT remap");
	run(w, po, po + 0x1000, NONE, "pte");				/* pfn 0 unmapped */
	marker(w, "Low Kernel Mapping");
	run(w, po + 0x1000, po + SZ_2M, KERNEL_RW_NX, "pte");		/* PAGE_KERNEL: P RW A D G NX */
	run(w, po + SZ_2M, po + VMM_DEFAULT_MEM, KERNEL_LARGE, "pmd");
	run(w, po + VMM_DEFAULT_MEM, po + SZ_1G, NONE, "pmd");
	run(w, po + SZ_1G, po + 512 * SZ_1G, NONE, "pud");
	if (l == 5)	/* the P4D table under the direct map's pgd entry */
		run(w, po + 512 * SZ_1G, po + g->pgd_span, NONE, "p4d");
	run(w, po + g->pgd_span, vs, NONE, top);
	marker(w, "vmalloc() Area");
	/* preallocate_vmalloc_pages(): a table under each of its pgd entries, all empty. */
	run(w, vs, vs + PW_VMALLOC_SIZE(l), NONE, below_top);
	run(w, vs + PW_VMALLOC_SIZE(l), PW_VMEMMAP_START(l), NONE, top);
	marker(w, "Vmemmap");
	/*
	 * Pgd entry 511 holds the kernel image's table: 4-level, a PUD table
	 * from -512 GiB; 5-level, a P4D table from -256 TiB, whose last entry
	 * holds the PUD table.
	 */
	if (l == 5) {
		run(w, PW_VMEMMAP_START(5), -g->pgd_span, NONE, top);
		run(w, -g->pgd_span, PW_CPU_ENTRY_AREA_BASE, NONE, "p4d");
		marker(w, "CPU entry Area");
		run(w, PW_CPU_ENTRY_AREA_BASE, PW_ESPFIX_BASE, NONE, "p4d");
		marker(w, "ESPfix Area");
		run(w, PW_ESPFIX_BASE, -512 * SZ_1G, NONE, "p4d");
	} else {
		run(w, PW_VMEMMAP_START(4), PW_CPU_ENTRY_AREA_BASE, NONE, top);
		marker(w, "CPU entry Area");
		run(w, PW_CPU_ENTRY_AREA_BASE, PW_ESPFIX_BASE, NONE, top);
		marker(w, "ESPfix Area");
		run(w, PW_ESPFIX_BASE, -512 * SZ_1G, NONE, top);
	}
	run(w, -512 * SZ_1G, PW_EFI_VA_END, NONE, "pud");
	marker(w, "EFI Runtime Services");
	run(w, PW_EFI_VA_END, PW_START_KERNEL_MAP, NONE, "pud");
	marker(w, "High Kernel Mapping");
	/*
	 * The image from PW_KERNEL_VIRT, page by page as its three PT_LOADs:
	 * text P A G, rodata P A G NX, data and bss P RW A D G NX.
	 */
	image_end = (load[2].p_vaddr + load[2].p_memsz + 0xfff) & ~0xfffULL;
	cr_assert(load[0].p_vaddr == PW_KERNEL_VIRT && image_end <= PW_KERNEL_VIRT + SZ_2M,
		  "the image fills PMD entry 1 of the kernel map only");
	run(w, PW_START_KERNEL_MAP, PW_KERNEL_VIRT, NONE, "pmd");
	run(w, load[0].p_vaddr, load[1].p_vaddr, TEXT, "pte");
	run(w, load[1].p_vaddr, load[2].p_vaddr, RODATA, "pte");
	run(w, load[2].p_vaddr, image_end, KERNEL_RW_NX, "pte");
	run(w, image_end, PW_KERNEL_VIRT + SZ_2M, NONE, "pte");
	run(w, PW_KERNEL_VIRT + SZ_2M, PW_MODULES_VADDR, NONE, "pmd");
	marker(w, "Modules");
	/* PUD entry 511, empty; the flush, note_page(st, 0, -1, 0), ends the run at 0. */
	run(w, PW_MODULES_VADDR, 0, NONE, "pud");
	w->len += snprintf(w->text + w->len, sizeof(w->text) - w->len,
			   "x86/mm: Checked W+X mappings: passed, no W+X pages found.\n");
}

static void task_dump_is_linuxs(unsigned int levels)
{
	struct vm *vm = boot_ops_guest_paging(levels);
	const struct geometry g = vm_geometry(vm);
	struct want w = { .len = 0 };
	Elf64_Phdr load[3];
	uint64_t t;
	char *text;

	elf_loads(GUEST_ELF, load, 3);
	cr_assert(load[1].p_vaddr == ((load[0].p_vaddr + load[0].p_memsz + 0xfff) & ~0xfffULL) &&
		  load[2].p_vaddr == ((load[1].p_vaddr + load[1].p_memsz + 0xfff) & ~0xfffULL),
		  "PT_LOADs page after page, as guest.lds lays them out");
	t = new_task(vm);
	map(vm, t, USER_PAGES, 4 * 0x1000, RW);
	cr_assert_eq(touch(vm, t, USER_PAGES, PW_ACCESS_WRITE, true, 1, NULL), 0);
	cr_assert_eq(touch(vm, t, USER_PAGES + 0x2000, PW_ACCESS_WRITE, true, 1, NULL), 0);
	user_half(&w, &g);
	kernel_half(&w, &g, load);
	text = dump(vm, pgd_of(vm, t));
	cr_assert_str_eq(text, w.text, "got:\n%s\nwant:\n%s", text, w.text);
	free(text);
	end_vm(vm);
}

Test(ptdump, task_dump_is_linuxs_line_for_line)
{
	require_kvm();
	task_dump_is_linuxs(4);
}

Test(ptdump, task_dump_is_linuxs_line_for_line_with_la57)
{
	require_la57();
	task_dump_is_linuxs(5);
}

/*
 * The direct map of 4 GiB of RAM ([0, 3.25 GiB) and [4, 4.75 GiB), the
 * rule in test_ram.c) in Linux's lines: by split_mem_range(), 4 KiB pages
 * to 2 MiB, 2 MiB pages to 1 GiB, 1 GiB pages ("pud" runs) for the whole
 * GiBs where the CPU has them (KVM's CPUID leaf 0x80000001 EDX[26]; the
 * nested host), 2 MiB pages for the rest; note_page() starts a run where
 * the level changes, and empty entries are holes at their own level.
 */
Test(ptdump, direct_map_of_4_gib_in_linuxs_lines)
{
	const uint64_t hole = 0xd0000000ULL, high_end = 0x130000000ULL;
	struct kvm_cpuid_entry2 ext;
	const bool gb = kvm_cpuid(0x80000001, &ext) && (ext.edx & (1u << 26));
	struct want w = { .len = 0 };
	struct vm *vm;
	uint64_t po;
	char *text;

	require_kvm();
	vm = boot_ops_guest(4 * SZ_1G);
	po = vm_geometry(vm).page_offset;
	marker(&w, "Low Kernel Mapping");
	run(&w, po + 0x1000, po + SZ_2M, KERNEL_RW_NX, "pte");
	if (gb) {
		run(&w, po + SZ_2M, po + SZ_1G, KERNEL_LARGE, "pmd");
		run(&w, po + SZ_1G, po + 3 * SZ_1G, KERNEL_LARGE, "pud");
		run(&w, po + 3 * SZ_1G, po + hole, KERNEL_LARGE, "pmd");
	} else {
		run(&w, po + SZ_2M, po + hole, KERNEL_LARGE, "pmd");
	}
	run(&w, po + hole, po + 4 * SZ_1G, NONE, "pmd");
	run(&w, po + 4 * SZ_1G, po + high_end, KERNEL_LARGE, "pmd");
	run(&w, po + high_end, po + 5 * SZ_1G, NONE, "pmd");
	run(&w, po + 5 * SZ_1G, po + 512 * SZ_1G, NONE, "pud");
	text = dump(vm, op(vm, kinfo, NULL));
	cr_assert(strstr(text, w.text), "1 GiB pages %s; got:\n%s\nwant, in it:\n%s",
		  gb ? "offered" : "not offered", text, w.text);
	free(text);
	end_vm(vm);
}

/* The guest-physical address of va's level-`level` entry (1 = PTE) under cr3, or 0. */
static uint64_t entry_addr(struct vm *vm, uint64_t cr3, unsigned int levels, uint64_t va, unsigned int level)
{
	uint64_t table = cr3 & PT_ADDR_MASK, e;

	for (unsigned int l = levels;; l--) {
		uint64_t at = table + 8 * ((va >> (12 + 9 * (l - 1))) & 511);

		if (l == level)
			return at;
		if (vm_read_phys(vm, at, &e, 8) || !(e & PT_PRESENT) || (e & PT_PSE))
			return 0;
		table = e & PT_ADDR_MASK;
	}
}

/*
 * Linux's W+X check: swapper_pg_dir passes (the VMM's boot tables, RW
 * and executable everywhere, would not); with NX cleared in the direct
 * map's second 2 MiB PDE (RW, and no table entry above it sets NX) that
 * run is writable and executable, 512 pages, and the check fails with
 * Linux's lines, the first W+X address first.
 */
Test(ptdump, w_x_check_passes_then_fails_as_linux)
{
	struct vm *vm;
	struct geometry g;
	struct vm_paging pg;
	struct vm_pgd swapper;
	uint64_t pde, e;
	char *text, want[128];

	require_kvm();
	vm = boot_ops_guest(VMM_DEFAULT_MEM);
	g = vm_geometry(vm);
	new_task(vm);		/* the first op boots the guest onto swapper_pg_dir */
	cr_assert_geq(vm_pgds(vm, &swapper, 1), 1);
	cr_assert_eq(swapper.mm, 0);
	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	pg.cr3 = swapper.phys;
	text = dump(vm, pg.cr3);
	cr_assert(strstr(text, "\nx86/mm: Checked W+X mappings: passed, no W+X pages found.\n"), "%s", text);
	free(text);

	pde = entry_addr(vm, pg.cr3, g.levels, g.page_offset + SZ_2M, 2);
	cr_assert(pde && !vm_read_phys(vm, pde, &e, 8) && (e & PT_PSE) && (e & PT_NX), "%#lx", (unsigned long)e);
	e &= ~PT_NX;
	cr_assert_eq(vm_write_phys(vm, pde, &e, 8), 0);
	text = dump(vm, pg.cr3);
	snprintf(want, sizeof(want), "0x%016lx-0x%016lx           2M     RW         PSE     GLB x  pmd\n",
		 (unsigned long)(g.page_offset + SZ_2M), (unsigned long)(g.page_offset + 2 * SZ_2M));
	cr_assert(strstr(text, want), "%s", text);
	snprintf(want, sizeof(want), "\nx86/mm: Found insecure W+X mapping at address 0x%lx\n"
		 "x86/mm: Checked W+X mappings: FAILED, 512 W+X pages found.\n",
		 (unsigned long)(g.page_offset + SZ_2M));
	cr_assert(strstr(text, want), "%s", text);
	free(text);
	e |= PT_NX;
	cr_assert_eq(vm_write_phys(vm, pde, &e, 8), 0);
	end_vm(vm);
}

/*
 * --ptdump=all: swapper_pg_dir and every pgd on pgd_list when the guest
 * stopped (the default workload's tasks have all exited: swapper only);
 * --ptdump=CR3 of it the same dump; a CR3 that is no live pgd refused at
 * the end, one that is not a 32-byte-aligned number at once.
 */
Test(ptdump, cli_all_and_one_pgd)
{
	const char *all[] = { VMM_BIN, "--ptdump=all", GUEST_ELF, NULL };
	const char *unaligned[] = { VMM_BIN, "--ptdump=0x1234", GUEST_ELF, NULL };
	const char *dead[] = { VMM_BIN, "--ptdump=0x1000", GUEST_ELF, NULL };
	char arg[64], *one_argv_dump;
	const char *one[] = { VMM_BIN, arg, GUEST_ELF, NULL };
	unsigned long swapper;
	struct cli_run r;
	const char *at;

	require_kvm();
	run_vmm(&r, all);
	cr_assert_eq(r.status, 0, "%s", r.err);
	at = strstr(r.out, "page tables of init_mm, swapper_pg_dir 0x");
	cr_assert(at && sscanf(at, "page tables of init_mm, swapper_pg_dir %lx:", &swapper) == 1, "%s", r.out);
	cr_assert(!strstr(at + 1, "page tables of"), "one live pgd: %s", r.out);
	one_argv_dump = strdup(at);
	cli_run_free(&r);

	snprintf(arg, sizeof(arg), "--ptdump=%#lx", swapper);
	run_vmm(&r, one);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, one_argv_dump), "%s", r.out);
	free(one_argv_dump);
	cli_run_free(&r);

	run_vmm(&r, unaligned);
	cr_assert_eq(r.status, VMM_BAD_INPUT);
	cr_assert(strstr(r.err, "--ptdump=0x1234: expected all or a pgd's address (32-byte aligned)"), "%s", r.err);
	cli_run_free(&r);

	run_vmm(&r, dead);
	cr_assert_eq(r.status, VMM_BAD_INPUT);
	snprintf(arg, sizeof(arg), "--ptdump=0x1000: not a live pgd; the live ones: %#lx\n", swapper);
	cr_assert(strstr(r.err, arg), "%s", r.err);
	cli_run_free(&r);
}
