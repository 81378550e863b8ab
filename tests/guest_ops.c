#include <pagewalk/layout.h>

#include "guest_ops.h"
#include "harness.h"

int64_t op(struct vm *vm, enum pw_op o, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	   uint64_t a4, uint64_t out[4])
{
	uint64_t args[6] = { a0, a1, a2, a3, a4 };
	int64_t res;

	cr_assert_eq(vm_op(vm, 0, o, args, &res, out), VMM_OK, "op %d: %s", o, vm_message(vm));
	return res;
}

uint64_t new_task(struct vm *vm)
{
	int64_t t = op(vm, PW_OP_TASK_CREATE, 0, 0, 0, 0, 0, NULL);

	cr_assert_gt(t, 0, "task_create: %ld", (long)t);
	return t;
}

void map(struct vm *vm, uint64_t t, uint64_t addr, uint64_t len, uint64_t prot)
{
	cr_assert_eq(op(vm, PW_OP_MMAP, t, addr, len, prot, 0, NULL), (int64_t)addr);
}

void unmap(struct vm *vm, uint64_t t, uint64_t addr, uint64_t len)
{
	cr_assert_eq(op(vm, PW_OP_MUNMAP, t, addr, len, 0, 0, NULL), 0);
}

int64_t touch(struct vm *vm, uint64_t t, uint64_t addr, int access, bool user, uint64_t val,
	      uint64_t *out)
{
	uint64_t o[4] = { 0 };
	int64_t r = op(vm, PW_OP_TOUCH, t, addr, access, user, val, o);

	if (out)
		*out = o[0];
	return r;
}

struct mm_info mm_info(struct vm *vm, uint64_t t)
{
	uint64_t o[4];
	struct mm_info mi;

	mi.bytes = op(vm, PW_OP_MM_INFO, t, 0, 0, 0, 0, o);
	mi.puds = o[0];
	mi.pmds = o[1];
	mi.ptes = o[2];
	mi.anon = o[3];
	/* pgtables_bytes counts PUD, PMD and PTE tables, a page each (mm_inc_nr_*). */
	cr_assert_eq(mi.bytes, (int64_t)(4096 * (mi.puds + mi.pmds + mi.ptes)));
	return mi;
}

/* Map the trampoline: reading it from ring 3 faults in its own 3 tables, nothing else. */
void warm_up(struct vm *vm, uint64_t t)
{
	struct mm_info mi;

	cr_assert_eq(touch(vm, t, PW_USER_TRAMPOLINE, PW_ACCESS_READ, true, 0, NULL), 0);
	mi = mm_info(vm, t);
	cr_assert(mi.puds == 1 && mi.pmds == 1 && mi.ptes == 1 && mi.anon == 0,
		  "trampoline: %lu/%lu/%lu tables", mi.puds, mi.pmds, mi.ptes);
}

uint64_t free_pages(struct vm *vm)
{
	uint64_t o[4];

	op(vm, PW_OP_MEMINFO, 0, 0, 0, 0, 0, o);
	return o[0];
}

uint64_t pgd_of(struct vm *vm, uint64_t mm)
{
	const struct pw_event *ev[64];
	size_t n = events_since(vm, 0, PW_EV_PGD_CTOR, ev, 64);

	for (size_t i = 0; i < n && i < 64; i++)
		if (ev[i]->args[0] == mm)
			return ev[i]->args[1];
	cr_assert_fail("no pgd_ctor for mm %lu", (unsigned long)mm);
	return 0;
}

void count_tables(struct vm *vm, uint64_t table, unsigned int level, unsigned int first,
			 unsigned int last, unsigned int tables[5])
{
	for (unsigned int i = first; i <= last; i++) {
		uint64_t e;

		cr_assert_eq(vm_read_phys(vm, (table & PT_ADDR_MASK) + i * 8, &e, 8), 0);
		if (!(e & 1) || level == 1 || (e & 0x80))
			continue;	/* not present, or a leaf */
		tables[level - 1]++;
		count_tables(vm, e, level - 1, 0, 511, tables);
	}
}
