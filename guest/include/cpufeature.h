/*
 * CPU features the paging code cares about, read once from CPUID leaves 7
 * and 0x80000001 (Linux's boot_cpu_has()), and the SMAP brackets of deliberate kernel
 * accesses to user memory (__uaccess_begin()/__uaccess_end()).
 */
#ifndef GUEST_CPUFEATURE_H
#define GUEST_CPUFEATURE_H

#include <stdbool.h>

#include "asm.h"

enum cpu_feature {
	X86_FEATURE_SMEP,
	X86_FEATURE_SMAP,
	X86_FEATURE_PKU,
	X86_FEATURE_GBPAGES,
};

bool boot_cpu_has(enum cpu_feature f);
void cpu_features_init(void);	/* boot CPU, before any cpu_setup_protection() */
void cpu_setup_protection(void);	/* every CPU: SMEP and SMAP on where offered */

/* stac/clac #UD without SMAP: they run only where it is on. */
static inline void __uaccess_begin(void)
{
	if (boot_cpu_has(X86_FEATURE_SMAP))
		stac();
}

static inline void __uaccess_end(void)
{
	if (boot_cpu_has(X86_FEATURE_SMAP))
		clac();
}

#endif
