/*
 * Guest virtual memory for gdb: translated by the host's walker through a
 * stopped vCPU's current CR3, page by page, and read or written in the
 * physical frame, whatever the mapping's permissions (a debugger writes
 * into read-only kernel text).  A page that does not translate ends the
 * access there.
 */
#include <string.h>

#include "gdb.h"

bool gdb_virt_to_phys(struct vm *vm, unsigned int cpu, uint64_t va, uint64_t *phys)
{
	struct vm_paging pg;
	struct vm_walk w;

	if (vm_cpu_paging(vm, cpu, &pg) != VMM_OK || vm_walk(vm, &pg, va, &w) != VMM_OK || !w.present)
		return false;
	*phys = w.phys;
	return true;
}

/* How many bytes from va on are in guest RAM, up to len and the end of va's page. */
static size_t chunk(struct vm *vm, unsigned int cpu, uint64_t va, size_t len, uint64_t *phys)
{
	size_t n = 4096 - (va & 4095);

	if (!gdb_virt_to_phys(vm, cpu, va, phys))
		return 0;
	return n < len ? n : len;
}

size_t gdb_read_virt(struct gdb *g, unsigned int cpu, uint64_t va, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		uint64_t phys;
		size_t n = chunk(g->vm, cpu, va + done, len - done, &phys);

		if (!n || vm_read_phys(g->vm, phys, buf + done, n))
			break;
		done += n;
	}
	pthread_mutex_lock(&g->vm->lock);
	gdb_shadow_sw_bps(g, va, buf, done);
	pthread_mutex_unlock(&g->vm->lock);
	return done;
}

size_t gdb_write_virt(struct gdb *g, unsigned int cpu, uint64_t va, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		uint8_t tmp[4096];
		uint64_t phys;
		size_t n = chunk(g->vm, cpu, va + done, len - done, &phys);

		if (!n)
			break;
		memcpy(tmp, buf + done, n);
		pthread_mutex_lock(&g->vm->lock);
		gdb_write_around_sw_bps(g, va + done, tmp, n);
		pthread_mutex_unlock(&g->vm->lock);
		if (vm_write_phys(g->vm, phys, tmp, n))
			break;
		done += n;
	}
	return done;
}
