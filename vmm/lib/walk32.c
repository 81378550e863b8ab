/*
 * The walker's geometry in every mode, and what differs in i386's:
 * two-level paging (SDM vol. 3A 4.3) has 4-byte entries, 1024 to a table,
 * 10 index bits a level and 4 MiB pages under CR4.PSE; PAE paging (4.4)
 * has 8-byte entries, 512 to a table, but a top table of only 4 PDPTEs at
 * a 32-byte-aligned CR3, which map nothing and restrict nothing.
 */
#include "internal.h"

static uint64_t bits(unsigned int hi, unsigned int lo)
{
	return (~0ULL >> (63 - hi)) & (~0ULL << lo);
}

/* KVM's __reset_rsvds_bits_mask() for PT32_ROOT_LEVEL and PT32E_ROOT_LEVEL. */
int mmu_init_32(const struct vm *vm, const struct vm_paging *pg, struct mmu *mmu)
{
	const struct kvm_cpuid_entry2 *l1 = cpuid_entry(vm->cpuid, 1, 0);
	uint64_t high;

	if (pg->efer & EFER_LMA)
		return -1;
	if (mmu->levels == 2) {
		/* No reserved bits in 4 KiB entries; a 4 MiB page's 21:17 (PSE-36), or 21:13. */
		mmu->pse = pg->cr4 & X86_CR4_PSE;
		mmu->pse36 = l1 && (l1->edx & (1u << 17));
		mmu->rsvd[1][2] = mmu->pse ? (mmu->pse36 ? bits(21, 17) : bits(21, 13)) : 0;
		return 0;
	}
	/* PAE: bits 62:MAXPHYADDR are reserved, not only 51:MAXPHYADDR. */
	high = bits(62, vm->maxphyaddr < 63 ? vm->maxphyaddr : 62);
	if (!(pg->efer & EFER_NXE))
		high |= PT_NX;
	mmu->rsvd[0][3] = high | PT_NX | bits(8, 5) | bits(2, 1);	/* PDPTE */
	mmu->rsvd[0][2] = mmu->rsvd[0][1] = mmu->rsvd[1][1] = high;
	mmu->rsvd[1][2] = high | bits(20, 13);
	return 0;
}

unsigned int mmu_shift(const struct mmu *mmu, unsigned int level)
{
	return mmu->levels == 2 ? 12 + 10 * (level - 1) : pt_shift(level);
}

unsigned int mmu_entries(const struct mmu *mmu, unsigned int level)
{
	if (mmu->levels == 2)
		return 1024;
	return mmu->levels == 3 && level == 3 ? 4 : 512;
}

/* The table an entry (or CR3) points at: PAE's PDPT is 32-byte aligned, two-level entries 32-bit. */
uint64_t mmu_table_addr(const struct mmu *mmu, uint64_t table, unsigned int level)
{
	if (mmu->levels == 2)
		return table & PT_ADDR_MASK_32;
	if (mmu->levels == 3 && level == 3)
		return table & PT_PAE_PDPT_MASK;
	return table & PT_ADDR_MASK;
}

/* False if the table lies outside guest RAM: past its end or in the hole below 4 GiB. */
bool mmu_read(const struct vm *vm, const struct mmu *mmu, uint64_t table, unsigned int level,
	      unsigned int index, uint64_t *e)
{
	uint64_t base = mmu_table_addr(mmu, table, level);

	if (mmu->levels == 2) {
		const uint32_t *t = ram_ptr(&vm->ram, base, 4096);

		if (!t)
			return false;
		/* Another vCPU may be writing it: one aligned load, as the MMU does. */
		*e = __atomic_load_n(t + index, __ATOMIC_RELAXED);
		return true;
	}
	const uint64_t *t = ram_ptr(&vm->ram, base, mmu_entries(mmu, level) * 8);

	if (!t)
		return false;
	*e = __atomic_load_n(t + index, __ATOMIC_RELAXED);
	return true;
}

uint64_t mmu_leaf_phys(const struct mmu *mmu, unsigned int level, uint64_t e, uint64_t va)
{
	uint64_t size = 1ULL << mmu_shift(mmu, level);

	if (mmu->levels == 2 && level == 2)	/* PSE-36: bits 16:13 are physical 35:32 */
		return (e & 0xffc00000) | (mmu->pse36 ? ((e >> 13) & 0xf) << 32 : 0) | (va & (size - 1));
	return (e & PT_ADDR_MASK & ~(size - 1)) | (va & (size - 1));
}

unsigned int vm_walk_index(const struct vm_paging *pg, uint64_t va, unsigned int level)
{
	struct mmu mmu = { .levels = vm_paging_levels(pg) };

	return mmu_index(&mmu, va, level);
}

const char *vm_walk_page_size(const struct vm_paging *pg, unsigned int level)
{
	static const char *const sizes[] = { "", "4K", "2M", "1G" };

	if (vm_paging_levels(pg) == 2 && level == 2)
		return "4M";
	return level < 4 ? sizes[level] : "";
}
