/* SPDX-License-Identifier: MIT */
/*
 * What the VMM tells the pagewalk guest in the device tree, and what the
 * guest answers with when it stops: property names, limits, the values of
 * its configuration properties and its exit statuses.
 */
#ifndef PAGEWALK_BOOT_H
#define PAGEWALK_BOOT_H

#define PW_MAX_CPUS		16	/* vCPUs a VM may have; the guest's NR_CPUS */

/* /chosen */
#define PW_FDT_WORKLOAD		"pagewalk,workload"
#define PW_FDT_KERNEL_SYNC	"pagewalk,kernel-sync"
#define PW_FDT_SPLIT_PTLOCK_CPUS "pagewalk,split-ptlock-cpus"
#define PW_FDT_INJECT		"pagewalk,inject"
#define PW_FDT_FAIL_NTH		"pagewalk,fail-nth"
#define PW_FDT_INJECT_SEED	"pagewalk,inject-seed"
#define PW_FDT_BOOTARGS		"bootargs"
#define PW_FDT_PAGING_LEVELS	"pagewalk,paging-levels"	/* 4, or 5: the VMM set CR4.LA57; i386: 2 or 3 (PAE) */
/* /channel */
#define PW_FDT_CHANNEL		"channel"	/* a child of /, no unit address */
#define PW_FDT_CHANNEL_COMPATIBLE "pagewalk,channel"
#define PW_FDT_RING_STRIDE	"pagewalk,ring-stride"
#define PW_FDT_RING_CAPACITY	"pagewalk,ring-capacity"
#define PW_FDT_RING_THRESHOLD	"pagewalk,ring-threshold"
#define PW_FDT_DOORBELL_PORT	"pagewalk,doorbell-port"

/* Built-in workloads, named by /chosen pagewalk,workload. */
#define PW_WORKLOAD_DEFAULT	"default"	/* boot facts, one handled #PF, exit */
#define PW_WORKLOAD_OPS		"ops"		/* serve host ops until the exit op */
#define PW_WORKLOAD_FAULTS	"faults"	/* fault-injection target: tolerate every error, check for leaks */

/*
 * How kernel mappings reach every pgd (/chosen pagewalk,kernel-sync): as
 * x86-64 has done it over the years.
 */
#define PW_KERNEL_SYNC_MODES(X)						\
	X(PREALLOC, 1, "prealloc") /* preallocate_vmalloc_pages(): top level never changes */ \
	X(FAULT,    2, "fault")    /* vmalloc_fault() copies entries on first use */ \
	X(EAGER,    3, "eager")    /* arch_sync_kernel_mappings() over pgd_list */


/*
 * Fault-injection sites, each with Linux's fault_attr (probability,
 * interval, times, space) and counted for fail-nth.
 */
#define PW_INJECT_SITES(X)						\
	X(PGTABLE_ALLOC, 1, "pgtable_alloc") /* a P4D/PUD/PMD/PTE table (filter: level) */ \
	X(PAGE_ALLOC,    2, "page_alloc")    /* an anonymous data page */	\
	X(PTLOCK_ALLOC,  3, "ptlock_alloc")  /* a split ptlock from the ptlock cache */ \
	X(VMALLOC,       4, "vmalloc")       /* a vmalloc backing page */	\
	X(PGD_ALLOC,     5, "pgd_alloc")     /* a new mm's pgd */


#define PW_INJECT_MAX_SPECS	8
#define PW_INJECT_CELLS		6	/* per spec in pagewalk,inject: site, levels,
					   probability, interval, times (-1: no limit), space */

/* Guest exit statuses (port 0xf4) the pagewalk guest itself uses. */
#define PW_GUEST_EXIT_OK	0
#define PW_GUEST_EXIT_PANIC	0x70	/* unexpected exception or panic() */
#define PW_GUEST_EXIT_LEAK	0x71	/* the faults workload ended with pages missing */

#ifndef __ASSEMBLER__
enum pw_kernel_sync {
#define PW_SYNC_ENUM(name, id, str) PW_SYNC_##name = id,
	PW_KERNEL_SYNC_MODES(PW_SYNC_ENUM)
#undef PW_SYNC_ENUM
};

enum pw_inject_site {
#define PW_INJECT_ENUM(name, id, str) PW_INJECT_##name = id,
	PW_INJECT_SITES(PW_INJECT_ENUM)
#undef PW_INJECT_ENUM
	PW_INJECT_SITE_MAX
};
#endif

#endif
