/*
 * The guest/host ABI tables of shared/pagewalk as data: every event's and
 * every op's fields with their kinds, and the names of enumerated values.
 * --trace, --json and anything that names ops read them from here.
 */
#include "internal.h"

#define FIELD(name, kind) { #name, PW_FIELD_##kind },

static const struct vmm_event_desc event_descs[PW_EV_MAX] = {
#define EVENT_DESC(NAME, id, name, fields)					\
	[id] = { #name, sizeof(struct pw_ev_##name) / sizeof(uint64_t),		\
		 (const struct vmm_field_desc[]){ fields { NULL, 0 } } },
	PW_EVENT_TYPES(EVENT_DESC, FIELD)
#undef EVENT_DESC
};

static const struct vmm_op_desc op_descs[PW_OP_MAX] = {
#define OP_DESC(NAME, id, name, in, out)					\
	[id] = { #name, sizeof(struct pw_##name##_args) / sizeof(uint64_t),	\
		 sizeof(struct pw_##name##_out) / sizeof(uint64_t),		\
		 (const struct vmm_field_desc[]){ in { NULL, 0 } },		\
		 (const struct vmm_field_desc[]){ out { NULL, 0 } } },
	PW_OPS(OP_DESC, FIELD, FIELD)
#undef OP_DESC
};

const struct vmm_event_desc *vmm_event_desc(unsigned int type)
{
	return type < PW_EV_MAX && event_descs[type].name ? &event_descs[type] : NULL;
}

const struct vmm_op_desc *vmm_op_desc(unsigned int op)
{
	return op < PW_OP_MAX && op_descs[op].name ? &op_descs[op] : NULL;
}

const char *vmm_field_kind_name(enum pw_field_kind kind)
{
	static const char *const names[] = {
#define KIND_NAME(kind, str) [PW_FIELD_##kind] = str,
		PW_FIELD_KINDS(KIND_NAME)
#undef KIND_NAME
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : NULL;
}

const char *vmm_value_name(enum pw_field_kind kind, uint64_t v)
{
	switch (kind) {
	case PW_FIELD_OP: {
		const struct vmm_op_desc *d = vmm_op_desc(v);

		return d ? d->name : NULL;
	}
#define NAME(name, id, str) case id: return str;
	case PW_FIELD_OUTCOME:
		switch (v) {
		PW_FAULT_OUTCOMES(NAME)
		}
		break;
	case PW_FIELD_LEVEL:
		switch (v) {
		PW_LEVELS(NAME)
		}
		break;
	case PW_FIELD_MAP:
		switch (v) {
		PW_MAP_KINDS(NAME)
		}
		break;
	case PW_FIELD_SYNC:
		switch (v) {
		PW_KERNEL_SYNC_MODES(NAME)
		}
		break;
	case PW_FIELD_SITE:
		switch (v) {
		PW_INJECT_SITES(NAME)
		}
		break;
#undef NAME
	default:
		break;
	}
	return NULL;
}
