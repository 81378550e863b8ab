/*
 * The walker against KVM's own: KVM_TRANSLATE walks the guest's tables in
 * the kernel with the vCPU's current CR3, so on every sampled address the
 * two must agree on whether it translates and to which physical address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <pagewalk/layout.h>

#include "internal.h"

struct samples {
	uint64_t *va;
	unsigned int n, max;
};

/* Once per page: events keep touching the same few pages. */
static void add(struct samples *s, uint64_t va)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->va[i] >> 12 == va >> 12)
			return;
	if (s->n < s->max)
		s->va[s->n++] = va;
}

/* The guest-physical address `off` bytes into RAM, counting the ranges end to end. */
static uint64_t ram_gpa(const struct guest_ram *ram, uint64_t off)
{
	unsigned int i = 0;

	while (i + 1 < ram->nranges && off >= ram->range[i].size)
		off -= ram->range[i++].size;
	return ram->range[i].gpa + off;
}

static void collect(const struct vm *vm, struct samples *s)
{
	const struct guest_image *img = &vm->img;
	const struct guest_ram *ram = &vm->ram;
	const uint64_t page_offset = PW_PAGE_OFFSET(vm->levels);

	for (unsigned int i = 0; i < img->nseg; i++) {
		add(s, img->seg[i].vaddr);
		add(s, img->seg[i].vaddr + img->seg[i].memsz - 1);
	}
	/* The direct map covers exactly the RAM ranges: each one's last byte is in, the next out. */
	add(s, page_offset);
	for (unsigned int i = 0; i < ram->nranges; i++) {
		add(s, page_offset + ram->range[i].gpa + ram->range[i].size - 1);
		add(s, page_offset + ram->range[i].gpa + ram->range[i].size);
	}
	/* VMALLOC_START: i386's is high_memory + VMALLOC_OFFSET (8 MiB), all RAM lowmem. */
	add(s, PW_PAGING_32(vm->levels) ? page_offset + ram_end(ram) + 8 * SZ_1M : PW_VMALLOC_START(vm->levels));
	for (size_t i = vm->nevents; i-- > 0 && s->n < s->max;) {
		const struct pw_event *ev = &vm->events[i];

		if (ev->type == PW_EV_MAP)
			add(s, ev->u.map.addr);
		else if (ev->type == PW_EV_FAULT)
			add(s, ev->u.fault.addr);
	}
	for (unsigned int i = 1, left = s->max - s->n; i <= left; i++)
		add(s, page_offset + ram_gpa(ram, ram->size / (left + 1) * i & ~0xfffULL));
}

static const char *why_not(const struct vm_walk *w)
{
	if (w->rsvd)
		return "reserved bits";
	if (w->outside_ram)
		return "table outside RAM";
	return w->present ? "no permission" : "not present";
}

enum vmm_status vm_check_translate(struct vm *vm, unsigned int cpu, unsigned int n_samples,
				   char *report, size_t len)
{
	struct samples s = { .max = n_samples };
	unsigned int agree = 0, checked = 0, mapped = 0;
	enum vmm_status st;
	char *lines = NULL;
	size_t lines_len;
	struct vm_paging pg;
	FILE *f;

	st = vm_cpu_paging(vm, cpu, &pg);
	if (st != VMM_OK) {
		snprintf(report, len, "cannot read cpu %u's control registers", cpu);
		return st;
	}
	st = VMM_INTERNAL;
	s.va = calloc(n_samples ? n_samples : 1, sizeof(*s.va));
	f = open_memstream(&lines, &lines_len);
	if (!s.va || !f) {
		snprintf(report, len, "out of memory");
		goto out;
	}
	collect(vm, &s);
	for (unsigned int i = 0; i < s.n; i++) {
		struct kvm_translation tr = { .linear_address = s.va[i] };
		struct vm_walk w;
		bool valid;

		/* Addresses from events are the guest's word: skip non-canonical ones. */
		if (vm_walk(vm, &pg, s.va[i], &w) != VMM_OK)
			continue;
		if (ioctl(vm->vcpus[cpu].fd, KVM_TRANSLATE, &tr)) {
			snprintf(report, len, "KVM_TRANSLATE %#llx: %s",
				 (unsigned long long)s.va[i], strerror(errno));
			goto out;
		}
		/* KVM translates for a supervisor read. */
		valid = vm_walk_permits(&pg, &w, 0);
		checked++;
		mapped += valid;
		if (valid == !!tr.valid && (!valid || w.phys == tr.physical_address)) {
			agree++;
			continue;
		}
		fprintf(f, "\n%#llx: walker ", (unsigned long long)s.va[i]);
		if (valid)
			fprintf(f, "%#llx (level %u)", (unsigned long long)w.phys, w.level);
		else
			fprintf(f, "none (%s at level %u)", why_not(&w), w.level);
		if (tr.valid)
			fprintf(f, ", KVM %#llx", (unsigned long long)tr.physical_address);
		else
			fprintf(f, ", KVM none");
	}
	fclose(f);
	f = NULL;
	snprintf(report, len,
		 "KVM_TRANSLATE agrees on %u of %u addresses (%u mapped, %u unmapped), CR3 %#llx%s",
		 agree, checked, mapped, checked - mapped, (unsigned long long)pg.cr3, lines);
	st = agree == checked ? VMM_OK : VMM_INTERNAL;
out:
	if (f)
		fclose(f);
	free(lines);
	free(s.va);
	return st;
}
