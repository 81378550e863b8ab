/*
 * The pgds live when the guest stopped, from its recorded events:
 * swapper_pg_dir (KERNEL_PGD) and each mm's pgd on pgd_list (a PGD_CTOR
 * no PGD_DTOR of its mm follows), the page tables Linux's ptdump can show.
 */
#include "internal.h"

static bool freed_later(const struct vm *vm, size_t i, uint64_t mm)
{
	for (size_t j = i + 1; j < vm->nevents; j++)
		if (vm->events[j].type == PW_EV_PGD_DTOR && vm->events[j].u.pgd_dtor.mm == mm)
			return true;
	return false;
}

size_t vm_pgds(const struct vm *vm, struct vm_pgd *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < vm->nevents; i++) {
		const struct pw_event *ev = &vm->events[i];
		struct vm_pgd pgd;

		if (ev->type == PW_EV_KERNEL_PGD)
			pgd = (struct vm_pgd){ .mm = 0, .phys = ev->u.kernel_pgd.phys };
		else if (ev->type == PW_EV_PGD_CTOR && !freed_later(vm, i, ev->u.pgd_ctor.mm))
			pgd = (struct vm_pgd){ .mm = ev->u.pgd_ctor.mm, .phys = ev->u.pgd_ctor.phys };
		else
			continue;
		if (n < max)
			out[n] = pgd;
		n++;
	}
	return n;
}
