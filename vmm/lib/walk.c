/*
 * The host's own page walker: what the MMU makes of a linear address in
 * IA-32e paging (Intel SDM vol. 3A 4.5, AMD APM vol. 2 5.3), 32-bit
 * paging (4.3) and PAE paging (4.4), computed from guest RAM alone.  The
 * tables are guest memory, so every table address is checked against RAM
 * before it is read.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* Bits hi..lo set. */
static uint64_t bits(unsigned int hi, unsigned int lo)
{
	return (~0ULL >> (63 - hi)) & (~0ULL << lo);
}

enum vmm_status vm_cpu_paging(const struct vm *vm, unsigned int cpu, struct vm_paging *pg)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	if (cpu >= vm->nvcpus)
		return VMM_BAD_INPUT;
	if (ioctl(vm->vcpus[cpu].fd, KVM_GET_SREGS, &s) || ioctl(vm->vcpus[cpu].fd, KVM_GET_REGS, &r))
		return VMM_INTERNAL;
	*pg = (struct vm_paging){ .cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer,
				  .rflags = r.rflags };
	if ((s.cr4 & X86_CR4_PKE) && vcpu_pkru(&vm->vcpus[cpu], &pg->pkru))
		return VMM_INTERNAL;
	return VMM_OK;
}

/*
 * The reserved bits, as KVM's __reset_rsvds_bits_mask() has them for the
 * CPUID the vCPUs got, so that walker and KVM_TRANSLATE judge alike.
 */
int mmu_init(const struct vm *vm, const struct vm_paging *pg, struct mmu *mmu)
{
	uint64_t high = vm->maxphyaddr < 52 ? bits(51, vm->maxphyaddr) : 0;

	if (!(pg->cr0 & X86_CR0_PG))
		return -1;
	memset(mmu, 0, sizeof(*mmu));
	mmu->levels = vm_paging_levels(pg);
	if (mmu->levels <= 3)
		return mmu_init_32(vm, pg, mmu);
	if (!(pg->efer & EFER_NXE))
		high |= PT_NX;
	mmu->rsvd[1][1] = high;
	mmu->rsvd[0][2] = mmu->rsvd[0][3] = high;
	mmu->rsvd[1][2] = high | bits(20, 13);
	mmu->rsvd[1][3] = high | bits(29, 13) | (vm->gbpages ? 0 : PT_PSE);
	/* PML4Es and PML5Es never map: PS is reserved, and on AMD bit 8 too. */
	mmu->rsvd[0][4] = mmu->rsvd[0][5] = high | PT_PSE | (vm->amd ? PT_GLOBAL : 0);
	return 0;
}

/* Reserved bits count only in a present entry; PS makes a leaf below level 4 (under CR4.PSE in two-level paging). */
enum pt_kind pt_classify(const struct mmu *mmu, unsigned int level, uint64_t e)
{
	bool pdpte = mmu->levels == 3 && level == 3;	/* PAE's PDPTEs never map */
	bool leaf = level == 1 || (level <= 3 && (e & PT_PSE) && !pdpte && (mmu->levels != 2 || mmu->pse));

	if (!(e & PT_PRESENT))
		return PT_NONE;
	if (e & mmu->rsvd[leaf][level])
		return PT_RSVD;
	return leaf ? PT_LEAF : PT_TABLE;
}

static bool canonical(const struct mmu *mmu, uint64_t va)
{
	unsigned int unused = 64 - pt_shift(mmu->levels + 1);

	if (mmu->levels <= 3)
		return va >> 32 == 0;
	return (uint64_t)((int64_t)(va << unused) >> unused) == va;
}

enum vmm_status vm_walk(const struct vm *vm, const struct vm_paging *pg, uint64_t va,
			struct vm_walk *w)
{
	bool user = true, writable = true, nx = false;
	uint64_t table = pg->cr3, e;
	enum pt_kind kind;
	struct mmu mmu;
	unsigned int level;

	memset(w, 0, sizeof(*w));
	if (mmu_init(vm, pg, &mmu) || !canonical(&mmu, va))
		return VMM_BAD_INPUT;
	for (level = mmu.levels;; level--) {
		bool ok = mmu_read(vm, &mmu, table, level, mmu_index(&mmu, va, level), &e);

		w->level = level;
		if (!ok) {
			w->outside_ram = true;
			return VMM_OK;
		}
		w->entries[level - 1] = e;
		kind = pt_classify(&mmu, level, e);
		if (kind == PT_NONE)
			return VMM_OK;
		if (kind == PT_RSVD) {
			w->rsvd = true;
			return VMM_OK;
		}
		/* PAE's PDPTEs have no R/W, U/S or XD: they restrict nothing. */
		if (!(mmu.levels == 3 && level == 3)) {
			user &= !!(e & PT_USER);
			writable &= !!(e & PT_RW);
			nx |= !!(e & PT_NX);	/* without EFER.NXE a set bit 63 was reserved */
		}
		if (kind == PT_LEAF)
			break;
		table = e;
	}
	w->present = true;
	w->phys = mmu_leaf_phys(&mmu, level, e, va);
	w->user = user;
	w->writable = writable;
	w->nx = nx;
	w->accessed = e & PT_ACCESSED;
	w->dirty = e & PT_DIRTY;
	/* Protection keys exist in IA-32e paging only (SDM vol. 3A 4.6.2). */
	w->pkey = mmu.levels >= 4 ? (e >> PT_PKEY_SHIFT) & 15 : 0;
	return VMM_OK;
}

/*
 * SDM vol. 3A 4.6.2: protection keys bar data accesses to user-mode
 * addresses, from either ring; write-disable binds the kernel only under
 * CR0.WP.
 */
static bool pkey_denies(const struct vm_paging *pg, const struct vm_walk *w, unsigned int access)
{
	unsigned int rights = (pg->pkru >> (2 * w->pkey)) & 3;
	bool write = access & VM_ACCESS_WRITE;

	if (!(pg->cr4 & X86_CR4_PKE) || !(pg->efer & EFER_LMA) || !w->user || (access & VM_ACCESS_FETCH))
		return false;
	return (rights & 1) ||
	       ((rights & 2) && write && ((access & VM_ACCESS_USER) || (pg->cr0 & X86_CR0_WP)));
}

/* SDM vol. 3A 4.6.1, "Determination of Access Rights", with SMEP and SMAP. */
static bool rights_permit(const struct vm_paging *pg, const struct vm_walk *w, unsigned int access)
{
	bool write = access & VM_ACCESS_WRITE, fetch = access & VM_ACCESS_FETCH;

	if (fetch && w->nx)
		return false;
	if (access & VM_ACCESS_USER)
		return w->user && (!write || w->writable);
	if (fetch)
		return !(w->user && (pg->cr4 & X86_CR4_SMEP));
	if (w->user && (pg->cr4 & X86_CR4_SMAP) && !(pg->rflags & X86_EFLAGS_AC))
		return false;
	return !write || w->writable || !(pg->cr0 & X86_CR0_WP);
}

/* SDM vol. 3A 4.7, "Page-Fault Exceptions". */
uint32_t vm_walk_fault(const struct vm_paging *pg, const struct vm_walk *w, unsigned int access)
{
	bool fetch = access & VM_ACCESS_FETCH;
	uint32_t ec = access & (VM_ACCESS_WRITE | VM_ACCESS_USER);
	bool pk;

	/* I only where fetches are told apart: under EFER.NXE or CR4.SMEP. */
	if (fetch && (pg->efer & EFER_NXE || pg->cr4 & X86_CR4_SMEP))
		ec |= VM_ACCESS_FETCH;
	if (w->rsvd)
		return ec | X86_PF_RSVD | X86_PF_PROT;
	if (!w->present)
		return ec;
	pk = pkey_denies(pg, w, access);
	if (!pk && rights_permit(pg, w, access))
		return 0;
	return ec | X86_PF_PROT | (pk ? X86_PF_PK : 0);
}

bool vm_walk_permits(const struct vm_paging *pg, const struct vm_walk *w, unsigned int access)
{
	return w->present && !vm_walk_fault(pg, w, access);
}
