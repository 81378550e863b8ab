#include <pagewalk/layout.h>

#include "geometry.h"
#include "guest_ops.h"
#include "harness.h"
#include "quirks.h"

void op_ran(struct vm *vm, const char *name, enum vmm_status s)
{
	cr_assert_eq(s, VMM_OK, "op %s: %s", name, vm_message(vm));
}

uint64_t new_task(struct vm *vm)
{
	int64_t t = op(vm, task_create, NULL);

	cr_assert_gt(t, 0, "task_create: %ld", (long)t);
	return t;
}

void map(struct vm *vm, uint64_t t, uint64_t addr, uint64_t len, uint64_t prot)
{
	cr_assert_eq(op(vm, mmap, NULL, t, addr, len, prot), (int64_t)addr);
}

void unmap(struct vm *vm, uint64_t t, uint64_t addr, uint64_t len)
{
	cr_assert_eq(op(vm, munmap, NULL, t, addr, len), 0);
}

int64_t touch(struct vm *vm, uint64_t t, uint64_t addr, int access, bool user, uint64_t val,
	      uint64_t *out)
{
	struct pw_touch_out o = { 0 };
	int64_t r = op(vm, touch, &o, t, addr, access, user, val);

	if (out)
		*out = o.value;
	return r;
}

struct mm_info mm_info(struct vm *vm, uint64_t t)
{
	struct pw_mm_info_out o;
	struct mm_info mi;

	mi.bytes = op(vm, mm_info, &o, t);
	mi.p4ds = o.p4ds;
	mi.puds = o.puds;
	mi.pmds = o.pmds;
	mi.ptes = o.ptes;
	mi.anon = o.anon;
	/*
	 * pgtables_bytes counts PUD, PMD and PTE tables, a page each
	 * (mm_inc_nr_*); never P4D tables: Linux's __p4d_alloc() does not.
	 */
	cr_assert_eq(mi.bytes, (int64_t)(4096 * (mi.puds + mi.pmds + mi.ptes)),
		     "pgtables_bytes %ld, %lu/%lu/%lu tables", (long)mi.bytes, mi.puds, mi.pmds, mi.ptes);
	return mi;
}

/*
 * Map the trampoline: reading it from ring 3 faults in its own PUD, PMD
 * and PTE table, and with LA57 the P4D table of pgd entry 0; nothing else.
 */
void warm_up(struct vm *vm, uint64_t t)
{
	struct mm_info mi;

	cr_assert_eq(touch(vm, t, PW_USER_TRAMPOLINE, PW_ACCESS_READ, true, 0, NULL), 0);
	mi = mm_info(vm, t);
	cr_assert(mi.p4ds == vm_geometry(vm).user_p4ds && mi.puds == 1 && mi.pmds == 1 &&
		  mi.ptes == 1 && mi.anon == 0, "trampoline: %lu/%lu/%lu/%lu tables", mi.p4ds,
		  mi.puds, mi.pmds, mi.ptes);
}

uint64_t free_pages(struct vm *vm)
{
	struct pw_meminfo_out o;

	op(vm, meminfo, &o);
	return o.free;
}

uint64_t pgd_of(struct vm *vm, uint64_t mm)
{
	const struct pw_event *ev[64];
	size_t n = events_since(vm, 0, PW_EV_PGD_CTOR, ev, 64);

	for (size_t i = 0; i < n && i < 64; i++)
		if (ev[i]->u.pgd_ctor.mm == mm)
			return ev[i]->u.pgd_ctor.phys;
	cr_assert_fail("no pgd_ctor for mm %lu", (unsigned long)mm);
	return 0;
}

void count_tables(struct vm *vm, uint64_t table, unsigned int level, unsigned int first,
			 unsigned int last, unsigned int tables[PW_LEVEL_PGD])
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

uint64_t anon_pages(struct vm *vm)
{
	struct pw_meminfo_out o;

	op(vm, meminfo, &o);
	return o.anon;
}

/* One user write that must take exactly one fault and set a PTE of `kind`. */
void cow_write(struct vm *vm, uint64_t t, uint64_t addr, uint64_t val, enum pw_map_kind kind)
{
	const struct pw_event *f[4], *m[4];
	size_t from;

	vm_events(vm, &from);
	cr_assert_eq(touch(vm, t, addr, PW_ACCESS_WRITE, true, val, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_FAULT, f, 4), 1, "one COW fault");
	cr_assert_eq(f[0]->u.fault.error_code, 0x7, "write to a present read-only PTE: P|W|U");
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, 4), 1);
	cr_assert_eq(m[0]->u.map.kind, kind, "map kind %lu", (unsigned long)m[0]->u.map.kind);
}

uint64_t user_read(struct vm *vm, uint64_t t, uint64_t addr)
{
	uint64_t v;

	cr_assert_eq(touch(vm, t, addr, PW_ACCESS_READ, true, 0, &v), 0);
	return v;
}

/* The user PTE at addr under mm's pgd, as the host's walker reads it from guest RAM. */
struct vm_walk walk_user(struct vm *vm, uint64_t mm, uint64_t addr)
{
	struct vm_paging pg;
	struct vm_walk w;

	cr_assert_eq(vm_cpu_paging(vm, 0, &pg), VMM_OK);
	pg.cr3 = pgd_of(vm, mm);
	if (vm_levels(vm) == 3)
		pdpte_quirk_clear(vm);	/* end_vm() names it */
	cr_assert_eq(vm_walk(vm, &pg, addr, &w), VMM_OK);
	cr_assert(w.present && w.level == 1, "%#lx mapped", (unsigned long)addr);
	return w;
}
