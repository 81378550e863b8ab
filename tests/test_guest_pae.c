/*
 * What PAE changes in the i386 pagewalk guest (build/guest-pae.elf,
 * CONFIG_X86_PAE; README "The i386 pagewalk guest"): the pgd is four
 * PDPTEs, 32 bytes from the pgd_cache slab, with a PMD table under each
 * user PDPTE from pgd_alloc() and the one kernel PMD shared by all.  Runs
 * only where the host runs PAE paging (the second host).
 *
 * Expected values from the SDM (vol. 3A 4.4: CR3 holds the PDPT's address
 * in bits 31:5; a PDPTE has P in bit 0 and bits 2:1 and 8:5 reserved,
 * table 4-8) and Linux's rules (arch/x86/mm/pgtable.c before 2025:
 * PREALLOCATED_PMDS = KERNEL_PGD_BOUNDARY = 0xc0000000 >> 30 = 3 with
 * SHARED_KERNEL_PMD, pud_populate() writing P alone, pgd_ctor() cloning
 * PDPTE 3 from swapper_pg_dir and leaving the pgd off pgd_list,
 * pgd_cache_init()'s 32-byte objects: 4096 / 32 = 128 to a slab page).
 */
#include <pagewalk/layout.h>
#include <pagewalk/sizes.h>

#include "guest_ops.h"
#include "harness.h"
#include "quirks.h"

#define PDPTE_RSVD	0x1e6ULL	/* bits 2:1 and 8:5 */
#define USER_PDPTES	3

/* A PDPTE as the guest wrote it: without the A a quirky host's walks add (quirks.h). */
static uint64_t pdpte_written(uint64_t e)
{
	return host_sets_a_in_pdptes() ? e & ~PT_ACCESSED : e;
}

static uint64_t swapper_phys(struct vm *vm)
{
	const struct pw_event *ev[1];

	cr_assert_eq(events_since(vm, 0, PW_EV_KERNEL_PGD, ev, 1), 1);
	return ev[0]->u.kernel_pgd.phys;
}

/*
 * A new task's pgd has all four PDPTEs present before it ever runs:
 * pgd_alloc() allocated the pgd and 3 PMD tables (pgtable_alloc events
 * PGD, PMD, PMD, PMD), PDPTEs 0-2 point at those PMDs with P and no
 * reserved bit, PDPTE 3 is swapper_pg_dir's, and pgtables_bytes is 3
 * pages (mm_inc_nr_pmds() per PMD; the pgd is not counted, as in Linux).
 * The pgd is on no pgd_list: the kernel PMD is shared, nothing to sync.
 */
Test(guest_pae, pgd_alloc_fills_all_four_pdptes)
{
	uint64_t pdpte[4], ref[4], pgd, t;
	const struct pw_event *ev[8];
	struct pw_kinfo_out k;
	struct mm_info mi;
	struct vm *vm;
	size_t from, n;

	require_paging32(3);
	vm = boot_guest32(3, NULL);
	op(vm, meminfo, NULL);	/* the boot's events in */
	vm_events(vm, &from);
	t = new_task(vm);
	n = events_since(vm, from, PW_EV_PGTABLE_ALLOC, ev, 8);
	cr_assert_eq(n, 1 + USER_PDPTES, "%zu pgtable_alloc events, the first at level %u", n,
		     n ? ev[0]->u.pgtable_alloc.level : 0);
	cr_assert_eq(ev[0]->u.pgtable_alloc.level, PW_LEVEL_PGD);
	pgd = ev[0]->u.pgtable_alloc.phys;
	cr_assert_eq(pgd % 32, 0, "pgd at %#lx: CR3 takes bits 31:5", (unsigned long)pgd);
	cr_assert_eq(pgd_of(vm, ev[0]->u.pgtable_alloc.mm), pgd);
	cr_assert_eq(vm_read_phys(vm, pgd, pdpte, sizeof(pdpte)), 0);
	cr_assert_eq(vm_read_phys(vm, swapper_phys(vm), ref, sizeof(ref)), 0);
	for (int i = 0; i < USER_PDPTES; i++) {
		cr_assert_eq(ev[1 + i]->u.pgtable_alloc.level, PW_LEVEL_PMD);
		cr_assert_eq(pdpte[i], ev[1 + i]->u.pgtable_alloc.phys | 1, "PDPTE %d: %#llx, the PMD at %#lx",
			     i, (unsigned long long)pdpte[i], (unsigned long)ev[1 + i]->u.pgtable_alloc.phys);
		cr_assert_eq(pdpte[i] & PDPTE_RSVD, 0);
	}
	/* Never loaded in CR3, PDPTEs 0-2 are as written; 3 is a copy of one walks use. */
	cr_assert((pdpte[3] & 1) && pdpte_written(pdpte[3]) == pdpte_written(ref[3]),
		  "PDPTE 3 %#llx, swapper_pg_dir's %#llx",
		  (unsigned long long)pdpte[3], (unsigned long long)ref[3]);
	mi = mm_info(vm, t);
	cr_assert(mi.pmds == USER_PDPTES && mi.ptes == 0 && mi.bytes == USER_PDPTES * 4096,
		  "%lu PMD, %lu PTE tables, %ld bytes", mi.pmds, mi.ptes, (long)mi.bytes);
	op(vm, kinfo, &k);
	cr_assert_eq(k.pgd_list, 0);
	end_vm(vm);
}

/*
 * 64 tasks (every slot) have 64 pgds of 32 bytes: each 32-byte aligned,
 * all in one page (64 x 32 = 2 KiB of a slab page's 128 objects), where
 * a two-level or 64-bit pgd is a page of its own.  The page-table pages
 * are the PMDs alone: 3 per task.  When the tasks are gone, so is every
 * page, the slab page among them.
 */
Test(guest_pae, pgds_are_32_byte_slab_objects)
{
	const struct pw_event *ev[64];
	struct pw_meminfo_out m0, m1, m2;
	struct vm *vm;
	uint64_t t[64];
	size_t from;

	require_paging32(3);
	vm = boot_guest32(3, NULL);
	op(vm, meminfo, &m0);
	vm_events(vm, &from);
	for (int i = 0; i < 64; i++)
		t[i] = new_task(vm);
	cr_assert_eq(events_since(vm, from, PW_EV_PGD_CTOR, ev, 64), 64);
	for (int i = 0; i < 64; i++) {
		cr_assert_eq(ev[i]->u.pgd_ctor.phys % 32, 0);
		cr_assert_eq(ev[i]->u.pgd_ctor.phys >> 12, ev[0]->u.pgd_ctor.phys >> 12,
			     "pgd %d at %#lx, the first at %#lx", i, (unsigned long)ev[i]->u.pgd_ctor.phys,
			     (unsigned long)ev[0]->u.pgd_ctor.phys);
		for (int j = 0; j < i; j++)
			cr_assert_neq(ev[i]->u.pgd_ctor.phys, ev[j]->u.pgd_ctor.phys);
	}
	op(vm, meminfo, &m1);
	cr_assert_eq(m1.pgtable - m0.pgtable, 64 * USER_PDPTES, "%lu page-table pages for 64 tasks",
		     (unsigned long)(m1.pgtable - m0.pgtable));
	for (int i = 0; i < 64; i++)
		cr_assert_eq(op(vm, task_exit, NULL, t[i]), 0);
	op(vm, meminfo, &m2);
	cr_assert_eq(m2.free, m0.free, "every page back: %lu free, %lu before", (unsigned long)m2.free,
		     (unsigned long)m0.free);
	cr_assert_eq(m2.slab, m0.slab);
	end_vm(vm);
}

/*
 * free_pgtables() frees a preallocated PMD like any other: a lone 4 KiB
 * VMA at 1 GiB (PDPTE 1), with no VMA below it (floor 0) and the
 * trampoline's at 0xbfffe000 above it (ceiling & PUD_MASK = 0x80000000,
 * not below the end), takes its PTE table and its PMD table with it
 * (free_pmd_range(): pud_clear(), pmd_free_tlb(), mm_dec_nr_pmds()), and
 * PDPTE 1 is then empty; mapping and touching it again allocates a PMD
 * table through __pmd_alloc() -> pud_populate(), then a PTE table, and
 * the mm holds 3 PMD tables again.
 */
Test(guest_pae, munmap_frees_the_pmd_of_a_lone_vma)
{
	const uint64_t va = 0x40000000;
	const struct pw_event *ev[4];
	uint64_t t, pgd, pdpte, v;
	struct mm_info mi;
	struct vm *vm;
	size_t from;

	require_paging32(3);
	vm = boot_guest32(3, NULL);
	t = new_task(vm);
	map(vm, t, va, 4096, RW);
	/* User code runs from the trampoline: its PTE table (PDPTE 2) first, to leave it out. */
	cr_assert_eq(touch(vm, t, PW_USER_TRAMPOLINE_32, PW_ACCESS_READ, true, 0, NULL), 0);
	cr_assert_eq(touch(vm, t, va, PW_ACCESS_WRITE, true, 7, NULL), 0);
	vm_events(vm, &from);
	unmap(vm, t, va, 4096);
	cr_assert_eq(events_since(vm, from, PW_EV_PGTABLE_FREE, ev, 4), 2);
	cr_assert_eq(ev[0]->u.pgtable_free.level, PW_LEVEL_PTE);
	cr_assert_eq(ev[1]->u.pgtable_free.level, PW_LEVEL_PMD);
	mi = mm_info(vm, t);
	cr_assert(mi.pmds == USER_PDPTES - 1 && mi.ptes == 1, "%lu PMD, %lu PTE tables", mi.pmds, mi.ptes);
	cr_assert_eq(events_since(vm, 0, PW_EV_PGD_CTOR, ev, 1), 1);
	pgd = ev[0]->u.pgd_ctor.phys;
	cr_assert_eq(vm_read_phys(vm, pgd + 8, &pdpte, 8), 0);
	cr_assert_eq(pdpte, 0, "PDPTE 1 %#llx after its PMD went", (unsigned long long)pdpte);

	map(vm, t, va, 4096, RW);
	vm_events(vm, &from);
	cr_assert_eq(touch(vm, t, va, PW_ACCESS_WRITE, true, 9, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_PGTABLE_ALLOC, ev, 4), 2);
	cr_assert_eq(ev[0]->u.pgtable_alloc.level, PW_LEVEL_PMD);
	cr_assert_eq(ev[1]->u.pgtable_alloc.level, PW_LEVEL_PTE);
	cr_assert_eq(vm_read_phys(vm, pgd + 8, &pdpte, 8), 0);
	cr_assert_eq(pdpte_written(pdpte), ev[0]->u.pgtable_alloc.phys | 1, "PDPTE 1 %#llx",
		     (unsigned long long)pdpte);
	mi = mm_info(vm, t);
	cr_assert(mi.pmds == USER_PDPTES && mi.ptes == 2, "%lu PMD, %lu PTE tables", mi.pmds, mi.ptes);
	cr_assert_eq(touch(vm, t, va, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 9);
	end_vm(vm);
}

/*
 * With 256 MiB of RAM VMALLOC_START is 0xd0800000 (high_memory 0xd0000000
 * + 8 MiB), inside PDPTE 3; an 8 KiB area at 0xd0bff000 spans PMD entries
 * 133 and 134 of the one kernel PMD (0xd0bff000 >> 21 & 511, and the
 * next), so the two PTE tables vmalloc installs are seen through every
 * pgd at once: a pgd made before the vmalloc reads it without a
 * vmalloc_fault, in `fault` mode, and `eager` mode syncs nothing
 * (ARCH_PAGE_TABLE_SYNC_MASK is 0 with SHARED_KERNEL_PMD).
 */
static void shared_kernel_pmd_needs_no_sync(const char *mode)
{
	const uint64_t area = 0xd0bff000;
	const struct pw_event *ev[4];
	struct pw_kinfo_out k;
	struct vm *vm;
	uint64_t t, v;

	require_paging32(3);
	vm = boot_guest32(3, mode);
	t = new_task(vm);
	cr_assert_eq(op(vm, vmalloc, NULL, 8192, area), (int64_t)area);
	for (int i = 0; i < 2; i++) {
		v = 1;
		cr_assert_eq(touch(vm, t, area + i * 4096, PW_ACCESS_READ, false, 0, &v), 0);
		cr_assert_eq(v, 0, "a zeroed vmalloc page");
	}
	cr_assert_eq(events_since(vm, 0, PW_EV_VMALLOC_FAULT, ev, 4), 0);
	cr_assert_eq(events_since(vm, 0, PW_EV_KERNEL_SYNC, ev, 4), 0);
	op(vm, kinfo, &k);
	cr_assert(k.syncs == 0 && k.vmalloc_faults == 0, "%lu syncs, %lu vmalloc faults",
		  (unsigned long)k.syncs, (unsigned long)k.vmalloc_faults);
	end_vm(vm);
}

Test(guest_pae, shared_kernel_pmd_needs_no_vmalloc_fault) { shared_kernel_pmd_needs_no_sync("fault"); }
Test(guest_pae, shared_kernel_pmd_needs_no_eager_sync) { shared_kernel_pmd_needs_no_sync("eager"); }
