/* CPUID leaves 7 and 0x80000001 and the CR4 protections, as Linux's arch/x86/kernel/cpu/common.c. */
#include <string.h>

#include "cpufeature.h"
#include "kernel.h"

#define FEATURE(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char *name;
	size_t len;
} feature_names[] = {
	[X86_FEATURE_SMEP] = FEATURE("smep"),
	[X86_FEATURE_SMAP] = FEATURE("smap"),
	[X86_FEATURE_PKU] = FEATURE("pku"),
	[X86_FEATURE_GBPAGES] = FEATURE("pdpe1gb"),
};
#undef FEATURE

static unsigned int features;	/* bit per enum cpu_feature */

/* clearcpuid=NAME[,NAME...] on the command line: parse_set_clear_cpuid(). */
static unsigned int clearcpuid(const char *cmdline)
{
	const char *p = cmdline_find_option(cmdline, "clearcpuid");
	unsigned int clear = 0;

	if (!p)
		return 0;
	for (; *p && *p != ' '; p += *p == ',') {
		size_t n = 0;

		while (p[n] && p[n] != ',' && p[n] != ' ')
			n++;
		for (unsigned int f = 0; f < ARRAY_SIZE(feature_names); f++)
			if (feature_names[f].len == n && !memcmp(p, feature_names[f].name, n))
				clear |= 1u << f;
		p += n;
	}
	return clear;
}

void cpu_features_init(void)
{
	uint32_t a, b, c, d;

	cpuid_count(0, 0, &a, &b, &c, &d);
	if (a >= 7) {
		cpuid_count(7, 0, &a, &b, &c, &d);
		features = (b & (1u << 7) ? 1u << X86_FEATURE_SMEP : 0) |
			   (b & (1u << 20) ? 1u << X86_FEATURE_SMAP : 0) |
			   (c & (1u << 3) ? 1u << X86_FEATURE_PKU : 0);
	}
	cpuid_count(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000001) {
		cpuid_count(0x80000001, 0, &a, &b, &c, &d);
		features |= d & (1u << 26) ? 1u << X86_FEATURE_GBPAGES : 0;
	}
	features &= ~clearcpuid(boot_params.cmdline);
}

bool boot_cpu_has(enum cpu_feature f)
{
	return features & (1u << f);
}

/* setup_smep() and setup_smap(): the kernel neither runs nor touches user pages by accident. */
void cpu_setup_protection(void)
{
	uint64_t cr4 = read_cr4();

	if (boot_cpu_has(X86_FEATURE_SMEP))
		cr4 |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		cr4 |= X86_CR4_SMAP;
	write_cr4(cr4);
}
