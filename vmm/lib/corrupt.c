/*
 * Host-side fault injection at an op boundary, while every vCPU is parked
 * between ops: edit one paging-structure entry in guest RAM, or make the
 * next KVM_RUN deliver a #PF the guest never caused (KVM_SET_VCPU_EVENTS).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

static bool all_parked(const struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].in_run || vm->vcpus[i].async.started)
			return false;
	return true;
}

/*
 * The level-`level` entry on va's walk (SDM levels, 1 = PTE) in guest RAM,
 * or NULL; *size gets its size, 4 bytes in two-level paging, else 8.
 */
static void *entry_ptr(struct vm *vm, const struct vm_paging *pg, uint64_t va, unsigned int level,
		       size_t *size)
{
	struct mmu mmu;
	struct vm_walk w;
	uint64_t table;

	if (vm_walk(vm, pg, va, &w) != VMM_OK || mmu_init(vm, pg, &mmu) || level < 1 || level > mmu.levels)
		return NULL;
	/* The table at `level` is what the entry above points to, or CR3 at the top. */
	if (level == mmu.levels)
		table = pg->cr3;
	else if (w.entries[level] & PT_PRESENT)
		table = w.entries[level];
	else
		return NULL;
	*size = mmu.levels == 2 ? 4 : 8;
	return ram_ptr(&vm->ram, mmu_table_addr(&mmu, table, level) + mmu_index(&mmu, va, level) * *size,
		       *size);
}

/*
 * The host wrote the guest's tables behind KVM's back: with shadow paging
 * (nested and PVM-based hosts) KVM's shadow of them is now stale, since it
 * only tracks the guest's own writes.  Deleting and re-adding the memory
 * slots makes KVM drop every shadow page (the tables may be in any range);
 * with EPT/NPT it costs a refault.
 */
static enum vmm_status drop_shadow_pages(struct vm *vm)
{
	if (vm_set_memslots(vm, false))
		return vm_stop(vm, VMM_INTERNAL, "deleting the memory slots: %s", strerror(errno));
	if (vm_set_memslots(vm, true))
		return vm_stop(vm, VMM_INTERNAL, "re-adding the memory slots: %s", strerror(errno));
	return VMM_OK;
}

enum vmm_status vm_corrupt(struct vm *vm, const struct vm_paging *pg, uint64_t va, unsigned int level,
			   enum vm_corruption kind, uint64_t arg, uint64_t *old)
{
	uint64_t e = 0, addr_mask;
	void *ent, *table;
	size_t size;

	vm_api_enter(vm);
	if (!all_parked(vm))
		return vm_refuse(vm, "vm_corrupt: a vCPU is running");
	ent = entry_ptr(vm, pg, va, level, &size);
	if (!ent)
		return vm_refuse(vm, "vm_corrupt: no level-%u entry on the walk of %#lx", level,
				 (unsigned long)va);
	memcpy(&e, ent, size);
	addr_mask = size == 4 ? PT_ADDR_MASK_32 : PT_ADDR_MASK;
	if (old)
		*old = e;
	switch (kind) {
	case VM_CORRUPT_CLEAR_PRESENT:
		e &= ~PT_PRESENT;
		break;
	case VM_CORRUPT_SET_RESERVED:
		/* The first bit above MAXPHYADDR; with MAXPHYADDR 52 bits 51:M
		 * are empty, and in a PTE under EFER.NXE nothing else is reserved. */
		if (vm->maxphyaddr >= 52 || size == 4)
			return vm_refuse(vm, "vm_corrupt: MAXPHYADDR is %u%s: no address bit above it "
					 "is reserved", vm->maxphyaddr, size == 4 ? " and entries are 32-bit" : "");
		e |= 1ULL << vm->maxphyaddr;
		break;
	case VM_CORRUPT_REDIRECT_PFN:
		e = (e & ~addr_mask) | (arg & addr_mask);
		break;
	case VM_CORRUPT_ZERO_TABLE:		/* the table this entry points to */
		table = ram_ptr(&vm->ram, e & addr_mask, 4096);
		if (!(e & PT_PRESENT) || level == 1 || !table)
			return vm_refuse(vm, "vm_corrupt: no table under that entry");
		memset(table, 0, 4096);
		return drop_shadow_pages(vm);
	default:
		return vm_refuse(vm, "vm_corrupt: no corruption of kind %d", kind);
	}
	memcpy(ent, &e, size);
	return drop_shadow_pages(vm);
}

enum vmm_status vm_inject_page_fault(struct vm *vm, unsigned int cpu, uint64_t cr2, uint32_t error_code)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs sregs;
	struct vcpu *v;

	vm_api_enter(vm);
	if (cpu >= vm->nvcpus || !all_parked(vm))
		return vm_refuse(vm, "vm_inject_page_fault: cpu %u missing or running", cpu);
	v = &vm->vcpus[cpu];
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) || ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev))
		return vm_stop(vm, VMM_INTERNAL, "KVM_GET_SREGS/VCPU_EVENTS: %s", strerror(errno));
	sregs.cr2 = cr2;
	ev.exception.injected = 1;
	ev.exception.nr = 14;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = error_code;
	ev.flags = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) || ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev))
		return vm_stop(vm, VMM_INTERNAL, "KVM_SET_SREGS/VCPU_EVENTS: %s", strerror(errno));
	return VMM_OK;
}
