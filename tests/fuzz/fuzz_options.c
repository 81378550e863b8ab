/*
 * libFuzzer harness for the vmm command's option parser (vmm/options.c)
 * and the boot FDT built from what it accepts: the input, split at NUL
 * bytes, is the argv after "vmm".  Whatever it accepts must hold what
 * main() and vm_create() rely on, else abort(): every range the options
 * table in README gives.  A config vm_layout() takes must then give an FDT
 * libfdt reads back, with the workload and the RAM size it was given.
 * Seeds: command lines from README, written by `make fuzz`.
 */
#include <getopt.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include <pagewalk/layout.h>

#include "internal.h"
#include "options.h"

#define MAX_ARGS	32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	opterr = 0;	/* getopt_long()'s own messages would flood the log */
	return 0;
}

/* The FDT of a config as vm_create() would lay it out, read back with libfdt. */
static void check_fdt(const struct vmm_config *cfg)
{
	static uint8_t fdt[PW_BOOT_FDT_MAX];
	struct vm *vm = calloc(1, sizeof(*vm));
	uint64_t total = 0;
	const fdt64_t *reg;
	const char *workload;
	char err[512];
	int node, len;

	if (!vm)
		return;
	vm->kvm_fd = vm->vm_fd = -1;
	if (vm_layout(vm, cfg, err, sizeof(err)) != VMM_OK) {
		free(vm);
		return;
	}
	if (fdt_build(vm, fdt, sizeof(fdt), err, sizeof(err)) || fdt_check_header(fdt))
		abort();
	workload = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "pagewalk,workload", &len);
	if (!workload || strcmp(workload, cfg->workload))
		abort();
	node = fdt_path_offset(fdt, "/memory");
	reg = node < 0 ? NULL : fdt_getprop(fdt, node, "reg", &len);
	if (!reg || len % 16)
		abort();
	for (int i = 0; i < len / 16; i++)
		total += fdt64_ld(&reg[2 * i + 1]);
	if (total != cfg->mem_bytes)
		abort();
	free(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char vmm[] = "vmm";
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2], err[1024];
	struct options o;
	int argc = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = vmm;
	for (char *p = buf; p <= buf + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	optind = 0;	/* glibc: start over, as for a new argv */
	if (parse_options(argc, argv, &o, err, sizeof(err)) == OPT_RUN) {
		if (!o.cfg.guest || o.cfg.ncpus < 1 || o.cfg.ncpus > 16 || !o.cfg.mem_bytes ||
		    o.cfg.timeout_ms > 86400000 || o.cfg.split_ptlock_cpus > 999999 ||
		    o.cfg.ninject > PW_INJECT_MAX_SPECS || o.gdb_port < -1 || o.gdb_port > 65535 ||
		    (o.gdb_port >= 0 && o.cfg.timeout_ms) || o.profile_hz > 1000000 ||
		    (o.profile_hz && !o.profile) || (o.profile && o.gdb_port >= 0) ||
		    (o.profile_path && !*o.profile_path))
			abort();
		check_fdt(&o.cfg);
	}
	free(buf);
	return 0;
}
