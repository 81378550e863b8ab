/*
 * The pagewalk guest built for i386 on two-level paging
 * (build/guest-i386.elf) and on PAE (build/guest-pae.elf, CONFIG_X86_PAE),
 * README "The i386 pagewalk guest": the folded levels.  Runs only where
 * the host runs the mode (the second host); elsewhere it skips with
 * vmm_probe_paging32()'s reason.
 *
 * Expected values from the geometry (SDM vol. 3A 4.3 and 4.4; Linux's
 * pgtable-2level_types.h and pgtable-3level_types.h) and Linux's rules:
 * - two-level: a pgd entry maps 4 MiB (PGDIR_SHIFT 22), the user half is
 *   pgd slots 0-767 (0xc0000000 >> 22), a PTE table is 1024 4-byte
 *   entries; p4d, pud and pmd are folded (asm-generic/pgtable-nopmd.h:
 *   pud_none() and p4d_none() are 0), so handle_mm_fault() allocates no
 *   p4d, pud or pmd table, and no mm ever holds one.
 * - PAE: a pgd is four PDPTEs of 1 GiB each, the user half PDPTEs 0-2
 *   (KERNEL_PGD_BOUNDARY = 0xc0000000 >> 30 = 3); a PMD table is 512
 *   8-byte entries of 2 MiB, a PTE table 512 of 4 KiB; p4d and pud are
 *   folded (pgtable-nopud.h), the pmd is not.  pgd_alloc() preallocates
 *   a PMD table under each user PDPTE (preallocate_pmds(),
 *   PREALLOCATED_PMDS = KERNEL_PGD_BOUNDARY with SHARED_KERNEL_PMD), each
 *   counted by mm_inc_nr_pmds(), so every mm holds 3 PMD tables from its
 *   start and a first fault in a PDPTE allocates only its PTE table.
 * Either way pgtables_bytes counts a table as PTRS_PER_xxx * sizeof(entry)
 * = 4096 bytes.
 */
#include <string.h>

#include <pagewalk/layout.h>

#include "guest_ops.h"
#include "harness.h"

#define PGDIR_SIZE_2L	(4ULL << 20)
#define USER_VA		0x40000000ULL	/* 2-level pgd slot 256, PAE PDPTE 1: the trampoline is in 767 / 2 */
#define PAE_PMDS	3		/* PREALLOCATED_PMDS: one per user PDPTE */

/* The PMD tables every mm holds: none where the pmd is folded. */
static unsigned long mm_pmds(unsigned int levels)
{
	return levels == 2 ? 0 : PAE_PMDS;
}

/* The i386 image boots to the op loop and serves an op: a task, a mapping. */
static void boots_to_the_op_loop(unsigned int levels)
{
	struct vm *vm;
	uint64_t t;

	require_paging32(levels);
	vm = boot_guest32(levels, NULL);
	t = new_task(vm);
	cr_assert_gt(t, 0);
	map(vm, t, USER_VA, PGDIR_SIZE_2L, RW);
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	end_vm(vm);
}

Test(guest32, boots_to_the_op_loop) { boots_to_the_op_loop(2); }
Test(guest_pae, boots_to_the_op_loop) { boots_to_the_op_loop(3); }

/*
 * A first user write where no PTE table is yet (a 4 MiB slot on two-level
 * paging, a 2 MiB PMD entry on PAE) allocates that table and nothing
 * else: one pgtable_alloc event, at PTE level, and pgtables_bytes up by
 * one page; the pmd count stays what pgd_alloc() left (0 or 3).  First
 * the trampoline (2-level pgd slot 767, PAE PDPTE 2), which user code
 * runs from, is faulted in by a read from ring 3: that too takes exactly
 * its PTE table.
 */
static void first_user_write_allocates_one_pte_table(unsigned int levels)
{
	const unsigned long pmds = mm_pmds(levels);
	const struct pw_event *ev[4];
	struct mm_info before, after;
	struct vm *vm;
	size_t from, n;
	uint64_t t, v;

	require_paging32(levels);
	vm = boot_guest32(levels, NULL);
	t = new_task(vm);
	map(vm, t, USER_VA, PGDIR_SIZE_2L, RW);
	cr_assert_eq(touch(vm, t, PW_USER_TRAMPOLINE_32, PW_ACCESS_READ, true, 0, NULL), 0);
	before = mm_info(vm, t);
	cr_assert(before.ptes == 1 && before.pmds == pmds && before.puds == 0 && before.p4ds == 0,
		  "trampoline: %lu/%lu/%lu/%lu tables, %ld bytes", before.p4ds, before.puds, before.pmds,
		  before.ptes, (long)before.bytes);
	vm_events(vm, &from);
	cr_assert_eq(touch(vm, t, USER_VA + 0x123000, PW_ACCESS_WRITE, true, 0x5a, NULL), 0);
	n = events_since(vm, from, PW_EV_PGTABLE_ALLOC, ev, 4);
	cr_assert_eq(n, 1, "%zu tables allocated by the first write (the first at level %u)", n,
		     n ? ev[0]->u.pgtable_alloc.level : 0);
	cr_assert_eq(ev[0]->u.pgtable_alloc.level, PW_LEVEL_PTE);
	after = mm_info(vm, t);
	cr_assert_eq(after.bytes - before.bytes, 4096);
	cr_assert_eq(after.ptes - before.ptes, 1);
	cr_assert_eq(after.pmds, pmds);
	cr_assert_eq(after.puds, 0);
	cr_assert_eq(after.p4ds, 0);
	/* The word is there through the new table. */
	cr_assert_eq(touch(vm, t, USER_VA + 0x123000, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x5a);
	/*
	 * protection_map[]'s PAGE_COPY for a private RW, non-exec VMA has NX,
	 * which only PAE's 8-byte entries hold (head_32.S set EFER.NXE there).
	 */
	cr_assert_eq(events_since(vm, 0, PW_EV_PGD_CTOR, ev, 1), 1);
	cr_assert_eq(walk_user(vm, ev[0]->u.pgd_ctor.mm, USER_VA + 0x123000).nx, levels == 3);
	end_vm(vm);
}

Test(guest32, first_user_write_allocates_one_pte_table) { first_user_write_allocates_one_pte_table(2); }
Test(guest_pae, first_user_write_allocates_one_pte_table) { first_user_write_allocates_one_pte_table(3); }

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
	vm = boot_guest32(2, NULL);
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

/*
 * fork and copy-on-write on i386, as on x86-64 (kernel/fork_copy_on_write).
 * The parent writes two pages in one PTE table and forks.  dup_mmap()
 * allocates the child's pgd (pgd_alloc(): on PAE with its 3 PMD tables);
 * copy_page_range() copies only the VMA with an anon_vma
 * (vma_needs_copy(): the trampoline's has none), and with p4d and pud
 * folded, and the pmd folded too or preallocated, copy_pte_range()'s
 * pte_alloc_map_lock() is the one table it allocates: pgtable_alloc
 * events PGD, [PMD x 3,] PTE, and the child holds 1 PTE table (and its 3
 * PMDs) and 2 anonymous pages.  copy_present_pte() write-protects both
 * PTEs of a private writable page and shares its frame.  The child's
 * write then copies (wp_page_copy(): a new frame for the child; the
 * parent's PTE and frame, and its data, are unchanged); the parent, the
 * page's only user left, reuses it (wp_page_reuse()) on its own write.
 * The second page goes the other way round after the child exits: its
 * zap leaves the parent the only mapper, and the parent's write reuses
 * the frame.  Every page comes back at the end.  dup_mmap() also copies
 * the trampoline's VMA, at 0xbfc00000: as a long, a negative address, so
 * its result must be tested with IS_ERR_VALUE(), not the sign (fork
 * failed with -ENOMEM before).
 */
static void fork_copy_on_write(unsigned int levels)
{
	const uint64_t a = USER_VA, b = USER_VA + 4096;
	const unsigned long pmds = mm_pmds(levels);
	const struct pw_event *ev[8];
	struct pw_meminfo_out mem0, mem1;
	struct vm_walk pa, ca, pb, cb, w;
	uint64_t p, c, pmm, cmm, anon;
	struct mm_info mi;
	struct vm *vm;
	size_t from;

	require_paging32(levels);
	vm = boot_guest32(levels, NULL);
	op(vm, meminfo, &mem0);
	p = new_task(vm);
	map(vm, p, a, 2 * 4096, RW);
	cr_assert_eq(touch(vm, p, PW_USER_TRAMPOLINE_32, PW_ACCESS_READ, true, 0, NULL), 0);
	vm_events(vm, &from);
	cr_assert_eq(touch(vm, p, a, PW_ACCESS_WRITE, true, 0x11, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, ev, 8), 1);
	pmm = ev[0]->u.map.mm;
	cr_assert_eq(touch(vm, p, b, PW_ACCESS_WRITE, true, 0x22, NULL), 0);

	vm_events(vm, &from);
	c = op(vm, fork, NULL, p);
	cr_assert_gt((int64_t)c, 0, "fork: %ld", (long)c);	/* a task id, not -errno */
	cr_assert_eq(events_since(vm, from, PW_EV_PGD_CTOR, ev, 8), 1);
	cmm = ev[0]->u.pgd_ctor.mm;
	cr_assert_eq(events_since(vm, from, PW_EV_PGTABLE_ALLOC, ev, 8), 2 + pmds,
		     "pgd, %lu PMD tables and one PTE table", pmds);
	cr_assert_eq(ev[0]->u.pgtable_alloc.level, PW_LEVEL_PGD);
	for (unsigned long i = 1; i <= pmds; i++)
		cr_assert_eq(ev[i]->u.pgtable_alloc.level, PW_LEVEL_PMD);
	cr_assert_eq(ev[1 + pmds]->u.pgtable_alloc.level, PW_LEVEL_PTE);
	mi = mm_info(vm, c);
	cr_assert(mi.ptes == 1 && mi.pmds == pmds && mi.puds == 0 && mi.p4ds == 0 && mi.anon == 2,
		  "child: %lu/%lu/%lu/%lu tables, %ld bytes, %lu pages", mi.p4ds, mi.puds, mi.pmds,
		  mi.ptes, (long)mi.bytes, mi.anon);
	pa = walk_user(vm, pmm, a);
	ca = walk_user(vm, cmm, a);
	pb = walk_user(vm, pmm, b);
	cb = walk_user(vm, cmm, b);
	cr_assert(!pa.writable && !ca.writable && !pb.writable && !cb.writable,
		  "write-protected in parent and child");
	/* Write-protecting and copying keeps the rest of the entry: NX on PAE (see above). */
	cr_assert(pa.nx == (levels == 3) && ca.nx == pa.nx && pb.nx == pa.nx && cb.nx == pa.nx,
		  "NX %d %d %d %d", pa.nx, ca.nx, pb.nx, cb.nx);
	cr_assert(ca.phys == pa.phys && cb.phys == pb.phys, "one frame per page, shared");
	cr_assert_eq(user_read(vm, c, a), 0x11, "the child reads the parent's data");
	anon = anon_pages(vm);

	cow_write(vm, c, a, 0x33, PW_MAP_WP_COPY);
	cr_assert_eq(anon_pages(vm), anon + 1, "the child's copy");
	w = walk_user(vm, cmm, a);
	cr_assert(w.writable && w.phys != pa.phys, "a new, writable frame for the child");
	w = walk_user(vm, pmm, a);
	cr_assert(!w.writable && w.phys == pa.phys, "the parent's PTE untouched");
	cr_assert_eq(user_read(vm, p, a), 0x11, "the parent's data intact");
	cow_write(vm, p, a, 0x44, PW_MAP_WP_REUSE);
	w = walk_user(vm, pmm, a);
	cr_assert(w.writable && w.phys == pa.phys, "reused in place");
	cr_assert_eq(anon_pages(vm), anon + 1);
	cr_assert_eq(user_read(vm, c, a), 0x33);

	cr_assert_eq(op(vm, task_exit, NULL, c), 0);
	cow_write(vm, p, b, 0x55, PW_MAP_WP_REUSE);
	w = walk_user(vm, pmm, b);
	cr_assert(w.writable && w.phys == pb.phys, "the child's mapping gone: reused in place");
	cr_assert_eq(user_read(vm, p, a), 0x44);
	cr_assert_eq(user_read(vm, p, b), 0x55);
	cr_assert_eq(op(vm, task_exit, NULL, p), 0);
	op(vm, meminfo, &mem1);
	cr_assert_eq(mem1.free, mem0.free, "every page back: %lu free, %lu before", mem1.free, mem0.free);
	end_vm(vm);
}

Test(guest32, fork_copy_on_write) { fork_copy_on_write(2); }
Test(guest_pae, fork_copy_on_write) { fork_copy_on_write(3); }

/*
 * The paging mode is built into an i386 image, as CONFIG_X86_PAE is into
 * Linux: started in the other one (the VMM's --paging decides CR4.PAE),
 * it stops before it touches a page table: a panic on the console naming
 * both, status 1.
 */
Test(guest32, an_image_started_in_the_other_mode_says_so)
{
	const char *pae_as_2[] = { VMM_BIN, "--paging", "2", GUEST_PAE_ELF, NULL };
	const char *i386_as_3[] = { VMM_BIN, "--paging", "3", GUEST_I386_ELF, NULL };
	struct cli_run r;

	require_paging32(2);
	require_paging32(3);
	run_vmm(&r, pae_as_2);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.out, "built for PAE paging, started with CR4.PAE clear"), "%s", r.out);
	cli_run_free(&r);
	run_vmm(&r, i386_as_3);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.out, "built for two-level paging, started with CR4.PAE set"), "%s", r.out);
	cli_run_free(&r);
}

/* The gdb stub has x86-64's registers only: an i386 guest is refused, status 2, not served wrong ones. */
Test(guest32, the_gdb_stub_refuses_an_i386_guest)
{
	const char *argv[] = { VMM_BIN, "--paging", "2", "--gdb", "0", GUEST_I386_ELF, NULL };
	struct cli_run r;

	require_paging32(2);
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "gdb: not for i386 guests (--paging 2)"), "%s", r.err);
	cli_run_free(&r);
}
