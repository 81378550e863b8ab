/* The vmm command's options: parsed without side effects, so a fuzzer can drive it. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)	/* Linux's, for a constant in --help */

void usage(FILE *f)
{
	fprintf(f,
		"usage: vmm [options] GUEST.elf\n"
		"       vmm [options] --script FILE | -e 'LINE; ...' | --shell GUEST.elf\n"
		"\n"
		"Boots GUEST.elf (ELF64 x86-64, PT_LOAD segments at p_paddr) on /dev/kvm in\n"
		"64-bit long mode, or an ELF32 i386 one in 32-bit protected mode (--paging 2\n"
		"or 3). The guest console goes to stdout, reports to stderr.\n"
		"\n"
		"options:\n"
		"  --mem SIZE        guest RAM, K/M/G suffix, multiple of 2M (default 256M)\n"
		"  --cpus N          vCPUs, 1 to " __stringify(PW_MAX_CPUS) " (default 1); the default workload runs on\n"
		"                    the boot CPU, the others serve ops (libvmm vm_op)\n"
		"  --timeout SEC     watchdog: stop a guest still running after SEC seconds\n"
		"                    (default 10, 0 = never)\n"
		"  --workload NAME   built-in workload the pagewalk guest runs: default, ops,\n"
		"                    faults (every allocation site, errors tolerated, exits\n"
		"                    with status 0x71 if pages leaked)\n"
		"  --kernel-sync MODE how kernel mappings reach every pgd: prealloc (default;\n"
		"                    preallocate_vmalloc_pages), fault (vmalloc_fault) or\n"
		"                    eager (arch_sync_kernel_mappings over pgd_list)\n"
		"  --paging MODE     4, 5 (CR4.LA57; status 5 where the host cannot) or auto\n"
		"                    (default: 5 where the host runs LA57, else 4); for ELF32\n"
		"                    i386 guests 2 (two-level, 4 MiB PSE pages) or 3 (PAE),\n"
		"                    RAM up to 768M, status 5 where the host cannot\n"
		"  --inject SPEC     arm a fault-injection site when the workload starts,\n"
		"                    SITE[:key=value,...]: SITE pgtable_alloc, page_alloc,\n"
		"                    ptlock_alloc, vmalloc, pgd_alloc; keys probability (%%,\n"
		"                    default 100), interval, times (-1: no limit, default),\n"
		"                    space, level=p4d|pud|pmd|pte; up to 8 (e.g.\n"
		"                    'pgtable_alloc:level=pmd,interval=3,times=2')\n"
		"  --fail-nth N      fail the N-th injectable call of the workload, any site\n"
		"  --seed N          the guest's fault-injection PRNG: same seed, same run\n"
		"  --split-ptlock-cpus N\n"
		"                    split page-table locks from N CPUs on (guest default 4,\n"
		"                    as CONFIG_SPLIT_PTLOCK_CPUS); below, page_table_lock\n"
		"  --init-on-free    the guest zeroes pages when it frees them, not when it\n"
		"                    hands them out (Linux's init_on_free=1, in bootargs)\n"
		"  --trace           print every guest event as one line on stdout\n"
		"  --json FILE       write JSON lines, one per event and a final summary\n"
		"                    object, to FILE ('-' = stdout)\n"
		"  --ptdump[=WHICH]  when the guest stops, print page tables as Linux's\n"
		"                    /sys/kernel/debug/page_tables does: cpu 0's CR3, or =all\n"
		"                    (swapper_pg_dir and every live pgd), or =CR3 (one\n"
		"                    of those, a 32-byte-aligned address: a page's, or PAE's pgd)\n"
		"  --gdb PORT        a gdb stub on 127.0.0.1:PORT (0: any free port, printed);\n"
		"                    the guest waits at its entry until gdb resumes it; no\n"
		"                    watchdog (--timeout refused), events kept for 'monitor'\n"
		"  --script FILE     run FILE's ops and expects on the ops-serving guest\n"
		"                    (README, \"Scripts and the shell\"); status 1 if an\n"
		"                    expect fails or a line cannot run, said with file:line\n"
		"  -e 'LINE; ...'    the same with lines from the command line (repeatable)\n"
		"  --tap             with --script or -e: each expect a TAP test point on stdout\n"
		"  --shell           the same language at a prompt: editing, history, Tab\n"
		"  --profile[=FILE]  count the guest's ring-0 instructions per symbol, self and\n"
		"                    inclusive, single-stepping it; the table on stderr or in\n"
		"                    FILE, folded stacks for flamegraph.pl in FILE.folded\n"
		"  --profile-hz N    profile by sampling RIP N times a second instead\n"
		"  -h, --help        this text\n"
		"  --version         the version of pagewalk this vmm is\n"
		"\n"
		"exit status:\n"
		"  0  guest wrote 0 to port 0xf4, or halted\n"
		"  1  guest wrote a non-zero status to port 0xf4 (printed)\n"
		"  2  bad option, an ELF that cannot be loaded, or a --gdb port that cannot\n"
		"     be listened on\n"
		"  3  guest triple fault (registers and symbolised RIP printed)\n"
		"  4  watchdog: guest still running after --timeout\n"
		"  5  /dev/kvm missing or not usable\n"
		"  6  guest broke the protocol (bad channel data, unbacked MMIO, unknown port)\n"
		"  7  internal error (a KVM ioctl or host resource failed), or the output\n"
		"     could not be written (stdout, stderr or the --json file full or closed)\n"
		"  with --script, -e or --shell: 2 to 7 as above when the VM fails; else 1 if\n"
		"  an expect failed or a line could not run, 0 if all held\n");
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

static enum opt_result bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return OPT_BAD;
}

/* --script, -e and --shell drive the ops-serving guest, whose events they read. */
static enum opt_result script_options(struct options *o, char *err, size_t errlen)
{
	const bool lines = o->script.file || o->script.nlines;

	if (o->script.file && o->script.nlines)
		return bad(err, errlen, "--script %s and -e: one or the other", o->script.file);
	if (o->shell && lines)
		return bad(err, errlen, "--shell%s: the shell reads its lines from the terminal", "");
	if (o->script.tap && !lines)
		return bad(err, errlen, "--tap%s: goes with --script or -e", "");
	if (!lines && !o->shell)
		return OPT_RUN;
	if (strcmp(o->cfg.workload, PW_WORKLOAD_OPS) && strcmp(o->cfg.workload, PW_WORKLOAD_DEFAULT))
		return bad(err, errlen, "--workload %s: scripts and the shell run the ops workload",
			   o->cfg.workload);
	if (o->shell && o->json_path && !strcmp(o->json_path, "-"))
		return bad(err, errlen, "--shell and --json %s: give --json a file", o->json_path);
	o->cfg.workload = PW_WORKLOAD_OPS;
	o->cfg.record = true;
	/* TAP alone on stdout: the guest console and what lines show go to stderr. */
	if (o->script.tap)
		o->cfg.console = stderr;
	return OPT_RUN;
}

enum opt_result parse_options(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "workload", required_argument, NULL, 'w' },
		{ "split-ptlock-cpus", required_argument, NULL, 's' },
		{ "init-on-free", no_argument, NULL, 'F' },
		{ "kernel-sync", required_argument, NULL, 'k' },
		{ "paging", required_argument, NULL, 'P' },
		{ "inject", required_argument, NULL, 'i' },
		{ "fail-nth", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "trace", no_argument, NULL, 'T' },
		{ "json", required_argument, NULL, 'j' },
		{ "ptdump", optional_argument, NULL, 'p' },
		{ "gdb", required_argument, NULL, 'g' },
		{ "profile", optional_argument, NULL, 'r' },
		{ "profile-hz", required_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "script", required_argument, NULL, 'X' },
		{ "tap", no_argument, NULL, 'A' },
		{ "shell", no_argument, NULL, 'H' },
		{ 0 }
	};
	bool timeout_given = false;
	double secs;
	uint64_t n;
	int c;

	*o = (struct options){ .gdb_port = -1 };
	vmm_config_init(&o->cfg, NULL);
	err[0] = '\0';
	while ((c = getopt_long(argc, argv, "he:", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->cfg.mem_bytes = parse_size(optarg);
			if (!o->cfg.mem_bytes)
				return bad(err, errlen, "--mem '%s': not a size like 256M or 1G", optarg);
			break;
		case 'c':
			if (!vmm_parse_u64(optarg, PW_MAX_CPUS, &n, NULL) || !n)
				return bad(err, errlen, "--cpus '%s': from 1 to " __stringify(PW_MAX_CPUS), optarg);
			o->cfg.ncpus = n;
			break;
		case 't':
			if (!parse_seconds(optarg, 86400, &secs))
				return bad(err, errlen, "--timeout '%s': not a number of seconds (0 to 86400)", optarg);
			/* Any non-zero timeout arms the watchdog, however short. */
			o->cfg.timeout_ms = secs > 0 && secs < 0.001 ? 1 : secs * 1000;
			timeout_given = o->cfg.timeout_ms;
			break;
		case 'w':
			if (strcmp(optarg, PW_WORKLOAD_DEFAULT) && strcmp(optarg, PW_WORKLOAD_OPS) &&
			    strcmp(optarg, PW_WORKLOAD_FAULTS))
				return bad(err, errlen, "--workload '%s': expected default, ops or faults", optarg);
			o->cfg.workload = optarg;
			break;
		case 'i':
			if (o->cfg.ninject == PW_INJECT_MAX_SPECS)
				return bad(err, errlen, "--inject '%s': at most 8 of them", optarg);
			if (vmm_parse_inject(optarg, &o->cfg.inject[o->cfg.ninject++], err, errlen) != VMM_OK)
				return OPT_BAD;
			break;
		case 'n':
			if (!vmm_parse_u64(optarg, UINT32_MAX, &n, NULL) || !n)
				return bad(err, errlen, "--fail-nth '%s': a call number from 1 to 4294967295", optarg);
			o->cfg.fail_nth = n;
			break;
		case 'S':
			if (!vmm_parse_u64(optarg, UINT64_MAX, &o->cfg.inject_seed, NULL))
				return bad(err, errlen, "--seed '%s': not a number from 0 to 2^64-1", optarg);
			break;
		case 'k':
			if (strcmp(optarg, "prealloc") && strcmp(optarg, "fault") && strcmp(optarg, "eager"))
				return bad(err, errlen, "--kernel-sync '%s': expected prealloc, fault or eager", optarg);
			o->cfg.kernel_sync = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "auto") && strcmp(optarg, "2") && strcmp(optarg, "3") &&
			    strcmp(optarg, "4") && strcmp(optarg, "5"))
				return bad(err, errlen, "--paging '%s': expected 2, 3, 4, 5 or auto", optarg);
			o->cfg.paging = strcmp(optarg, "auto") ? (unsigned int)(*optarg - '0') : 0;
			break;
		case 's':
			if (!vmm_parse_u64(optarg, 999999, &n, NULL) || !n)
				return bad(err, errlen, "--split-ptlock-cpus '%s': not a CPU count (1 to 999999)", optarg);
			o->cfg.split_ptlock_cpus = n;
			break;
		case 'F':
			o->cfg.init_on_free = true;
			break;
		case 'T':
			o->cfg.trace = stdout;
			break;
		case 'j':
			o->json_path = optarg;
			break;
		case 'p':
			o->ptdump = PTDUMP_CPU0;
			if (!optarg)
				break;
			/* The live pgds come from the events. */
			o->cfg.record = true;
			if (!strcmp(optarg, "all"))
				o->ptdump = PTDUMP_ALL;
			else if (vmm_parse_u64(optarg, PT_ADDR_MASK, &o->ptdump_pgd, NULL) && !(o->ptdump_pgd & 0x1f))
				o->ptdump = PTDUMP_PGD;	/* a PAE pgd is 32 bytes: CR3 bits 31:5 */
			else
				return bad(err, errlen, "--ptdump=%s: expected all or a pgd's address (32-byte aligned)",
					   optarg);
			break;
		case 'g':
			if (!vmm_parse_u64(optarg, 65535, &n, NULL))
				return bad(err, errlen, "--gdb '%s': a TCP port from 0 (any free one) to 65535", optarg);
			o->gdb_port = n;
			break;
		case 'X':
			o->script.file = optarg;
			break;
		case 'e':
			if (o->script.nlines == SCRIPT_MAX_E)
				return bad(err, errlen, "-e '%s': at most " __stringify(SCRIPT_MAX_E) " of them", optarg);
			o->script.lines[o->script.nlines++] = optarg;
			break;
		case 'A':
			o->script.tap = true;
			break;
		case 'H':
			o->shell = true;
			break;
		case 'r':
			o->profile = true;
			if (optarg && !*optarg)
				return bad(err, errlen, "--profile=%s: an empty file name", optarg);
			o->profile_path = optarg;
			break;
		case 'z':
			if (!vmm_parse_u64(optarg, 1000000, &n, NULL) || !n)
				return bad(err, errlen, "--profile-hz '%s': samples per second, 1 to 1000000", optarg);
			o->profile = true;
			o->profile_hz = n;
			break;
		case 'h':
			return OPT_HELP;
		case 'V':
			return OPT_VERSION;
		default:
			return OPT_BAD;	/* getopt_long() said why */
		}
	}
	if (optind != argc - 1)
		return OPT_BAD;
	if (o->cfg.trace && o->json_path && !strcmp(o->json_path, "-"))
		return bad(err, errlen, "--trace and --json %s: both write to stdout; give --json a file",
			   o->json_path);
	/* The watchdog would count the time the guest sits stopped in gdb. */
	if (o->gdb_port >= 0 && timeout_given) {
		snprintf(err, errlen, "--gdb with --timeout: the watchdog would count the time stopped in gdb");
		return OPT_BAD;
	}
	if (o->gdb_port >= 0 && o->profile) {
		snprintf(err, errlen, "--gdb with --profile: both need the guest's debug state");
		return OPT_BAD;
	}
	if (o->gdb_port >= 0) {
		o->cfg.timeout_ms = 0;
		o->cfg.record = true;	/* for `monitor events` */
	}
	o->cfg.guest = argv[optind];
	return script_options(o, err, errlen);
}
