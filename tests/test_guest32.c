/*
 * The pagewalk guest built for i386 (build/guest-i386.elf, README "The
 * i386 pagewalk guest") on two-level paging: the folded levels.  Runs
 * only where the host runs two-level paging (the second host); elsewhere
 * it skips with vmm_probe_paging32()'s reason.
 *
 * Expected values from the geometry of two-level paging (SDM vol. 3A
 * 4.3; Linux's pgtable-2level_types.h): a pgd entry maps 4 MiB
 * (PGDIR_SHIFT 22), the user half is pgd slots 0-767 (PAGE_OFFSET
 * 0xc0000000 >> 22), a PTE table is 1024 4-byte entries, one page; and
 * Linux's folding (asm-generic/pgtable-nopmd.h): pud_none() and
 * p4d_none() are 0, so handle_mm_fault() allocates no p4d, pud or pmd
 * table, and pgtables_bytes counts a PTE table as PTRS_PER_PTE *
 * sizeof(pte_t) = 4096 bytes (mm_inc_nr_ptes()).
 */
#include <pagewalk/layout.h>

#include "guest_ops.h"
#include "harness.h"

#define GUEST32_ELF	PW_BUILD_DIR "/guest-i386.elf"
#define PGDIR_SIZE_2L	(4ULL << 20)
#define USER_VA		0x40000000ULL	/* pgd slot 256: user, far from the trampoline's 767 */

static struct vm *boot_guest32(void)
{
	struct vmm_config cfg;
	struct vm *vm;
	char err[1024];

	test_config(&cfg, GUEST32_ELF, PW_WORKLOAD_OPS);
	cfg.paging = 2;
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_OK, "vm_create: %s", err);
	cr_assert_eq(vm_levels(vm), 2);
	return vm;
}

/* The i386 image boots to the op loop and serves an op: a task, a mapping. */
Test(guest32, boots_to_the_op_loop)
{
	struct vm *vm;
	uint64_t t;

	require_paging32(2);
	vm = boot_guest32();
	t = new_task(vm);
	cr_assert_gt(t, 0);
	map(vm, t, USER_VA, PGDIR_SIZE_2L, RW);
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	end_vm(vm);
}

/*
 * A first user write into a 4 MiB slot with no PTE table allocates that
 * table and nothing else: one pgtable_alloc event, at PTE level, and
 * pgtables_bytes up by one page; no pud or pmd table exists before or
 * after.  First the trampoline (pgd slot 767), which user code runs from,
 * is faulted in by a read from ring 3: that too takes exactly its PTE
 * table.
 */
Test(guest32, first_user_write_allocates_one_pte_table)
{
	const struct pw_event *ev[4];
	struct mm_info before, after;
	struct vm *vm;
	size_t from, n;
	uint64_t t, v;

	require_paging32(2);
	vm = boot_guest32();
	t = new_task(vm);
	map(vm, t, USER_VA, PGDIR_SIZE_2L, RW);
	cr_assert_eq(touch(vm, t, PW_USER_TRAMPOLINE_32, PW_ACCESS_READ, true, 0, NULL), 0);
	before = mm_info(vm, t);
	cr_assert(before.ptes == 1 && before.pmds == 0 && before.puds == 0 && before.p4ds == 0 &&
		  before.bytes == 4096, "trampoline: %lu/%lu/%lu/%lu tables, %ld bytes", before.p4ds,
		  before.puds, before.pmds, before.ptes, (long)before.bytes);
	vm_events(vm, &from);
	cr_assert_eq(touch(vm, t, USER_VA + 0x123000, PW_ACCESS_WRITE, true, 0x5a, NULL), 0);
	n = events_since(vm, from, PW_EV_PGTABLE_ALLOC, ev, 4);
	cr_assert_eq(n, 1, "%zu tables allocated by the first write (the first at level %u)", n,
		     n ? ev[0]->u.pgtable_alloc.level : 0);
	cr_assert_eq(ev[0]->u.pgtable_alloc.level, PW_LEVEL_PTE);
	after = mm_info(vm, t);
	cr_assert_eq(after.bytes - before.bytes, 4096);
	cr_assert_eq(after.ptes - before.ptes, 1);
	cr_assert_eq(after.pmds, 0);
	cr_assert_eq(after.puds, 0);
	cr_assert_eq(after.p4ds, 0);
	/* The word is there through the new table. */
	cr_assert_eq(touch(vm, t, USER_VA + 0x123000, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x5a);
	end_vm(vm);
}

/*
 * munmap's free_pgtables() with Linux's floor and ceiling on two-level
 * paging, where one PTE table spans 4 MiB (PMD_SIZE is PGDIR_SIZE): the
 * first 2 MiB of a 4 MiB mapping going frees no table (the rest of the
 * VMA shares it: the ceiling, 0x40200000 & PMD_MASK, is below the end),
 * as it would on x86-64, where 2 MiB is a whole PTE table; the rest going
 * frees that one PTE table and nothing at a folded level.
 */
Test(guest32, munmap_frees_a_pte_table_per_4m_and_no_folded_level)
{
	const struct pw_event *ev[4];
	struct mm_info mi;
	struct vm *vm;
	size_t from;
	uint64_t t;

	require_paging32(2);
	vm = boot_guest32();
	t = new_task(vm);
	map(vm, t, USER_VA, PGDIR_SIZE_2L, RW);
	cr_assert_eq(touch(vm, t, USER_VA, PW_ACCESS_WRITE, true, 1, NULL), 0);
	cr_assert_eq(touch(vm, t, USER_VA + PGDIR_SIZE_2L - 4096, PW_ACCESS_WRITE, true, 2, NULL), 0);
	cr_assert_eq(mm_info(vm, t).ptes, 2);	/* the trampoline's and this one */

	vm_events(vm, &from);
	unmap(vm, t, USER_VA, PGDIR_SIZE_2L / 2);
	cr_assert_eq(events_since(vm, from, PW_EV_PGTABLE_FREE, ev, 4), 0);
	cr_assert_eq(mm_info(vm, t).ptes, 2);

	vm_events(vm, &from);
	unmap(vm, t, USER_VA + PGDIR_SIZE_2L / 2, PGDIR_SIZE_2L / 2);
	cr_assert_eq(events_since(vm, from, PW_EV_PGTABLE_FREE, ev, 4), 1);
	cr_assert_eq(ev[0]->u.pgtable_free.level, PW_LEVEL_PTE);
	mi = mm_info(vm, t);
	cr_assert(mi.ptes == 1 && mi.pmds == 0 && mi.puds == 0 && mi.bytes == 4096,
		  "%lu/%lu/%lu tables, %ld bytes", mi.puds, mi.pmds, mi.ptes, (long)mi.bytes);
	end_vm(vm);
}
