/*
 * make bench: boot latency and memory, the guest's fault path against its
 * floor and against Linux on the host, and the event channel.  Every
 * figure is the median of repeated runs with its min and max; it reports,
 * it never asserts.  Prints a table and writes JSON (argv[1]).
 *
 * usage: bench BUILD_DIR JSON_OUT PAGES TEST_SECONDS TEST_COUNT
 * (the last two: how long `make test` took and how many tests it ran,
 * measured by scripts/bench.sh, which runs this.)
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "libvmm.h"
#include "timing.h"

#define RUNS	9
#define FAULT_BASE	(256ULL << 20)

extern char **environ;

struct figure {
	const char *name, *unit;
	double median, min, max;
	const char *beside;		/* what it is set against, or NULL */
};

static struct figure figures[32];
static unsigned int nfigures;

static void add(const char *name, const char *unit, double *v, unsigned int n, const char *beside)
{
	struct figure *f = &figures[nfigures++];

	qsort(v, n, sizeof(*v), cmp_double);
	*f = (struct figure){ name, unit, v[n / 2], v[0], v[n - 1], beside };
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench: %s: %s\n", what, why);
	exit(1);
}

/* One run of a command: wall seconds and peak RSS in MiB (wait4's rusage). */
static void run_cmd(char *const argv[], double *secs, double *rss_mib)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	double t0 = now();
	pid_t pid;
	int ws;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ))
		die(argv[0], strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	if (wait4(pid, &ws, 0, &ru) != pid || !WIFEXITED(ws))
		die(argv[0], "did not exit");
	*secs = now() - t0;
	*rss_mib = ru.ru_maxrss / 1024.0;
}

static void bench_boot(const char *build)
{
	char vmm[512], guest[512], foreign[512];
	char *pw_argv[] = { vmm, "--workload", "ops", guest, NULL };
	char *fg_argv[] = { vmm, foreign, NULL };
	double t[RUNS], rss[RUNS];

	snprintf(vmm, sizeof(vmm), "%s/vmm", build);
	snprintf(guest, sizeof(guest), "%s/guest.elf", build);
	snprintf(foreign, sizeof(foreign), "%s/tests/guests/foreign.elf", build);
	/* The pagewalk guest boots, asks for its first op and is told to exit. */
	for (int i = 0; i < RUNS; i++) {
		run_cmd(pw_argv, &t[i], &rss[i]);
		t[i] *= 1e3;
	}
	add("boot to exit, pagewalk guest", "ms", t, RUNS, "target < 3 ms; QEMU microvm ~39 ms");
	add("peak RSS, pagewalk guest", "MiB", rss, RUNS, "target < 8 MiB; QEMU microvm ~39 MiB");
	for (int i = 0; i < RUNS; i++) {
		run_cmd(fg_argv, &t[i], &rss[i]);
		t[i] *= 1e3;
	}
	add("boot to exit, 12-instruction guest", "ms", t, RUNS, "the VMM's own cost");
	add("peak RSS, 12-instruction guest", "MiB", rss, RUNS, NULL);
}

static struct vm *boot_vm(const char *build, unsigned int cpus)
{
	struct vmm_config cfg;
	char guest[512], err[512];
	struct vm *vm;

	snprintf(guest, sizeof(guest), "%s/guest-test.elf", build);	/* bench_faults */
	vmm_config_init(&cfg, guest);
	cfg.workload = PW_WORKLOAD_OPS;
	cfg.console = NULL;
	cfg.ncpus = cpus;
	cfg.timeout_ms = 600000;
	if (vm_create(&cfg, &vm, err, sizeof(err)) != VMM_OK)
		die("vm_create", err);
	return vm;
}

/* VM_OP on `cpu` that must complete; gives the op's result. */
#define op(vm, cpu, name, out, ...) ({						\
	int64_t __res;								\
										\
	if (VM_OP((vm), (cpu), name, &__res, (out), __VA_ARGS__) != VMM_OK)	\
		die(#name, vm_message(vm));					\
	__res;									\
})

/* A task with `pages` mapped at FAULT_BASE and its trampoline already faulted in. */
static uint64_t fresh_task(struct vm *vm, unsigned int cpu, uint64_t pages)
{
	uint64_t t = op(vm, cpu, task_create, NULL);

	op(vm, cpu, mmap, NULL, t, FAULT_BASE, pages * 4096, PW_PROT_READ | PW_PROT_WRITE);
	op(vm, cpu, touch, NULL, t, PW_USER_TRAMPOLINE, PW_ACCESS_READ, true, 0);
	return t;
}

/* TSC ticks per microsecond, measured against CLOCK_MONOTONIC over 200 ms. */
static double tsc_per_us(void)
{
	double t0 = now();
	uint64_t c0 = __rdtsc();

	usleep(200000);
	return (__rdtsc() - c0) / ((now() - t0) * 1e6);
}

static void bench_faults(const char *build, uint64_t pages)
{
	double core[RUNS / 2 + 1], bare[RUNS / 2 + 1], ratio[RUNS / 2 + 1], rate1[3], rate2[3];
	const unsigned int runs = RUNS / 2 + 1;
	struct vm *vm = boot_vm(build, 2);
	double tsc = tsc_per_us();
	struct pw_bench_faults_out out;

	/* page_fault1 through the full paging core, then against the bare handler. */
	for (unsigned int r = 0; r < runs; r++) {
		uint64_t t = fresh_task(vm, 0, pages);

		core[r] = op(vm, 0, bench_faults, &out, t, FAULT_BASE, pages, false) / (double)pages;
		if (out.faults != pages)
			die("bench_faults", "the core did not take one fault per page");
		op(vm, 0, task_exit, NULL, t);
		t = fresh_task(vm, 0, pages);
		bare[r] = op(vm, 0, bench_faults, &out, t, FAULT_BASE, pages, true) / (double)pages;
		op(vm, 0, task_exit, NULL, t);
		ratio[r] = core[r] / bare[r];
	}
	add("demand fault, full paging core", "cycles", core, runs, "guest rdtsc per fault");
	add("demand fault, bare #PF handler (floor)", "cycles", bare, runs, "same loop, same boot");
	add("full core / floor", "x", ratio, runs, "target <= 1.3");
	for (unsigned int r = 0; r < runs; r++)
		core[r] /= tsc;
	add("demand fault, full paging core", "us", core, runs, NULL);

	/* Faults per second per vCPU, one vCPU alone, then two at once on two tasks. */
	for (unsigned int r = 0; r < 3; r++) {
		uint64_t t0 = fresh_task(vm, 0, pages), t1 = fresh_task(vm, 1, pages);
		double w0 = now(), w;
		int64_t res;

		op(vm, 0, bench_faults, NULL, t0, FAULT_BASE, pages, false);
		rate1[r] = pages / (now() - w0);
		op(vm, 0, task_exit, NULL, t0);
		t0 = fresh_task(vm, 0, pages);
		w0 = now();
		if (VM_OP_START(vm, 0, bench_faults, t0, FAULT_BASE, pages, false) ||
		    VM_OP_START(vm, 1, bench_faults, t1, FAULT_BASE, pages, false))
			die("vm_op_start", vm_message(vm));
		if (vm_op_wait(vm, 0, &res, NULL) || vm_op_wait(vm, 1, &res, NULL))
			die("vm_op_wait", vm_message(vm));
		w = now() - w0;
		rate2[r] = pages / w;
		op(vm, 0, task_exit, NULL, t0);
		op(vm, 0, task_exit, NULL, t1);
	}
	add("faults/s per vCPU, 1 vCPU", "/s", rate1, 3, NULL);
	add("faults/s per vCPU, 2 vCPUs at once", "/s", rate2, 3, NULL);
	vm_destroy(vm);
}

static void bench_host_linux(const char *build)
{
	char cmd[600], line[64];
	double rate[1];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s/page_fault1", build);
	p = popen(cmd, "r");
	if (!p || !fgets(line, sizeof(line), p))
		die(cmd, "no output");
	pclose(p);
	rate[0] = atof(line);
	add("faults/s, Linux on the host (page_fault1, 128 MiB)", "/s", rate, 1, "median of 9 rounds");
}

/* The profile of the region just stopped, as vmm --profile=FILE writes it. */
static void save_profile(struct vm *vm, const char *build, const char *name)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/profile-%s.txt", build, name);
	if (!(f = fopen(path, "w")) || vm_profile_report(vm, f) != VMM_OK || fclose(f))
		die(path, "cannot write it");
	snprintf(path, sizeof(path), "%s/profile-%s.folded", build, name);
	if (!(f = fopen(path, "w")) || vm_profile_folded(vm, f) != VMM_OK || fclose(f))
		die(path, "cannot write it");
}

/* Ring-0 instructions of one op, single-stepped (vm_profile_start()). */
static double op_instructions(struct vm *vm, const char *build, const char *name, enum pw_op o,
			      const union pw_op_args *args)
{
	struct vm_profile_totals t;
	int64_t res;

	if (vm_profile_start(vm, 0) != VMM_OK || vm_op(vm, 0, o, args, &res, NULL) != VMM_OK ||
	    vm_profile_stop(vm) != VMM_OK)
		die("profile", vm_message(vm));
	vm_profile_totals(vm, &t);
	if (name)
		save_profile(vm, build, name);
	return t.ring0;
}

/*
 * One #PF's ring-0 instructions in the profile just taken: the stub's
 * (vector_14: pushq, jmp) and all under common_exception, which also
 * holds the one #UD that ends the op (a few dozen, spread over the faults).
 */
static double pf_path(struct vm *vm, uint64_t faults)
{
	uint64_t stub, stub_incl, self, entry;

	if (!vm_profile_symbol(vm, "vector_14", &stub, &stub_incl) ||
	    !vm_profile_symbol(vm, "common_exception", &self, &entry))
		die("profile", "no vector_14 or common_exception in the guest");
	return (double)(stub + entry) / faults;
}

/*
 * Exact counts, the same on every host: boot to the op loop (the first
 * op's instructions less a second identical op's), at 256 MiB and 1 GiB,
 * one demand fault through the core and through the floor (the #PF path
 * of an op of PROFILE_PAGES faults, divided), and one event through the
 * channel (an emit op of PROFILE_EVENTS, divided).  Profiles in
 * BUILD/profile-*.txt and .folded.
 */
#define PROFILE_PAGES	64
#define PROFILE_EVENTS	1000

static void bench_instructions(const char *build)
{
	const union pw_op_args echo = { .echo = { 0, 0 } };
	double boot[2], per_gib[1], core[1], bare[1], ratio[1], per_event[1];
	const uint64_t mem[2] = { 256ULL << 20, 1ULL << 30 };

	for (unsigned int i = 0; i < 2; i++) {
		struct vmm_config cfg;
		char guest[512], err[512];
		struct vm *vm;

		snprintf(guest, sizeof(guest), "%s/guest-test.elf", build);
		vmm_config_init(&cfg, guest);
		cfg.workload = PW_WORKLOAD_OPS;
		cfg.mem_bytes = mem[i];
		cfg.timeout_ms = 600000;
		if (vm_create(&cfg, &vm, err, sizeof(err)) != VMM_OK)
			die("vm_create", err);
		boot[i] = op_instructions(vm, build, i ? NULL : "boot", PW_OP_ECHO, &echo);
		boot[i] -= op_instructions(vm, build, NULL, PW_OP_ECHO, &echo);
		if (!i) {
			uint64_t t = fresh_task(vm, 0, PROFILE_PAGES);
			union pw_op_args a = { .bench_faults = { t, FAULT_BASE, PROFILE_PAGES, false } };

			op_instructions(vm, build, "fault-core", PW_OP_BENCH_FAULTS, &a);
			core[0] = pf_path(vm, PROFILE_PAGES);
			op(vm, 0, task_exit, NULL, t);
			a.bench_faults.task = fresh_task(vm, 0, PROFILE_PAGES);
			a.bench_faults.floor = true;
			op_instructions(vm, build, "fault-floor", PW_OP_BENCH_FAULTS, &a);
			bare[0] = pf_path(vm, PROFILE_PAGES);
			ratio[0] = core[0] / bare[0];
			a = (union pw_op_args){ .emit = { PROFILE_EVENTS } };
			per_event[0] = op_instructions(vm, build, "emit", PW_OP_EMIT, &a) / PROFILE_EVENTS;
		}
		vm_destroy(vm);
	}
	per_gib[0] = (boot[1] - boot[0]) / 0.75;
	add("boot to op loop, 256 MiB, ring-0 instructions", "", &boot[0], 1, "exact; issue 18: 183 169");
	add("boot to op loop, 1 GiB, ring-0 instructions", "", &boot[1], 1, "exact");
	add("boot growth per GiB of RAM, ring-0 instructions", "", per_gib, 1, "issue 18: 29 300");
	add("demand fault, full core, ring-0 instructions", "", core, 1, "the #PF path; issue 18: 621.6");
	add("demand fault, floor, ring-0 instructions", "", bare, 1, "the #PF path; issue 18: 141.4");
	add("full core / floor, instructions", "x", ratio, 1, "issue 18: 4.4x");
	add("channel, ring-0 instructions per event", "", per_event, 1, "emit op; issue 18: ~78");
}

/* 20000 events: with guest code emulated, about 2.5 s a run on nested hosts. */
static void bench_channel(const char *build)
{
	const uint64_t n = 20000;
	double rate[RUNS / 2 + 1], exits[RUNS / 2 + 1];
	const int runs = RUNS / 2 + 1;

	for (int r = 0; r < runs; r++) {
		struct vm *vm = boot_vm(build, 1);
		const struct vmm_stats *st = vm_stats(vm);
		uint64_t e0, intr0;
		double t0;

		op(vm, 0, echo, NULL, 0, 0);
		e0 = st->exits;
		intr0 = st->exits_by_kind[VMM_EXIT_INTR];
		t0 = now();
		op(vm, 0, emit, NULL, n);
		rate[r] = n / (now() - t0);
		exits[r] = (st->exits - e0 - (st->exits_by_kind[VMM_EXIT_INTR] - intr0)) * 1000.0 / n;
		vm_destroy(vm);
	}
	add("channel, events/s guest to host", "/s", rate, runs, "target >= 1 M/s");
	add("channel, VM exits per 1000 events", "", exits, runs, "target <= 2");
}

static void report(const char *json_path)
{
	FILE *j = fopen(json_path, "w");

	if (!j)
		die(json_path, strerror(errno));
	printf("%-52s %14s %14s %14s  %s\n", "figure", "median", "min", "max", "beside it");
	fprintf(j, "[\n");
	for (unsigned int i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];

		printf("%-52s %10.4g %-3s %10.4g %-3s %10.4g %-3s  %s\n", f->name, f->median, f->unit,
		       f->min, f->unit, f->max, f->unit, f->beside ? f->beside : "");
		fprintf(j, "  {\"name\":\"%s\",\"unit\":\"%s\",\"median\":%g,\"min\":%g,\"max\":%g}%s\n",
			f->name, f->unit, f->median, f->min, f->max, i + 1 < nfigures ? "," : "");
	}
	fprintf(j, "]\n");
	fclose(j);
}

int main(int argc, char **argv)
{
	double test_secs[1], test_count[1];

	if (argc != 6)
		die("usage", "bench BUILD_DIR JSON_OUT PAGES TEST_SECONDS TEST_COUNT");
	bench_boot(argv[1]);
	bench_faults(argv[1], strtoull(argv[3], NULL, 10));
	bench_instructions(argv[1]);
	bench_host_linux(argv[1]);
	bench_channel(argv[1]);
	test_secs[0] = atof(argv[4]);
	test_count[0] = atof(argv[5]);
	add("make test, wall time", "s", test_secs, 1, "one run");
	add("make test, tests run", "", test_count, 1, NULL);
	report(argv[2]);
	return 0;
}
