/*
 * The host-side oracle: libvmm's own page walker over guest RAM, checked
 * against what the guest reports (MAP and PGTABLE_ALLOC events, MM_INFO),
 * against KVM_TRANSLATE, and against page tables built to be wrong.
 *
 * At boot the guest moves from the VMM's boot tables to swapper_pg_dir,
 * built by its own paging core (guest/mm/init.c): the direct map at
 * PW_PAGE_OFFSET with 2 MiB pages, RW and NX, but 4 KiB pages in the first
 * 2 MiB so that pfn 0 stays unmapped; the image at PW_START_KERNEL_MAP with
 * 4 KiB pages, text read-only and executable, rodata read-only, data RW;
 * under the default --kernel-sync prealloc a PUD table under each of the
 * 64 vmalloc entries.  A CPU runs in a task's mm only for one access
 * (guest/kernel/task.c) and is on swapper_pg_dir between ops.
 */
#include <linux/kvm.h>
#include <stdio.h>

#include <pagewalk/layout.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"

#define ADDR_MASK	0x000ffffffffff000ULL

static struct vm_paging cpu_paging(struct vm *vm)
{
	struct vm_paging pg;

	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	return pg;
}

static struct vm_walk walk(struct vm *vm, const struct vm_paging *pg, uint64_t va)
{
	struct vm_walk w;

	cr_assert_eq(vm_walk(vm, pg, va, &w), VMM_OK, "walk %#lx", (unsigned long)va);
	return w;
}

/* Walker and KVM_TRANSLATE agree; how many sampled addresses did not translate. */
static unsigned int check_translate(struct vm *vm)
{
	unsigned int agree, n, mapped, unmapped;
	char report[4096];

	cr_assert_eq(vm_check_translate(vm, 0, 64, report, sizeof(report)), VMM_OK, "%s", report);
	cr_assert_eq(sscanf(report, "KVM_TRANSLATE agrees on %u of %u addresses (%u mapped, %u unmapped)",
			    &agree, &n, &mapped, &unmapped), 4, "%s", report);
	cr_assert(agree == n && n == mapped + unmapped && n > 0, "%s", report);
	return unmapped;
}

#define MAX_EVENTS 1024

/* The newest MAP event for addr. */
static const struct pw_event *map_event(struct vm *vm, uint64_t addr)
{
	const struct pw_event *m[MAX_EVENTS], *found = NULL;
	size_t n = events_since(vm, 0, PW_EV_MAP, m, MAX_EVENTS);

	cr_assert_leq(n, MAX_EVENTS);
	for (size_t i = 0; i < n; i++)
		if (m[i]->u.map.addr == addr)
			found = m[i];
	cr_assert_not_null(found, "no MAP event for %#lx", (unsigned long)addr);
	return found;
}

Test(walker, swapper_maps_the_kernel_image_and_the_direct_map)
{
	const uint64_t ram = VMM_DEFAULT_MEM;
	const uint64_t in_ram[] = { 0x1234567, ram - 1 };
	struct vm_paging pg;
	struct vm_walk w;
	struct vm *vm;
	uint64_t swapper, bss_end;
	const struct pw_event *boot[2];
	struct geometry g;

	require_kvm();
	vm = boot_ops_guest(0);
	g = vm_geometry(vm);
	swapper = op(vm, kinfo, NULL);
	pg = cpu_paging(vm);
	cr_assert_eq(pg.cr3 & ADDR_MASK, swapper, "between ops: init_mm's swapper_pg_dir");
	cr_assert_eq(vm_paging_levels(&pg), g.levels, "CR4.LA57 as the VM was made");

	/* The start of the image is text: 4 KiB, supervisor, read-only, executable. */
	w = walk(vm, &pg, PW_KERNEL_VIRT + 0x1234);
	cr_assert(w.present && !w.rsvd && !w.outside_ram);
	cr_assert_eq(w.level, 1, "4 KiB pages for the image");
	cr_assert_eq(w.phys, PW_KERNEL_PHYS + 0x1234);
	cr_assert(!w.user && !w.writable && !w.nx);
	cr_assert(w.accessed, "the vCPU runs the kernel from there");
	/* Its last page is bss: writable, not executable. */
	cr_assert_eq(events_since(vm, 0, PW_EV_BOOT, boot, 2), 1);
	bss_end = PW_START_KERNEL_MAP + boot[0]->u.boot.kernel_end;
	w = walk(vm, &pg, bss_end - 8);
	cr_assert(w.present && w.level == 1 && !w.user && w.writable && w.nx);
	cr_assert_eq(w.phys, boot[0]->u.boot.kernel_end - 8);

	for (unsigned int i = 0; i < sizeof(in_ram) / sizeof(in_ram[0]); i++) {
		w = walk(vm, &pg, g.page_offset + in_ram[i]);
		cr_assert(w.present && w.level == 2 && !w.user && w.writable && w.nx);
		cr_assert_eq(w.phys, in_ram[i]);
	}
	/* pfn 0 is the one hole in the direct map, in its 4 KiB-mapped first 2 MiB. */
	w = walk(vm, &pg, g.page_offset);
	cr_assert(!w.present && !w.rsvd && w.level == 1);
	w = walk(vm, &pg, g.page_offset + 4096);
	cr_assert(w.present && w.level == 1 && w.phys == 4096);
	/* The PMD table has ram / 2 MiB = 128 entries: the next one is empty. */
	w = walk(vm, &pg, g.page_offset + ram);
	cr_assert(!w.present && !w.rsvd && !w.outside_ram && w.level == 2);
	/*
	 * vmalloc: the top-level entry (pgd 402; 416 with LA57) holds the table
	 * preallocate_vmalloc_pages() put there (a PUD; a P4D with LA57), itself
	 * still empty: the walk stops one level below the top.
	 */
	w = walk(vm, &pg, g.vmalloc_start);
	cr_assert(!w.present && w.level == g.levels - 1 && (w.entries[g.levels - 1] & 1));
	/* Bit 47 (56 with LA57) without the bits above: not canonical, a #GP rather than a walk. */
	cr_assert_eq(vm_walk(vm, &pg, g.non_canonical, &w), VMM_BAD_INPUT);

	check_translate(vm);
	end_vm(vm);
}

/*
 * A ring-3 write at a maps a new private page, a read at a + 4 KiB the
 * shared zero page (guest/mm/memory.c, do_anonymous_page): both 4 KiB PTEs
 * of the task's pgd, user, NX (a VMA without PROT_EXEC, with EFER.NXE on).
 */
Test(walker, user_pages_under_the_tasks_pgd)
{
	const uint64_t a = 256 * SZ_1M;
	const struct pw_event *anon, *zero;
	struct vm_paging pg, no_wp;
	struct vm_walk w;
	struct vm *vm;
	uint64_t t, pgd;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, a, 2 * SZ_1M, RW);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 0x1234, NULL), 0);
	cr_assert_eq(touch(vm, t, a + 4096, PW_ACCESS_READ, true, 0, NULL), 0);
	anon = map_event(vm, a);
	zero = map_event(vm, a + 4096);
	cr_assert(anon->u.map.kind == PW_MAP_ANON && zero->u.map.kind == PW_MAP_ZERO);
	pgd = pgd_of(vm, anon->u.map.mm);
	pg = cpu_paging(vm);
	cr_assert_neq(pg.cr3 & ADDR_MASK, pgd, "task_touch() went back to init_mm");
	pg.cr3 = pgd;

	w = walk(vm, &pg, a + 8);
	cr_assert(w.present && w.level == 1);
	cr_assert_eq(w.phys, anon->u.map.phys + 8);
	cr_assert(w.user && w.writable);
	cr_assert_eq(w.nx, !!(pg.efer & EFER_NXE));
	cr_assert(w.accessed && w.dirty, "written from ring 3");
	cr_assert(vm_walk_permits(&pg, &w, VM_ACCESS_USER | VM_ACCESS_WRITE));

	w = walk(vm, &pg, a + 4096);
	cr_assert(w.present && w.level == 1);
	cr_assert_eq(w.phys, zero->u.map.phys);
	cr_assert(w.user && !w.writable && !w.dirty);
	cr_assert(vm_walk_permits(&pg, &w, VM_ACCESS_USER));
	cr_assert(!vm_walk_permits(&pg, &w, VM_ACCESS_USER | VM_ACCESS_WRITE));
	/* The guest runs with CR0.WP: even the kernel may not write there... */
	cr_assert(pg.cr0 & X86_CR0_WP);
	cr_assert(!vm_walk_permits(&pg, &w, VM_ACCESS_WRITE));
	/* ...which without WP it could, inside stac/clac where the guest runs with SMAP. */
	no_wp = pg;
	no_wp.cr0 &= ~X86_CR0_WP;
	no_wp.rflags |= X86_EFLAGS_AC;
	cr_assert(vm_walk_permits(&no_wp, &w, VM_ACCESS_WRITE));
	no_wp.rflags = 0;
	cr_assert_eq(vm_walk_permits(&no_wp, &w, VM_ACCESS_WRITE), !(pg.cr4 & X86_CR4_SMAP),
		     "SMAP without AC, CR4 %#lx", (unsigned long)pg.cr4);
	cr_assert_eq(vm_walk_permits(&pg, &w, VM_ACCESS_USER | VM_ACCESS_FETCH), !w.nx);

	check_translate(vm);
	end_vm(vm);
}

/*
 * Writes at 256 MiB, 1 GiB and 512 GiB after the trampoline fault, by
 * top-level entry of 512 GiB (p4d entries with LA57, all under pgd 0's
 * one P4D table; pgd entries without):
 *   255 (trampoline): PUD, PMD, PTE table
 *   0: one PUD; GiB 0 and GiB 1 a PMD and a PTE table each
 *   1 (512 GiB): PUD, PMD, PTE table
 * so (1 P4D,) 3 PUD, 4 PMD and 4 PTE tables, in guest RAM as in the
 * guest's accounting.
 */
Test(walker, tables_in_ram_match_the_guests_accounting)
{
	const uint64_t addrs[] = { 256 * SZ_1M, 1 * SZ_1G, 512 * SZ_1G };
	unsigned int tables[PW_LEVEL_PGD] = { 0 };
	struct mm_info mi;
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	for (unsigned int i = 0; i < 3; i++) {
		map(vm, t, addrs[i], 4096, RW);
		cr_assert_eq(touch(vm, t, addrs[i], PW_ACCESS_WRITE, true, i, NULL), 0);
	}
	mi = mm_info(vm, t);
	cr_assert(mi.p4ds == vm_geometry(vm).user_p4ds && mi.puds == 3 && mi.pmds == 4 &&
		  mi.ptes == 4, "guest: %lu/%lu/%lu/%lu", mi.p4ds, mi.puds, mi.pmds, mi.ptes);
	/* The user half, pgd entries 0..255; the kernel half is init_mm's. */
	count_tables(vm, pgd_of(vm, 1), vm_levels(vm), 0, 255, tables);
	cr_assert(tables[PW_LEVEL_P4D] == mi.p4ds && tables[PW_LEVEL_PUD] == mi.puds &&
		  tables[PW_LEVEL_PMD] == mi.pmds && tables[PW_LEVEL_PTE] == mi.ptes,
		  "in RAM: %u/%u/%u/%u", tables[PW_LEVEL_P4D], tables[PW_LEVEL_PUD],
		  tables[PW_LEVEL_PMD], tables[PW_LEVEL_PTE]);
	check_translate(vm);
	end_vm(vm);
}

/*
 * After the default workload the CPU is on swapper_pg_dir, which has no
 * user half: the pages the tasks touched at 4 MiB, 4 MiB + 4 KiB, + 8 KiB,
 * 6 MiB and the trampoline page do not translate (5); nor do pfn 0 and the
 * first byte past RAM in the direct map (2), nor the start of vmalloc,
 * whose PUD table is preallocated but empty (1): 8 addresses where KVM
 * says invalid, as the walker does.
 */
Test(walker, kvm_translate_agrees_after_the_default_workload)
{
	struct vmm_config cfg;
	struct vm *vm;
	char err[1024];

	require_kvm();
	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_DEFAULT);
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_OK, "%s", err);
	cr_assert_eq(vm_run(vm), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(check_translate(vm), 8);
	end_vm(vm);
}

/* The line of `text` that starts with `prefix`, in buf. */
static const char *line_of(const char *text, const char *prefix, char *buf, size_t len)
{
	const char *l = text;

	while (l && strncmp(l, prefix, strlen(prefix))) {
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	cr_assert_not_null(l, "no line starting %s in:\n%s", prefix, text);
	snprintf(buf, len, "%.*s", (int)strcspn(l, "\n"), l);
	return buf;
}

/*
 * Tables the guest never made: one page P of a task's memory, written from
 * ring 3, used as the top table with
 *   [0] = P | NX|P           a table at every level, and at the last a
 *                            4 KiB page: supervisor, read-only, no-execute
 *   [1] = 1 GiB | U|RW|P     a table outside the 256 MiB of RAM
 *   [2] = 4 KiB | PS|U|RW|P  reserved in a PML4E (PS); a PDPTE maps 1 GiB
 *                            at 0 where the CPU has 1 GiB pages, else is
 *                            reserved; a PDE maps 2 MiB at 0 (bit 12 is PAT),
 *                            but under [0] neither for ring 3 nor writable;
 *                            a PTE maps 4 KiB at 4 KiB (bit 7 is PAT)
 *   [3] = 12 KiB | PS|U|RW|P as [2] but bit 13: reserved in a 2 MiB PDE
 *   [4] = 1 << MAXPHYADDR | U|RW|P  reserved below 52 bits
 * The walker must say so, never read outside RAM.
 */
struct hand_made {
	struct vm *vm;
	struct vm_paging pg;		/* the vCPU's, with CR3 = P, 4-level */
	uint64_t p, nx, entries[5];
	unsigned int maxphyaddr;
	bool gbpages;
};

static void hand_made_tables(struct hand_made *h)
{
	const uint64_t a = 256 * SZ_1M, flags = 0x7, ps = 0x80;
	struct kvm_cpuid_entry2 leaf;
	uint64_t t;

	h->maxphyaddr = kvm_cpuid(0x80000008, &leaf) ? leaf.eax & 0xff : 36;
	h->gbpages = kvm_cpuid(0x80000001, &leaf) && (leaf.edx & (1u << 26));
	h->vm = boot_ops_guest(0);
	t = new_task(h->vm);
	map(h->vm, t, a, 4096, RW);
	cr_assert_eq(touch(h->vm, t, a, PW_ACCESS_WRITE, true, 0, NULL), 0);
	h->p = map_event(h->vm, a)->u.map.phys;
	h->pg = cpu_paging(h->vm);
	h->pg.cr3 = h->p;
	h->pg.cr4 &= ~X86_CR4_LA57;	/* 4-level tables, whatever the guest runs in */
	/* Without EFER.NXE bit 63 would be reserved. */
	h->nx = h->pg.efer & EFER_NXE ? 1ULL << 63 : 0;
	h->entries[0] = h->p | h->nx | 1;
	h->entries[1] = SZ_1G | flags;
	h->entries[2] = 4096 | ps | flags;
	h->entries[3] = 12288 | ps | flags;
	h->entries[4] = (h->maxphyaddr < 52 ? 1ULL << h->maxphyaddr : 0) | flags;
	for (unsigned int i = 0; i < 5; i++)
		cr_assert_eq(touch(h->vm, t, a + 8 * i, PW_ACCESS_WRITE, true, h->entries[i], NULL), 0);
}

Test(walker, bad_cr3_and_bad_tables)
{
	struct vm_paging bad;
	struct hand_made h;
	struct vm_walk w;
	char *dump, line[256];
	size_t dump_len;
	FILE *f;

	require_kvm();
	hand_made_tables(&h);
	bad = h.pg;
	bad.cr3 = VMM_DEFAULT_MEM;
	w = walk(h.vm, &bad, 0);
	cr_assert(!w.present && w.outside_ram && w.level == 4, "CR3 just past RAM");
	bad.cr3 = ADDR_MASK;
	w = walk(h.vm, &bad, 0);
	cr_assert(!w.present && w.outside_ram && w.level == 4, "CR3 at the top of 52 bits");
	cr_assert_eq(vm_ptdump(h.vm, &bad, stdout), VMM_GUEST_ERROR);

	w = walk(h.vm, &h.pg, 0x123);
	cr_assert(w.present && w.level == 1 && w.phys == h.p + 0x123);
	cr_assert(!w.user && !w.writable && w.nx == !!h.nx);
	w = walk(h.vm, &h.pg, 1ULL << 39);
	cr_assert(!w.present && w.outside_ram && w.level == 3 && w.entries[3] == h.entries[1]);
	w = walk(h.vm, &h.pg, 1ULL << 30);
	cr_assert(!w.present && w.outside_ram && w.level == 2 && w.entries[2] == h.entries[1]);
	w = walk(h.vm, &h.pg, 2ULL << 39);
	cr_assert(!w.present && w.rsvd && w.level == 4, "PS in a PML4E");
	w = walk(h.vm, &h.pg, (2ULL << 30) + 0x234);
	if (h.gbpages)
		cr_assert(w.present && w.level == 3 && w.phys == 0x234, "a 1 GiB page at 0");
	else
		cr_assert(!w.present && w.rsvd && w.level == 3, "PS in a PDPTE without 1 GiB pages");
	w = walk(h.vm, &h.pg, (2ULL << 21) + 0x234);
	cr_assert(w.present && w.level == 2 && w.phys == 0x234, "a 2 MiB page at 0");
	cr_assert(!w.user && !w.writable && w.nx == !!h.nx, "U and RW ANDed, NX ORed");
	w = walk(h.vm, &h.pg, 3ULL << 21);
	cr_assert(!w.present && w.rsvd && w.level == 2, "bit 13 of a 2 MiB PDE");
	if (h.maxphyaddr < 52) {
		w = walk(h.vm, &h.pg, 4ULL << 39);
		cr_assert(!w.present && w.rsvd && w.level == 4, "bit %u", h.maxphyaddr);
	}

	/* PTEs [2] and [3] cover 8..16 KiB; PDE [1] 2..4 MiB, [2] 4..6, [3] 6..8. */
	f = open_memstream(&dump, &dump_len);
	cr_assert_eq(vm_ptdump(h.vm, &h.pg, f), VMM_OK);
	fclose(f);
	line_of(dump, "0x0000000000002000-0x0000000000004000 ", line, sizeof(line));
	cr_assert(strstr(line, " PAT ") && !strstr(line, "PSE") && strstr(line, " pte"), "%s", line);
	line_of(dump, "0x0000000000200000-0x0000000000400000 ", line, sizeof(line));
	cr_assert(strstr(line, " USR RW ") && strstr(line, " pmd (table outside RAM)"), "%s", line);
	/* PAT of a 2 MiB page is bit 12, outside Linux's PTE_FLAGS_MASK: never printed. */
	line_of(dump, "0x0000000000400000-0x0000000000600000 ", line, sizeof(line));
	cr_assert(strstr(line, " PSE     ") && !strchr(line, '('), "%s", line);
	/* The same flags as [2] (bit 13 is a pfn bit to Linux): only the reserved bit ends the run. */
	line_of(dump, "0x0000000000600000-0x0000000000800000 ", line, sizeof(line));
	cr_assert(strstr(line, " PSE     ") && strstr(line, " pmd (reserved bits)"), "%s", line);
	free(dump);
	end_vm(h.vm);
}

/*
 * This host cannot run LA57, but the walker's 5-level path needs no CPU:
 * the same page as PML5, PML4, ... table, with 57-bit canonical addresses
 * and index bits 56:48 for the PML5E.
 */
Test(walker, five_level_walk_of_hand_made_tables)
{
	struct hand_made h;
	struct vm_walk w;
	char *dump, line[256];
	size_t dump_len;
	FILE *f;

	require_kvm();
	hand_made_tables(&h);
	h.pg.cr4 |= 1ULL << 12;		/* CR4.LA57 */
	w = walk(h.vm, &h.pg, 0x123);
	cr_assert(w.present && w.level == 1 && w.phys == h.p + 0x123);
	cr_assert(w.entries[4] == h.entries[0] && w.entries[3] == h.entries[0]);
	w = walk(h.vm, &h.pg, 1ULL << 48);
	cr_assert(!w.present && w.outside_ram && w.level == 4 && w.entries[4] == h.entries[1]);
	w = walk(h.vm, &h.pg, 2ULL << 48);
	cr_assert(!w.present && w.rsvd && w.level == 5, "PS in a PML5E");
	/* Canonical with 57 bits, not with 48: PML4E 256 of P is empty. */
	w = walk(h.vm, &h.pg, 1ULL << 47);
	cr_assert(!w.present && !w.rsvd && !w.outside_ram && w.level == 4);
	cr_assert_eq(vm_walk(h.vm, &h.pg, 1ULL << 56, &w), VMM_BAD_INPUT);

	/* PML5E [0] -> PML4E [1], a p4d entry, covers 512..1024 GiB. */
	f = open_memstream(&dump, &dump_len);
	cr_assert_eq(vm_ptdump(h.vm, &h.pg, f), VMM_OK);
	fclose(f);
	line_of(dump, "0x0000008000000000-0x0000010000000000 ", line, sizeof(line));
	cr_assert(strstr(line, " p4d (table outside RAM)"), "%s", line);
	free(dump);
	end_vm(h.vm);
}

/*
 * The default workload ends on swapper_pg_dir (guest/mm/init.c): the
 * direct map's pfn 0 a 4 KiB hole, the rest of its first 2 MiB 4 KiB pages,
 * then 2 MiB pages to the end of the 256 MiB, all RW, global, NX; the
 * image's text read-only and executable, its rodata read-only, its data
 * and bss RW and NX, in 4 KiB pages, as the ELF's three PT_LOADs lay them
 * out.  The dump follows the console on stdout.
 */
Test(walker, vmm_ptdump_prints_linux_style_markers_and_runs)
{
	static const char *const marks[] = {
		"---[ User Space ]---", "---[ Kernel Space ]---", "---[ Low Kernel Mapping ]---",
		"---[ vmalloc() Area ]---", "---[ High Kernel Mapping ]---",
	};
	const char *argv[] = { VMM_BIN, "--ptdump", GUEST_ELF, NULL };
	const char *json_argv[] = { VMM_BIN, "--ptdump", "--json", "-", GUEST_ELF, NULL };
	const char *want_flags[] = { "     ro                 GLB x  pte", "     ro                 GLB NX pte",
				     "     RW                 GLB NX pte" };
	Elf64_Phdr load[3];
	const char *prev;
	struct cli_run r;
	char prefix[64], line[256];
	struct geometry g;

	require_kvm();
	elf_loads(GUEST_ELF, load, 3);
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	g = geometry(console_levels(r.out));
	prev = strstr(r.out, "task 1 exited");
	cr_assert(prev && strstr(prev, "page tables of cpu 0, CR3 0x"), "%s", r.out);
	for (unsigned int i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *m = strstr(prev, marks[i]);

		cr_assert(m, "%s missing or out of order in\n%s", marks[i], r.out);
		prev = m;
	}
	snprintf(prefix, sizeof(prefix), "0x%016lx-0x%016lx ", (unsigned long)g.page_offset,
		 (unsigned long)g.page_offset + 0x1000);
	line_of(r.out, prefix, line, sizeof(line));
	cr_assert(strstr(line, "4K                               pte"), "pfn 0: %s", line);
	snprintf(prefix, sizeof(prefix), "0x%016lx-0x%016lx ", (unsigned long)g.page_offset + 0x1000,
		 (unsigned long)(g.page_offset + 2 * SZ_1M));
	line_of(r.out, prefix, line, sizeof(line));
	cr_assert(strstr(line, "2044K     RW                 GLB NX pte"), "%s", line);
	snprintf(prefix, sizeof(prefix), "0x%016lx-0x%016lx ", (unsigned long)(g.page_offset + 2 * SZ_1M),
		 (unsigned long)(g.page_offset + 256 * SZ_1M));
	line_of(r.out, prefix, line, sizeof(line));
	cr_assert(strstr(line, "254M     RW         PSE     GLB NX pmd"), "%s", line);
	for (int i = 0; i < 3; i++) {
		uint64_t end = (load[i].p_vaddr + load[i].p_memsz + 4095) & ~4095ULL;

		snprintf(prefix, sizeof(prefix), "0x%016lx-0x%016lx ", (unsigned long)load[i].p_vaddr,
			 (unsigned long)end);
		line_of(r.out, prefix, line, sizeof(line));
		cr_assert(strstr(line, want_flags[i]), "PT_LOAD %d: %s", i, line);
	}
	cli_run_free(&r);

	/* With JSON on stdout, the dump goes where the console goes: stderr. */
	run_vmm(&r, json_argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strstr(r.out, "---[") && strstr(r.err, marks[4]), "%s", r.err);
	cli_run_free(&r);
}

/*
 * tests/guests/alias_tables.S: one PML4, PDPT, PD and page table, every
 * entry of each pointing at the next, every PTE at the code page; 512^4
 * PTEs reachable.  A table is expanded at most 4 times at one level
 * (ptdump.c), so depth first: the PD's first 4 entries show the page
 * table, 4 x 2 MiB of RW 4 KiB pages; its other entries, and all of the
 * PD's next 3 expansions (PDPT entries 1-3), show it "before" up to
 * 4 GiB; the PDPT's other entries show the PD "before", and so do the
 * PDPT's next 3 expansions (pgd entries 1-3), up to 4 x 512 GiB; pgd
 * entries 4-511 show the PDPT "before".  Linux breaks runs on any flag
 * bit, so the entries the CPU set A in while running the code after the
 * CR3 switch (PML4E 0, PDPTE 0, PDE 0, the code's PTE) are runs of their
 * own in each expansion of their table: a few dozen lines, at once
 * (without the bound, about 18 minutes).
 */
Test(walker, ptdump_of_aliased_tables_is_bounded, .timeout = 60)
{
	/* The guest builds 4-level tables: with LA57 its PML4 would be read as a PML5. */
	const char *argv[] = { VMM_BIN, "--mem", "16M", "--paging", "4", "--ptdump",
			       TEST_GUEST("alias_tables"), NULL };
	/* The last run of each level, by its end and what ends it. */
	static const char *const want[][2] = {
		{ "-0x0000000000800000 ", "     RW                     x  pte\n" },
		{ "-0x0000000100000000 ", "     RW                     x  pmd (table shown before)\n" },
		{ "-0x0000020000000000 ", "     RW                     x  pud (table shown before)\n" },
		/* Linux's walk skips the guard hole: the user run ends where the kernel's starts. */
		{ "0x0000020000000000-0xffff880000000000 ",
		  "     RW                     x  pgd (table shown before)\n" },
	};
	struct cli_run r;
	unsigned int lines = 0;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_OK, "%s", r.err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *l = strstr(r.out, want[i][0]);

		cr_assert(l && strstr(l, want[i][1]) == l + strcspn(l, "\n") + 1 - strlen(want[i][1]),
			  "%s...%s in\n%s", want[i][0], want[i][1], r.out);
	}
	for (const char *l = strstr(r.out, "---[ User Space"); l; l = strchr(l + 1, '\n'))
		lines++;
	cr_assert(lines < 64, "%u lines:\n%s", lines, r.out);
	/* Every entry is RW and executable: Linux's W+X check counts it all. */
	cr_assert(strstr(r.out, "x86/mm: Checked W+X mappings: FAILED, "), "%s", r.out);
	cli_run_free(&r);
}

/*
 * With LA57 the p4d level is real and ptdump shows it: the direct map's
 * pgd entry (273) holds a P4D table whose entry 0 maps the 256 MiB of RAM
 * (a PUD table); its entries 1-511 are empty p4d entries, one run from
 * PAGE_OFFSET + 512 GiB to the next pgd entry, PAGE_OFFSET + 256 TiB:
 * 256 TiB - 512 GiB = 261632 GiB.
 */
Test(walker, ptdump_shows_the_p4d_level_with_la57)
{
	const char *argv[] = { VMM_BIN, "--paging", "5", "--ptdump", GUEST_ELF, NULL };
	const struct geometry g = geometry(5);
	struct cli_run r;
	char prefix[64], line[256];

	require_la57();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(console_levels(r.out), 5);
	snprintf(prefix, sizeof(prefix), "0x%016lx-0x%016lx ", (unsigned long)(g.page_offset + 512 * SZ_1G),
		 (unsigned long)(g.page_offset + g.pgd_span));
	line_of(r.out, prefix, line, sizeof(line));
	cr_assert(strstr(line, " 261632G ") && strstr(line, " p4d"), "%s", line);
	cli_run_free(&r);
}
