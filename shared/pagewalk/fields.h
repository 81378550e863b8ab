/* SPDX-License-Identifier: MIT */
/*
 * What a field of an event or op holds, for those who show or parse it:
 * libvmm's --trace and --json printers, and anything that names ops and
 * their arguments.  The tables in events.h and ops.h give each field one of
 * these; the guest ignores them.
 */
#ifndef PAGEWALK_FIELDS_H
#define PAGEWALK_FIELDS_H

#define PW_FIELD_KINDS(X)						\
	X(U,       "u")		/* unsigned decimal */			\
	X(D,       "d")		/* signed decimal */			\
	X(HEX,     "hex")	/* an address, a mask, a value */	\
	X(ADDR,    "addr")	/* a guest virtual address the host symbolises */ \
	X(BOOL,    "bool")						\
	X(TASK,    "task")	/* a task id */				\
	X(PROT,    "prot")	/* PW_PROT_* bits */			\
	X(ACCESS,  "access")	/* PW_ACCESS_* */			\
	X(LEVELS,  "levels")	/* bit 1 << PW_LEVEL_* per level; 0: all */ \
	X(PTL,     "ptl")	/* PW_PTL_* lock class */		\
	X(OP,      "op")	/* enum pw_op */			\
	X(OUTCOME, "outcome")	/* enum pw_fault_outcome */		\
	X(LEVEL,   "level")	/* enum pw_level */			\
	X(MAP,     "map")	/* enum pw_map_kind */			\
	X(SYNC,    "sync")	/* enum pw_kernel_sync */		\
	X(SITE,    "site")	/* enum pw_inject_site */

enum pw_field_kind {
#define PW_FIELD_KIND_ENUM(kind, str) PW_FIELD_##kind,
	PW_FIELD_KINDS(PW_FIELD_KIND_ENUM)
#undef PW_FIELD_KIND_ENUM
};

/* One uint64_t member per field of a table entry: F(name, kind) -> `uint64_t name;`. */
#define PW_FIELD_MEMBER(name, kind) uint64_t name;

#endif
