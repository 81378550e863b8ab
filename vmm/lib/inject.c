/* `--inject` specs: Linux's fault_attr knobs, spelled as debugfs names them. */
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

static bool parse_num(const char *v, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 0);
	return !errno && end != v && !*end && *out >= min && *out <= max;
}

static enum vmm_status bad(char *err, size_t len, const char *spec, const char *why)
{
	snprintf(err, len, "--inject '%s': %s", spec, why);
	return VMM_BAD_INPUT;
}

static bool parse_level(const char *v, uint32_t *levels)
{
	for (unsigned int l = PW_LEVEL_PTE; l <= PW_LEVEL_PUD; l++) {
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
	long n;

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
		else if (!strcmp(kv, "times") && parse_num(v, -1, INT32_MAX, &n))
			out->times = n;
		else if (!strcmp(kv, "space") && parse_num(v, 0, UINT32_MAX, &n))
			out->space = n;
		else if (!strcmp(kv, "level") && out->site == PW_INJECT_PGTABLE_ALLOC && parse_level(v, &out->levels))
			;
		else
			return bad(err, errlen, spec,
				   "bad attribute (probability=0-100, interval>=1, times>=-1, space>=0, "
				   "level=pud|pmd|pte for pgtable_alloc)");
	}
	return VMM_OK;
}
