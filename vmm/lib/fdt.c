/* The boot device tree, built with libfdt's sequential-write API. */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include <pagewalk/layout.h>

#include "internal.h"

static int prop_reg(void *fdt, uint64_t addr, uint64_t size)
{
	fdt64_t reg[2] = { cpu_to_fdt64(addr), cpu_to_fdt64(size) };

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

/* /memory: every RAM range, around the hole below 4 GiB. */
static int prop_memory(void *fdt, const struct guest_ram *ram)
{
	fdt64_t reg[2 * sizeof(ram->range) / sizeof(ram->range[0])];

	for (unsigned int i = 0; i < ram->nranges; i++) {
		reg[2 * i] = cpu_to_fdt64(ram->range[i].gpa);
		reg[2 * i + 1] = cpu_to_fdt64(ram->range[i].size);
	}
	return fdt_property(fdt, "reg", reg, ram->nranges * 2 * sizeof(reg[0]));
}

static int node_region(void *fdt, const struct region *r)
{
	char name[64];
	int err;

	snprintf(name, sizeof(name), "%s@%llx", r->name, (unsigned long long)r->start);
	for (char *p = name; *p; p++)
		if (*p == ' ')
			*p = '-';
	err = fdt_begin_node(fdt, name);
	err = err ?: prop_reg(fdt, r->start, r->size);
	err = err ?: fdt_property(fdt, "no-map", NULL, 0);
	return err ?: fdt_end_node(fdt);
}

/* Fault injection: PW_INJECT_CELLS cells per armed site, the fail-nth count, the seed. */
static int prop_inject(void *fdt, const struct vmm_config *cfg)
{
	fdt32_t cells[PW_INJECT_MAX_SPECS * PW_INJECT_CELLS];
	int err = 0;

	for (unsigned int i = 0; i < cfg->ninject; i++) {
		const struct vmm_inject *in = &cfg->inject[i];
		fdt32_t *c = &cells[i * PW_INJECT_CELLS];

		c[0] = cpu_to_fdt32(in->site);
		c[1] = cpu_to_fdt32(in->levels);
		c[2] = cpu_to_fdt32(in->probability);
		c[3] = cpu_to_fdt32(in->interval);
		c[4] = cpu_to_fdt32((uint32_t)in->times);
		c[5] = cpu_to_fdt32(in->space);
	}
	if (cfg->ninject)
		err = fdt_property(fdt, PW_FDT_INJECT, cells, cfg->ninject * PW_INJECT_CELLS * 4);
	if (cfg->fail_nth)
		err = err ?: fdt_property_u32(fdt, PW_FDT_FAIL_NTH, cfg->fail_nth);
	if (cfg->inject_seed)
		err = err ?: fdt_property_u64(fdt, PW_FDT_INJECT_SEED, cfg->inject_seed);
	return err;
}

/*
 * /chosen/bootargs: Linux's clearcpuid= for the paging features the vCPUs'
 * CPUID (KVM's supported CPUID, as boot.c sets it) lacks, and
 * init_on_free=1 when the config asks for it.  On PVM-based
 * hosts the guest's CPUID instruction reports the host's leaves whatever
 * KVM_SET_CPUID2 said; CR4 takes the bits, but stac and clac then end in
 * KVM_EXIT_INTERNAL_ERROR.
 */
static int chosen_bootargs(void *fdt, const struct vm *vm)
{
	static const struct {
		const char *name;
		uint32_t leaf;
		int reg;		/* 1 EBX, 2 ECX, 3 EDX */
		unsigned int bit;
	} f[] = {
		{ "smep", 7, 1, 7 }, { "smap", 7, 1, 20 }, { "pku", 7, 2, 3 },
		{ "pdpe1gb", 0x80000001, 3, 26 },
	};
	const struct kvm_cpuid2 *c = vm->cpuid;
	char args[64];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const struct kvm_cpuid_entry2 *e = c ? cpuid_entry(c, f[i].leaf, 0) : NULL;
		uint32_t r = !e ? 0 : f[i].reg == 1 ? e->ebx : f[i].reg == 2 ? e->ecx : e->edx;

		if (!(r & (1u << f[i].bit)))
			n += snprintf(args + n, sizeof(args) - n, "%s%s", n ? "," : "clearcpuid=",
				      f[i].name);
	}
	if (vm->cfg.init_on_free)
		n += snprintf(args + n, sizeof(args) - n, "%sinit_on_free=1", n ? " " : "");
	return n ? fdt_property_string(fdt, PW_FDT_BOOTARGS, args) : 0;
}

static int build(struct vm *vm, void *fdt, size_t size)
{
	char name[32];
	int err;

	err = fdt_create(fdt, size);
	for (unsigned int i = 0; !err && i < vm->nrsv; i++)
		err = fdt_add_reservemap_entry(fdt, vm->rsv[i].start, vm->rsv[i].size);
	err = err ?: fdt_finish_reservemap(fdt);
	err = err ?: fdt_begin_node(fdt, "");
	err = err ?: fdt_property_string(fdt, "compatible", "pagewalk,vm");
	err = err ?: fdt_property_string(fdt, "model", "pagewalk KVM guest");
	err = err ?: fdt_property_u32(fdt, "#address-cells", 2);
	err = err ?: fdt_property_u32(fdt, "#size-cells", 2);

	err = err ?: fdt_begin_node(fdt, "chosen");
	err = err ?: chosen_bootargs(fdt, vm);
	err = err ?: fdt_property_string(fdt, PW_FDT_WORKLOAD, vm->cfg.workload);
	err = err ?: fdt_property_string(fdt, PW_FDT_KERNEL_SYNC, vm->cfg.kernel_sync);
	err = err ?: fdt_property_u32(fdt, PW_FDT_PAGING_LEVELS, vm->levels);
	if (vm->cfg.split_ptlock_cpus)
		err = err ?: fdt_property_u32(fdt, PW_FDT_SPLIT_PTLOCK_CPUS, vm->cfg.split_ptlock_cpus);
	err = err ?: prop_inject(fdt, &vm->cfg);
	err = err ?: fdt_end_node(fdt);

	err = err ?: fdt_begin_node(fdt, "memory@0");
	err = err ?: fdt_property_string(fdt, "device_type", "memory");
	err = err ?: prop_memory(fdt, &vm->ram);
	err = err ?: fdt_end_node(fdt);

	err = err ?: fdt_begin_node(fdt, "reserved-memory");
	err = err ?: fdt_property_u32(fdt, "#address-cells", 2);
	err = err ?: fdt_property_u32(fdt, "#size-cells", 2);
	err = err ?: fdt_property(fdt, "ranges", NULL, 0);
	for (unsigned int i = 0; !err && i < vm->nrsv; i++)
		err = node_region(fdt, &vm->rsv[i]);
	err = err ?: fdt_end_node(fdt);

	err = err ?: fdt_begin_node(fdt, "cpus");
	err = err ?: fdt_property_u32(fdt, "#address-cells", 1);
	err = err ?: fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned int i = 0; !err && i < vm->nvcpus; i++) {
		snprintf(name, sizeof(name), "cpu@%u", i);
		err = fdt_begin_node(fdt, name);
		err = err ?: fdt_property_string(fdt, "device_type", "cpu");
		err = err ?: fdt_property_u32(fdt, "reg", i);	/* APIC ID */
		err = err ?: fdt_end_node(fdt);
	}
	err = err ?: fdt_end_node(fdt);

	/* "channel" without a unit address: the guest finds it by path. */
	err = err ?: fdt_begin_node(fdt, PW_FDT_CHANNEL);
	err = err ?: fdt_property_string(fdt, "compatible", PW_FDT_CHANNEL_COMPATIBLE);
	err = err ?: prop_reg(fdt, vm->chan_base, vm->chan_stride * vm->nvcpus);
	err = err ?: fdt_property_u32(fdt, PW_FDT_RING_STRIDE, vm->chan_stride);
	err = err ?: fdt_property_u32(fdt, PW_FDT_RING_CAPACITY, PW_RING_CAPACITY);
	err = err ?: fdt_property_u32(fdt, PW_FDT_RING_THRESHOLD, PW_RING_THRESHOLD);
	err = err ?: fdt_property_u32(fdt, PW_FDT_DOORBELL_PORT, PW_PORT_DOORBELL);
	err = err ?: fdt_end_node(fdt);

	err = err ?: fdt_end_node(fdt);
	return err ?: fdt_finish(fdt);
}

int fdt_build(struct vm *vm, void *buf, size_t size, char *errbuf, size_t errlen)
{
	int err = build(vm, buf, size);

	if (err)
		snprintf(errbuf, errlen, "building the boot FDT: %s", fdt_strerror(err));
	return err ? -1 : 0;
}
