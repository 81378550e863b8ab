/* vmm: boot an ELF guest on /dev/kvm and report what it did. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "libvmm.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmm [options] GUEST.elf\n"
		"\n"
		"Boots GUEST.elf (ELF64 x86-64, PT_LOAD segments at p_paddr) on /dev/kvm in\n"
		"64-bit long mode. The guest console goes to stdout, reports to stderr.\n"
		"\n"
		"options:\n"
		"  --mem SIZE        guest RAM, K/M/G suffix, multiple of 2M (default 256M)\n"
		"  --cpus N          vCPUs, 1 to 16 (default 1); the default workload runs on\n"
		"                    the boot CPU, the others serve ops (libvmm vm_op)\n"
		"  --timeout SEC     watchdog: stop a guest still running after SEC seconds\n"
		"                    (default 10, 0 = never)\n"
		"  --workload NAME   built-in workload the pagewalk guest runs: default, ops,\n"
		"                    faults (every allocation site, errors tolerated, exits\n"
		"                    with status 0x71 if pages leaked)\n"
		"  --kernel-sync MODE how kernel mappings reach every pgd: prealloc (default;\n"
		"                    preallocate_vmalloc_pages), fault (vmalloc_fault) or\n"
		"                    eager (arch_sync_kernel_mappings over pgd_list)\n"
		"  --inject SPEC     arm a fault-injection site when the workload starts,\n"
		"                    SITE[:key=value,...]: SITE pgtable_alloc, page_alloc,\n"
		"                    ptlock_alloc, vmalloc, pgd_alloc; keys probability (%%,\n"
		"                    default 100), interval, times (-1: no limit, default),\n"
		"                    space, level=pud|pmd|pte; up to 8 (e.g.\n"
		"                    'pgtable_alloc:level=pmd,interval=3,times=2')\n"
		"  --fail-nth N      fail the N-th injectable call of the workload, any site\n"
		"  --seed N          the guest's fault-injection PRNG: same seed, same run\n"
		"  --split-ptlock-cpus N\n"
		"                    split page-table locks from N CPUs on (guest default 4,\n"
		"                    as CONFIG_SPLIT_PTLOCK_CPUS); below, page_table_lock\n"
		"  --trace           print every guest event as one line on stdout\n"
		"  --json FILE       write JSON lines, one per event and a final summary\n"
		"                    object, to FILE ('-' = stdout)\n"
		"  --ptdump          when the guest stops, print the page tables under cpu 0's\n"
		"                    CR3 as Linux's /sys/kernel/debug/page_tables does\n"
		"  -h, --help        this text\n"
		"\n"
		"exit status:\n"
		"  0  guest wrote 0 to port 0xf4, or halted\n"
		"  1  guest wrote a non-zero status to port 0xf4 (printed)\n"
		"  2  bad option or an ELF that cannot be loaded\n"
		"  3  guest triple fault (registers and symbolised RIP printed)\n"
		"  4  watchdog: guest still running after --timeout\n"
		"  5  /dev/kvm missing or not usable\n"
		"  6  guest broke the protocol (bad channel data, unbacked MMIO, unknown port)\n"
		"  7  internal error (a KVM ioctl or host resource failed), or the output\n"
		"     could not be written (stdout, stderr or the --json file full or closed)\n");
}

/* "256M", "1G", "65536K", "4194304": bytes, or 0 if malformed. */
static uint64_t parse_size(const char *s)
{
	const char *end;
	uint64_t v;
	unsigned int shift = 0;

	if (!vmm_parse_u64(s, UINT64_MAX, &v, &end))
		return 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return 0;
	return v << shift;
}

/*
 * Seconds, fractions allowed: strtod() would also take "nan", "inf" and a
 * sign, and NaN passes every range check, so the text must start with a
 * digit or a point (1e999 overflows and sets errno).
 */
static bool parse_seconds(const char *s, double max, double *out)
{
	char *end;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && *out <= max;
}

static int bad_option(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmm: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see vmm --help)\n");
	return VMM_BAD_INPUT;
}

/*
 * A full disk or a reader gone: the output is incomplete, an error of its
 * own.  With SIGPIPE ignored a closed pipe is EPIPE here, not a silent death.
 * The errno is known only if this flush is the one that failed: stdio
 * keeps the error flag of an earlier write, not its errno.
 */
static bool write_failed(FILE *f, const char *name)
{
	errno = 0;
	if (!fflush(f) && !ferror(f))
		return false;
	if (errno)
		fprintf(stderr, "vmm: %s: write error: %s\n", name, strerror(errno));
	else
		fprintf(stderr, "vmm: %s: write error, output incomplete\n", name);
	return true;
}

/* After the console and before the summary, whatever stopped the guest. */
static void dump_page_tables(struct vm *vm, FILE *f)
{
	struct vm_paging pg;

	if (vm_cpu_paging(vm, 0, &pg) != VMM_OK) {
		fprintf(stderr, "vmm: --ptdump: cannot read cpu 0's control registers\n");
		return;
	}
	fprintf(f, "page tables of cpu 0, CR3 %#llx:\n", (unsigned long long)pg.cr3);
	switch (vm_ptdump(vm, &pg, f)) {
	case VMM_OK:
		break;
	case VMM_BAD_INPUT:
		fprintf(stderr, "vmm: --ptdump: cpu 0 is not in long mode\n");
		break;
	case VMM_INTERNAL:
		fprintf(stderr, "vmm: --ptdump: out of memory\n");
		break;
	default:
		fprintf(stderr, "vmm: --ptdump: CR3 is outside guest RAM\n");
		break;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "workload", required_argument, NULL, 'w' },
		{ "split-ptlock-cpus", required_argument, NULL, 's' },
		{ "kernel-sync", required_argument, NULL, 'k' },
		{ "inject", required_argument, NULL, 'i' },
		{ "fail-nth", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "trace", no_argument, NULL, 'T' },
		{ "json", required_argument, NULL, 'j' },
		{ "ptdump", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct vmm_config cfg;
	const char *json_path = NULL;
	bool ptdump = false;
	char err[1024];
	struct vm *vm;
	enum vmm_status s;
	bool failed;
	double secs;
	uint64_t n;
	int c;

	signal(SIGPIPE, SIG_IGN);
	vmm_config_init(&cfg, NULL);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			cfg.mem_bytes = parse_size(optarg);
			if (!cfg.mem_bytes)
				return bad_option("--mem '%s': not a size like 256M or 1G", optarg);
			break;
		case 'c':
			if (!vmm_parse_u64(optarg, 16, &n, NULL) || !n)
				return bad_option("--cpus '%s': from 1 to 16", optarg);
			cfg.ncpus = n;
			break;
		case 't':
			if (!parse_seconds(optarg, 86400, &secs))
				return bad_option("--timeout '%s': not a number of seconds (0 to 86400)", optarg);
			/* Any non-zero timeout arms the watchdog, however short. */
			cfg.timeout_ms = secs > 0 && secs < 0.001 ? 1 : secs * 1000;
			break;
		case 'w':
			if (strcmp(optarg, PW_WORKLOAD_DEFAULT) && strcmp(optarg, PW_WORKLOAD_OPS) &&
			    strcmp(optarg, PW_WORKLOAD_FAULTS))
				return bad_option("--workload '%s': expected default, ops or faults", optarg);
			cfg.workload = optarg;
			break;
		case 'i':
			if (cfg.ninject == PW_INJECT_MAX_SPECS)
				return bad_option("--inject '%s': at most 8 of them", optarg);
			if (vmm_parse_inject(optarg, &cfg.inject[cfg.ninject++], err, sizeof(err)) != VMM_OK)
				return bad_option("%s", err);
			break;
		case 'n':
			if (!vmm_parse_u64(optarg, UINT32_MAX, &n, NULL) || !n)
				return bad_option("--fail-nth '%s': a call number from 1 to 4294967295", optarg);
			cfg.fail_nth = n;
			break;
		case 'S':
			if (!vmm_parse_u64(optarg, UINT64_MAX, &cfg.inject_seed, NULL))
				return bad_option("--seed '%s': not a number from 0 to 2^64-1", optarg);
			break;
		case 'k':
			if (strcmp(optarg, "prealloc") && strcmp(optarg, "fault") && strcmp(optarg, "eager"))
				return bad_option("--kernel-sync '%s': expected prealloc, fault or eager", optarg);
			cfg.kernel_sync = optarg;
			break;
		case 's':
			if (!vmm_parse_u64(optarg, 999999, &n, NULL) || !n)
				return bad_option("--split-ptlock-cpus '%s': not a CPU count (1 to 999999)", optarg);
			cfg.split_ptlock_cpus = n;
			break;
		case 'T':
			cfg.trace = stdout;
			break;
		case 'j':
			json_path = optarg;
			break;
		case 'p':
			ptdump = true;
			break;
		case 'h':
			usage(stdout);
			return write_failed(stdout, "stdout") ? VMM_INTERNAL : 0;
		default:
			usage(stderr);
			return VMM_BAD_INPUT;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return VMM_BAD_INPUT;
	}
	cfg.guest = argv[optind];
	if (json_path) {
		cfg.json = strcmp(json_path, "-") ? fopen(json_path, "w") : stdout;
		if (!cfg.json) {
			fprintf(stderr, "vmm: --json %s: %s\n", json_path, strerror(errno));
			return VMM_BAD_INPUT;
		}
		/* Keep stdout pure JSON lines; the console is in them as "console" events. */
		if (cfg.json == stdout)
			cfg.console = stderr;
	}

	s = vm_create(&cfg, &vm, err, sizeof(err));
	if (s != VMM_OK) {
		fprintf(stderr, "vmm: %s\n", err);
		return s;
	}
	s = vm_run(vm);
	if (ptdump)
		dump_page_tables(vm, cfg.json == stdout ? stderr : stdout);
	failed = write_failed(stdout, "stdout");
	if (cfg.json && cfg.json != stdout) {
		failed |= write_failed(cfg.json, json_path);
		fclose(cfg.json);
	}
	/* The summary still says how the guest stopped; stderr itself can only fail silently. */
	vm_print_summary(vm, stderr);
	vm_destroy(vm);
	return failed || ferror(stderr) ? VMM_INTERNAL : s;
}
