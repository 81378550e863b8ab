/*
 * Split page-table locks and the ptlock cache.  Split locks are used from
 * SPLIT_PTLOCK_CPUS CPUs on (guest default 4); they cover PTE and PMD table
 * pages.  A spinlock_t that fits in a word lives in struct page; with
 * CONFIG_DEBUG_SPINLOCK it is 24 bytes and each PTE/PMD table gets one
 * from the ptlock cache (ptlock_alloc), returned when the table is freed.
 */
#include <pagewalk/layout.h>

#include "guest_ops.h"
#include "harness.h"

#define DEBUG_SPINLOCK_ELF PW_BUILD_DIR "/guest-debug-spinlock.elf"

struct ptlock_info {
	int64_t objects;
	uint64_t split, alloc_split, split_cpus, lock_size;
};

static struct ptlock_info ptlock_info(struct vm *vm)
{
	struct pw_ptlock_info_out o;
	struct ptlock_info pi;

	pi.objects = op(vm, ptlock_info, &o);
	pi.split = o.split;
	pi.alloc_split = o.alloc_split;
	pi.split_cpus = o.split_cpus;
	pi.lock_size = o.spinlock_size;
	return pi;
}

/* One task: trampoline, then a write at 256 MiB; returns the task. */
static uint64_t fault_in(struct vm *vm)
{
	uint64_t t = new_task(vm);

	map(vm, t, 256 * SZ_1M, 2 * SZ_1M, RW);
	warm_up(vm, t);
	cr_assert_eq(touch(vm, t, 256 * SZ_1M, PW_ACCESS_WRITE, true, 1, NULL), 0);
	return t;
}

Test(ptlock, one_cpu_below_the_threshold_uses_page_table_lock)
{
	struct ptlock_info pi;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, NULL, 0, 1);
	fault_in(vm);
	pi = ptlock_info(vm);
	cr_assert_eq(pi.split_cpus, 4, "CONFIG_SPLIT_PTLOCK_CPUS default");
	cr_assert_eq(pi.split, 0, "1 CPU < 4: everything under page_table_lock");
	cr_assert_eq(pi.objects, 0);
	end_vm(vm);
}

Test(ptlock, word_sized_lock_lives_in_struct_page)
{
	struct ptlock_info pi;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, NULL, 1, 1);
	fault_in(vm);
	pi = ptlock_info(vm);
	cr_assert_eq(pi.split, 1, "1 CPU >= SPLIT_PTLOCK_CPUS 1");
	cr_assert_eq(pi.lock_size, 4);
	cr_assert_eq(pi.alloc_split, 0);
	cr_assert_eq(pi.objects, 0, "no cache needed");
	end_vm(vm);
}

/*
 * Debug spinlocks, split from 1 CPU.  At boot init_mm's PMD tables have
 * theirs: the direct map's (256 MiB of RAM, one PMD table) and the kernel
 * image's, 2 (kernel PTE tables have none: init_mm.page_table_lock covers
 * them).  Then the trampoline's PMD and PTE tables take 2 more, the write at
 * 256 MiB 2 more; unmapping that range frees its 3 tables (no neighbour
 * below, the trampoline far above), 2 of them with ptlocks; exit frees the
 * trampoline's.
 */
Test(ptlock, debug_spinlock_allocates_from_the_ptlock_cache)
{
	struct pw_meminfo_out mem0, mem1;
	uint64_t t;
	struct ptlock_info pi;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest_with(DEBUG_SPINLOCK_ELF, NULL, 1, 1);
	op(vm, meminfo, &mem0);
	cr_assert_eq(ptlock_info(vm).objects, 2, "init_mm's PMD tables");
	t = fault_in(vm);
	pi = ptlock_info(vm);
	cr_assert_eq(pi.lock_size, 24);
	cr_assert_eq(pi.alloc_split, 1);
	cr_assert_eq(pi.objects, 2 + 4, "PMD+PTE tables: %ld ptlocks", (long)pi.objects);
	unmap(vm, t, 256 * SZ_1M, 2 * SZ_1M);
	cr_assert_eq(ptlock_info(vm).objects, 2 + 2);
	cr_assert_eq(op(vm, task_exit, NULL, t), 0);
	cr_assert_eq(ptlock_info(vm).objects, 2);
	op(vm, meminfo, &mem1);
	cr_assert_eq(mem1.free, mem0.free, "every page back, slab pages of the cache included");
	end_vm(vm);
}

Test(ptlock, debug_spinlock_below_the_threshold_needs_no_cache)
{
	struct ptlock_info pi;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest_with(DEBUG_SPINLOCK_ELF, NULL, 0, 1);
	fault_in(vm);
	pi = ptlock_info(vm);
	cr_assert_eq(pi.alloc_split, 1);
	cr_assert_eq(pi.split, 0);
	cr_assert_eq(pi.objects, 0);
	end_vm(vm);
}

/* PTE-lock acquisitions by munmap(addr, npages pages), all written first. */
static uint64_t pte_locks_to_unmap(struct vm *vm, uint64_t t, uint64_t addr, uint64_t npages)
{
	int64_t before;

	cr_assert_eq(touch(vm, t, addr, PW_ACCESS_WRITE_PAGES, true, npages, NULL), 0);
	before = op(vm, lock_stats, NULL, PW_PTL_PTE);
	unmap(vm, t, addr, npages * 4096);
	return op(vm, lock_stats, NULL, PW_PTL_PTE) - before;
}

/*
 * A full mmu_gather in zap_pte_range() is Linux's force_flush
 * (mm/memory.c, mm/mmu_gather.c): the TLB flush under the PTE lock
 * (tlb_flush_mmu_tlbonly()), the pages freed by tlb_flush_mmu() after the
 * lock is dropped, then `goto again` takes the lock anew for the rest.
 * The guest's batch holds 64 (struct mmu_gather, guest/include/mm.h):
 * unmapping 64 written pages of one PTE table fills it with the last page
 * (one acquisition), 65 pages need a second.  That the free itself comes
 * after the unlock is not visible from here; the second acquisition is
 * what the unlock-and-retry shows.
 */
Test(ptlock, a_full_gather_drops_the_pte_lock_before_freeing)
{
	uint64_t t;
	struct vm *vm;

	require_kvm();
	vm = boot_ops_guest_with(GUEST_ELF, NULL, 1, 1);
	t = new_task(vm);
	map(vm, t, 256 * SZ_1M, 4 * SZ_1M, RW);
	cr_assert_eq(pte_locks_to_unmap(vm, t, 256 * SZ_1M, 64), 1);
	cr_assert_eq(pte_locks_to_unmap(vm, t, 258 * SZ_1M, 65), 2);
	end_vm(vm);
}
