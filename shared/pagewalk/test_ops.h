/* SPDX-License-Identifier: MIT */
/*
 * Ops served only by the guest's test code (guest/test/), in the format of
 * ops.h: the access differential, the fault-path benchmark and a kernel
 * bug on purpose.
 *
 * bench_faults: page_fault1 from ring 3 over `pages` pages of a mapped range
 *   at addr, through the paging core or (floor) a bare handler that maps
 *   each page; result = TSC cycles, faults = the faults the core handled.
 * access_test: run cases 0..n-1 of the access-test table in the task's
 *   2 MiB at addr (below); result = n; table and page = the guest-physical
 *   addresses of the case table and the test page.
 * kernel_deref: a plain kernel load (or store of value) at addr in the
 *   task's mm, outside the exception table and the SMAP brackets; result 0
 *   and the value read, unless the guest oopses.
 */
#ifndef PAGEWALK_TEST_OPS_H
#define PAGEWALK_TEST_OPS_H

#include <stdint.h>

#define PW_TEST_OPS(X, IN, OUT)						\
	X(BENCH_FAULTS, 23, bench_faults, IN(task, TASK) IN(addr, HEX) IN(pages, U) \
					  IN(floor, BOOL), OUT(faults, U)) \
	X(ACCESS_TEST, 26, access_test, IN(task, TASK) IN(addr, HEX) IN(n, U), \
					OUT(table, HEX) OUT(page, HEX))			\
	X(KERNEL_DEREF, 27, kernel_deref, IN(task, TASK) IN(addr, HEX) IN(write, BOOL) \
					  IN(value, HEX), OUT(value, HEX))

/*
 * access_test, after kvm-unit-tests' x86/access.c: per case the guest
 * maps its test page at addr + (the page's physical address modulo 2 MiB)
 * through a PDE and a PTE with the host's bits, or through a 2 MiB PDE if
 * pde has PS, sets CR0.WP, EFER.NXE, CR4.SMEP, CR4.SMAP, CR4.PKE with
 * PKRU, and EFLAGS.AC for a kernel access, as asked (-EINVAL for a feature
 * the CPU lacks), makes one access and reports.  Data accesses go to
 * PW_AC_DATA in the page; a fetch runs its first instruction, `jmp *%rsi`,
 * back to the caller as PW_ACCESS_FETCH's code does.  Of pde and pte the
 * guest takes bits 11:0 and 63:36 (no RAM address has those) and, in a
 * 2 MiB PDE, the reserved bits 20:13.  addr must be 2 MiB-aligned, in one
 * VMA, with nothing mapped at the test page.
 */
struct pw_access_case {
	uint64_t pde, pte;		/* host: the bits to set */
	uint64_t how;			/* host: PW_ACCESS_READ, _WRITE or _FETCH | PW_AC_* */
	int64_t error_code;		/* guest: the #PF's error code, -1 if none */
	uint64_t pde_after, pte_after;	/* guest: the entries after the access */
};

#define PW_AC_ACCESS	3u		/* PW_ACCESS_READ, _WRITE or _FETCH */
#define PW_AC_USER	(1u << 2)	/* from ring 3, else from the kernel */
#define PW_AC_CR0_WP	(1u << 3)
#define PW_AC_EFER_NXE	(1u << 4)
#define PW_AC_CR4_SMEP	(1u << 5)
#define PW_AC_CR4_SMAP	(1u << 6)
#define PW_AC_EFLAGS_AC	(1u << 7)	/* stac around a kernel access */
#define PW_AC_CR4_PKE	(1u << 8)
#define PW_AC_PDPTE	(1u << 9)	/* pde is a 1 GiB PDPTE (PS) at addr's PUD slot: addr
					   1 GiB-aligned, the page at addr + its address mod 1 GiB */
#define PW_AC_PKRU_SHIFT 32		/* how's bits 63:32: PKRU under PW_AC_CR4_PKE */
#define PW_AC_DATA	64		/* offset of data accesses in the test page */
/* Cases in the table: an op of them takes about 0.6 s where ring 0 is emulated, inside the watchdog. */
#define PW_ACCESS_TEST_MAX 2048

#endif
