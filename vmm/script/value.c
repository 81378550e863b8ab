/*
 * How scripts write values: numbers as the command line takes them
 * (vmm_parse_u64) with a K/M/G suffix, and names for the values of
 * enumerated kinds.  Enumerations libvmm names (ops, outcomes, levels, map
 * kinds, sync modes, sites) come from vmm_value_name(); the rest are the
 * PW_* constants of ops.h, which have no table of their own.
 */
#include <stdio.h>
#include <string.h>

#include <pagewalk/ops.h>

#include "libvmm.h"
#include "value.h"

bool value_number(const char *word, uint64_t *out)
{
	const char *end;
	unsigned int shift = 0;

	if (!vmm_parse_u64(word, UINT64_MAX, out, &end))
		return false;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || *out > (UINT64_MAX >> shift))
		return false;
	*out <<= shift;
	return true;
}

struct named {
	const char *name;
	uint64_t v;
};

#define NAMED_END { NULL, 0 }

static const struct named access_names[] = {
	{ "r", PW_ACCESS_READ }, { "w", PW_ACCESS_WRITE }, { "x", PW_ACCESS_FETCH },
	{ "read", PW_ACCESS_READ }, { "write", PW_ACCESS_WRITE }, { "fetch", PW_ACCESS_FETCH },
	{ "read_loop", PW_ACCESS_READ_LOOP }, { "write_pages", PW_ACCESS_WRITE_PAGES }, NAMED_END
};

static const struct named bool_names[] = {
	{ "user", 1 }, { "kernel", 0 }, { "true", 1 }, { "false", 0 }, NAMED_END
};

static const struct named ptl_names[] = {
	{ "mm", PW_PTL_MM }, { "pmd", PW_PTL_PMD }, { "pte", PW_PTL_PTE }, NAMED_END
};

static const struct named prot_names[] = {
	{ "none", 0 }, { "r", PW_PROT_READ }, { "rw", PW_PROT_READ | PW_PROT_WRITE },
	{ "rx", PW_PROT_READ | PW_PROT_EXEC },
	{ "rwx", PW_PROT_READ | PW_PROT_WRITE | PW_PROT_EXEC }, NAMED_END
};

static const struct named errno_names[] = {
	{ "ESRCH", PW_ESRCH }, { "EFAULT", PW_EFAULT }, { "EEXIST", PW_EEXIST },
	{ "ENOMEM", PW_ENOMEM }, { "EINVAL", PW_EINVAL }, { "ENOSYS", PW_ENOSYS }, NAMED_END
};

static const struct named *table_of(enum pw_field_kind kind)
{
	switch (kind) {
	case PW_FIELD_ACCESS: return access_names;
	case PW_FIELD_BOOL: return bool_names;
	case PW_FIELD_PTL: return ptl_names;
	case PW_FIELD_PROT: return prot_names;
	default: return NULL;
	}
}

/* Enumerations libvmm names have small values, from 0 for ops. */
#define LIBVMM_NAMED_MAX 256

const char *value_name_at(enum pw_field_kind kind, unsigned int i)
{
	const struct named *t = table_of(kind);

	if (t) {
		for (unsigned int k = 0; t[k].name; k++)
			if (k == i)
				return t[k].name;
		return NULL;
	}
	for (uint64_t v = 0; v < LIBVMM_NAMED_MAX; v++) {
		const char *name = vmm_value_name(kind, v);

		if (name && !i--)
			return name;
	}
	return NULL;
}

bool kind_has_names(enum pw_field_kind kind)
{
	return value_name_at(kind, 0) != NULL;
}

static bool lookup(const struct named *t, const char *word, uint64_t *out)
{
	for (; t->name; t++) {
		if (!strcmp(t->name, word)) {
			*out = t->v;
			return true;
		}
	}
	return false;
}

/* Any of r, w, x once each, as mmap's PROT_* bits ("wr" too: the model writes rw as it likes). */
static bool prot_letters(const char *word, uint64_t *out)
{
	*out = 0;
	for (const char *p = word; *p; p++) {
		const char *bit = strchr("rwx", *p);

		if (!bit || (*out & (1u << (bit - "rwx"))))
			return false;
		*out |= 1u << (bit - "rwx");	/* PW_PROT_READ, _WRITE, _EXEC */
	}
	return *word;
}

bool value_named(enum pw_field_kind kind, const char *word, uint64_t *out)
{
	const struct named *t = table_of(kind);

	if (lookup(errno_names, word, out))
		return true;
	if (kind == PW_FIELD_PROT)
		return lookup(prot_names, word, out) || prot_letters(word, out);
	if (t)
		return lookup(t, word, out);
	for (uint64_t v = 0; v < LIBVMM_NAMED_MAX; v++) {
		const char *name = vmm_value_name(kind, v);

		if (name && !strcmp(name, word)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static const char *name_of(const struct named *t, uint64_t v)
{
	for (; t && t->name; t++)
		if (t->v == v)
			return t->name;
	return NULL;
}

void value_format(struct val x, char *buf, size_t len)
{
	const char *name = NULL;

	switch (x.kind) {
	case PW_FIELD_D:
		name = (int64_t)x.v < 0 ? name_of(errno_names, -x.v) : NULL;
		if (name)
			snprintf(buf, len, "%ld (%s)", (long)x.v, name);
		else if ((int64_t)x.v >= 0x10000 || (int64_t)x.v <= -0x10000)
			snprintf(buf, len, "%#lx", (unsigned long)x.v);	/* an address */
		else
			snprintf(buf, len, "%ld", (long)x.v);
		return;
	case PW_FIELD_U: case PW_FIELD_TASK: case PW_FIELD_BOOL:
		snprintf(buf, len, "%lu", (unsigned long)x.v);
		return;
	case PW_FIELD_HEX: case PW_FIELD_ADDR: case PW_FIELD_LEVELS:
		snprintf(buf, len, "%#lx", (unsigned long)x.v);
		return;
	case PW_FIELD_PROT:
		if (x.v && x.v <= (PW_PROT_READ | PW_PROT_WRITE | PW_PROT_EXEC)) {
			snprintf(buf, len, "%s%s%s", x.v & PW_PROT_READ ? "r" : "",
				 x.v & PW_PROT_WRITE ? "w" : "", x.v & PW_PROT_EXEC ? "x" : "");
			return;
		}
		name = x.v ? NULL : "none";
		break;
	default:
		name = table_of(x.kind) ? name_of(table_of(x.kind), x.v) : vmm_value_name(x.kind, x.v);
		break;
	}
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%#lx", (unsigned long)x.v);
}
