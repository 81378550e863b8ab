/*
 * The paging core: demand faults on the real MMU, table allocation per
 * level, access errors, munmap's floor/ceiling rules and teardown.
 *
 * Geometry: a PTE table maps 2 MiB, a PMD table 1 GiB, a PUD table
 * 512 GiB; 4-level, the p4d is folded and a pgd entry maps 512 GiB; with
 * LA57 a P4D table maps 256 TiB, one pgd entry.  The pgd is allocated
 * with the mm.  Every task also maps the user trampoline at
 * PW_USER_TRAMPOLINE (top-level index 255: a pgd entry, or with LA57 a
 * p4d entry under pgd entry 0), whose first use installs one PUD, one PMD
 * and one PTE table of its own, and with LA57 the P4D table of pgd entry
 * 0 that every address below 2^47 shares; warm_up() takes that cost
 * before a test starts counting, so the counts below hold in both modes.
 */
#include <linux/kvm.h>

#include <pagewalk/layout.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"

static size_t nevents(struct vm *vm)
{
	size_t n;

	vm_events(vm, &n);
	return n;
}

Test(paging, first_write_allocates_one_table_per_level_and_one_page)
{
	const uint64_t a = 256 * SZ_1M;
	const struct pw_event *f[4];
	struct mm_info mi;
	struct vm *vm;
	struct pw_meminfo_out mem0, mem1;
	uint64_t t, v;
	size_t from;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, a, 4 * SZ_1M, RW);
	warm_up(vm, t);
	op(vm, meminfo, &mem0);

	from = nevents(vm);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 0x1234, NULL), 0);
	/* pgd index 0 is empty: one PUD, one PMD, one PTE table, one zeroed page. */
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1);
	cr_assert_eq(f[0]->u.fault.addr, a);
	cr_assert_eq(f[0]->u.fault.error_code, 0x6, "W|U, not present: %#lx", (unsigned long)f[0]->u.fault.error_code);
	cr_assert_eq(f[0]->u.fault.outcome, PW_FAULT_MAPPED);
	cr_assert_eq(f[0]->u.fault.tables, 3, "tables installed by the fault");
	mi = mm_info(vm, t);
	cr_assert(mi.puds == 2 && mi.pmds == 2 && mi.ptes == 2 && mi.anon == 1);
	op(vm, meminfo, &mem1);
	cr_assert_eq(mem1.pgtable - mem0.pgtable, 3, "page-table pages");
	cr_assert_eq(mem1.anon - mem0.anon, 1, "anonymous pages");

	/* Same 2 MiB, next page: the tables exist, only the page is new. */
	from = nevents(vm);
	cr_assert_eq(touch(vm, t, a + 4096, PW_ACCESS_WRITE, true, 0x5678, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1);
	cr_assert_eq(f[0]->u.fault.tables, 0);
	mi = mm_info(vm, t);
	cr_assert(mi.puds == 2 && mi.pmds == 2 && mi.ptes == 2 && mi.anon == 2);

	/* Same page again: present and writable, so no fault at all. */
	from = nevents(vm);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 0x9abc, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 0);
	/* The kernel reads what ring 3 wrote, through the same tables. */
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_READ, false, 0, &v), 0);
	cr_assert_eq(v, 0x9abc);
	end_vm(vm);
}

/*
 * One 8-byte write 4 bytes before boundary X touches pages X-4K and X, two
 * faults in one instruction.  The tables the second page needs beyond the
 * first's follow from which levels X crosses (the first page's own tables
 * are a PUD, PMD and PTE table: only the trampoline's P4D is there before):
 *   2 MiB:   a new PTE table                      -> PUD +1, PMD +1, PTE +2
 *   1 GiB:   a new PMD and PTE table              -> PUD +1, PMD +2, PTE +2
 *   512 GiB: a new top-level entry (a p4d entry with LA57):
 *            PUD, PMD, PTE table                  -> PUD +2, PMD +2, PTE +2
 *   256 TiB (LA57 only): a new pgd entry:
 *            P4D, PUD, PMD, PTE table     -> P4D +1, PUD +2, PMD +2, PTE +2
 * `paging` is the mode to boot (0: auto).
 */
static void straddle(unsigned int paging, uint64_t x, uint64_t p4ds, uint64_t puds, uint64_t pmds,
		     uint64_t ptes)
{
	const struct pw_event *f[4];
	struct mm_info mi;
	struct vm *vm;
	uint64_t t, v;
	size_t from;

	vm = paging ? boot_ops_guest_paging(paging) : boot_ops_guest(0);
	p4ds += vm_geometry(vm).user_p4ds;
	t = new_task(vm);
	map(vm, t, x - 2 * SZ_1M, 4 * SZ_1M, RW);
	warm_up(vm, t);
	from = nevents(vm);
	cr_assert_eq(touch(vm, t, x - 4, PW_ACCESS_WRITE, true, 0x1122334455667788ULL, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 2, "two pages, two faults");
	cr_assert_eq(f[0]->u.fault.tables + f[1]->u.fault.tables,
		     p4ds - vm_geometry(vm).user_p4ds + puds + pmds + ptes);
	mi = mm_info(vm, t);
	cr_assert(mi.p4ds == p4ds && mi.puds == 1 + puds && mi.pmds == 1 + pmds && mi.ptes == 1 + ptes,
		  "at %#lx: %lu/%lu/%lu/%lu tables", (unsigned long)x, mi.p4ds, mi.puds, mi.pmds,
		  mi.ptes);
	cr_assert_eq(mi.anon, 2);
	cr_assert_eq(touch(vm, t, x - 4, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x1122334455667788ULL);
	end_vm(vm);
}

Test(paging, write_straddling_2mib_boundary)
{
	require_kvm();
	straddle(0, 256 * SZ_1M + 2 * SZ_1M, 0, 1, 1, 2);
}

Test(paging, write_straddling_1gib_boundary)
{
	require_kvm();
	straddle(0, 1 * SZ_1G, 0, 1, 2, 2);
}

Test(paging, write_straddling_512gib_boundary)
{
	require_kvm();
	straddle(0, 512 * SZ_1G, 0, 2, 2, 2);
}

/* 256 TiB = 2^48, the span of one pgd entry with LA57: above 2^47, so LA57 only. */
Test(paging, write_straddling_256tib_boundary_with_la57)
{
	require_la57();
	straddle(5, 1ULL << 48, 1, 2, 2, 2);
}

Test(paging, read_maps_zero_page_then_write_copies)
{
	const uint64_t a = 256 * SZ_1M;
	const struct pw_event *f[4], *m[4];
	uint64_t t, v = 1, zero_pa;
	struct vm *vm;
	size_t from;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, a, 2 * SZ_1M, RW);
	warm_up(vm, t);

	from = nevents(vm);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1);
	cr_assert_eq(f[0]->u.fault.error_code, 0x4, "read, not present, user");
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, 4), 1);
	cr_assert_eq(m[0]->u.map.kind, PW_MAP_ZERO);
	zero_pa = m[0]->u.map.phys;
	cr_assert_eq(mm_info(vm, t).anon, 0, "the zero page is nobody's");
	/* Another address reads the very same page. */
	cr_assert_eq(touch(vm, t, a + 8192, PW_ACCESS_READ, true, 0, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, 4), 2);
	cr_assert_eq(m[1]->u.map.phys, zero_pa);

	from = nevents(vm);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 77, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1);
	cr_assert_eq(f[0]->u.fault.error_code, 0x7, "write to the present read-only zero page: P|W|U");
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, 4), 1);
	cr_assert_eq(m[0]->u.map.kind, PW_MAP_WP_COPY);
	cr_assert_neq(m[0]->u.map.phys, zero_pa);
	cr_assert_eq(mm_info(vm, t).anon, 1);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 77);
	cr_assert_eq(touch(vm, t, a + 8192, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0, "the zero page stayed zero");
	end_vm(vm);
}

/* One user access that must kill the task: which fault, which error code. */
static void expect_segv(struct vm *vm, uint64_t t, uint64_t addr, int access, uint64_t error_code,
			enum pw_fault_outcome outcome)
{
	const struct pw_event *f[4], *ex[2];
	size_t from = nevents(vm), n;

	cr_assert_eq(touch(vm, t, addr, access, true, 0, NULL), -PW_EFAULT);
	n = events_since(vm, from, PW_EV_FAULT, f, 4);
	cr_assert_geq(n, 1);
	cr_assert_eq(f[n - 1]->u.fault.addr, addr);
	cr_assert_eq(f[n - 1]->u.fault.error_code, error_code, "error code %#lx, expected %#lx",
		     (unsigned long)f[n - 1]->u.fault.error_code, (unsigned long)error_code);
	cr_assert_eq(f[n - 1]->u.fault.outcome, outcome, "outcome %lu", (unsigned long)f[n - 1]->u.fault.outcome);
	cr_assert_eq(events_since(vm, 0, PW_EV_TASK_EXIT, ex, 2), 1);
	cr_assert_eq(ex[0]->u.task_exit.signal, 11, "SIGSEGV");
	/* The task is gone, the guest is not. */
	cr_assert_eq(op(vm, mm_info, NULL, t), -PW_ESRCH);
	cr_assert_eq(op(vm, echo, NULL, 1, 1), 2);
}

Test(paging, access_outside_every_vma_is_maperr)
{
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, 256 * SZ_1M, 2 * SZ_1M, RW);
	expect_segv(vm, t, 512 * SZ_1M, PW_ACCESS_READ, 0x4, PW_FAULT_SEGV_MAPERR);
	end_vm(vm);
}

Test(paging, write_to_readonly_vma_is_accerr)
{
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, 256 * SZ_1M, 2 * SZ_1M, PW_PROT_READ);
	/* Read first, so the zero page is present: the write fault is P|W|U. */
	cr_assert_eq(touch(vm, t, 256 * SZ_1M, PW_ACCESS_READ, true, 0, NULL), 0);
	expect_segv(vm, t, 256 * SZ_1M, PW_ACCESS_WRITE, 0x7, PW_FAULT_SEGV_ACCERR);
	end_vm(vm);
}

/* The direct map is present but supervisor-only: P|U, and Linux says SEGV_MAPERR. */
Test(paging, user_access_to_kernel_address)
{
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	expect_segv(vm, t, vm_geometry(vm).page_offset + 16 * SZ_1M, PW_ACCESS_READ, 0x5,
		    PW_FAULT_SEGV_MAPERR);
	end_vm(vm);
}

/*
 * Fetch from a page holding "jmp *%rsi" (ff e6), which jumps back into the
 * trampoline and so to the kernel: it runs where the VMA is executable, and
 * where it is not the NX bit makes it a P|U|I protection fault, SEGV_ACCERR.
 */
Test(paging, fetch_from_non_executable_vma_sets_the_i_bit)
{
	const uint64_t x = 256 * SZ_1M, nx = 258 * SZ_1M;
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, x, 4096, RW | PW_PROT_EXEC);
	map(vm, t, nx, 4096, RW);
	cr_assert_eq(touch(vm, t, x, PW_ACCESS_WRITE, true, 0xe6ff, NULL), 0);
	cr_assert_eq(touch(vm, t, x, PW_ACCESS_FETCH, true, 0, NULL), 0, "executable: runs");
	cr_assert_eq(touch(vm, t, nx, PW_ACCESS_WRITE, true, 0xe6ff, NULL), 0);
	expect_segv(vm, t, nx, PW_ACCESS_FETCH, 0x15, PW_FAULT_SEGV_ACCERR);
	end_vm(vm);
}

static void expect_tables(struct vm *vm, uint64_t t, uint64_t puds, uint64_t pmds, uint64_t ptes,
			  uint64_t anon, const char *why)
{
	struct mm_info mi = mm_info(vm, t);

	cr_assert(mi.puds == puds && mi.pmds == pmds && mi.ptes == ptes && mi.anon == anon,
		  "%s: %lu/%lu/%lu tables, %lu pages; expected %lu/%lu/%lu, %lu", why, mi.puds,
		  mi.pmds, mi.ptes, mi.anon, puds, pmds, ptes, anon);
}

/*
 * free_pgtables() frees a table only when nothing outside the unmapped
 * range, between the neighbouring VMAs (floor = prev->vm_end, ceiling =
 * next->vm_start), can still need it.  Counts include the trampoline's
 * 1/1/1 tables.
 */
Test(paging, munmap_frees_exactly_what_floor_and_ceiling_allow)
{
	const uint64_t a = 256 * SZ_1M;
	struct pw_meminfo_out mem0, mem1;
	uint64_t t;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	op(vm, meminfo, &mem0);
	t = new_task(vm);
	warm_up(vm, t);

	/* Two VMAs in one 2 MiB: one PTE table for both. */
	map(vm, t, a, 4096, RW);
	map(vm, t, a + 8192, 4096, RW);
	touch(vm, t, a, PW_ACCESS_WRITE, true, 1, NULL);
	touch(vm, t, a + 8192, PW_ACCESS_WRITE, true, 1, NULL);
	expect_tables(vm, t, 2, 2, 2, 2, "two VMAs, one PTE table");
	/* ceiling = a+8K rounds down to a: the PTE table is shared, nothing freed. */
	unmap(vm, t, a, 4096);
	expect_tables(vm, t, 2, 2, 2, 1, "first of two VMAs sharing a PTE table");
	/* Now floor 0, ceiling the trampoline: the PTE, PMD and PUD tables all go. */
	unmap(vm, t, a + 8192, 4096);
	expect_tables(vm, t, 1, 1, 1, 0, "last VMA under pgd entry 0");

	/* Different 2 MiB, same 1 GiB: the PTE table goes, the shared PMD stays. */
	map(vm, t, a, 4096, RW);
	map(vm, t, a + 4 * SZ_1M, 4096, RW);
	touch(vm, t, a, PW_ACCESS_WRITE, true, 1, NULL);
	touch(vm, t, a + 4 * SZ_1M, PW_ACCESS_WRITE, true, 1, NULL);
	expect_tables(vm, t, 2, 2, 3, 2, "two VMAs, two PTE tables");
	unmap(vm, t, a, 4096);
	expect_tables(vm, t, 2, 2, 2, 1, "VMA with its own PTE table, sharing the PMD");
	unmap(vm, t, a + 4 * SZ_1M, 4096);
	expect_tables(vm, t, 1, 1, 1, 0, "all gone again");

	/* A hole punched in one VMA: floor and ceiling are the two halves. */
	map(vm, t, a, 3 * 4096, RW);
	for (int i = 0; i < 3; i++)
		touch(vm, t, a + i * 4096, PW_ACCESS_WRITE, true, 1, NULL);
	unmap(vm, t, a + 4096, 4096);
	expect_tables(vm, t, 2, 2, 2, 2, "hole in the middle of a PTE table");

	/* Exit: every table, page and slab object comes back. */
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	op(vm, meminfo, &mem1);
	cr_assert_eq(mem1.free, mem0.free, "free pages %lu, before the task %lu", mem1.free, mem0.free);
	cr_assert_eq(mem1.pgtable, mem0.pgtable, "page-table pages");
	cr_assert_eq(mem1.anon, mem0.anon, "anonymous pages");
	cr_assert_eq(mem1.slab, mem0.slab, "slab pages");
	end_vm(vm);
}

/* Everything the paging core reports, minus timestamps, from one scenario; its paging mode. */
static unsigned int scenario(struct pw_event **out, size_t *n)
{
	struct vm *vm = boot_ops_guest(0);
	const unsigned int levels = vm_levels(vm);
	const struct pw_event *ev;
	uint64_t t = new_task(vm);
	size_t total, k = 0;

	map(vm, t, 1 * SZ_1G - 2 * SZ_1M, 4 * SZ_1M, RW);
	touch(vm, t, 1 * SZ_1G - 4, PW_ACCESS_WRITE, true, 5, NULL);
	touch(vm, t, 1 * SZ_1G + 4096, PW_ACCESS_READ, true, 0, NULL);
	unmap(vm, t, 1 * SZ_1G - 2 * SZ_1M, 2 * SZ_1M);
	op(vm, task_exit, NULL, t);
	ev = vm_events(vm, &total);
	*out = calloc(total, sizeof(**out));
	for (size_t i = 0; i < total; i++) {
		if (ev[i].type == PW_EV_CONSOLE || ev[i].type == PW_EV_BOOT)
			continue;
		(*out)[k] = ev[i];
		(*out)[k].tsc = 0;
		k++;
	}
	*n = k;
	end_vm(vm);
	return levels;
}

Test(paging, same_scenario_same_events)
{
	struct pw_event *a, *b;
	size_t na, nb, tables = 0;
	unsigned int levels;

	require_kvm();
	levels = scenario(&a, &na);
	scenario(&b, &nb);
	cr_assert_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		cr_assert_eq(memcmp(&a[i], &b[i], sizeof(a[i])), 0, "event %zu (type %u) differs", i,
			     a[i].type);
		tables += a[i].type == PW_EV_PGTABLE_ALLOC && a[i].u.pgtable_alloc.mm != 0;	/* the task's, not init_mm's */
	}
	/*
	 * pgd + trampoline 3 (4 with LA57: its P4D) + straddling 1 GiB (PUD,
	 * 2 PMD, 2 PTE): a non-trivial run.
	 */
	cr_assert_eq(tables, 9 + geometry(levels).user_p4ds);
	free(a);
	free(b);
}

/* mprotect() may start inside a VMA: only holes make it fail (-ENOMEM). */
Test(paging, mprotect_part_of_a_vma)
{
	const uint64_t a = 256 * SZ_1M;
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, a, 3 * 4096, RW);
	cr_assert_eq(touch(vm, t, a + 4096, PW_ACCESS_WRITE, true, 5, NULL), 0);
	cr_assert_eq(op(vm, mprotect, NULL, t, a + 4096, 4096, PW_PROT_READ), 0);
	/* The page stays mapped but read-only: a write is now P|W|U, SEGV_ACCERR. */
	cr_assert_eq(touch(vm, t, a + 4096, PW_ACCESS_READ, true, 0, NULL), 0);
	cr_assert_eq(op(vm, mprotect, NULL, t, a + 2 * 4096, 2 * 4096, PW_PROT_READ),
		     -PW_ENOMEM, "the range runs past the VMA into a hole");
	expect_segv(vm, t, a + 4096, PW_ACCESS_WRITE, 0x7, PW_FAULT_SEGV_ACCERR);
	end_vm(vm);
}

/*
 * PROT_NONE keeps the page (the PTE is present to the kernel, not to the
 * MMU: _PAGE_PROTNONE), so mprotect back to RW finds the data again.
 */
Test(paging, prot_none_and_back_keeps_the_page)
{
	const uint64_t a = 256 * SZ_1M;
	struct vm *vm;
	uint64_t t, v = 0;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, a, 4096, RW);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 42, NULL), 0);
	cr_assert_eq(op(vm, mprotect, NULL, t, a, 4096, 0), 0);
	cr_assert_eq(mm_info(vm, t).anon, 1, "PROT_NONE does not drop the page");
	cr_assert_eq(op(vm, mprotect, NULL, t, a, 4096, RW), 0);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 42);
	/* And while PROT_NONE, any access is SEGV_ACCERR: the VMA is inaccessible. */
	cr_assert_eq(op(vm, mprotect, NULL, t, a, 4096, 0), 0);
	expect_segv(vm, t, a, PW_ACCESS_READ, 0x4, PW_FAULT_SEGV_ACCERR);
	end_vm(vm);
}

/*
 * mmap(MAP_FIXED_NOREPLACE) outside the user address space: Linux's
 * do_mmap() returns -EINVAL for a zero length and -ENOMEM when
 * PAGE_ALIGN(len) wraps; __get_unmapped_area() (mm/mmap.c) then returns
 * -ENOMEM if len > TASK_SIZE or addr > TASK_SIZE - len, and only after
 * that -EINVAL for an address that is not page-aligned.  TASK_SIZE is
 * 2^47 - 4 KiB with 4-level paging, 2^56 - 4 KiB with LA57; the page
 * below the trampoline is the last free one under 2^47.
 */
Test(paging, mmap_past_task_size_is_enomem)
{
	const uint64_t last = PW_USER_TRAMPOLINE - 4096;
	uint64_t t, task_size;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	task_size = vm_geometry(vm).task_size;
	t = new_task(vm);
	cr_assert_eq(op(vm, mmap, NULL, t, task_size, 4096, RW), -PW_ENOMEM);
	cr_assert_eq(op(vm, mmap, NULL, t, task_size - 4096, 2 * 4096, RW), -PW_ENOMEM,
		     "runs past TASK_SIZE");
	cr_assert_eq(op(vm, mmap, NULL, t, task_size + 1, 4096, RW), -PW_ENOMEM,
		     "the range is checked before the alignment");
	cr_assert_eq(op(vm, mmap, NULL, t, 0, task_size + 4096, RW), -PW_ENOMEM,
		     "len > TASK_SIZE");
	cr_assert_eq(op(vm, mmap, NULL, t, 0, ~0ULL, RW), -PW_ENOMEM, "PAGE_ALIGN wraps");
	cr_assert_eq(op(vm, mmap, NULL, t, 256 * SZ_1M + 1, 4096, RW), -PW_EINVAL);
	cr_assert_eq(op(vm, mmap, NULL, t, 256 * SZ_1M, 0, RW), -PW_EINVAL);
	cr_assert_eq(op(vm, mmap, NULL, t, last, 4096, RW), (int64_t)last, "it fits");
	end_vm(vm);
}

/*
 * do_mprotect_pkey() (mm/mprotect.c): -EINVAL for a misaligned start;
 * then len 0 is a success that changes nothing; a range whose end wraps
 * is -ENOMEM; then prot bits beyond PROT_READ|WRITE|EXEC (and PROT_SEM)
 * are -EINVAL; a range past TASK_SIZE has no VMA: -ENOMEM.
 */
Test(paging, mprotect_arguments_in_linux_order)
{
	const uint64_t a = 256 * SZ_1M;
	uint64_t t, task_size;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	task_size = vm_geometry(vm).task_size;
	t = new_task(vm);
	map(vm, t, a, 4096, RW);
	cr_assert_eq(op(vm, mprotect, NULL, t, a + 1, 4096, PW_PROT_READ), -PW_EINVAL);
	cr_assert_eq(op(vm, mprotect, NULL, t, a + 1, 0, PW_PROT_READ), -PW_EINVAL,
		     "the alignment comes first");
	cr_assert_eq(op(vm, mprotect, NULL, t, a, 0, PW_PROT_READ), 0, "len 0");
	cr_assert_eq(op(vm, mprotect, NULL, t, 2 * a, 0, PW_PROT_READ), 0,
		     "len 0, no VMA there");
	cr_assert_eq(op(vm, mprotect, NULL, t, a, -4096ULL, PW_PROT_READ), -PW_ENOMEM,
		     "wraps");
	cr_assert_eq(op(vm, mprotect, NULL, t, a, 4096, 0x100), -PW_EINVAL);
	cr_assert_eq(op(vm, mprotect, NULL, t, task_size, 4 * 4096, PW_PROT_READ),
		     -PW_ENOMEM, "past TASK_SIZE");
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 1, NULL), 0, "still writable");
	end_vm(vm);
}

/*
 * Above 128 TiB (2^47): Linux with LA57 keeps the addresses it picks below
 * DEFAULT_MAP_WINDOW (2^47) unless the mmap hint is above it
 * (arch_get_unmapped_area()'s rule); a MAP_FIXED address is its own hint,
 * and the guest's mmap is MAP_FIXED_NOREPLACE only, so such a mapping is
 * exactly one asked for there.  Without LA57 it is past TASK_SIZE:
 * -ENOMEM, as for any address that high.
 */
Test(paging, mmap_above_128tib_is_enomem_with_4_levels)
{
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest_paging(4);
	t = new_task(vm);
	cr_assert_eq(op(vm, mmap, NULL, t, 1ULL << 47, 4096, RW), -PW_ENOMEM);
	end_vm(vm);
}

Test(paging, mmap_above_128tib_with_la57)
{
	const uint64_t a = 1ULL << 47, b = (1ULL << 56) - 2 * 4096;
	struct vm *vm;
	uint64_t t, v;

	require_la57();
	vm = boot_ops_guest_paging(5);
	t = new_task(vm);
	map(vm, t, a, 4096, RW);
	map(vm, t, b, 4096, RW);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 0x128, NULL), 0);
	cr_assert_eq(touch(vm, t, b, PW_ACCESS_WRITE, true, 0x56, NULL), 0);
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x128);
	cr_assert_eq(touch(vm, t, b, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x56);
	/*
	 * b is the last page below TASK_SIZE (2^56 - 4 KiB).  pgd entries 0
	 * (the trampoline; 2^47 is p4d entry 256 of the same P4D table) and
	 * 255 (b): two P4D tables.
	 */
	cr_assert_eq(mm_info(vm, t).p4ds, 2);
	end_vm(vm);
}

/*
 * mprotect() over a hole: Linux's do_mprotect_pkey() walks the VMAs from
 * the one holding start and calls mprotect_fixup() on each, so those
 * before the hole already have the new protection when it meets the hole
 * (vma->vm_start != tmp) and returns -ENOMEM.  A range that starts in a
 * hole changes nothing.  VMAs: A = [a, a + 8 KiB), hole, B = [a + 12 KiB,
 * a + 16 KiB).
 */
Test(paging, mprotect_over_a_hole_changes_the_vmas_before_it)
{
	const uint64_t a = 256 * SZ_1M, b = a + 3 * 4096;
	uint64_t t;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, a, 2 * 4096, RW);
	map(vm, t, b, 4096, RW);
	cr_assert_eq(op(vm, mprotect, NULL, t, a + 2 * 4096, 2 * 4096, PW_PROT_READ),
		     -PW_ENOMEM, "starts in the hole");
	cr_assert_eq(touch(vm, t, b, PW_ACCESS_WRITE, true, 1, NULL), 0, "B unchanged");
	cr_assert_eq(op(vm, mprotect, NULL, t, a + 4096, 3 * 4096, PW_PROT_READ),
		     -PW_ENOMEM, "runs into the hole");
	cr_assert_eq(touch(vm, t, a, PW_ACCESS_WRITE, true, 2, NULL), 0, "split off, unchanged");
	cr_assert_eq(touch(vm, t, b, PW_ACCESS_WRITE, true, 3, NULL), 0, "after the hole: unchanged");
	/* Before the hole: read-only now; a write to its zero-page PTE is P|W|U, SEGV_ACCERR. */
	cr_assert_eq(touch(vm, t, a + 4096, PW_ACCESS_READ, true, 0, NULL), 0);
	expect_segv(vm, t, a + 4096, PW_ACCESS_WRITE, 0x7, PW_FAULT_SEGV_ACCERR);
	end_vm(vm);
}

/*
 * A kernel load or store of a user address outside the exception table
 * (kernel_deref: a bug on purpose, guest-test.elf).  Linux's
 * do_user_addr_fault(): under SMAP (the guest turns it on where KVM offers
 * it) an oops; without it the fault is handled as the user's own would be:
 * a store into an untouched page of a writable VMA maps a new page (error
 * code W, supervisor, not present: 0x2) and the user then reads the value;
 * a load where no VMA is finds no fixup in kernelmode_fixup_or_oops(): an
 * oops.
 */
Test(paging, kernel_access_to_user_memory_outside_the_extable)
{
	struct kvm_cpuid_entry2 l7 = { 0 };
	bool smap;
	const struct pw_event *f[4];
	uint64_t t, v;
	size_t from;
	struct vm *vm;
	int64_t res;

	require_kvm();
	smap = kvm_cpuid(7, &l7) && (l7.ebx & (1u << 20));
	vm = boot_ops_guest_with(TEST_GUEST_ELF, NULL, 0, 1);
	t = new_task(vm);
	map(vm, t, 4 * SZ_1M, 2 * SZ_1M, RW);
	from = nevents(vm);
	if (smap) {
		cr_assert_eq(VM_OP(vm, 0, kernel_deref, &res, NULL, t, 4 * SZ_1M, true, 0x1234),
			     VMM_GUEST_FAILED, "%s", vm_message(vm));
		cr_assert_eq(vm_guest_status(vm), PW_GUEST_EXIT_PANIC, "under SMAP: an oops");
		vm_destroy(vm);
		return;
	}
	cr_assert_eq(VM_OP(vm, 0, kernel_deref, &res, NULL, t, 4 * SZ_1M, true, 0x1234), VMM_OK,
		     "%s", vm_message(vm));
	cr_assert_eq(res, 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1);
	cr_assert_eq(f[0]->u.fault.error_code, 0x2, "W, supervisor, not present");
	cr_assert_eq(f[0]->u.fault.outcome, PW_FAULT_MAPPED);
	cr_assert_eq(touch(vm, t, 4 * SZ_1M, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x1234, "the user reads what the kernel stored");
	cr_assert_eq(VM_OP(vm, 0, kernel_deref, &res, NULL, t, 64 * SZ_1M, false, 0),
		     VMM_GUEST_FAILED, "%s", vm_message(vm));
	cr_assert_eq(vm_guest_status(vm), PW_GUEST_EXIT_PANIC, "no VMA, no fixup: an oops");
	vm_destroy(vm);
}

/*
 * change_protection() walks the tables (change_pmd_range() skips a PMD
 * without a PTE table), so mprotect of a large, sparsely populated range
 * costs what is populated: 8 GiB here, one page written, well inside the
 * 10 s watchdog even where ring 0 runs at ~1 us an instruction.
 */
Test(paging, mprotect_of_a_sparse_range_walks_only_its_tables)
{
	const uint64_t a = 512 * SZ_1G, len = 8 * SZ_1G, b = a + len - 4096;
	struct vm *vm;
	uint64_t t;

	require_kvm();
	vm = boot_ops_guest(0);
	t = new_task(vm);
	map(vm, t, a, len, RW);
	cr_assert_eq(touch(vm, t, b, PW_ACCESS_WRITE, true, 1, NULL), 0);
	cr_assert_eq(op(vm, mprotect, NULL, t, a, len, PW_PROT_READ), 0);
	expect_segv(vm, t, b, PW_ACCESS_WRITE, 0x7, PW_FAULT_SEGV_ACCERR);
	end_vm(vm);
}
