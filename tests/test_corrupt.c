/*
 * Host-side fault injection between ops: page-table entries corrupted in
 * guest RAM, and #PFs the guest never caused.  Each experiment ends in an
 * outcome the test names: the guest survives (and says what it saw), a
 * clean error kills the task, the guest panics with a reason, or only the
 * host notices (the walker or the page counts).
 */
#include <pagewalk/layout.h>

#include <linux/kvm.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"
#include "quirks.h"

#define A (256 * SZ_1M)

/* The paging state of task t's mm: the vCPU's, with CR3 = t's pgd. */
static struct vm_paging task_paging(struct vm *vm, uint64_t mm)
{
	struct vm_paging pg;

	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	pg.cr3 = pgd_of(vm, mm);
	return pg;
}

/* A task (mm 1) with 0x1234 written at A; baseline free pages taken before it. */
static uint64_t setup(struct vm *vm, uint64_t *mem0)
{
	uint64_t t;

	*mem0 = free_pages(vm);
	t = new_task(vm);
	map(vm, t, A, 2 * SZ_1M, RW);
	cr_assert_eq(touch(vm, t, A, PW_ACCESS_WRITE, true, 0x1234, NULL), 0);
	return t;
}

static const struct pw_event *last_fault(struct vm *vm)
{
	const struct pw_event *f[64];
	size_t n = events_since(vm, 0, PW_EV_FAULT, f, 64);

	cr_assert(n > 0 && n <= 64);
	return f[n - 1];
}

/*
 * P cleared in the PTE: not none, not present, and no swap here, so
 * handle_pte_fault() finds a bad page map: SIGBUS ends the task (read, not
 * present, user: error code 0x4).  Outcome: clean error.  Exit still frees
 * the page the entry names.
 */
Test(corrupt, clear_present_in_a_pte_is_sigbus)
{
	const struct pw_event *ex[2];
	struct vm_paging pg;
	uint64_t t, mem0, old;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	t = setup(vm, &mem0);
	pg = task_paging(vm, 1);
	cr_assert_eq(vm_corrupt(vm, &pg, A, 1, VM_CORRUPT_CLEAR_PRESENT, 0, &old), VMM_OK, "%s", vm_message(vm));
	cr_assert(old & 1);
	cr_assert_eq(touch(vm, t, A, PW_ACCESS_READ, true, 0, NULL), -PW_EFAULT);
	cr_assert_eq(last_fault(vm)->u.fault.error_code, 0x4);
	cr_assert_eq(last_fault(vm)->u.fault.outcome, PW_FAULT_SIGBUS);
	cr_assert_eq(events_since(vm, 0, PW_EV_TASK_EXIT, ex, 2), 1);
	cr_assert_eq(ex[0]->u.task_exit.signal, 7, "SIGBUS");
	cr_assert_eq(free_pages(vm), mem0, "every page back");
	vm_destroy(vm);
}

/*
 * A reserved bit (above MAXPHYADDR) in the PTE: the MMU faults with
 * RSVD|U|P (0xd) and pgtable_bad() oopses, as Linux's do_user_addr_fault()
 * does on RSVD whatever P says.  Outcome: guest panic, with the reason on
 * its console.  With MAXPHYADDR 52 and EFER.NXE set a PTE has no reserved
 * bit at all.
 */
Test(corrupt, reserved_bit_in_a_pte_is_pgtable_bad)
{
	uint64_t t, mem0;
	const struct pw_event *ex[2], *con[32];
	struct kvm_cpuid_entry2 leaf;
	enum host_quirk q;
	struct vm_paging pg;
	struct vm *vm;
	bool said = false;
	size_t n;

	require_kvm();
	if (kvm_cpuid(0x80000008, &leaf) && (leaf.eax & 0xff) >= 52)
		cr_skip_test("MAXPHYADDR is 52: no reserved bit in a PTE under EFER.NXE");
	vm = boot_ops_guest(0);
	t = setup(vm, &mem0);
	pg = task_paging(vm, 1);
	cr_assert_eq(vm_corrupt(vm, &pg, A, 1, VM_CORRUPT_SET_RESERVED, 0, NULL), VMM_OK);
	cr_assert_eq(VM_OP(vm, 0, touch, NULL, NULL, t, A, PW_ACCESS_READ, true, 0), VMM_GUEST_FAILED,
		     "%s", vm_message(vm));
	cr_assert_eq(vm_guest_status(vm), PW_GUEST_EXIT_PANIC);
	cr_assert_eq(events_since(vm, 0, PW_EV_EXCEPTION, ex, 2), 1);
	q = pf_error_quirk(0xd, ex[0]->u.exception.error_code);
	cr_assert(ex[0]->u.exception.vector == 14 && (ex[0]->u.exception.error_code == 0xd || q != QUIRK_NONE) &&
		  ex[0]->u.exception.cr2 == A, "vector %lu error %#lx cr2 %#lx", (unsigned long)ex[0]->u.exception.vector,
		  (unsigned long)ex[0]->u.exception.error_code, (unsigned long)ex[0]->u.exception.cr2);
	if (q != QUIRK_NONE)
		cr_log_info("corrupt: host quirk: error code %#lx, %s", (unsigned long)ex[0]->u.exception.error_code,
			    host_quirk_names[q]);
	n = events_since(vm, 0, PW_EV_CONSOLE, con, 32);
	for (size_t i = 0; i < n && i < 32; i++)
		said |= !!memmem(con[i]->u.text, con[i]->len, "Corrupted page", 14);
	cr_assert(said, "the console names the corruption");
	vm_destroy(vm);
}

/*
 * Task 1's PTE redirected to task 2's page: task 1 reads task 2's data,
 * and the guest cannot know.  Outcome: only the host notices, its walker
 * finding the entry at a frame the guest never mapped there.
 */
Test(corrupt, redirected_pfn_is_caught_by_the_host_walker)
{
	const struct pw_event *m[16];
	uint64_t t1, t2, mem0, v = 0, mine = 0, theirs = 0;
	char report[1024];
	struct vm_paging pg;
	struct vm_walk w;
	struct vm *vm;
	size_t n;

	require_kvm();
	vm = boot_ops_guest(0);
	t1 = setup(vm, &mem0);
	t2 = new_task(vm);
	map(vm, t2, A, 2 * SZ_1M, RW);
	cr_assert_eq(touch(vm, t2, A, PW_ACCESS_WRITE, true, 0x5678, NULL), 0);
	n = events_since(vm, 0, PW_EV_MAP, m, 16);
	for (size_t i = 0; i < n && i < 16; i++) {
		if (m[i]->u.map.addr != A)
			continue;
		if (m[i]->u.map.mm == 1)
			mine = m[i]->u.map.phys;
		else
			theirs = m[i]->u.map.phys;
	}
	cr_assert(mine && theirs && mine != theirs);
	pg = task_paging(vm, 1);
	cr_assert_eq(vm_corrupt(vm, &pg, A, 1, VM_CORRUPT_REDIRECT_PFN, theirs, NULL), VMM_OK);
	cr_assert_eq(touch(vm, t1, A, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x5678, "task 1 reads task 2's page");
	cr_assert_eq(vm_walk(vm, &pg, A, &w), VMM_OK);
	cr_assert(w.present && w.phys == theirs && w.phys != mine,
		  "the walker sees %#lx where the guest mapped %#lx", (unsigned long)w.phys,
		  (unsigned long)mine);
	/* And the invariant check: one page writable from ring 3 in two mms. */
	cr_assert_eq(vm_check_invariants(vm, report, sizeof(report)), VMM_GUEST_ERROR);
	cr_assert(strstr(report, "writable in mm 1 and mm 2"), "%s", report);
	vm_destroy(vm);
}

/*
 * Tables that alias: under task 1's mm, top-level entries of 512 GiB 0 to
 * 254 (255 holds the trampoline; pgd entries, or with LA57 p4d entries of
 * pgd entry 0's P4D table) all point at the PUD table over A, its 512 entries at the
 * PMD table, its 512 at the PTE table, whose 512 entries all map A's page
 * writable from ring 3: 255 * 512^3 writable leaves reachable from three
 * table pages.  The checker walks each table once and says they alias,
 * in bounded time and memory: depth first, the first table reached again
 * is the PTE table, from the PMD table's entry 1.  The per-level counts
 * still match the events: one table each under A and under the trampoline.
 */
Test(corrupt, aliased_tables_are_walked_once, .timeout = 60)
{
	uint64_t mem0, pud[512], pmd[512], pte[512], pgd[255];
	char report[1024], want[128];
	struct vm_paging pg;
	struct vm_walk w;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	setup(vm, &mem0);
	pg = task_paging(vm, 1);
	cr_assert_eq(vm_walk(vm, &pg, A, &w), VMM_OK);
	cr_assert(w.present && w.level == 1);
	/* entries[l - 1] is the entry read at level l. */
	for (int i = 0; i < 512; i++) {
		pud[i] = w.entries[2];
		pmd[i] = w.entries[1];
		pte[i] = w.entries[0];
		if (i < 255)
			pgd[i] = w.entries[3];
	}
	/* The table of level-4 entries: the pgd itself, or the P4D table under pgd entry 0. */
	cr_assert_eq(vm_write_phys(vm, (vm_levels(vm) == 5 ? w.entries[4] : pg.cr3) & PT_ADDR_MASK,
				   pgd, sizeof(pgd)), 0);
	cr_assert_eq(vm_write_phys(vm, w.entries[3] & PT_ADDR_MASK, pud, sizeof(pud)), 0);
	cr_assert_eq(vm_write_phys(vm, w.entries[2] & PT_ADDR_MASK, pmd, sizeof(pmd)), 0);
	cr_assert_eq(vm_write_phys(vm, w.entries[1] & PT_ADDR_MASK, pte, sizeof(pte)), 0);
	cr_assert_eq(vm_check_invariants(vm, report, sizeof(report)), VMM_GUEST_ERROR);
	snprintf(want, sizeof(want), "mm 1: level-1 table %#lx reached again: tables alias",
		 (unsigned long)(w.entries[1] & PT_ADDR_MASK));
	cr_assert(strstr(report, want), "%s", report);
	cr_assert_null(strstr(report, "tables in RAM"), "%s", report);
	vm_destroy(vm);
}

/*
 * The PTE table under A zeroed: every entry none, so the read demand-
 * faults the zero page (0x4, mapped) and the data is silently gone; the
 * page that was there is leaked, which the host's page counts show after
 * exit.  Outcome: the guest survives; the host notices.
 */
Test(corrupt, zeroed_pte_table_loses_data_and_leaks)
{
	uint64_t t, mem0, v = 1;
	struct vm_paging pg;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	t = setup(vm, &mem0);
	pg = task_paging(vm, 1);
	cr_assert_eq(vm_corrupt(vm, &pg, A, 2, VM_CORRUPT_ZERO_TABLE, 0, NULL), VMM_OK);
	cr_assert_eq(touch(vm, t, A, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0, "the write is gone");
	cr_assert_eq(last_fault(vm)->u.fault.outcome, PW_FAULT_MAPPED);
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	cr_assert_eq(mem0 - free_pages(vm), 1, "the lost page leaked");
	vm_destroy(vm);
}

/*
 * P cleared in the PMD entry: pmd_clear_bad() reports and clears it, the
 * fault retries on a new PTE table and maps the zero page.  The old PTE
 * table and its page are lost (as in Linux): 2 pages leaked after exit.
 */
Test(corrupt, clear_present_in_a_pmd_is_cleared_as_bad)
{
	uint64_t t, mem0, v = 1;
	char report[1024];
	struct vm_paging pg;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest(0);
	t = setup(vm, &mem0);
	pg = task_paging(vm, 1);
	cr_assert_eq(vm_corrupt(vm, &pg, A, 2, VM_CORRUPT_CLEAR_PRESENT, 0, NULL), VMM_OK);
	cr_assert_eq(touch(vm, t, A, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0);
	/*
	 * The old PTE table was dropped without a free: the events count the
	 * trampoline's, the old and the new (3), RAM holds the trampoline's and
	 * the new (2).
	 */
	cr_assert_eq(vm_check_invariants(vm, report, sizeof(report)), VMM_GUEST_ERROR);
	cr_assert(strstr(report, "mm 1: 2 level-1 tables in RAM, 3 per its events"), "%s", report);
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	cr_assert_eq(mem0 - free_pages(vm), 2, "the old PTE table and its page");
	vm_destroy(vm);
}

/*
 * An injected #PF the guest never caused.  A write fault (W|P) on the
 * direct map, which the tables allow, is spurious_kernel_fault(): reported
 * and ignored, and the next op runs.  The same on vmalloc's start, which
 * nothing maps, is an oops at whatever RIP the CPU was at.
 */
Test(corrupt, injected_page_faults)
{
	struct vm *vm;
	int64_t res;
	uint64_t ok;

	require_kvm();
	vm = boot_ops_guest(0);
	ok = vm_geometry(vm).page_offset + 16 * SZ_1M;
	cr_assert_eq(VM_OP(vm, 0, echo, &res, NULL, 2, 3), VMM_OK);
	cr_assert_eq(vm_inject_page_fault(vm, 0, ok, 0x3), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(VM_OP(vm, 0, echo, &res, NULL, 2, 3), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, 5);
	cr_assert_eq(last_fault(vm)->u.fault.addr, ok);
	cr_assert_eq(last_fault(vm)->u.fault.error_code, 0x3);
	cr_assert_eq(last_fault(vm)->u.fault.outcome, PW_FAULT_SPURIOUS);

	cr_assert_eq(vm_inject_page_fault(vm, 0, vm_geometry(vm).vmalloc_start, 0x3), VMM_OK);
	cr_assert_eq(VM_OP(vm, 0, echo, &res, NULL, 2, 3), VMM_GUEST_FAILED, "%s", vm_message(vm));
	cr_assert_eq(vm_guest_status(vm), PW_GUEST_EXIT_PANIC);
	vm_destroy(vm);
}
