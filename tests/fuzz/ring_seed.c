/*
 * Seeds for the channel fuzzer: rings as the pagewalk guest really leaves
 * them.  `ring_seed GUEST.elf DIR` writes DIR/default (the default
 * workload: console text and every event kind it makes) and DIR/wrapped
 * (5000 SEQ events: the ring has wrapped).  The host has consumed every
 * record by then, so each dump's tail is wound back to the oldest record
 * still in the ring, and draining the dump decodes them all again.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void dump(struct vm *vm, const char *dir, const char *name)
{
	const struct pw_ring *ring = vm->vcpus[0].chan.ring;
	uint64_t head = ring->head;
	uint64_t n = head < PW_RING_CAPACITY ? head : PW_RING_CAPACITY;
	size_t size = PW_RING_HDR_SIZE + n * sizeof(struct pw_event);
	uint8_t *buf = malloc(size);
	char path[4096];
	FILE *f;

	if (!buf)
		err(1, "malloc");
	memcpy(buf, ring, size);
	((struct pw_ring *)buf)->tail = head - n;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(buf, 1, size, f) != size || fclose(f))
		err(1, "%s", path);
	free(buf);
}

static struct vm *boot(const char *guest, const char *workload)
{
	struct vmm_config cfg;
	struct vm *vm;
	char msg[1024];

	vmm_config_init(&cfg, guest);
	cfg.workload = workload;
	cfg.console = NULL;
	if (vm_create(&cfg, &vm, msg, sizeof(msg)) != VMM_OK)
		errx(1, "%s", msg);
	return vm;
}

int main(int argc, char **argv)
{
	struct vm *vm;

	if (argc != 3)
		errx(2, "usage: ring_seed GUEST.elf DIR");
	vm = boot(argv[1], PW_WORKLOAD_DEFAULT);
	if (vm_run(vm) != VMM_OK)
		errx(1, "default workload: %s", vm_message(vm));
	dump(vm, argv[2], "default");
	vm_destroy(vm);

	vm = boot(argv[1], PW_WORKLOAD_OPS);
	if (VM_OP(vm, 0, emit, NULL, NULL, 5000) != VMM_OK)
		errx(1, "emit: %s", vm_message(vm));
	dump(vm, argv[2], "wrapped");
	vm_destroy(vm);
	return 0;
}
