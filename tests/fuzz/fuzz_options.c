/*
 * libFuzzer harness for the vmm command's option parser (vmm/options.c):
 * the input, split at NUL bytes, is the argv after "vmm".  Whatever it
 * accepts must hold what main() and vm_create() rely on, else abort():
 * every range the options table in README gives.  Seeds: command lines
 * from README, written by `make fuzz`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_ARGS	32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	opterr = 0;	/* getopt_long()'s own messages would flood the log */
	return 0;
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
	if (parse_options(argc, argv, &o, err, sizeof(err)) == OPT_RUN &&
	    (!o.cfg.guest || o.cfg.ncpus < 1 || o.cfg.ncpus > 16 || !o.cfg.mem_bytes ||
	     o.cfg.timeout_ms > 86400000 || o.cfg.split_ptlock_cpus > 999999 ||
	     o.cfg.ninject > PW_INJECT_MAX_SPECS))
		abort();
	free(buf);
	return 0;
}
