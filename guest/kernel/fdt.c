/* Boot parameters from the VMM's flattened device tree, parsed with libfdt. */
#include <libfdt.h>

#include "kernel.h"
#include "pgtable.h"

static int prop_u32(const void *fdt, int node, const char *name, uint32_t *out)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p || len != sizeof(*p))
		return -1;
	*out = fdt32_to_cpu(*p);
	return 0;
}

/* One (address, size) pair with #address-cells = #size-cells = 2. */
static int prop_reg(const void *fdt, int node, uint64_t *addr, uint64_t *size)
{
	int len;
	const fdt64_t *p = fdt_getprop(fdt, node, "reg", &len);

	if (!p || len != 2 * sizeof(*p))
		return -1;
	*addr = fdt64_to_cpu(p[0]);
	*size = fdt64_to_cpu(p[1]);
	return 0;
}

/*
 * /memory: RAM from 0, and above the hole below 4 GiB when there is more.
 * The direct map maps it with 2 MiB pages, so every range is 2 MiB-aligned.
 */
static int parse_memory(const void *fdt, struct boot_params *bp)
{
	int node = fdt_path_offset(fdt, "/memory"), len;
	const fdt64_t *p = node < 0 ? NULL : fdt_getprop(fdt, node, "reg", &len);
	uint64_t end = 0;

	if (!p || !len || len % (2 * sizeof(*p)) || len / (2 * sizeof(*p)) > ARRAY_SIZE(bp->memory))
		return -1;
	bp->nr_memory = len / (2 * sizeof(*p));
	bp->ram_bytes = 0;
	for (unsigned int i = 0; i < bp->nr_memory; i++) {
		uint64_t start = fdt64_ld(&p[2 * i]), size = fdt64_ld(&p[2 * i + 1]);

		if ((i ? start < end : start != 0) || !size || (start | size) & ~PMD_MASK ||
		    start + size < start)
			return -1;
		bp->memory[i].start = start;
		bp->memory[i].size = size;
		bp->ram_bytes += size;
		end = start + size;
	}
	return 0;
}

int parse_boot_fdt(uint64_t fdt_pa, struct boot_params *bp)
{
	const void *fdt = __va(fdt_pa);
	uint64_t size;
	uint32_t v;
	int node, sub, len;
	const fdt64_t *p64;
	const fdt32_t *p32;
	const char *s;

	if (fdt_check_header(fdt))
		return -1;

	if (parse_memory(fdt, bp))
		return -2;

	node = fdt_path_offset(fdt, "/cpus");
	if (node < 0)
		return -3;
	bp->ncpus = 0;
	for (int cpu = fdt_first_subnode(fdt, node); cpu >= 0; cpu = fdt_next_subnode(fdt, cpu))
		bp->ncpus++;

	node = fdt_path_offset(fdt, "/chosen");
	if (node < 0)
		return -4;
	s = fdt_getprop(fdt, node, PW_FDT_WORKLOAD, &len);
	if (!s || len < 1 || (size_t)len > sizeof(bp->workload) || s[len - 1])
		return -5;
	memcpy(bp->workload, s, len);

	s = fdt_getprop(fdt, node, PW_FDT_BOOTARGS, &len);
	bp->cmdline[0] = '\0';
	if (s && (len < 1 || (size_t)len > sizeof(bp->cmdline) || s[len - 1]))
		return -11;
	if (s)
		memcpy(bp->cmdline, s, len);

	s = fdt_getprop(fdt, node, PW_FDT_KERNEL_SYNC, &len);
	bp->kernel_sync = 0;
#define PW_SYNC_PARSE(name, id, str)				\
	if (s && len == sizeof(str) && !memcmp(s, str, len))	\
		bp->kernel_sync = id;
	PW_KERNEL_SYNC_MODES(PW_SYNC_PARSE)
#undef PW_SYNC_PARSE
	if (!bp->kernel_sync)
		return -9;

	/* Fault injection, armed when the workload starts (kernel/main.c). */
	p64 = fdt_getprop(fdt, node, PW_FDT_INJECT_SEED, &len);
	bp->inject_seed = p64 && len == sizeof(*p64) ? fdt64_to_cpu(*p64) : 0;
	bp->fail_nth = 0;
	prop_u32(fdt, node, PW_FDT_FAIL_NTH, &bp->fail_nth);
	p32 = fdt_getprop(fdt, node, PW_FDT_INJECT, &len);
	if (p32 && (len % (PW_INJECT_CELLS * 4) || len / (PW_INJECT_CELLS * 4) > PW_INJECT_MAX_SPECS))
		return -10;
	bp->nr_inject = p32 ? len / (PW_INJECT_CELLS * 4) : 0;
	for (unsigned int i = 0; i < bp->nr_inject * PW_INJECT_CELLS; i++)
		bp->inject[i / PW_INJECT_CELLS][i % PW_INJECT_CELLS] = fdt32_to_cpu(p32[i]);

	/* The VMM's word and CR4 (bp->paging_levels, read first) must agree. */
	if (prop_u32(fdt, node, PW_FDT_PAGING_LEVELS, &v) || v != bp->paging_levels)
		return -12;

	bp->split_ptlock_cpus = 4;	/* CONFIG_SPLIT_PTLOCK_CPUS default */
	if (!prop_u32(fdt, node, PW_FDT_SPLIT_PTLOCK_CPUS, &v))
		bp->split_ptlock_cpus = v;

	node = fdt_path_offset(fdt, "/reserved-memory");
	if (node < 0)
		return -8;
	bp->nr_reserved = 0;
	fdt_for_each_subnode(sub, fdt, node) {
		if (bp->nr_reserved == ARRAY_SIZE(bp->reserved) ||
		    prop_reg(fdt, sub, &bp->reserved[bp->nr_reserved].start,
			     &bp->reserved[bp->nr_reserved].size))
			return -8;
		bp->nr_reserved++;
	}

	node = fdt_path_offset(fdt, "/" PW_FDT_CHANNEL);
	if (node < 0 || prop_reg(fdt, node, &bp->chan_base, &size) ||
	    prop_u32(fdt, node, PW_FDT_RING_CAPACITY, &bp->chan_capacity) ||
	    prop_u32(fdt, node, PW_FDT_RING_THRESHOLD, &bp->chan_threshold) ||
	    prop_u32(fdt, node, PW_FDT_DOORBELL_PORT, &v))
		return -6;
	bp->doorbell_port = v;
	if (prop_u32(fdt, node, PW_FDT_RING_STRIDE, &v))
		return -6;
	bp->chan_stride = v;
	if (bp->chan_stride * bp->ncpus > size)
		return -7;
	return 0;
}
