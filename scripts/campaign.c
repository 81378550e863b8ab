/*
 * Fault-injection campaigns: a matrix of sites x attributes x seeds (and a
 * fail-nth sweep), each run one `vmm --workload faults` boot, run in
 * parallel; one JSON line per run, then a summary table of outcomes per
 * site.  --shard K/N runs every N-th run from the K-th, so that a CI matrix
 * spreads one campaign over N runners; --merge joins their JSON lines into
 * one summary.  A site that no run ever called (its calls, not only its
 * failures, all 0) is flagged unreachable rather than counted as clean.
 */
#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pagewalk/boot.h>

#define MAX_JOBS	64
#define USAGE								\
	"usage: campaign [options] BUILD_DIR > runs.jsonl\n"			\
	"       campaign --merge FILE...\n"					\
	"Runs `BUILD_DIR/vmm --workload faults` over sites x attributes x seeds, then a\n" \
	"fail-nth sweep; one JSON line per run on stdout, a summary on stderr.\n"	\
	"  -j, --jobs N       boots at a time, 1 to 64 (default 2)\n"		\
	"  -s, --seeds N      seeds per site and attribute (default 3)\n"		\
	"  -k, --shard K/N    only every N-th run from the K-th (a CI matrix)\n"	\
	"  -q, --quick        one attribute per site and fail-nth 1 to 3\n"		\
	"      --merge FILE.. one summary from shards' JSON lines (each run once)\n" \
	"  -h, --help         this text\n"

extern char **environ;

static const char *const sites[] = { "pgtable_alloc", "page_alloc", "ptlock_alloc", "vmalloc", "pgd_alloc" };
static const char *const attrs[] = { "probability=10", "probability=50", "times=1", "interval=2",
				     "interval=3,times=2" };
#define FAIL_NTH_MAX	30	/* past the faults workload's injectable calls */

/*
 * How a run ended, from vmm's status and the guest's; a sanitizer report
 * (under SANITIZE=1, exit status 1 like a guest panic) and a vmm killed by
 * a signal are outcomes of their own, with their first line in "report".
 */
static const char *const outcomes[] = { "untouched", "survived", "leak", "panic", "watchdog",
					"triple-fault", "vmm-error", "sanitizer", "crash" };
enum { UNTOUCHED, SURVIVED, LEAK, PANIC, WATCHDOG, TRIPLE_FAULT, VMM_ERROR, SANITIZER, CRASH,
       OUTCOMES };

struct run {
	unsigned int index;
	char spec[64];		/* --inject, or "" for fail-nth */
	unsigned int fail_nth, seed;
	int status;		/* vmm's exit status, 128 + the signal that killed it */
	unsigned int injected, calls;	/* failures injected, in calls that could fail */
	int outcome;
	char report[160];	/* for sanitizer and crash: what vmm said, or the signal */
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "campaign: %s: %s\n", what, why);
	exit(2);
}

/* A whole number in [min, max], or die naming the option. */
static unsigned int number(const char *opt, const char *s, unsigned int min, unsigned int max)
{
	char *end, why[64];
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		snprintf(why, sizeof(why), "'%s': from %u to %u", s, min, max);
		die(opt, why);
	}
	return v;
}

static int classify(int ws, const char *out, const char *err, unsigned int injected)
{
	if (strstr(err, "Sanitizer") || strstr(err, "runtime error:"))
		return SANITIZER;
	if (!WIFEXITED(ws))
		return CRASH;
	switch (WEXITSTATUS(ws)) {
	case 0:
		return injected ? SURVIVED : UNTOUCHED;
	case 1:
		/* A panic is the guest's word, in vmm's summary; without it vmm failed. */
		if (!strstr(err, "guest exited with status"))
			return VMM_ERROR;
		return strstr(out, "pages missing") && !strstr(out, " 0 pages missing") ? LEAK : PANIC;
	case 3:
		return TRIPLE_FAULT;
	case 4:
		return WATCHDOG;
	default:
		return VMM_ERROR;
	}
}

/* One boot of the faults workload; the console tells how many failures were injected. */
static void start_run(const char *build, struct run *r, pid_t *pid, FILE **out, FILE **err)
{
	char vmm[512], guest[512], nth[16], seed[16];
	const char *argv[12];
	int n = 0, fds[2];
	posix_spawn_file_actions_t fa;

	snprintf(vmm, sizeof(vmm), "%s/vmm", build);
	snprintf(guest, sizeof(guest), "%s/guest.elf", build);
	snprintf(seed, sizeof(seed), "%u", r->seed);
	argv[n++] = vmm;
	argv[n++] = "--workload";
	argv[n++] = PW_WORKLOAD_FAULTS;
	argv[n++] = "--seed";
	argv[n++] = seed;
	if (r->fail_nth) {
		snprintf(nth, sizeof(nth), "%u", r->fail_nth);
		argv[n++] = "--fail-nth";
		argv[n++] = nth;
	} else {
		argv[n++] = "--inject";
		argv[n++] = r->spec;
	}
	argv[n++] = guest;
	argv[n] = NULL;
	/* stderr to a file, not a second pipe: no deadlock on whichever fills first. */
	*err = tmpfile();
	if (!*err || pipe(fds))
		die("pipe", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fileno(*err), 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	if (posix_spawn(pid, vmm, &fa, NULL, (char *const *)argv, environ))
		die(vmm, strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	*out = fdopen(fds[0], "r");
}

/* The first line of the sanitizer's report, JSON-safe. */
static void first_report_line(struct run *r, const char *err)
{
	const char *p = strstr(err, "Sanitizer") ? strstr(err, "Sanitizer") : strstr(err, "runtime error:");
	size_t n = 0;

	while (p > err && p[-1] != '\n')
		p--;
	for (; *p && *p != '\n' && n < sizeof(r->report) - 1; p++)
		r->report[n++] = *p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ? '\'' : *p;
	r->report[n] = '\0';
}

static void finish_run(struct run *r, pid_t pid, FILE *out, FILE *err)
{
	char text[4096] = "", errtext[16384] = "";
	size_t len = fread(text, 1, sizeof(text) - 1, out);
	const char *p;
	int ws;

	text[len] = '\0';
	fclose(out);
	if (waitpid(pid, &ws, 0) != pid)
		die("waitpid", strerror(errno));
	rewind(err);
	len = fread(errtext, 1, sizeof(errtext) - 1, err);
	errtext[len] = '\0';
	fclose(err);
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	p = strstr(text, "faults workload: ");
	if (!p || sscanf(p, "faults workload: %u failures injected in %u calls", &r->injected,
			 &r->calls) != 2)
		r->injected = r->calls = 0;
	r->outcome = classify(ws, text, errtext, r->injected);
	if (r->outcome == SANITIZER)
		first_report_line(r, errtext);
	else if (r->outcome == CRASH)
		snprintf(r->report, sizeof(r->report), "killed by signal %d (%s)", WTERMSIG(ws),
			 strsignal(WTERMSIG(ws)));
}

static void print_run(const struct run *r)
{
	printf("{\"run\":%u,\"inject\":\"%s\",\"fail_nth\":%u,\"seed\":%u,\"status\":%d,"
	       "\"injected\":%u,\"calls\":%u,\"outcome\":\"%s\"", r->index, r->spec, r->fail_nth,
	       r->seed, r->status, r->injected, r->calls, outcomes[r->outcome]);
	if (r->report[0])
		printf(",\"report\":\"%s\"", r->report);
	printf("}\n");
	fflush(stdout);
}

/* Summary: per site (or "fail-nth"), runs by outcome. */
struct tally {
	char name[32];
	unsigned int n[OUTCOMES];
	unsigned long calls;
};

static struct tally tallies[16];
static unsigned int ntallies;

static void count(const char *spec, unsigned int fail_nth, int outcome, unsigned int calls)
{
	char name[32];
	unsigned int i;

	snprintf(name, sizeof(name), "%.*s", fail_nth ? 8 : (int)strcspn(spec, ":"),
		 fail_nth ? "fail-nth" : spec);
	for (i = 0; i < ntallies && strcmp(tallies[i].name, name); i++)
		;
	if (i == ntallies) {
		if (ntallies == sizeof(tallies) / sizeof(tallies[0]))
			die("summary", "too many sites");
		snprintf(tallies[ntallies++].name, sizeof(tallies[0].name), "%s", name);
	}
	tallies[i].n[outcome]++;
	tallies[i].calls += calls;
}

static void summary(void)
{
	fprintf(stderr, "%-14s", "site");
	for (int o = 0; o < OUTCOMES; o++)
		fprintf(stderr, " %12s", outcomes[o]);
	fprintf(stderr, "\n");
	for (unsigned int i = 0; i < ntallies; i++) {
		fprintf(stderr, "%-14s", tallies[i].name);
		for (int o = 0; o < OUTCOMES; o++)
			fprintf(stderr, " %12u", tallies[i].n[o]);
		fprintf(stderr, "\n");
	}
	for (unsigned int i = 0; i < ntallies; i++)
		if (!tallies[i].calls)
			fprintf(stderr, "campaign: %s: unreachable: no run called it, so none could fail "
				"there; its runs say nothing of its error paths\n", tallies[i].name);
}

/* On a terminal, one line that rewrites itself: runs done, outcomes so far, time left. */
static void progress(unsigned int done, unsigned int total, time_t t0)
{
	unsigned int n[OUTCOMES] = { 0 };
	long left;

	if (!isatty(2))
		return;
	for (unsigned int i = 0; i < ntallies; i++)
		for (int o = 0; o < OUTCOMES; o++)
			n[o] += tallies[i].n[o];
	left = done ? (long)(time(NULL) - t0) * (total - done) / done : 0;
	fprintf(stderr, "\rcampaign: %u/%u runs", done, total);
	for (int o = 0; o < OUTCOMES; o++)
		if (n[o])
			fprintf(stderr, ", %s %u", outcomes[o], n[o]);
	fprintf(stderr, ", about %ld:%02ld left \033[K%s", left / 60, left % 60,
		done == total ? "\n" : "");
}

/* Shards' JSON lines: every run at most once, and at least one run. */
static int merge(int argc, char **argv)
{
	static bool seen[4096];
	unsigned int total = 0;

	if (!argc)
		die("--merge", "no files");
	for (int i = 0; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		char line[512], spec[64], outcome[32], why[64];
		unsigned int run, nth, calls;

		if (!f)
			die(argv[i], strerror(errno));
		while (fgets(line, sizeof(line), f)) {
			const char *o = strstr(line, "\"outcome\":\""), *s = strstr(line, "\"inject\":\""),
				   *n = strstr(line, "\"fail_nth\":"), *c = strstr(line, "\"calls\":");
			int k;

			if (sscanf(line, "{\"run\":%u,", &run) != 1 || !o || !s || !n || !c ||
			    sscanf(n, "\"fail_nth\":%u", &nth) != 1 ||
			    sscanf(c, "\"calls\":%u", &calls) != 1 ||
			    sscanf(o, "\"outcome\":\"%31[^\"]\"", outcome) != 1)
				die(argv[i], "not a campaign JSON line");
			if (s[strlen("\"inject\":\"")] == '"')
				spec[0] = '\0';
			else if (sscanf(s, "\"inject\":\"%63[^\"]\"", spec) != 1)
				die(argv[i], "not a campaign JSON line");
			for (k = 0; k < OUTCOMES && strcmp(outcomes[k], outcome); k++)
				;
			if (k == OUTCOMES)
				die(argv[i], "unknown outcome");
			if (run >= sizeof(seen) || seen[run]) {
				snprintf(why, sizeof(why), "run %u twice (the same shard merged twice?)", run);
				die(argv[i], why);
			}
			seen[run] = true;
			count(spec, nth, k, calls);
			total++;
		}
		fclose(f);
	}
	if (!total)
		die("--merge", "no runs in the files");
	summary();
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' }, { "seeds", required_argument, NULL, 's' },
		{ "shard", required_argument, NULL, 'k' }, { "quick", no_argument, NULL, 'q' },
		{ "merge", no_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int jobs = 2, seeds = 3, shard = 1, shards = 1, nruns = 0, nattrs, done = 0, mine;
	bool quick = false;
	struct run *runs;
	time_t t0 = time(NULL);
	int opt;

	while ((opt = getopt_long(argc, argv, "j:s:k:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': jobs = number("--jobs", optarg, 1, MAX_JOBS); break;
		case 's': seeds = number("--seeds", optarg, 1, 1000); break;
		case 'k':
			if (sscanf(optarg, "%u/%u", &shard, &shards) != 2 || !shard || shard > shards)
				die("--shard", "K/N with 1 <= K <= N");
			break;
		case 'q': quick = true; break;
		case 'm': return merge(argc - optind, argv + optind);
		case 'h': fputs(USAGE, stdout); return 0;
		default: fputs(USAGE, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(USAGE, stderr);
		return 2;
	}
	nattrs = quick ? 1 : sizeof(attrs) / sizeof(attrs[0]);
	runs = calloc(5 * nattrs * seeds + FAIL_NTH_MAX, sizeof(*runs));
	if (!runs)
		die("calloc", strerror(errno));
	for (unsigned int s = 0; s < 5; s++)
		for (unsigned int a = 0; a < nattrs; a++)
			for (unsigned int seed = 1; seed <= seeds; seed++, nruns++) {
				runs[nruns].seed = seed;
				snprintf(runs[nruns].spec, sizeof(runs[nruns].spec), "%s:%s", sites[s], attrs[a]);
			}
	for (unsigned int n = 1; n <= (quick ? 3 : FAIL_NTH_MAX); n++, nruns++) {
		runs[nruns].fail_nth = n;
		runs[nruns].seed = 1;
	}
	mine = nruns >= shard ? (nruns - shard) / shards + 1 : 0;

	/* Run i is shard K's if i % N == K - 1; up to `jobs` boots at a time. */
	for (unsigned int i = shard - 1; i < nruns;) {
		pid_t pids[MAX_JOBS];
		FILE *outs[MAX_JOBS], *errs[MAX_JOBS];
		unsigned int batch[MAX_JOBS], nb = 0;

		for (; i < nruns && nb < jobs; i += shards) {
			runs[i].index = i;
			start_run(argv[optind], &runs[i], &pids[nb], &outs[nb], &errs[nb]);
			batch[nb++] = i;
		}
		for (unsigned int b = 0; b < nb; b++) {
			struct run *r = &runs[batch[b]];

			finish_run(r, pids[b], outs[b], errs[b]);
			print_run(r);
			count(r->spec, r->fail_nth, r->outcome, r->calls);
			progress(++done, mine, t0);
		}
	}
	summary();
	free(runs);
	return 0;
}
