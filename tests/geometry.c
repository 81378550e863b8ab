#include <criterion/criterion.h>
#include <string.h>

#include "geometry.h"

struct geometry geometry(unsigned int levels)
{
	const unsigned int va_bits = 12 + 9 * levels;	/* 48, or 57 */
	struct geometry g = {
		.levels = levels,
		.page_offset = PW_PAGE_OFFSET(levels),
		.vmalloc_start = PW_VMALLOC_START(levels),
		.task_size = PW_TASK_SIZE_MAX(levels),
		.pgd_span = 1ULL << (va_bits - 9),
		.non_canonical = 1ULL << (va_bits - 1),
		.user_p4ds = levels == 5,
		.vmalloc_tables = levels - 2,
	};

	g.vmalloc_index = (g.vmalloc_start >> (va_bits - 9)) & 511;
	g.vmalloc_entries = PW_VMALLOC_SIZE(levels) / g.pgd_span;
	return g;
}

struct geometry vm_geometry(const struct vm *vm)
{
	return geometry(vm_levels(vm));
}

unsigned int console_levels(const char *console)
{
	const char *line = strstr(console, "pagewalk guest: ");
	const char *mode = line ? strstr(line, "-level paging") : NULL;
	unsigned int levels = mode && mode > line ? mode[-1] - '0' : 0;

	cr_assert(levels == 4 || levels == 5, "no paging mode on the console:\n%s", console);
	return levels;
}
