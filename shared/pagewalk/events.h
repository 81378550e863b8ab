/* SPDX-License-Identifier: MIT */
/*
 * Events the guest reports, defined once: each entry of PW_EVENT_TYPES
 * gives the type's number, its name and its fields, F(name, kind).  From
 * it come the record's typed view (struct pw_ev_<name>, a member of union
 * pw_event_fields), the guest's emitter trace(<name>, field, ...) (too few
 * or too many fields do not compile) and the host's field descriptors,
 * from which --trace and --json print every event.
 *
 * FAULT: one per #PF the guest handles; `tables` is how many page tables
 *   that fault installed (races lost not counted).
 * OP: the op just completed, with its first two argument words.
 * PGTABLE_ALLOC/FREE: a page-table page of `level` at physical `phys` for
 *   mm `mm` (0 = init_mm); ALLOC also when the table then loses a race.
 * RACE_LOST: another CPU populated the entry first; the table at `phys` is
 *   freed (a PGTABLE_FREE follows).
 * MAP: a PTE now maps `phys` at `addr` in mm `mm`, for the reason `kind`.
 * TASK_EXIT: task `task` ended, `signal` 0 for an exit, else the signal
 *   that killed it (Linux's numbers): 11 SIGSEGV, 7 SIGBUS, 9 SIGKILL (out
 *   of memory), or 4 SIGILL, 5 SIGTRAP, 8 SIGFPE for other exceptions.
 * KERNEL_PGD: swapper_pg_dir at `phys` is init_mm's pgd; the kernel-mapping
 *   sync mode; how many tables preallocate_vmalloc_pages() installed.
 * PGD_CTOR/PGD_DTOR: mm's pgd at `phys` was made/freed and joined/left
 *   pgd_list, which now has `pgd_list` entries (i386 PAE: a 32-byte pgd,
 *   never on the list, whose kernel PMD is shared).
 * KERNEL_SYNC: a kernel top-level entry `index` copied from init_mm into
 *   the pgd at `phys` of mm `mm` (eager sync or vmalloc_fault).
 * VMALLOC_FAULT: a kernel access through mm's pgd found top-level entry
 *   `index` missing and vmalloc_fault() copied it.
 * VMALLOC/VFREE: a vmap area of `size` bytes at `addr`.
 * FORK: task `child` is a copy of `parent` (dup_mm).
 * INJECT: fault injection failed call number `call` of `site` (at `level`
 *   for page tables); the caller then takes its real error path.
 * MARK: marker `id` in the guest's code: the profiler counts instructions
 *   between two (README, "Profiling"); otherwise an event like any other.
 */
#ifndef PAGEWALK_EVENTS_H
#define PAGEWALK_EVENTS_H

#include <stdint.h>

#include "fields.h"

#define PW_EVENT_WORDS		5
#define PW_EVENT_TEXT_MAX	(PW_EVENT_WORDS * 8)	/* console bytes per record */

#define PW_EVENT_TYPES(X, F)						\
	X(CONSOLE,   1, console, )	/* text in u.text, len bytes */	\
	X(BOOT,      2, boot,	     F(ram_bytes, U) F(ncpus, U) F(paging_levels, U) \
				     F(kernel_start, HEX) F(kernel_end, HEX)) \
	X(EXCEPTION, 3, exception, F(vector, U) F(error_code, HEX) F(rip, ADDR) F(cr2, ADDR) \
				   F(rsp, HEX))				\
	X(FAULT,     4, fault,	   F(addr, ADDR) F(error_code, HEX) F(rip, ADDR) \
				   F(outcome, OUTCOME) F(tables, U))	\
	X(OP,        5, op,	   F(op, OP) F(result, D) F(arg0, HEX) F(arg1, HEX)) \
	X(SEQ,       6, seq,	   F(index, U) F(total, U))		\
	X(EXIT,      7, exit,	   F(status, U))				\
	X(PGTABLE_ALLOC, 8, pgtable_alloc, F(level, LEVEL) F(phys, HEX) F(mm, U) F(addr, HEX)) \
	X(PGTABLE_FREE,  9, pgtable_free,  F(level, LEVEL) F(phys, HEX) F(mm, U)) \
	X(RACE_LOST, 10, race_lost, F(level, LEVEL) F(phys, HEX) F(mm, U))	\
	X(MAP,       11, map,	    F(mm, U) F(addr, HEX) F(phys, HEX) F(kind, MAP)) \
	X(TASK_EXIT, 12, task_exit, F(task, U) F(signal, U))		\
	X(KERNEL_PGD, 13, kernel_pgd, F(phys, HEX) F(sync, SYNC) F(preallocated, U)) \
	X(PGD_CTOR,  14, pgd_ctor,  F(mm, U) F(phys, HEX) F(pgd_list, U))	\
	X(PGD_DTOR,  15, pgd_dtor,  F(mm, U) F(phys, HEX) F(pgd_list, U))	\
	X(KERNEL_SYNC, 16, kernel_sync, F(sync, SYNC) F(phys, HEX) F(index, U) F(mm, U)) \
	X(VMALLOC_FAULT, 17, vmalloc_fault, F(mm, U) F(addr, HEX) F(index, U)) \
	X(VMALLOC,   18, vmalloc,   F(addr, HEX) F(size, HEX))			\
	X(VFREE,     19, vfree,     F(addr, HEX) F(size, HEX))			\
	X(FORK,      20, fork,	    F(parent, U) F(child, U))		\
	X(INJECT,    21, inject,    F(site, SITE) F(level, LEVEL) F(call, U))	\
	X(MARK,      22, mark,      F(id, U))

/* Each type twice: PW_EV_FAULT, and PW_EV_ID_fault for macros that take the name. */
enum pw_event_type {
#define PW_EV_ENUM(NAME, id, name, fields) PW_EV_##NAME = id, PW_EV_ID_##name = id,
	PW_EVENT_TYPES(PW_EV_ENUM, )
#undef PW_EV_ENUM
	PW_EV_MAX
};

#define PW_EV_STRUCT(NAME, id, name, fields) struct pw_ev_##name { fields };
PW_EVENT_TYPES(PW_EV_STRUCT, PW_FIELD_MEMBER)
#undef PW_EV_STRUCT

union pw_event_fields {
	uint64_t words[PW_EVENT_WORDS];
	char text[PW_EVENT_TEXT_MAX];
#define PW_EV_MEMBER(NAME, id, name, fields) struct pw_ev_##name name;
	PW_EVENT_TYPES(PW_EV_MEMBER, )
#undef PW_EV_MEMBER
};

_Static_assert(sizeof(union pw_event_fields) == PW_EVENT_WORDS * 8,
	       "every event's fields fit the record's five words");

/* Page-table levels, as the guest's enum pt_level numbers them. */
#define PW_LEVELS(X)							\
	X(PTE, 1, "pte") X(PMD, 2, "pmd") X(PUD, 3, "pud") X(P4D, 4, "p4d") X(PGD, 5, "pgd")

enum pw_level {
#define PW_LEVEL_ENUM(name, id, str) PW_LEVEL_##name = id,
	PW_LEVELS(PW_LEVEL_ENUM)
#undef PW_LEVEL_ENUM
};

/* Why a PTE was set (MAP kind). */
#define PW_MAP_KINDS(X)							\
	X(ZERO,    1, "zero")	 /* read fault: the shared zero page, read-only */ \
	X(ANON,    2, "anon")	 /* write fault: a new zeroed private page */ \
	X(WP_COPY, 3, "wp_copy") /* write to a shared/zero page: private copy */ \
	X(WP_REUSE, 4, "wp_reuse") /* write to a page we hold alone: made writable */ \
	X(SPECIAL, 5, "special") /* a kernel page mapped for user space */

enum pw_map_kind {
#define PW_MAP_ENUM(name, id, str) PW_MAP_##name = id,
	PW_MAP_KINDS(PW_MAP_ENUM)
#undef PW_MAP_ENUM
};

/* How the guest disposed of a #PF (FAULT outcome). */
#define PW_FAULT_OUTCOMES(X)						\
	X(FIXUP, 1, "fixup")	/* kernel access failed; exception-table fixup */ \
	X(MAPPED, 2, "mapped")	/* handle_mm_fault() made the access possible */ \
	X(SEGV_MAPERR, 3, "segv_maperr") /* no VMA (or a kernel address): SIGSEGV */ \
	X(SEGV_ACCERR, 4, "segv_accerr") /* VMA forbids the access: SIGSEGV */ \
	X(OOM, 5, "oom")	/* a table or page could not be allocated */ \
	X(SPURIOUS, 6, "spurious") /* the tables already allow it: a stale TLB entry */ \
	X(SIGBUS, 7, "sigbus")	/* a non-present PTE that is not none: bad page map */

enum pw_fault_outcome {
#define PW_FO_ENUM(name, id, str) PW_FAULT_##name = id,
	PW_FAULT_OUTCOMES(PW_FO_ENUM)
#undef PW_FO_ENUM
	PW_FAULT_OUTCOME_MAX
};

#endif
