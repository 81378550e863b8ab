/*
 * What a test's addresses and table counts follow from, for the paging
 * mode its guest booted in (vm_levels(): 4, or 5 with LA57): Linux's
 * layout (shared/pagewalk/layout.h) and the x86-64 geometry, 9 bits of
 * address per level above the 12 of a page.
 */
#ifndef PAGEWALK_TEST_GEOMETRY_H
#define PAGEWALK_TEST_GEOMETRY_H

#include <stdint.h>

#include "libvmm.h"

struct geometry {
	unsigned int levels;		/* 4, or 5 */
	uint64_t page_offset;		/* the direct map */
	uint64_t vmalloc_start;
	uint64_t task_size;		/* TASK_SIZE_MAX: 2^47 or 2^56, less the guard page */
	uint64_t pgd_span;		/* what one pgd entry maps: 512 GiB, or 256 TiB */
	unsigned int vmalloc_index;	/* pgd_index(VMALLOC_START): 402, or 416 */
	unsigned int vmalloc_entries;	/* pgd entries of vmalloc: 32 TiB / 512 GiB = 64, 12.5 PiB / 256 TiB = 50 */
	uint64_t non_canonical;		/* the lowest address past the user half: 2^47, or 2^56 */
	/*
	 * P4D tables of a task that has touched only addresses below 2^47
	 * (the trampoline included): with LA57 all are under pgd entry 0,
	 * whose one P4D table they share; folded, none.
	 */
	unsigned int user_p4ds;
	/*
	 * Tables the first vmalloc page under a vmalloc pgd entry needs when
	 * preallocate_vmalloc_pages() ran: a PMD and a PTE table below its PUD,
	 * or with LA57 a PUD, PMD and PTE table below its P4D.
	 */
	unsigned int vmalloc_tables;
};

struct geometry geometry(unsigned int levels);
struct geometry vm_geometry(const struct vm *vm);	/* of the mode vm booted in */
/* The mode the pagewalk guest's default workload says it runs in, on its first console line. */
unsigned int console_levels(const char *console);

#endif
