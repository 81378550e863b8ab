/*
 * make bench: boot latency and memory beside QEMU microvm's, the guest's
 * fault path against its floor and against Linux on the host, the event
 * channel, and exact ring-0 instruction counts.  Every figure is the
 * median of repeated runs with its min and max; it reports, it never
 * asserts.  Prints a table and writes JSON: the host, the commit, the
 * paging mode, every figure, and the data of the plots
 * (scripts/bench-plot.sh).  README, "Benchmarks".
 *
 * usage: bench [--pages N] [--commit REV] [--qemu PATH] [--make-test SECS,COUNT]
 *              BUILD_DIR JSON_OUT
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bench_host.h"
#include "libvmm.h"
#include "timing.h"

#define RUNS	9
#define FAULT_BASE	(256ULL << 20)
#define CMD_TIMEOUT	20		/* seconds: a command past it is killed and named */

extern char **environ;

struct figure {
	const char *name, *unit;
	double median, min, max;
	unsigned int runs;
	const char *beside;		/* what it is set against, or NULL */
};

static struct figure figures[64];
static unsigned int nfigures;

/* The plots' data: boot instructions by RAM size, the fault's instructions by symbol. */
#define BOOT_SIZES	6
static const unsigned int boot_mib[BOOT_SIZES] = { 128, 256, 512, 1024, 2048, 4096 };
static double boot_instr[BOOT_SIZES];
#define FAULT_SYMS	12
static struct {
	char name[64];
	double self, incl;
} fault_sym[FAULT_SYMS];
static unsigned int nfault_syms;

static unsigned int paging_levels;
static char qemu_status[256] = "not installed here: not measured";

/* A string that lives to the end (figure names and their comparisons). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s ? s : "";
}

/* What this host would not let the bench measure, and why: printed and in the JSON. */
static const char *notes[32];
static unsigned int nnotes;

static void note(const char *why)
{
	for (unsigned int i = 0; i < nnotes; i++)
		if (!strcmp(notes[i], why))
			return;
	if (nnotes < sizeof(notes) / sizeof(notes[0]))
		notes[nnotes++] = why;
}

/* A figure; one that this host could not measure (NAN) is left out, and said so. */
static void add(const char *name, const char *unit, double *v, unsigned int n, const char *beside)
{
	for (unsigned int i = 0; i < n; i++)
		if (isnan(v[i])) {
			note(fmt("left out: %s", name));
			return;
		}
	if (nfigures == sizeof(figures) / sizeof(figures[0])) {
		fprintf(stderr, "bench: more figures than the table holds\n");
		exit(1);
	}
	qsort(v, n, sizeof(*v), cmp_double);
	figures[nfigures++] = (struct figure){ name, unit, v[n / 2], v[0], v[n - 1], n, beside };
}

/*
 * A figure for people, never in exponent form: from 1000 up the integer
 * it rounds to in groups of three ("132 810"), below that four
 * significant digits ("651.2", "0.3500"), an integer as it is ("158").
 */
static const char *human(double v)
{
	char digits[64], *out = malloc(96);
	size_t n, o = 0;

	if (!out)
		return "";
	if (fabs(v) < 1000) {
		int decimals = v == floor(v) ? 0 : 3 - (int)floor(log10(fabs(v)));

		snprintf(out, 96, "%.*f", decimals < 0 ? 0 : decimals > 6 ? 6 : decimals, v);
		return out;
	}
	snprintf(digits, sizeof(digits), "%.0f", fabs(v));
	n = strlen(digits);
	if (v < 0)
		out[o++] = '-';
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

static __attribute__((noreturn)) void die(const char *what, const char *why)
{
	fprintf(stderr, "bench: %s: %s\n", what, why);
	exit(1);
}

static void on_alarm(int sig)
{
	(void)sig;		/* only to interrupt wait4() */
}

/*
 * One run of a command, its output to /dev/null and its stderr to
 * `errfile`: wall seconds and peak RSS in MiB (wait4's rusage).  NULL if
 * it exited with `want`, else why not (killed after CMD_TIMEOUT seconds,
 * another status, a signal), with the first line of its stderr.
 */
static const char *run_cmd(char *const argv[], int want, const char *errfile, double *secs,
			   double *rss_mib)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	posix_spawn_file_actions_t fa;
	char line[200] = "";
	struct rusage ru;
	double t0 = now();
	bool late = false;
	const char *why;
	pid_t pid;
	FILE *e;
	int ws;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ))
		return fmt("cannot start %s: %s", argv[0], strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	sigaction(SIGALRM, &sa, NULL);
	alarm(CMD_TIMEOUT);
	while (wait4(pid, &ws, 0, &ru) != pid) {
		if (errno != EINTR)
			return fmt("%s: wait4: %s", argv[0], strerror(errno));
		late = true;
		kill(pid, SIGKILL);
	}
	alarm(0);
	*secs = now() - t0;
	*rss_mib = ru.ru_maxrss / 1024.0;
	if (!late && WIFEXITED(ws) && WEXITSTATUS(ws) == want)
		return NULL;
	if ((e = fopen(errfile, "r"))) {
		if (!fgets(line, sizeof(line), e))
			line[0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		fclose(e);
	}
	why = late ? fmt("did not exit within %d s", CMD_TIMEOUT) :
	      WIFEXITED(ws) ? fmt("exit status %d, not %d", WEXITSTATUS(ws), want) :
	      fmt("killed by signal %d", WTERMSIG(ws));
	return fmt("%s %s%s%s", argv[0], why, line[0] ? ": " : "", line);
}

/* vmm's runs must end as their guest does (README, "Exit statuses"): anything else ends the bench. */
static void run_vmm(char *const argv[], int want, const char *errfile, double *ms, double *rss_mib)
{
	const char *why = run_cmd(argv, want, errfile, ms, rss_mib);

	if (why)
		die("vmm", why);
	*ms *= 1e3;
}

/*
 * vmm beside QEMU microvm on the same image (tests/guests/exit_now.S: it
 * exits at once through isa-debug-exit), the runs interleaved so that
 * the host's load weighs on both alike; QEMU's floor, `--version`, apart.
 * isa-debug-exit makes QEMU exit with (status << 1) | 1: 1 here.
 */
static void bench_boot(const char *build, const char *qemu)
{
	const char *vmm = fmt("%s/vmm", build), *err = fmt("%s/bench-cmd.err", build);
	const char *twin = fmt("%s/tests/guests/exit_now.elf", build);
	char *pw_argv[] = { (char *)vmm, "--workload", "ops", (char *)fmt("%s/guest.elf", build), NULL };
	char *fg_argv[] = { (char *)vmm, (char *)fmt("%s/tests/guests/foreign.elf", build), NULL };
	char *tw_argv[] = { (char *)vmm, "--mem", "16M", (char *)twin, NULL };
	char *q_argv[] = { (char *)qemu, "-M", "microvm", "-accel", "kvm", "-m", "16M", "-nodefaults",
			   "-no-user-config", "-display", "none", "-device",
			   "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", (char *)twin, NULL };
	char *qv_argv[] = { (char *)qemu, "--version", NULL };
	double t[RUNS], rss[RUNS], qt[RUNS], qrss[RUNS], vt[RUNS], vrss[RUNS];
	const char *why = NULL;

	for (int i = 0; i < RUNS; i++)
		run_vmm(pw_argv, 0, err, &t[i], &rss[i]);
	add("boot to exit, pagewalk guest", "ms", t, RUNS, "boots, asks for an op, told to exit");
	add("peak RSS, pagewalk guest", "MiB", rss, RUNS, "target < 8 MiB");
	for (int i = 0; i < RUNS; i++)
		run_vmm(fg_argv, 1, err, &t[i], &rss[i]);
	add("boot to exit, 12-instruction guest", "ms", t, RUNS, "prints a line, exits with 42");
	add("peak RSS, 12-instruction guest", "MiB", rss, RUNS, NULL);

	for (int i = 0; i < RUNS; i++) {
		run_vmm(tw_argv, 0, err, &t[i], &rss[i]);
		if (qemu && !why && !(why = run_cmd(q_argv, 1, err, &qt[i], &qrss[i])))
			qt[i] *= 1e3;
	}
	if (qemu && why)
		snprintf(qemu_status, sizeof(qemu_status), "cannot run here: %s", why);
	else if (qemu)
		snprintf(qemu_status, sizeof(qemu_status), "measured: %s", qemu);
	add("boot to exit, exit_now guest, vmm", "ms", t, RUNS, "--mem 16M");
	memcpy(vt, t, sizeof(t));
	memcpy(vrss, rss, sizeof(rss));
	add("peak RSS, exit_now guest, vmm", "MiB", rss, RUNS, NULL);
	if (!qemu || why)
		return;
	add("boot to exit, exit_now guest, QEMU microvm", "ms", qt, RUNS,
	    fmt("-accel kvm -m 16M; %s x vmm's", human(qt[RUNS / 2] / vt[RUNS / 2])));
	add("peak RSS, exit_now guest, QEMU microvm", "MiB", qrss, RUNS,
	    fmt("%s x vmm's", human(qrss[RUNS / 2] / vrss[RUNS / 2])));
	for (int i = 0; i < RUNS; i++)
		if ((why = run_cmd(qv_argv, 0, err, &qt[i], &qrss[i])))
			die("qemu --version", why);
		else
			qt[i] *= 1e3;
	add("QEMU's floor: qemu-system-x86_64 --version", "ms", qt, RUNS, "the process alone");
	add("peak RSS, qemu-system-x86_64 --version", "MiB", qrss, RUNS, NULL);
}

static struct vm *boot_vm(const char *build, unsigned int cpus, bool init_on_free)
{
	struct vmm_config cfg;
	char guest[512], err[512];
	struct vm *vm;

	snprintf(guest, sizeof(guest), "%s/guest-test.elf", build);	/* bench_faults */
	vmm_config_init(&cfg, guest);
	cfg.workload = PW_WORKLOAD_OPS;
	cfg.console = NULL;
	cfg.ncpus = cpus;
	cfg.init_on_free = init_on_free;
	cfg.timeout_ms = 600000;
	if (vm_create(&cfg, &vm, err, sizeof(err)) != VMM_OK)
		die("vm_create", err);
	return vm;
}

/* The paging mode the guest runs in, once it is at its op loop. */
static void note_paging(struct vm *vm)
{
	struct vm_paging pg;

	if (vm_cpu_paging(vm, 0, &pg) != VMM_OK)
		die("vm_cpu_paging", vm_message(vm));
	paging_levels = vm_paging_levels(&pg);
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

/*
 * page_fault1 through the full paging core, then against the bare
 * handler, `runs` times; `how` names the guest's boot option in the
 * figures (NULL: none).  Each round's pages are those the last round's
 * task_exit freed, but for the first round's, never allocated.
 */
static void core_and_floor(struct vm *vm, uint64_t pages, double tsc, const char *how)
{
	double core[RUNS / 2 + 1], bare[RUNS / 2 + 1], ratio[RUNS / 2 + 1];
	const unsigned int runs = RUNS / 2 + 1;
	const char *sfx = how ? fmt(", %s", how) : "";
	struct pw_bench_faults_out out;

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
	add(fmt("demand fault, full paging core%s", sfx), "cycles", core, runs, "guest rdtsc per fault");
	add(fmt("demand fault, bare #PF handler (floor)%s", sfx), "cycles", bare, runs,
	    "same loop, same boot");
	add(fmt("full core / floor%s", sfx), "x", ratio, runs, "goal <= 2.0");
	for (unsigned int r = 0; r < runs; r++)
		core[r] /= tsc;
	add(fmt("demand fault, full paging core, time%s", sfx), "us", core, runs, "cycles / TSC rate");
}

static void bench_faults(const char *build, uint64_t pages)
{
	double rate1[3], rate2[3];
	struct vm *vm = boot_vm(build, 2, false);
	double tsc = tsc_per_us();

	op(vm, 0, echo, NULL, 0, 0);
	note_paging(vm);
	core_and_floor(vm, pages, tsc, NULL);
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
	/* The same guest booted with Linux's init_on_free=1: freed pages are zeroed at free. */
	vm = boot_vm(build, 1, true);
	op(vm, 0, echo, NULL, 0, 0);
	core_and_floor(vm, pages, tsc, "init_on_free=1");
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
	if (t.steps_lost) {
		note("KVM stopped single-stepping inside a region on this host (vm_profile_totals()'s "
		     "steps_lost): its instruction counts are short");
		return NAN;
	}
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
	if (!entry) {
		note("single-step did not enter the #PF handler from ring 3 on this host: "
		     "no instruction of the fault path was counted");
		return NAN;
	}
	return (double)(stub + entry) / faults;
}

/*
 * The report's rows of the profile just saved (BUILD/profile-NAME.txt),
 * the FAULT_SYMS most costly by self count, per fault: the plot's bars.
 */
static void read_fault_symbols(const char *build, const char *name, uint64_t faults)
{
	FILE *f = fopen(fmt("%s/profile-%s.txt", build, name), "r");
	char line[512];

	while (f && nfault_syms < FAULT_SYMS && fgets(line, sizeof(line), f)) {
		unsigned long self, incl;
		double p1, p2;
		char sym[64];

		if (line[0] != '#' && sscanf(line, " %lf%% %lu %lf%% %lu %63s", &p1, &self, &p2, &incl, sym) == 5) {
			snprintf(fault_sym[nfault_syms].name, sizeof(fault_sym[0].name), "%s", sym);
			fault_sym[nfault_syms].self = (double)self / faults;
			fault_sym[nfault_syms++].incl = (double)incl / faults;
		}
	}
	if (f)
		fclose(f);
}

/*
 * Exact counts, the same on every host: boot to the op loop (the first
 * op's instructions less a second identical op's) at each of boot_mib's
 * RAM sizes, one demand fault through the core and through the floor (the
 * #PF path of an op of PROFILE_PAGES faults, divided), and one event
 * through the channel (an emit op of PROFILE_EVENTS, divided).  Profiles
 * in BUILD/profile-*.txt and .folded.
 */
#define PROFILE_PAGES	64
#define PROFILE_EVENTS	1000

static void bench_instructions(const char *build)
{
	const union pw_op_args echo = { .echo = { 0, 0 } };
	double per_gib[1], core[1], bare[1], ratio[1], per_event[1];

	for (unsigned int i = 0; i < BOOT_SIZES; i++) {
		struct vmm_config cfg;
		char guest[512], err[512];
		struct vm *vm;

		snprintf(guest, sizeof(guest), "%s/guest-test.elf", build);
		vmm_config_init(&cfg, guest);
		cfg.workload = PW_WORKLOAD_OPS;
		cfg.mem_bytes = (uint64_t)boot_mib[i] << 20;
		cfg.timeout_ms = 600000;
		if (vm_create(&cfg, &vm, err, sizeof(err)) != VMM_OK)
			die("vm_create", err);
		boot_instr[i] = op_instructions(vm, build, cfg.mem_bytes == VMM_DEFAULT_MEM ? "boot" : NULL,
						PW_OP_ECHO, &echo);
		boot_instr[i] -= op_instructions(vm, build, NULL, PW_OP_ECHO, &echo);
		add(fmt("boot to op loop, %u MiB, ring-0 instructions", boot_mib[i]), "", &boot_instr[i], 1,
		    boot_mib[i] == 256 ? "exact; issue 18's goal <= 40 000" : "exact");
		if (cfg.mem_bytes == VMM_DEFAULT_MEM) {
			uint64_t t = fresh_task(vm, 0, PROFILE_PAGES);
			union pw_op_args a = { .bench_faults = { t, FAULT_BASE, PROFILE_PAGES, false } };

			op_instructions(vm, build, "fault-core", PW_OP_BENCH_FAULTS, &a);
			core[0] = pf_path(vm, PROFILE_PAGES);
			if (!isnan(core[0]))
				read_fault_symbols(build, "fault-core", PROFILE_PAGES);
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
	/* boot_mib[1] is 256 MiB, boot_mib[3] 1 GiB. */
	per_gib[0] = (boot_instr[3] - boot_instr[1]) / 0.75;
	add("boot growth per GiB of RAM, 256 MiB to 1 GiB, ring-0 instructions", "", per_gib, 1,
	    "prototype 29 300; goal <= 1 000");
	add("demand fault, full core, ring-0 instructions", "", core, 1, "the #PF path; prototype 621.6");
	add("demand fault, floor, ring-0 instructions", "", bare, 1, "the #PF path; prototype 141.4");
	add("full core / floor, instructions", "x", ratio, 1, "prototype 4.4x; goal <= 2.0");
	add("channel, ring-0 instructions per event", "", per_event, 1, "emit op; issue 18: ~78");
}

/* 20000 events: with guest code emulated, about 2.5 s a run on nested hosts. */
static void bench_channel(const char *build)
{
	const uint64_t n = 20000;
	double rate[RUNS / 2 + 1], exits[RUNS / 2 + 1];
	const int runs = RUNS / 2 + 1;

	for (int r = 0; r < runs; r++) {
		struct vm *vm = boot_vm(build, 1, false);
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
	add("channel, events/s guest to host", "/s", rate, runs, "goal >= 100 000/s");
	add("channel, VM exits per 1000 events", "", exits, runs, "goal <= 0.5");
}

/* A JSON string: what a command printed may hold anything. */
static void json_str(FILE *j, const char *v)
{
	fputc('"', j);
	for (; *v; v++)
		if (*v == '"' || *v == '\\')
			fprintf(j, "\\%c", *v);
		else if ((unsigned char)*v < ' ')
			fprintf(j, "\\u%04x", *v);
		else
			fputc(*v, j);
	fputc('"', j);
}

/* JSON numbers in full: a figure's value as C has it, never rounded to %g's six digits. */
static void json_number(FILE *j, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(j, "%.0f", v);
	else
		fprintf(j, "%.17g", v);
}

static void report(const char *json_path, const char *commit, const struct bench_host *h)
{
	FILE *j = fopen(json_path, "w");
	char host[512];
	time_t t = time(NULL);
	char date[32];

	if (!j)
		die(json_path, strerror(errno));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	bench_host_describe(h, host, sizeof(host));
	printf("host: %s\ncommit: %s; the guest's paging: %u-level; QEMU microvm: %s\n", host, commit,
	       paging_levels, qemu_status);
	for (unsigned int i = 0; i < nnotes; i++)
		printf("note: %s\n", notes[i]);
	printf("\n");
	printf("%-66s %12s %12s %12s %-6s %4s  %s\n", "figure", "median", "min", "max", "unit", "runs",
	       "beside it");
	fprintf(j, "{\n  \"commit\": ");
	json_str(j, commit);
	fprintf(j, ",\n  \"date\": \"%s\",\n", date);
	bench_host_json(h, j);
	fprintf(j, "  \"paging_levels\": %u,\n  \"qemu_microvm\": ", paging_levels);
	json_str(j, qemu_status);
	fprintf(j, ",\n  \"notes\": [");
	for (unsigned int i = 0; i < nnotes; i++) {
		fprintf(j, "%s", i ? ", " : "");
		json_str(j, notes[i]);
	}
	fprintf(j, "],\n  \"figures\": [\n");
	for (unsigned int i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];

		printf("%-66s %12s %12s %12s %-6s %4u  %s\n", f->name, human(f->median), human(f->min),
		       human(f->max), f->unit, f->runs, f->beside ? f->beside : "");
		fprintf(j, "    {\"name\": \"%s\", \"unit\": \"%s\", \"runs\": %u, \"median\": ", f->name, f->unit,
			f->runs);
		json_number(j, f->median);
		fprintf(j, ", \"min\": ");
		json_number(j, f->min);
		fprintf(j, ", \"max\": ");
		json_number(j, f->max);
		fprintf(j, "}%s\n", i + 1 < nfigures ? "," : "");
	}
	fprintf(j, "  ],\n  \"boot_by_ram\": [\n");
	for (unsigned int i = 0, n = 0; i < BOOT_SIZES; i++)
		if (!isnan(boot_instr[i]))
			fprintf(j, "%s    {\"mib\": %u, \"instructions\": %.0f}", n++ ? ",\n" : "", boot_mib[i],
				boot_instr[i]);
	fprintf(j, "\n");
	fprintf(j, "  ],\n  \"fault_by_symbol\": [\n");
	for (unsigned int i = 0; i < nfault_syms; i++) {
		fprintf(j, "    {\"symbol\": \"%s\", \"self\": ", fault_sym[i].name);
		json_number(j, fault_sym[i].self);
		fprintf(j, ", \"inclusive\": ");
		json_number(j, fault_sym[i].incl);
		fprintf(j, "}%s\n", i + 1 < nfault_syms ? "," : "");
	}
	fprintf(j, "  ]\n}\n");
	if (fclose(j))
		die(json_path, strerror(errno));
}

static void usage(void)
{
	die("usage", "bench [--pages N] [--commit REV] [--qemu PATH] [--make-test SECS,COUNT] "
	    "BUILD_DIR JSON_OUT");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", required_argument, NULL, 'p' }, { "commit", required_argument, NULL, 'c' },
		{ "qemu", required_argument, NULL, 'q' }, { "make-test", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	double test_secs[1], test_count[1];
	const char *commit = "unknown", *qemu = NULL;
	bool make_test = false;
	struct bench_host host;
	uint64_t pages = 1024;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pages = strtoull(optarg, &end, 10);
			if (*end || !pages || pages > 65536)
				die("--pages", "a number of pages, 1 to 65536");
			break;
		case 'c':
			commit = optarg;
			break;
		case 'q':
			qemu = *optarg ? optarg : NULL;
			break;
		case 't':
			if (sscanf(optarg, "%lf,%lf", &test_secs[0], &test_count[0]) != 2)
				die("--make-test", "SECONDS,TESTS");
			make_test = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	bench_host_probe(&host);
	bench_boot(argv[optind], qemu);
	bench_faults(argv[optind], pages);
	bench_instructions(argv[optind]);
	bench_host_linux(argv[optind]);
	bench_channel(argv[optind]);
	if (make_test) {
		add("make test, wall time", "s", test_secs, 1, "one run");
		add("make test, tests run", "", test_count, 1, NULL);
	}
	report(argv[optind + 1], commit, &host);
	return 0;
}
