/* `--inject` specs: Linux's fault_attr knobs, spelled as debugfs names them. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const site_names[PW_INJECT_SITE_MAX] = {
#define PW_INJECT_NAME(name, id, str) [id] = str,
	PW_INJECT_SITES(PW_INJECT_NAME)
#undef PW_INJECT_NAME
};

static const char *const level_names[] = {
#define PW_LEVEL_NAME(name, id, str) [id] = str,
	PW_LEVELS(PW_LEVEL_NAME)
#undef PW_LEVEL_NAME
};

bool vmm_parse_u64(const char *s, uint64_t max, uint64_t *out, const char **rest)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned long long v;
	char *end;

	/* strtoull() would skip blanks, take a sign and negate, and read 010 as 8. */
	if (hex)
		s += 2;
	if (!(hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
		return false;
	errno = 0;
	v = strtoull(s, &end, hex ? 16 : 10);
	if (errno || v > max || (!rest && *end))
		return false;
	if (rest)
		*rest = end;
	*out = v;
	return true;
}

static bool parse_num(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	return vmm_parse_u64(v, max, out, NULL) && *out >= min;
}

static enum vmm_status bad(char *err, size_t len, const char *spec, const char *why)
{
	snprintf(err, len, "--inject '%s': %s", spec, why);
	return VMM_BAD_INPUT;
}

static bool parse_level(const char *v, uint32_t *levels)
{
	for (unsigned int l = PW_LEVEL_PTE; l <= PW_LEVEL_P4D; l++) {
		if (!strcmp(v, level_names[l])) {
			*levels = 1u << l;
			return true;
		}
	}
	return false;
}

enum vmm_status vmm_parse_inject(const char *spec, struct vmm_inject *out, char *err, size_t errlen)
{
	char buf[256], *attrs, *save = NULL;
	uint64_t n;

	if (strlen(spec) >= sizeof(buf))
		return bad(err, errlen, spec, "too long");
	strcpy(buf, spec);
	attrs = strchr(buf, ':');
	if (attrs)
		*attrs++ = '\0';
	*out = (struct vmm_inject){ .probability = 100, .interval = 1, .times = -1 };
	for (unsigned int i = 1; i < PW_INJECT_SITE_MAX; i++)
		if (!strcmp(buf, site_names[i]))
			out->site = i;
	if (!out->site)
		return bad(err, errlen, spec,
			   "no such site (pgtable_alloc, page_alloc, ptlock_alloc, vmalloc, pgd_alloc)");
	for (char *kv = attrs ? strtok_r(attrs, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (!v)
			return bad(err, errlen, spec, "attributes are key=value");
		*v++ = '\0';
		if (!strcmp(kv, "probability") && parse_num(v, 0, 100, &n))
			out->probability = n;
		else if (!strcmp(kv, "interval") && parse_num(v, 1, UINT32_MAX, &n))
			out->interval = n;
		else if (!strcmp(kv, "times") && !strcmp(v, "-1"))
			out->times = -1;
		else if (!strcmp(kv, "times") && parse_num(v, 0, INT32_MAX, &n))
			out->times = n;
		else if (!strcmp(kv, "space") && parse_num(v, 0, UINT32_MAX, &n))
			out->space = n;
		else if (!strcmp(kv, "level") && out->site == PW_INJECT_PGTABLE_ALLOC && parse_level(v, &out->levels))
			;
		else
			return bad(err, errlen, spec,
				   "bad attribute (probability=0-100, interval>=1, times>=-1, space>=0, "
				   "level=p4d|pud|pmd|pte for pgtable_alloc)");
	}
	return VMM_OK;
}
