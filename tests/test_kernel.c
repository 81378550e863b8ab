/*
 * The kernel half: swapper_pg_dir, pgd_list, vmalloc and the three ways
 * kernel mappings reach every pgd; fork with copy-on-write.
 *
 * Geometry (tests/geometry.h): the vmalloc area starts at
 * 0xffffc90000000000, pgd index 402, and spans 32 TiB = 64 pgd entries of
 * 512 GiB; with LA57 at 0xffa0000000000000, pgd index 416, and spans
 * 12.5 PiB = 50 pgd entries of 256 TiB.  An area placed 8 KiB below
 * VMALLOC_START + one pgd entry's span, 16 KiB long, has its first two
 * pages under the first vmalloc entry and its last two under the next.
 * The top level that is not folded is the pgd in both modes, so the
 * counts of entries, syncs and faults are the same.
 */
#include <pagewalk/layout.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"

#define KERNEL_HALF	256		/* pgd entries 256-511, in both modes */

/* The address 8 KiB below the second vmalloc pgd entry. */
static uint64_t crossing(const struct geometry *g)
{
	return g->vmalloc_start + g->pgd_span - 8192;
}

/* The numbers of Linux's layout (Documentation/arch/x86/x86_64/mm.rst), not the helper's arithmetic. */
Test(kernel, geometry_is_linuxs)
{
	const struct geometry g4 = geometry(4), g5 = geometry(5);

	cr_assert(g4.vmalloc_index == 402 && g4.vmalloc_entries == 64 && g4.pgd_span == 512 * SZ_1G);
	cr_assert(g5.vmalloc_index == 416 && g5.vmalloc_entries == 50 && g5.pgd_span == 256 * 1024 * SZ_1G);
	cr_assert(g4.task_size == 0x00007ffffffff000ULL && g5.task_size == 0x00fffffffffff000ULL);
	cr_assert(((g4.page_offset >> 39) & 511) == 273 && ((g5.page_offset >> 48) & 511) == 273,
		  "KERNEL_PGD_BOUNDARY, pgd_index(PAGE_OFFSET), is 273 in both modes");
}

struct kinfo {
	uint64_t swapper, pgd_list, syncs, vmalloc_faults, preallocated;
};

static struct kinfo kinfo(struct vm *vm)
{
	struct pw_kinfo_out o;
	struct kinfo k;

	k.swapper = op(vm, kinfo, &o);
	k.pgd_list = o.pgd_list;
	k.syncs = o.syncs;
	k.vmalloc_faults = o.vmalloc_faults;
	k.preallocated = o.preallocated;
	return k;
}

static uint64_t vmalloc_at(struct vm *vm, uint64_t size, uint64_t hint)
{
	int64_t va = op(vm, vmalloc, NULL, size, hint);

	cr_assert_eq(va, (int64_t)hint, "vmalloc(%#lx) at %#lx", (unsigned long)size, (long)va);
	return va;
}

/* A kernel read through task t's pgd: must succeed and see a zeroed vmalloc page. */
static void kernel_reads(struct vm *vm, uint64_t t, uint64_t addr)
{
	uint64_t v = 1;

	cr_assert_eq(touch(vm, t, addr, PW_ACCESS_READ, false, 0, &v), 0, "read %#lx", (unsigned long)addr);
	cr_assert_eq(v, 0);
}

/* The host's own check, from guest RAM: pgd's kernel half equals swapper_pg_dir's. */
static void assert_kernel_half_shared(struct vm *vm, uint64_t pgd, uint64_t swapper)
{
	uint64_t mine[KERNEL_HALF], ref[KERNEL_HALF];

	cr_assert_eq(vm_read_phys(vm, pgd + KERNEL_HALF * 8, mine, sizeof(mine)), 0);
	cr_assert_eq(vm_read_phys(vm, swapper + KERNEL_HALF * 8, ref, sizeof(ref)), 0);
	for (int i = 0; i < KERNEL_HALF; i++)
		cr_assert_eq(mine[i], ref[i], "pgd %#lx entry %d: %#lx, swapper has %#lx",
			     (unsigned long)pgd, KERNEL_HALF + i, (unsigned long)mine[i],
			     (unsigned long)ref[i]);
}

/*
 * preallocate_vmalloc_pages(): the table under each vmalloc pgd entry, at
 * the level below the top that is not folded: 64 PUD tables, or with LA57
 * 50 P4D tables.
 */
static void expect_prealloc(struct vm *vm)
{
	const struct geometry g = vm_geometry(vm);
	const unsigned int level = g.levels == 5 ? PW_LEVEL_P4D : PW_LEVEL_PUD;
	const uint64_t end = g.vmalloc_start + g.vmalloc_entries * g.pgd_span;
	const struct pw_event *ev[512];
	size_t n, tables = 0, others = 0;
	struct kinfo k = kinfo(vm);

	cr_assert_eq(k.preallocated, g.vmalloc_entries);
	n = events_since(vm, 0, PW_EV_PGTABLE_ALLOC, ev, 512);
	for (size_t i = 0; i < n; i++) {
		const struct pw_ev_pgtable_alloc *a = &ev[i]->u.pgtable_alloc;
		bool in_vmalloc = !a->mm && a->addr >= g.vmalloc_start && a->addr - 1 < end - 1;

		tables += in_vmalloc && a->level == level;
		others += in_vmalloc && a->level != level;
	}
	cr_assert_eq(tables, g.vmalloc_entries, "init_mm level-%u tables in the vmalloc area: %zu",
		     level, tables);
	cr_assert_eq(others, 0, "nothing below them yet");
	cr_assert_eq(events_since(vm, 0, PW_EV_KERNEL_PGD, ev, 2), 1);
	cr_assert_eq(ev[0]->u.kernel_pgd.phys, k.swapper);
	cr_assert_eq(ev[0]->u.kernel_pgd.preallocated, g.vmalloc_entries);
}

Test(kernel, prealloc_installs_a_table_per_vmalloc_entry_at_boot)
{
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	expect_prealloc(vm);
	end_vm(vm);
}

/*
 * With LA57: 50 P4D tables, and every pgd's kernel half points at them (as
 * at everything else of swapper_pg_dir's), before and after a vmalloc.
 */
Test(kernel, prealloc_50_p4d_tables_in_every_pgd_with_la57)
{
	const struct geometry g = geometry(5);
	uint64_t t[2], top[2][512];
	struct vm *vm;
	struct kinfo k;

	require_la57();
	vm = boot_ops_guest_paging(5);
	expect_prealloc(vm);
	t[0] = new_task(vm);
	vmalloc_at(vm, 16384, crossing(&g));
	t[1] = new_task(vm);
	k = kinfo(vm);
	cr_assert_eq(vm_read_phys(vm, k.swapper, top[0], sizeof(top[0])), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(vm_read_phys(vm, pgd_of(vm, i + 1), top[1], sizeof(top[1])), 0);
		for (unsigned int e = g.vmalloc_index; e < g.vmalloc_index + g.vmalloc_entries; e++)
			cr_assert(top[1][e] & 1 && top[1][e] == top[0][e], "mm %lu, pgd entry %u: %#lx",
				  (unsigned long)t[i], e, (unsigned long)top[1][e]);
		assert_kernel_half_shared(vm, pgd_of(vm, i + 1), k.swapper);
		kernel_reads(vm, t[i], crossing(&g));
		kernel_reads(vm, t[i], crossing(&g) + 8192);
	}
	cr_assert_eq(k.syncs + k.vmalloc_faults, 0);
	end_vm(vm);
}

/*
 * prealloc: mms made before and after vmallocs that need new top-level
 * entries (402/403 and 407; 416/417 and 421 with LA57) all see them at
 * once: no fault, no sync, and every kernel half stays byte-identical to
 * swapper_pg_dir.
 */
Test(kernel, prealloc_needs_no_fault_and_no_sync)
{
	uint64_t t[4], va1, va2;
	struct geometry g;
	struct vm *vm;
	struct kinfo k;

	require_kvm();
	vm = boot_ops_guest(0);
	g = vm_geometry(vm);
	t[0] = new_task(vm);
	t[1] = new_task(vm);
	va1 = vmalloc_at(vm, 16384, crossing(&g));
	t[2] = new_task(vm);
	va2 = vmalloc_at(vm, 8192, g.vmalloc_start + 5 * g.pgd_span);
	t[3] = new_task(vm);
	for (int i = 0; i < 4; i++) {
		kernel_reads(vm, t[i], va1);
		kernel_reads(vm, t[i], va1 + 8192);
		kernel_reads(vm, t[i], va2);
	}
	k = kinfo(vm);
	cr_assert_eq(k.vmalloc_faults, 0);
	cr_assert_eq(k.syncs, 0);
	cr_assert_eq(k.pgd_list, 4);
	for (uint64_t mm = 1; mm <= 4; mm++)
		assert_kernel_half_shared(vm, pgd_of(vm, mm), k.swapper);
	end_vm(vm);
}

/*
 * fault: vmalloc edits init_mm only.  An mm made before it takes one
 * vmalloc_fault per top-level entry it then uses (402 and 403, or 416 and
 * 417: two), and none after; an mm made after the vmalloc clones the
 * entries and takes none.
 */
Test(kernel, fault_mode_faults_once_per_mm_and_entry)
{
	const struct pw_event *ev[8];
	uint64_t t1, t2, va;
	struct geometry g;
	struct vm *vm;
	struct kinfo k;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, "fault", 0, 1);
	g = vm_geometry(vm);
	cr_assert_eq(kinfo(vm).preallocated, 0);
	t1 = new_task(vm);
	va = vmalloc_at(vm, 16384, crossing(&g));
	kernel_reads(vm, t1, va);
	kernel_reads(vm, t1, va + 4096);	/* the first entry again */
	kernel_reads(vm, t1, va + 8192);	/* the next */
	kernel_reads(vm, t1, va + 12288);
	cr_assert_eq(events_since(vm, 0, PW_EV_VMALLOC_FAULT, ev, 8), 2);
	cr_assert_eq(ev[0]->u.vmalloc_fault.index, g.vmalloc_index);
	cr_assert_eq(ev[1]->u.vmalloc_fault.index, g.vmalloc_index + 1);

	t2 = new_task(vm);
	kernel_reads(vm, t2, va);
	kernel_reads(vm, t2, va + 8192);
	k = kinfo(vm);
	cr_assert_eq(k.vmalloc_faults, 2, "the later mm faulted: %lu", (unsigned long)k.vmalloc_faults);
	cr_assert_eq(k.syncs, 0);
	end_vm(vm);
}

/*
 * eager: the vmalloc that populates entries 402 and 403 (416 and 417)
 * copies each into every pgd on pgd_list at once: 2 entries x 3 pgds = 6
 * syncs, and no fault.  Another area under the same entries changes no
 * top-level entry.
 */
Test(kernel, eager_mode_syncs_every_pgd_on_the_list)
{
	const struct pw_event *ev[16];
	uint64_t t[3];
	struct geometry g;
	struct vm *vm;
	struct kinfo k;
	size_t n;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, "eager", 0, 1);
	g = vm_geometry(vm);
	for (int i = 0; i < 3; i++)
		t[i] = new_task(vm);
	vmalloc_at(vm, 16384, crossing(&g));
	n = events_since(vm, 0, PW_EV_KERNEL_SYNC, ev, 16);
	cr_assert_eq(n, 6, "%zu syncs", n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(ev[i]->u.kernel_sync.sync, PW_SYNC_EAGER);
		cr_assert(ev[i]->u.kernel_sync.index == g.vmalloc_index ||
			  ev[i]->u.kernel_sync.index == g.vmalloc_index + 1);
	}
	vmalloc_at(vm, 4096, crossing(&g) + 16384 + 4096);	/* after the guard page */
	for (int i = 0; i < 3; i++)
		kernel_reads(vm, t[i], crossing(&g) + 8192);
	k = kinfo(vm);
	cr_assert_eq(k.syncs, 6);
	cr_assert_eq(k.vmalloc_faults, 0);
	for (uint64_t mm = 1; mm <= 3; mm++)
		assert_kernel_half_shared(vm, pgd_of(vm, mm), k.swapper);
	end_vm(vm);
}

/*
 * Never follow an empty top-level entry: pfn 0 is unmapped in the direct
 * map, so following one (an empty entry reads as pfn 0) would oops.  The
 * tripwire is checked, then vmalloc_sync_mappings() walks all 64 (50)
 * vmalloc entries, all but 2 empty in init_mm, and copies only the 2
 * populated ones into the one pgd that lacks them.
 */
Test(kernel, sync_skips_empty_top_level_entries)
{
	struct geometry g;
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, "fault", 0, 1);
	g = vm_geometry(vm);
	cr_assert_eq(op(vm, probe, NULL, g.page_offset, false, 0), -PW_EFAULT,
		     "pfn 0 must be unmapped in the direct map");
	cr_assert_eq(op(vm, probe, NULL, g.page_offset + 4096, false, 0), 0, "pfn 1 is mapped");

	t = new_task(vm);
	vmalloc_at(vm, 16384, crossing(&g));
	cr_assert_eq(op(vm, vmalloc_sync, NULL), 2);
	cr_assert_eq(op(vm, vmalloc_sync, NULL), 0, "nothing left to copy");
	kernel_reads(vm, t, crossing(&g));
	cr_assert_eq(kinfo(vm).vmalloc_faults, 0, "synced before use: no fault");
	end_vm(vm);
}

Test(kernel, pgd_list_tracks_every_mm)
{
	const struct pw_event *ev[4];
	uint64_t t[3];
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	for (int i = 0; i < 3; i++)
		t[i] = new_task(vm);
	cr_assert_eq(kinfo(vm).pgd_list, 3);
	cr_assert_eq(op(vm, task_exit, NULL, t[1]), 0);
	cr_assert_eq(kinfo(vm).pgd_list, 2);
	cr_assert_eq(events_since(vm, 0, PW_EV_PGD_DTOR, ev, 4), 1);
	cr_assert_eq(ev[0]->u.pgd_dtor.pgd_list, 2, "pgd_list length after the dtor");
	cr_assert_gt(op(vm, fork, NULL, t[0]), 0);
	cr_assert_eq(kinfo(vm).pgd_list, 3);
	end_vm(vm);
}

/*
 * fork: the child gets tables for the parent's populated private range
 * only (1 PUD, 1 PMD, 1 PTE, and with LA57 the P4D above them: the
 * trampoline VMA has no private pages and
 * is faulted in again), both share the 2 pages read-only.  The first
 * writer of a page copies it (one new page), the second finds itself the
 * only user and reuses it (none).
 */
Test(kernel, fork_copy_on_write)
{
	const uint64_t a = 256 * SZ_1M, b = 256 * SZ_1M + 4096;
	struct pw_meminfo_out mem0, mem1;
	uint64_t p, c, anon;
	struct mm_info mi;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	op(vm, meminfo, &mem0);
	p = new_task(vm);
	map(vm, p, a, 2 * 4096, RW);
	warm_up(vm, p);
	cr_assert_eq(touch(vm, p, a, PW_ACCESS_WRITE, true, 0x11, NULL), 0);
	cr_assert_eq(touch(vm, p, b, PW_ACCESS_WRITE, true, 0x22, NULL), 0);

	c = op(vm, fork, NULL, p);
	cr_assert_gt((int64_t)c, 0, "fork: %ld", (long)c);
	mi = mm_info(vm, c);
	cr_assert(mi.p4ds == vm_geometry(vm).user_p4ds && mi.puds == 1 && mi.pmds == 1 &&
		  mi.ptes == 1 && mi.anon == 2, "child: %lu/%lu/%lu/%lu tables, %lu pages", mi.p4ds,
		  mi.puds, mi.pmds, mi.ptes, mi.anon);
	anon = anon_pages(vm);
	cr_assert_eq(user_read(vm, c, a), 0x11);
	cr_assert_eq(user_read(vm, p, a), 0x11);

	cow_write(vm, p, a, 0x33, PW_MAP_WP_COPY);
	cr_assert_eq(anon_pages(vm), anon + 1);
	cr_assert_eq(user_read(vm, c, a), 0x11, "the child still sees the old data");
	cow_write(vm, c, a, 0x44, PW_MAP_WP_REUSE);
	cr_assert_eq(anon_pages(vm), anon + 1);

	cow_write(vm, c, b, 0x55, PW_MAP_WP_COPY);
	cow_write(vm, p, b, 0x66, PW_MAP_WP_REUSE);
	cr_assert_eq(anon_pages(vm), anon + 2);

	cr_assert_eq(op(vm, task_exit, NULL, c), 0);
	cr_assert_eq(user_read(vm, p, a), 0x33, "the parent survives the child");
	cr_assert_eq(user_read(vm, p, b), 0x66);
	cr_assert_eq(op(vm, task_exit, NULL, p), 0);
	op(vm, meminfo, &mem1);
	cr_assert_eq(mem1.free, mem0.free, "every page back: %lu free, %lu before", mem1.free, mem0.free);
	end_vm(vm);
}

/*
 * mprotect(PROT_READ) then mprotect(PROT_READ|PROT_WRITE): Linux's
 * mprotect_fixup() passes MM_CP_TRY_CHANGE_WRITABLE for a private VM_WRITE
 * VMA (vma_wants_manual_pte_write_upgrade()), and change_pte_range() makes
 * a PTE writable at once where can_change_pte_writable() holds: an
 * anonymous page exclusive to this mm.  So the page written after fork
 * (b) is writable right after the mprotect and its next write takes no
 * fault; the page still shared copy-on-write with the child (a) and the
 * zero page (z) stay read-only, and their next write faults (P|W|U).
 */
Test(kernel, mprotect_rw_makes_exclusive_anon_ptes_writable)
{
	const uint64_t a = 256 * SZ_1M, b = a + 4096, z = a + 2 * 4096;
	const struct pw_event *m[4], *f[4];
	struct vm *vm;
	uint64_t p, c, mm;
	size_t from;

	require_kvm();
	vm = boot_ops_guest(0);
	p = new_task(vm);
	warm_up(vm, p);
	map(vm, p, a, 3 * 4096, RW);
	vm_events(vm, &from);
	cr_assert_eq(touch(vm, p, a, PW_ACCESS_WRITE, true, 0x11, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, 4), 1);
	mm = m[0]->u.map.mm;
	c = op(vm, fork, NULL, p);
	cr_assert_gt((int64_t)c, 0, "fork: %ld", (long)c);
	cr_assert_eq(touch(vm, p, b, PW_ACCESS_WRITE, true, 0x22, NULL), 0);
	cr_assert_eq(touch(vm, p, z, PW_ACCESS_READ, true, 0, NULL), 0);

	cr_assert_eq(op(vm, mprotect, NULL, p, a, 3 * 4096, PW_PROT_READ), 0);
	cr_assert(!walk_user(vm, mm, b).writable, "PROT_READ write-protects every PTE");
	cr_assert_eq(op(vm, mprotect, NULL, p, a, 3 * 4096, RW), 0);
	cr_assert(walk_user(vm, mm, b).writable, "exclusive anonymous page: writable at once");
	cr_assert(!walk_user(vm, mm, a).writable, "shared copy-on-write with the child");
	cr_assert(!walk_user(vm, mm, z).writable, "the zero page");

	vm_events(vm, &from);
	cr_assert_eq(touch(vm, p, b, PW_ACCESS_WRITE, true, 0x33, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 0, "no fault for b");
	cr_assert_eq(touch(vm, p, a, PW_ACCESS_WRITE, true, 0x44, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1, "a takes its COW fault");
	cr_assert_eq(f[0]->u.fault.error_code, 0x7);
	cr_assert_eq(touch(vm, p, z, PW_ACCESS_WRITE, true, 0x55, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 2, "z takes its fault");
	cr_assert_eq(f[1]->u.fault.error_code, 0x7);
	end_vm(vm);
}

/*
 * A private page in the part of a VMA that munmap split off survives fork.
 * Linux's split_vma() builds the new part with vm_area_dup(), which copies
 * vma->anon_vma, and anon_vma_clone(): both parts keep their anon_vma, so
 * dup_mmap()'s copy_page_range() copies the part's PTEs (vma_needs_copy()).
 * The child reads the parent's data through the same frame, and the
 * parent's PTE, like the child's, is write-protected for copy-on-write.
 */
Test(kernel, fork_after_split_keeps_private_pages)
{
	const uint64_t a = 256 * SZ_1M, b = a + 4096;
	const struct pw_event *m[4], *ctor[4];
	struct vm_walk wp, wc;
	uint64_t p, c, pmm;
	struct vm *vm;
	size_t from;

	require_kvm();
	vm = boot_ops_guest(0);
	p = new_task(vm);
	map(vm, p, a, 2 * 4096, RW);
	vm_events(vm, &from);
	cr_assert_eq(touch(vm, p, b, PW_ACCESS_WRITE, true, 0x55, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, 4), 2, "the trampoline, then b");
	pmm = m[1]->u.map.mm;
	unmap(vm, p, a, 4096);
	vm_events(vm, &from);
	c = op(vm, fork, NULL, p);
	cr_assert_gt((int64_t)c, 0, "fork: %ld", (long)c);
	cr_assert_eq(events_since(vm, from, PW_EV_PGD_CTOR, ctor, 4), 1);
	cr_assert_eq(mm_info(vm, c).anon, 1, "the child maps the page");
	wp = walk_user(vm, pmm, b);
	wc = walk_user(vm, ctor[0]->u.pgd_ctor.mm, b);
	cr_assert(!wp.writable && !wc.writable, "write-protected in parent and child");
	cr_assert_eq(wc.phys, wp.phys, "one frame, shared");
	cr_assert_eq(user_read(vm, c, b), 0x55, "the child reads the parent's data");
	end_vm(vm);
}

/*
 * mprotect() to the protection a VMA already has changes nothing:
 * mprotect_fixup() returns before splitting when newflags == oldflags.  So
 * the VMA over [a, a + 8 KiB), across a 2 MiB boundary, stays whole; the
 * write at a gives all of it an anon_vma, and fork copies its PTEs on both
 * sides of the boundary: the child gets both PTE tables and the zero-page
 * PTE at a + 4 KiB, which it then reads without a fault.
 */
Test(kernel, mprotect_to_the_same_protection_does_not_split)
{
	const uint64_t a = 258 * SZ_1M - 4096, z = 258 * SZ_1M;
	const struct pw_event *f[4];
	struct mm_info mi;
	uint64_t p, c;
	struct vm *vm;
	size_t from;

	require_kvm();
	vm = boot_ops_guest(0);
	p = new_task(vm);
	map(vm, p, a, 2 * 4096, RW);
	cr_assert_eq(user_read(vm, p, z), 0);
	cr_assert_eq(op(vm, mprotect, NULL, p, a, 4096, RW), 0);
	cr_assert_eq(touch(vm, p, a, PW_ACCESS_WRITE, true, 0x55, NULL), 0);
	c = op(vm, fork, NULL, p);
	cr_assert_gt((int64_t)c, 0, "fork: %ld", (long)c);
	mi = mm_info(vm, c);
	cr_assert(mi.puds == 1 && mi.pmds == 1 && mi.ptes == 2 && mi.anon == 1,
		  "child: %lu/%lu/%lu tables, %lu pages", mi.puds, mi.pmds, mi.ptes, mi.anon);
	vm_events(vm, &from);
	cr_assert_eq(user_read(vm, c, z), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1, "the zero-page PTE was copied");
	cr_assert_eq(f[0]->u.fault.addr & ~4095ULL, PW_USER_TRAMPOLINE, "the one fault is ring 3's entry");
	end_vm(vm);
}

/*
 * PageAnonExclusive is lost at fork (folio_try_dup_anon_rmap_pte()) and
 * comes back only through a write fault that reuses the page
 * (wp_can_reuse_anon_folio()).  So after the child has exited, the
 * parent's page is its alone yet not exclusive: mprotect(PROT_READ) then
 * mprotect(PROT_READ|PROT_WRITE) leaves its PTE read-only
 * (can_change_pte_writable()), and the next write takes a P|W|U fault
 * that reuses it.
 */
Test(kernel, mprotect_rw_after_fork_waits_for_the_write_fault)
{
	const uint64_t a = 256 * SZ_1M;
	const struct pw_event *m[4];
	uint64_t p, c, mm;
	struct vm *vm;
	size_t from;

	require_kvm();
	vm = boot_ops_guest(0);
	p = new_task(vm);
	warm_up(vm, p);
	map(vm, p, a, 4096, RW);
	vm_events(vm, &from);
	cr_assert_eq(touch(vm, p, a, PW_ACCESS_WRITE, true, 0x11, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, 4), 1);
	mm = m[0]->u.map.mm;
	c = op(vm, fork, NULL, p);
	cr_assert_gt((int64_t)c, 0, "fork: %ld", (long)c);
	cr_assert_eq(op(vm, task_exit, NULL, c), 0);
	cr_assert_eq(op(vm, mprotect, NULL, p, a, 4096, PW_PROT_READ), 0);
	cr_assert_eq(op(vm, mprotect, NULL, p, a, 4096, RW), 0);
	cr_assert(!walk_user(vm, mm, a).writable, "not exclusive since the fork");
	cow_write(vm, p, a, 0x22, PW_MAP_WP_REUSE);
	cr_assert_eq(op(vm, mprotect, NULL, p, a, 4096, PW_PROT_READ), 0);
	cr_assert_eq(op(vm, mprotect, NULL, p, a, 4096, RW), 0);
	cr_assert(walk_user(vm, mm, a).writable, "exclusive again after the reuse");
	end_vm(vm);
}
