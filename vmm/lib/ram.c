/* Guest-physical RAM: its ranges around the hole below 4 GiB (layout.h). */
#include <pagewalk/layout.h>

#include "internal.h"

/* kvmtool's x86 layout: as much as fits below the hole, the rest from 4 GiB. */
void ram_layout(struct guest_ram *ram, uint64_t size)
{
	uint64_t low = size < PW_RAM_HOLE_START ? size : PW_RAM_HOLE_START;

	*ram = (struct guest_ram){ .size = size, .nranges = 1 };
	ram->range[0] = (struct ram_range){ .gpa = 0, .size = low, .offset = 0 };
	if (size > low)
		ram->range[ram->nranges++] = (struct ram_range){
			.gpa = PW_RAM_HOLE_END, .size = size - low, .offset = low,
		};
}

const struct ram_range *ram_range_of(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < ram->nranges; i++) {
		const struct ram_range *r = &ram->range[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

void *ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	const struct ram_range *r = ram_range_of(ram, gpa, len);

	return r && ram->host ? ram->host + r->offset + (gpa - r->gpa) : NULL;
}

uint64_t ram_end(const struct guest_ram *ram)
{
	const struct ram_range *last = &ram->range[ram->nranges - 1];

	return last->gpa + last->size;
}
