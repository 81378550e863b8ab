/*
 * Guest RAM around the hole below 4 GiB.  The rule (kvmtool's x86 layout,
 * README "Running other guests"): RAM is [0, min(size, 0xd0000000)) and,
 * past that, [4 GiB, 4 GiB + size - 0xd0000000).  Every expected address
 * below is that rule worked out by hand for the size at hand; with 4 GiB
 * the ranges are [0, 0xd0000000) and [0x100000000, 0x130000000).
 */
#include <libfdt.h>
#include <linux/kvm.h>

#include <pagewalk/layout.h>

#include "guest_ops.h"
#include "geometry.h"
#include "harness.h"

#define HOLE		0xd0000000ULL		/* 4 GiB - 768 MiB */
#define HIGH_END_4G	0x130000000ULL		/* 4 GiB + (4 GiB - HOLE) */
#define CHAN_BYTES	(PW_RING_HDR_SIZE + PW_RING_CAPACITY * sizeof(struct pw_event))

/* A VM created, not booted: RAM, FDT and boot tables as the VMM leaves them. */
static struct vm *create(uint64_t mem, unsigned int ncpus, enum vmm_status want, char *err,
			 size_t errlen)
{
	struct vmm_config cfg;
	struct vm *vm;

	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	cfg.mem_bytes = mem;
	cfg.ncpus = ncpus;
	cr_assert_eq(vm_create(&cfg, &vm, err, errlen), want, "vm_create %#lx: %s",
		     (unsigned long)mem, err);
	return vm;
}

/* /memory's reg from the FDT in guest RAM, as (address, size) pairs. */
static unsigned int fdt_reg(struct vm *vm, const char *path, uint64_t *out, unsigned int max)
{
	static char fdt[PW_BOOT_FDT_MAX];
	const fdt64_t *p;
	int node, len;

	cr_assert_eq(vm_read_phys(vm, PW_BOOT_FDT, fdt, sizeof(fdt)), 0);
	cr_assert_eq(fdt_check_header(fdt), 0);
	node = fdt_path_offset(fdt, path);
	cr_assert_geq(node, 0, "no %s", path);
	p = fdt_getprop(fdt, node, "reg", &len);
	cr_assert(p && len > 0 && len % 16 == 0 && (unsigned int)len / 8 <= max, "%s reg", path);
	for (int i = 0; i < len / 8; i++)
		out[i] = fdt64_ld(&p[i]);	/* properties are only 4-byte aligned */
	return len / 16;
}

static void expect_memory(uint64_t mem, const uint64_t *want, unsigned int nwant)
{
	char err[512];
	struct vm *vm = create(mem, 1, VMM_OK, err, sizeof(err));
	uint64_t reg[8], chan[2];
	unsigned int n = fdt_reg(vm, "/memory", reg, 8);

	cr_assert_eq(n, nwant, "--mem %#lx: %u ranges in /memory", (unsigned long)mem, n);
	for (unsigned int i = 0; i < 2 * n; i++)
		cr_assert_eq(reg[i], want[i], "--mem %#lx: /memory cell %u is %#lx, want %#lx",
			     (unsigned long)mem, i, (unsigned long)reg[i], (unsigned long)want[i]);
	/* The rings sit at the top of RAM: the end of the last range. */
	cr_assert_eq(fdt_reg(vm, "/channel", chan, 2), 1);
	cr_assert_eq(chan[0] + chan[1], want[2 * n - 2] + want[2 * n - 1]);
	cr_assert_eq(chan[1], CHAN_BYTES);
	vm_destroy(vm);
}

Test(ram, fdt_memory_lists_the_ranges_around_the_hole)
{
	const uint64_t small[] = { 0, 256 * SZ_1M };
	const uint64_t at_hole[] = { 0, HOLE };
	const uint64_t four[] = { 0, HOLE, 4 * SZ_1G, HIGH_END_4G - 4 * SZ_1G };
	const uint64_t six[] = { 0, HOLE, 4 * SZ_1G, 6 * SZ_1G - HOLE };
	char err[512];

	require_kvm();
	expect_memory(256 * SZ_1M, small, 1);
	expect_memory(HOLE, at_hole, 1);
	expect_memory(4 * SZ_1G, four, 2);
	expect_memory(6 * SZ_1G, six, 2);
	/* 2 MiB above the hole cannot hold 16 rings of CHAN_BYTES (about 4 MiB). */
	create(HOLE + 2 * SZ_1M, 16, VMM_BAD_INPUT, err, sizeof(err));
	cr_assert(strstr(err, "channel rings"), "%s", err);
}

/* A walk from cr3 in the VM's paging mode. */
static struct vm_walk walk(struct vm *vm, uint64_t cr3, uint64_t va)
{
	struct vm_paging pg = { .cr0 = X86_CR0_PG, .cr3 = cr3, .efer = EFER_LMA,
				.cr4 = vm_levels(vm) == 5 ? X86_CR4_LA57 : 0 };
	struct vm_walk w;

	cr_assert_eq(vm_walk(vm, &pg, va, &w), VMM_OK, "walk %#lx", (unsigned long)va);
	return w;
}

/* The host's view of the hole: not RAM to vm_read_phys, the walker or the boot tables. */
Test(ram, the_hole_is_not_ram_to_the_host)
{
	const uint64_t table = 4 * SZ_1G + SZ_1M;	/* high RAM nothing uses before boot */
	uint64_t v = 0, e[3] = { HOLE | PT_PRESENT, HIGH_END_4G | PT_PRESENT, 0xfee00000 | PT_PRESENT };
	char err[512];
	struct vm_walk w;
	struct vm *vm;
	struct geometry g;
	unsigned int top, shift;

	require_kvm();
	vm = create(4 * SZ_1G, 1, VMM_OK, err, sizeof(err));
	g = vm_geometry(vm);
	top = g.levels;
	shift = 12 + 9 * (top - 1);
	cr_assert_eq(vm_read_phys(vm, HOLE - 8, &v, 8), 0, "the last word below the hole");
	cr_assert_eq(vm_read_phys(vm, HOLE - 8, err, 16), -1, "a read running into the hole");
	cr_assert_eq(vm_read_phys(vm, HOLE, &v, 8), -1);
	cr_assert_eq(vm_read_phys(vm, 0xfee00000, &v, 4), -1, "the LAPIC page");
	cr_assert_eq(vm_write_phys(vm, 0xfec00000, &v, 4), -1, "the IOAPIC page");
	cr_assert_eq(vm_read_phys(vm, 4 * SZ_1G, &v, 8), 0, "the first word above it");
	cr_assert_eq(vm_read_phys(vm, HIGH_END_4G - 8, &v, 8), 0);
	cr_assert_eq(vm_read_phys(vm, HIGH_END_4G, &v, 8), -1, "past the end of RAM");

	/*
	 * A top table in high RAM whose entries point into the hole and past
	 * the end: the walk stops one level down (at the PDPT, or with LA57 the
	 * PML4), outside RAM.  Entry i covers i << shift.
	 */
	cr_assert_eq(vm_write_phys(vm, table, e, sizeof(e)), 0);
	w = walk(vm, HOLE, 0);
	cr_assert(!w.present && w.outside_ram && w.level == top, "CR3 in the hole");
	w = walk(vm, table, 0);
	cr_assert(!w.present && w.outside_ram && w.level == top - 1 && w.entries[top - 1] == e[0],
		  "a table in the hole");
	w = walk(vm, table, 1ULL << shift);
	cr_assert(!w.present && w.outside_ram && w.level == top - 1, "a table past the end of RAM");
	w = walk(vm, table, 2ULL << shift);
	cr_assert(!w.present && w.outside_ram && w.level == top - 1, "a table at the LAPIC");

	/* The boot tables map the ranges, identity and direct map, and not the hole. */
	w = walk(vm, PW_BOOT_PGD, g.page_offset + HOLE - 1);
	cr_assert(w.present && w.level == 2 && w.phys == HOLE - 1);
	w = walk(vm, PW_BOOT_PGD, g.page_offset + HOLE);
	cr_assert(!w.present && !w.outside_ram && w.level == 2, "the hole in the direct map");
	w = walk(vm, PW_BOOT_PGD, 0xfee00000);
	cr_assert(!w.present && w.level == 2, "the hole in the identity map");
	w = walk(vm, PW_BOOT_PGD, 4 * SZ_1G);
	cr_assert(w.present && w.phys == 4 * SZ_1G);
	w = walk(vm, PW_BOOT_PGD, g.page_offset + HIGH_END_4G - 1);
	cr_assert(w.present && w.phys == HIGH_END_4G - 1);
	w = walk(vm, PW_BOOT_PGD, g.page_offset + HIGH_END_4G);
	cr_assert(!w.present && w.level == 2, "past the end of RAM");
	w = walk(vm, PW_BOOT_PGD, PW_KERNEL_VIRT);
	cr_assert(w.present && w.phys == PW_KERNEL_PHYS, "the kernel map as before");
	vm_destroy(vm);
}

/*
 * Pages the guest's allocator manages after boot (MEMINFO's total): every
 * RAM page less pfn 0, the boot area, one vCPU's ring, the image and
 * mem_map, plus the boot page tables given back (the top table, two PDPTs,
 * one PD per GiB up to the end of RAM, and with LA57 two PML4s).  mem_map has a struct page per pfn
 * up to the end of RAM, hole included; the size of a struct page is the
 * one unknown, measured on a 256 MiB guest (16 pages of mem_map per byte
 * of struct page: 65536 pfns / 4096).
 */
static uint64_t pages_but_mem_map(struct vm *vm, uint64_t mem, uint64_t end, uint64_t *total)
{
	const struct pw_event *boot[2];
	*total = op(vm, meminfo, NULL);
	cr_assert_eq(events_since(vm, 0, PW_EV_BOOT, boot, 2), 1);
	cr_assert_eq(boot[0]->u.boot.ram_bytes, mem, "the boot event reports all RAM");
	return mem / 4096 - 1 - (PW_BOOT_AREA_END - PW_BOOT_AREA_START) / 4096 -
	       (CHAN_BYTES + 4095) / 4096 - (boot[0]->u.boot.kernel_end - boot[0]->u.boot.kernel_start) / 4096 +
	       (PW_BOOT_PD - PW_BOOT_PGD) / 4096 + (end + SZ_1G - 1) / SZ_1G +
	       (vm_levels(vm) == 5 ? 2 : 0);
}

Test(ram, the_guest_uses_both_ranges_and_maps_only_them)
{
	uint64_t total, rest, map_pages, page_size, page_offset;
	struct vm_paging pg;
	struct vm_walk w;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(256 * SZ_1M);
	map_pages = pages_but_mem_map(vm, 256 * SZ_1M, 256 * SZ_1M, &total) - total;
	cr_assert_eq(map_pages % 16, 0, "mem_map of 65536 pfns: %lu pages", (unsigned long)map_pages);
	page_size = map_pages / 16;
	end_vm(vm);

	vm = boot_ops_guest(4 * SZ_1G);
	rest = pages_but_mem_map(vm, 4 * SZ_1G, HIGH_END_4G, &total);
	/* 0x130000 pfns: 304 pages of mem_map per byte of struct page. */
	cr_assert_eq(total, rest - 304 * page_size, "%lu pages managed, want %lu (struct page %lu bytes)",
		     (unsigned long)total, (unsigned long)(rest - 304 * page_size),
		     (unsigned long)page_size);
	cr_assert_gt(free_pages(vm), HOLE / 4096, "more pages free than the low range holds");

	/* swapper_pg_dir's direct map: both ranges, and nothing of the hole or past the end. */
	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	page_offset = vm_geometry(vm).page_offset;
	cr_assert_eq(vm_walk(vm, &pg, page_offset + HOLE - 4096, &w), VMM_OK);
	cr_assert(w.present && w.phys == HOLE - 4096);
	cr_assert_eq(vm_walk(vm, &pg, page_offset + HOLE, &w), VMM_OK);
	cr_assert(!w.present, "the hole in the direct map");
	cr_assert_eq(vm_walk(vm, &pg, page_offset + 4 * SZ_1G, &w), VMM_OK);
	cr_assert(w.present && w.phys == 4 * SZ_1G);
	cr_assert_eq(vm_walk(vm, &pg, page_offset + HIGH_END_4G - 4096, &w), VMM_OK);
	cr_assert(w.present && w.phys == HIGH_END_4G - 4096);
	cr_assert_eq(vm_walk(vm, &pg, page_offset + HIGH_END_4G, &w), VMM_OK);
	cr_assert(!w.present, "past the end of RAM");
	end_vm(vm);
}

/*
 * The page sizes of swapper_pg_dir's direct map with 4 GiB of RAM, by
 * Linux's split_mem_range(): 4 KiB up to the first 2 MiB boundary (pfn 0
 * unmapped), 2 MiB up to the first 1 GiB boundary, 1 GiB pages for the
 * whole GiBs where the CPU has them (X86_FEATURE_GBPAGES), 2 MiB for the
 * rest.  Whether it has them is KVM's supported CPUID (leaf 0x80000001
 * EDX[26]), which the VMM gives the vCPUs, saying clearcpuid=pdpe1gb where
 * it lacks the bit: this host has none, the nested host (-cpu max) has.
 */
Test(ram, the_direct_map_takes_1_gib_pages_where_the_cpu_has_them)
{
	struct kvm_cpuid_entry2 ext;
	const bool gb = kvm_cpuid(0x80000001, &ext) && (ext.edx & (1u << 26));
	const struct {
		uint64_t pa;
		unsigned int level;
	} want[] = {
		{ 4096, 1 }, { SZ_2M - 4096, 1 }, { SZ_2M, 2 }, { SZ_1G - 4096, 2 },
		{ SZ_1G, gb ? 3 : 2 }, { 2 * SZ_1G + 12345, gb ? 3 : 2 }, { 3 * SZ_1G - 4096, gb ? 3 : 2 },
		{ 3 * SZ_1G, 2 }, { HOLE - 4096, 2 },	/* a part GiB below the hole */
		{ 4 * SZ_1G, 2 }, { HIGH_END_4G - 4096, 2 },	/* 768 MiB above it */
	};
	struct vm_paging pg;
	struct vm_walk w;
	uint64_t po, swapper;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(4 * SZ_1G);
	swapper = op(vm, kinfo, NULL);		/* booted: on swapper_pg_dir between ops */
	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	cr_assert_eq(pg.cr3 & PT_ADDR_MASK, swapper);
	po = vm_geometry(vm).page_offset;
	cr_log_info("1 GiB pages %s by KVM's CPUID", gb ? "offered" : "not offered");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(vm_walk(vm, &pg, po + want[i].pa, &w), VMM_OK);
		cr_assert(w.present && w.phys == want[i].pa && w.level == want[i].level && w.writable &&
			  w.nx && !w.user,
			  "pa %#lx: present %d, phys %#lx, level %u (want %u, 1 GiB pages %s), W %d NX %d U %d",
			  (unsigned long)want[i].pa, w.present, (unsigned long)w.phys, w.level, want[i].level,
			  gb ? "offered" : "not offered", w.writable, w.nx, w.user);
	}
	end_vm(vm);
}

/*
 * Two vCPUs make KVM's in-kernel irqchip, whose LAPIC (and on VMX with
 * APICv the APIC-access page) sits at 0xfee00000, in the hole.
 */
Test(ram, four_gib_two_cpus_run_the_default_workload)
{
	const char *argv[] = { VMM_BIN, "--mem", "4G", "--cpus", "2", GUEST_ELF, NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
	cr_assert(!strncmp(r.out, "pagewalk guest: 4096 MiB RAM, 2 CPUs,", 37), "%s", r.out);
	cli_run_free(&r);
}

/*
 * With 4 MiB and 15 vCPUs the rings fit the one RAM range, but reach down
 * over the boot area: 15 rings of 0x41000 bytes (a 4 KiB header and 4096
 * records of 64 bytes, tests/guests/ring.h) are 0x3cf000, from 0x31000 to
 * 4 MiB, and the boot area is [0x1000, 0xa0000).  Refused, status 2,
 * before anything is written.
 */
Test(ram, rings_over_the_boot_area_refused)
{
	const char *argv[] = { VMM_BIN, "--mem", "4M", "--cpus", "15", TEST_GUEST("foreign"), NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_BAD_INPUT, "status %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, "the VMM's channel [0x31000, 0x400000) overlaps its boot area "
			 "[0x1000, 0xa0000)"), "%s", r.err);
	cli_run_free(&r);
}
