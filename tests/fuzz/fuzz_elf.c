/*
 * libFuzzer harness for the ELF loader: the input is a guest ELF file,
 * checked and loaded by the same elf_load_image() that loads the mapped
 * file for vm_create(), into scratch guest
 * RAM with the VMM's reserved regions; then the entry and every loaded
 * segment are symbolised.  Seeds: build/guest.elf and the test guests.
 */
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <pagewalk/layout.h>

#include "internal.h"

#define RAM_SIZE	(16 * SZ_1M)
#define CHAN_SIZE	(PW_RING_HDR_SIZE + PW_RING_CAPACITY * sizeof(struct pw_event))

static struct guest_ram ram;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (elf_version(EV_CURRENT) == EV_NONE)
		abort();
	ram_layout(&ram, RAM_SIZE);
	ram.host = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram.host == MAP_FAILED)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As vm_create() reserves them for one vCPU. */
	const struct region rsv[] = {
		{ "boot area", PW_BOOT_AREA_START, PW_BOOT_AREA_END - PW_BOOT_AREA_START },
		{ "channel", RAM_SIZE - CHAN_SIZE, CHAN_SIZE },
	};
	/* elf_memory() takes a writable image; libFuzzer's input is const. */
	char *file = malloc(size ? size : 1);
	struct guest_image img;
	char err[1024], sym[128];

	if (!file)
		return 0;
	memcpy(file, data, size);
	/* ELF32 inputs load as i386 guests (two-level paging), the rest as 64-bit ones. */
	unsigned int levels = size > EI_CLASS && data[EI_CLASS] == ELFCLASS32 ? 2 : 4;

	if (!elf_load_image(file, size, "fuzz", &ram, levels, rsv, 2, &img, err, sizeof(err))) {
		symbolise(&img, img.entry, sym, sizeof(sym));
		for (unsigned int i = 0; i < img.nseg; i++)
			symbolise(&img, img.seg[i].vaddr, sym, sizeof(sym));
	}
	symbols_free(&img);
	free(file);
	return 0;
}
