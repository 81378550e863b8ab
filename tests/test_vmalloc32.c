/*
 * How the i386 pagewalk guest's kernel half reaches every pgd after a
 * vmalloc (README, "The i386 pagewalk guest"): vmalloc_fault() ->
 * vmalloc_sync_one() in `fault` mode, arch_sync_kernel_mappings() in
 * `eager` mode, as Linux i386 has them (arch/x86/mm/fault.c).  Runs only
 * where the host runs two-level paging (the second host).
 *
 * The numbers, from the geometry of two-level paging and Linux i386's
 * layout: with 256 MiB of RAM, high_memory = 0xc0000000 + 256 MiB =
 * 0xd0000000 and VMALLOC_START = high_memory + 8 MiB (VMALLOC_OFFSET) =
 * 0xd0800000; a pgd (= pmd) entry maps 4 MiB, so an 8 KiB area at
 * 0xd0bff000 has one page in pgd slot 834 (0xd0bff000 >> 22) and one in
 * slot 835 (0xd0c00000 >> 22): two new PTE tables under init_mm's pgd,
 * which no pgd made before the vmalloc has.
 */
#include <string.h>

#include <pagewalk/sizes.h>

#include "guest_ops.h"
#include "harness.h"

#define AREA		0xd0bff000ULL
#define SLOT_A		834
#define SLOT_B		835

static void vmalloc_area(struct vm *vm, uint64_t size)
{
	int64_t va = op(vm, vmalloc, NULL, size, AREA);

	cr_assert_eq(va, (int64_t)AREA, "vmalloc(%#lx) at %#lx", (unsigned long)size, (long)va);
}

/* A kernel read through task t's pgd: must succeed and see a zeroed vmalloc page. */
static void kernel_reads(struct vm *vm, uint64_t t, uint64_t addr)
{
	uint64_t v = 1;

	cr_assert_eq(touch(vm, t, addr, PW_ACCESS_READ, false, 0, &v), 0, "read %#lx", (unsigned long)addr);
	cr_assert_eq(v, 0);
}

/* The console, its records joined (each holds up to 40 bytes of a line), contains text. */
static bool console_says(struct vm *vm, const char *text)
{
	const struct pw_event *con[256];
	char all[256 * 40 + 1];
	size_t n = events_since(vm, 0, PW_EV_CONSOLE, con, 256), len = 0;

	for (size_t i = 0; i < n && i < 256; i++) {
		memcpy(all + len, con[i]->u.text, con[i]->len);
		len += con[i]->len;
	}
	all[len] = 0;
	return strstr(all, text);
}

/*
 * fault: a pgd made before the vmalloc takes one vmalloc_fault per 4 MiB
 * slot it touches (834, then 835) and none when it reads them again; a
 * pgd made after clones slots 768-1023 from swapper_pg_dir and takes none.
 */
Test(vmalloc32, fault_mode_once_per_pgd_slot)
{
	const struct pw_event *ev[4];
	struct pw_kinfo_out k;
	struct vm *vm;
	uint64_t t1, t2;

	require_paging32(2);
	vm = boot_guest32(2, "fault");
	t1 = new_task(vm);
	vmalloc_area(vm, 8192);
	kernel_reads(vm, t1, AREA);
	kernel_reads(vm, t1, AREA + 4096);
	kernel_reads(vm, t1, AREA);
	kernel_reads(vm, t1, AREA + 4096);
	cr_assert_eq(events_since(vm, 0, PW_EV_VMALLOC_FAULT, ev, 4), 2);
	cr_assert_eq(ev[0]->u.vmalloc_fault.index, SLOT_A);
	cr_assert_eq(ev[0]->u.vmalloc_fault.addr, AREA);
	cr_assert_eq(ev[1]->u.vmalloc_fault.index, SLOT_B);

	t2 = new_task(vm);
	kernel_reads(vm, t2, AREA);
	kernel_reads(vm, t2, AREA + 4096);
	op(vm, kinfo, &k);
	cr_assert_eq(k.vmalloc_faults, 2, "the later pgd faulted: %lu", (unsigned long)k.vmalloc_faults);
	cr_assert_eq(k.syncs, 0);
	end_vm(vm);
}

/*
 * eager: the vmalloc that gives init_mm two new pmd (pgd) entries copies
 * each into both pgds on pgd_list at once, stepping by PMD_SIZE: 2 slots
 * x 2 pgds = 4 syncs, and no fault after.
 */
Test(vmalloc32, eager_mode_syncs_every_pgd_by_pmd_size)
{
	const struct pw_event *ev[8];
	struct pw_kinfo_out k;
	struct vm *vm;
	uint64_t t[2];

	require_paging32(2);
	vm = boot_guest32(2, "eager");
	t[0] = new_task(vm);
	t[1] = new_task(vm);
	vmalloc_area(vm, 8192);
	cr_assert_eq(events_since(vm, 0, PW_EV_KERNEL_SYNC, ev, 8), 4);
	for (int i = 0; i < 2; i++) {
		kernel_reads(vm, t[i], AREA);
		kernel_reads(vm, t[i], AREA + 4096);
	}
	op(vm, kinfo, &k);
	cr_assert_eq(k.syncs, 4);
	cr_assert_eq(k.vmalloc_faults, 0);
	end_vm(vm);
}

/*
 * vmalloc_sync_one() finding this pgd's entry present but mapping another
 * table than init_mm's is Linux's BUG_ON(): a panic.  A 12 KiB area has
 * pages 0xd0c00000 and 0xd0c01000 in slot 835 (PTE indexes 0 and 1).  t1
 * syncs slot 835 reading the first; the host then points t1's entry for
 * it (level 2) at t1's own pgd page, whose entry 1 (user 4-8 MiB, where
 * t1 maps nothing) is empty; a read through t2 reloads CR3, dropping any
 * cached copy of the entry, and t1's read of the second page, never read
 * before, walks the bad entry to that empty "PTE": #PF, vmalloc_fault(),
 * the BUG.
 */
Test(vmalloc32, a_differing_present_entry_is_a_bug)
{
	struct vm_paging pg;
	struct vm *vm;
	uint64_t t1, t2, old;

	require_paging32(2);
	vm = boot_guest32(2, "fault");
	t1 = new_task(vm);
	t2 = new_task(vm);
	vmalloc_area(vm, 12288);		/* 0xd0bff000 .. 0xd0c01fff */
	kernel_reads(vm, t1, AREA + 4096);	/* slot 835, synced */
	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	pg.cr3 = pgd_of(vm, 1);
	cr_assert_eq(vm_corrupt(vm, &pg, AREA + 8192, 2, VM_CORRUPT_REDIRECT_PFN, pgd_of(vm, 1), &old),
		     VMM_OK, "%s", vm_message(vm));
	cr_assert(old & 1);
	kernel_reads(vm, t2, AREA);
	cr_assert_eq(VM_OP(vm, 0, touch, NULL, NULL, t1, AREA + 8192, PW_ACCESS_READ, false, 0),
		     VMM_GUEST_FAILED, "%s", vm_message(vm));
	cr_assert_eq(vm_guest_status(vm), PW_GUEST_EXIT_PANIC);
	cr_assert(console_says(vm, "vmalloc_sync_one: pgd"), "the panic is vmalloc_sync_one()'s");
	end_vm(vm);
}
