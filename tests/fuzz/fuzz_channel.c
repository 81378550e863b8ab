/*
 * libFuzzer harness for the channel decoder: the input is one vCPU's
 * channel region as the guest left it (ring header, then records; a short
 * input is zero-filled) and channel_drain() consumes it as on a VM exit,
 * from the tail the host last published there.  Console, trace and JSON
 * go to /dev/null and events are recorded, so report.c decodes and
 * symbolises (against build/guest.elf) every record the host accepts.
 * Seeds: rings dumped from real runs by ring_seed.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define CHAN_SIZE	(PW_RING_HDR_SIZE + PW_RING_CAPACITY * sizeof(struct pw_event))
#define IMAGE_RAM	(16 * SZ_1M)	/* scratch RAM to load the guest's symbols */

static FILE *devnull;
static struct guest_image img;
static uint8_t *chan;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct guest_ram ram;
	char err[1024];

	(void)argc, (void)argv;
	ram_layout(&ram, IMAGE_RAM);
	ram.host = mmap(NULL, IMAGE_RAM, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram.host == MAP_FAILED)
		abort();
	if (elf_load(PW_GUEST_ELF, &ram, 4, NULL, 0, &img, err, sizeof(err))) {
		fprintf(stderr, "fuzz_channel: %s\n", err);
		abort();
	}
	munmap(ram.host, IMAGE_RAM);
	devnull = fopen("/dev/null", "w");
	/* Exactly the region's size, so ASan catches any read past it. */
	chan = malloc(CHAN_SIZE);
	if (!devnull || !chan)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	static struct vcpu vcpu;

	vm = (struct vm){
		.cfg = { .console = devnull, .trace = devnull, .json = devnull, .record = true },
		.chan_stride = CHAN_SIZE, .img = img, .vcpus = &vcpu, .nvcpus = 1,
	};
	ram_layout(&vm.ram, CHAN_SIZE);
	vm.ram.host = chan;
	vcpu = (struct vcpu){ .vm = &vm };
	vm_lock_init(&vm);
	channel_init(&vcpu);
	memcpy(chan, data, size < CHAN_SIZE ? size : CHAN_SIZE);
	vcpu.chan.tail = vcpu.chan.ring->tail;
	channel_drain(&vcpu);
	free(vm.events);
	pthread_mutex_destroy(&vm.lock);
	return 0;
}
