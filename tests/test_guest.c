/* The pagewalk guest booted on /dev/kvm and driven op by op through libvmm. */
#include <linux/kvm.h>

#include <pagewalk/layout.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"

static void assert_boot_facts(uint64_t mem)
{
	struct vm *vm = boot_ops_guest(mem);
	const struct pw_event *boot[2];
	char why[256];
	int64_t res;

	cr_assert_eq(vm_op(vm, 0, PW_OP_ECHO, NULL, &res, NULL), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(events_since(vm, 0, PW_EV_BOOT, boot, 2), 1, "exactly one BOOT event");
	/* The guest learnt these from /memory and /cpus of the FDT the VMM built. */
	cr_assert_eq(boot[0]->u.boot.ram_bytes, mem, "RAM: guest says %#lx, FDT said %#lx",
		     (unsigned long)boot[0]->u.boot.ram_bytes, (unsigned long)mem);
	cr_assert_eq(boot[0]->u.boot.ncpus, 1, "one vCPU in /cpus");
	/*
	 * The guest read CR4.LA57 and the FDT's paging-levels (it panics if
	 * they differ): 5-level exactly where the host runs LA57 (auto).
	 */
	cr_assert_eq(boot[0]->u.boot.paging_levels, vm_levels(vm));
	cr_assert_eq(vm_levels(vm), vmm_probe_la57(why, sizeof(why)) ? 5 : 4, "%s", why);
	/* guest/guest.lds loads the image at 2 MiB, page-aligned at both ends. */
	cr_assert_eq(boot[0]->u.boot.kernel_start, PW_KERNEL_PHYS);
	cr_assert_gt(boot[0]->u.boot.kernel_end, boot[0]->u.boot.kernel_start);
	cr_assert_eq(boot[0]->u.boot.kernel_end % 4096, 0);
	end_vm(vm);
}

Test(guest, boot_facts_match_the_fdt)
{
	require_kvm();
	assert_boot_facts(256ULL << 20);
	assert_boot_facts(38ULL << 20);
}

Test(guest, op_round_trip)
{
	const struct pw_event *ops[4];
	struct vm *vm;
	int64_t res = -1;

	require_kvm();
	vm = boot_ops_guest(0);
	cr_assert_eq(VM_OP(vm, 0, echo, &res, NULL, 40, 2), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, 42);
	/* 64-bit wrap-around shows the guest did the arithmetic on the full words. */
	cr_assert_eq(VM_OP(vm, 0, echo, &res, NULL, UINT64_MAX, 5), VMM_OK);
	cr_assert_eq(res, 4);
	cr_assert_eq(events_since(vm, 0, PW_EV_OP, ops, 4), 2, "one OP event per op");
	cr_assert_eq(ops[1]->u.op.op, PW_OP_ECHO);
	cr_assert_eq((int64_t)ops[1]->u.op.result, 4);

	cr_assert_eq(VM_OP(vm, 0, exit, NULL, NULL, 7), VMM_GUEST_FAILED);
	cr_assert(vm_guest_exited(vm));
	cr_assert_eq(vm_guest_status(vm), 7);
	end_vm(vm);
}

/* A caller's bad vCPU number is the caller's error: the guest runs on. */
Test(guest, op_on_missing_cpu_is_refused)
{
	struct vm *vm;
	int64_t res = 0;

	require_kvm();
	vm = boot_ops_guest(0);
	cr_assert_eq(VM_OP(vm, 7, echo, &res, NULL, 2, 3), VMM_BAD_INPUT);
	cr_assert(strstr(vm_message(vm), "no cpu 7"), "%s", vm_message(vm));
	cr_assert_eq(VM_OP(vm, 0, echo, &res, NULL, 2, 3), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, 5);
	end_vm(vm);
}

/*
 * A refused call says why in vm_message() but leaves how the VM ended
 * alone: after the guest exits, a call for a missing cpu is refused, and
 * the summary still gives the exit as the reason.
 */
Test(guest, a_refused_call_keeps_the_stop_reason)
{
	struct vm *vm;
	char *text = NULL;
	size_t len;
	FILE *f;

	require_kvm();
	vm = boot_ops_guest(0);
	cr_assert_eq(VM_OP(vm, 0, exit, NULL, NULL, 0), VMM_OK, "%s", vm_message(vm));
	cr_assert(strstr(vm_message(vm), "guest exited with status 0"), "%s", vm_message(vm));
	cr_assert_eq(VM_OP(vm, 7, echo, NULL, NULL, 0, 0), VMM_BAD_INPUT);
	cr_assert(strstr(vm_message(vm), "no cpu 7"), "%s", vm_message(vm));
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	vm_print_summary(vm, f);
	fclose(f);
	cr_assert(strstr(text, "guest exited with status 0"), "%s", text);
	cr_assert_null(strstr(text, "no cpu 7"), "%s", text);
	free(text);
	vm_destroy(vm);
}

Test(guest, unknown_op_gets_an_error_and_the_guest_carries_on)
{
	const union pw_op_args args = { .words = { 1, 2 } };
	struct vm *vm;
	int64_t res = 0;

	require_kvm();
	vm = boot_ops_guest(0);
	/* vm_op() itself posts any number: the raw mailbox, as a fuzzer would use it. */
	cr_assert_eq(vm_op(vm, 0, (enum pw_op)999, &args, &res, NULL), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, -PW_ENOSYS);
	cr_assert_eq(VM_OP(vm, 0, echo, &res, NULL, 1, 2), VMM_OK);
	cr_assert_eq(res, 3);
	end_vm(vm);
}

/*
 * The test code is linked into guest-test.elf only: the production image
 * does not know its ops (-ENOSYS, as any op without a handler), the test
 * image looks the task up first (-ESRCH for one that does not exist).
 */
Test(guest, test_ops_only_in_the_test_image)
{
	struct vm *vm;
	int64_t res = 0;

	require_kvm();
	vm = boot_ops_guest(0);
	cr_assert_eq(VM_OP(vm, 0, access_test, &res, NULL, 99, 0, 0), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, -PW_ENOSYS);
	cr_assert_eq(VM_OP(vm, 0, bench_faults, &res, NULL, 99, 0, 0, false), VMM_OK);
	cr_assert_eq(res, -PW_ENOSYS);
	end_vm(vm);

	vm = boot_ops_guest_with(TEST_GUEST_ELF, NULL, 0, 1);
	cr_assert_eq(VM_OP(vm, 0, access_test, &res, NULL, 99, 0, 0), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, -PW_ESRCH);
	cr_assert_eq(VM_OP(vm, 0, bench_faults, &res, NULL, 99, 0, 0, false), VMM_OK);
	cr_assert_eq(res, -PW_ESRCH);
	end_vm(vm);
}

/*
 * Nothing maps the vmalloc area at boot, so a kernel access there takes a
 * real #PF with P=0 (not present), U=0 (supervisor), and W set only for a
 * write; the exception table turns it into -EFAULT.
 */
static void assert_probe_faults(bool write, uint64_t want_error_code)
{
	const struct pw_event *faults[2];
	char sym[128];
	struct vm *vm;
	int64_t res = 0;
	uint64_t addr;

	vm = boot_ops_guest(0);
	addr = vm_geometry(vm).vmalloc_start + 0x1238;
	cr_assert_eq(VM_OP(vm, 0, probe, &res, NULL, addr, write, 0x55), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, -PW_EFAULT);
	cr_assert_eq(events_since(vm, 0, PW_EV_FAULT, faults, 2), 1, "exactly one #PF");
	cr_assert_eq(faults[0]->u.fault.addr, addr, "CR2 %#lx", (unsigned long)faults[0]->u.fault.addr);
	cr_assert_eq(faults[0]->u.fault.error_code, want_error_code, "error code %#lx",
		     (unsigned long)faults[0]->u.fault.error_code);
	cr_assert_eq(faults[0]->u.fault.outcome, PW_FAULT_FIXUP);
	vm_symbolise(vm, faults[0]->u.fault.rip, sym, sizeof(sym));
	cr_assert(!strncmp(sym, write ? "probe_kernel_write+" : "probe_kernel_read+",
			   strlen(write ? "probe_kernel_write+" : "probe_kernel_read+")),
		  "faulting RIP symbolised as '%s'", sym);
	end_vm(vm);
}

Test(guest, deliberate_page_fault_read)
{
	require_kvm();
	assert_probe_faults(false, 0x0);
}

Test(guest, deliberate_page_fault_write)
{
	require_kvm();
	assert_probe_faults(true, 0x2);
}

/* The direct map reaches all of RAM: what the guest writes the host reads back. */
Test(guest, direct_map_write_read_back)
{
	const uint64_t pa = 16ULL << 20, val = 0x1122334455667788ULL;
	struct pw_probe_out out;
	uint64_t host;
	struct vm *vm;
	int64_t res = -1;

	require_kvm();
	vm = boot_ops_guest(0);
	cr_assert_eq(VM_OP(vm, 0, probe, &res, NULL, vm_geometry(vm).page_offset + pa, true, val), VMM_OK,
		     "%s", vm_message(vm));
	cr_assert_eq(res, 0);
	cr_assert_eq(vm_read_phys(vm, pa, &host, sizeof(host)), 0);
	cr_assert_eq(host, val);

	/* And the guest reads its own image through the kernel map as the host sees it. */
	cr_assert_eq(VM_OP(vm, 0, probe, &res, &out, PW_KERNEL_VIRT, false, 0), VMM_OK);
	cr_assert_eq(res, 0);
	cr_assert_eq(vm_read_phys(vm, PW_KERNEL_PHYS, &host, sizeof(host)), 0);
	cr_assert_eq(out.value, host);
	end_vm(vm);
}

/* raise #PF reads VMALLOC_START, which nothing maps at boot. */
static void assert_unexpected(unsigned int vector)
{
	const struct pw_event *exc[2];
	char sym[128];
	struct vm *vm;

	vm = boot_ops_guest(0);
	cr_assert_eq(VM_OP(vm, 0, raise, NULL, NULL, vector), VMM_GUEST_FAILED,
		     "%s", vm_message(vm));
	cr_assert_eq(vm_guest_status(vm), PW_GUEST_EXIT_PANIC);
	cr_assert_eq(events_since(vm, 0, PW_EV_EXCEPTION, exc, 2), 1);
	cr_assert_eq(exc[0]->u.exception.vector, vector);
	cr_assert_eq(exc[0]->u.exception.error_code, 0, "error code");
	vm_symbolise(vm, exc[0]->u.exception.rip, sym, sizeof(sym));
	cr_assert(!strncmp(sym, "raise_exception+", 16), "RIP symbolised as '%s'", sym);
	if (vector == 14)
		cr_assert_eq(exc[0]->u.exception.cr2, vm_geometry(vm).vmalloc_start, "CR2 %#lx",
			     (unsigned long)exc[0]->u.exception.cr2);
	end_vm(vm);
}

Test(guest, unexpected_exceptions_are_reported)
{
	require_kvm();
	assert_unexpected(6);	/* ud2 */
	assert_unexpected(0);	/* divide by zero */
	assert_unexpected(14);	/* #PF with no fixup */
}

/*
 * As Linux's setup_smep() and setup_smap(): every CPU runs with CR4.SMEP
 * and CR4.SMAP exactly where KVM's CPUID offers them (leaf 7 EBX bits 7
 * and 20), and the kernel's deliberate accesses to user memory run inside
 * stac/clac: a kernel write then a ring-3 read see the same value.
 */
Test(guest, smep_and_smap_where_offered)
{
	struct kvm_cpuid_entry2 l7 = { 0 };
	bool has7, smep, smap;
	struct vm_paging pg;
	uint64_t t, v = 0;
	struct vm *vm;

	require_kvm();
	has7 = kvm_cpuid(7, &l7);
	smep = has7 && (l7.ebx & (1u << 7));
	smap = has7 && (l7.ebx & (1u << 20));
	cr_log_info("guest: KVM offers SMEP %s, SMAP %s", smep ? "yes" : "no", smap ? "yes" : "no");
	vm = boot_ops_guest_with(GUEST_ELF, NULL, 0, 2);
	t = new_task(vm);
	map(vm, t, 256 * SZ_1M, 2 * SZ_1M, RW);
	cr_assert_eq(touch(vm, t, 256 * SZ_1M, PW_ACCESS_WRITE, false, 0x5eed, NULL), 0);
	cr_assert_eq(touch(vm, t, 256 * SZ_1M, PW_ACCESS_READ, true, 0, &v), 0);
	cr_assert_eq(v, 0x5eed);
	for (unsigned int cpu = 0; cpu < 2; cpu++) {
		cr_assert_eq(vm_cpu_paging(vm, cpu, &pg), VMM_OK);
		cr_assert_eq(!!(pg.cr4 & X86_CR4_SMEP), smep, "cpu %u CR4 %#lx", cpu, (unsigned long)pg.cr4);
		cr_assert_eq(!!(pg.cr4 & X86_CR4_SMAP), smap, "cpu %u CR4 %#lx", cpu, (unsigned long)pg.cr4);
		cr_assert_eq(pg.rflags & X86_EFLAGS_AC, 0, "cpu %u parked with EFLAGS.AC set", cpu);
	}
	end_vm(vm);
}
