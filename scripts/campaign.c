/*
 * Fault-injection campaigns: a matrix of sites x attributes x seeds (and a
 * fail-nth sweep), each run one `vmm --workload faults` boot, run in
 * parallel; one JSON line per run, then a summary table of outcomes per
 * site.  --shard K/N runs every N-th run from the K-th, so that a CI matrix
 * spreads one campaign over N runners; --merge joins their JSON lines into
 * one summary.
 *
 *   campaign [--jobs J] [--seeds S] [--shard K/N] [--quick] BUILD_DIR > runs.jsonl
 *   campaign --merge runs-1.jsonl runs-2.jsonl ...
 */
#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pagewalk/boot.h>

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
	unsigned int injected;
	int outcome;
	char report[160];	/* for sanitizer and crash: what vmm said, or the signal */
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "campaign: %s: %s\n", what, why);
	exit(2);
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
	r->injected = p ? strtoul(p + strlen("faults workload: "), NULL, 10) : 0;
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
	       "\"injected\":%u,\"outcome\":\"%s\"", r->index, r->spec, r->fail_nth, r->seed,
	       r->status, r->injected, outcomes[r->outcome]);
	if (r->report[0])
		printf(",\"report\":\"%s\"", r->report);
	printf("}\n");
	fflush(stdout);
}

/* Summary: per site (or "fail-nth"), runs by outcome. */
struct tally {
	char name[32];
	unsigned int n[OUTCOMES];
};

static struct tally tallies[16];
static unsigned int ntallies;

static void count(const char *spec, unsigned int fail_nth, int outcome)
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
}

static int merge(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		char line[512], spec[64], outcome[32];
		unsigned int nth;

		if (!f)
			die(argv[i], strerror(errno));
		while (fgets(line, sizeof(line), f)) {
			const char *o = strstr(line, "\"outcome\":\""), *s = strstr(line, "\"inject\":\""),
				   *n = strstr(line, "\"fail_nth\":");
			int k;

			if (!o || !s || !n || sscanf(n, "\"fail_nth\":%u", &nth) != 1 ||
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
			count(spec, nth, k);
		}
		fclose(f);
	}
	summary();
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int jobs = 2, seeds = 3, shard = 1, shards = 1, nruns = 0, nattrs;
	bool quick = false;
	struct run *runs;
	int opt;

	if (argc > 1 && !strcmp(argv[1], "--merge"))
		return merge(argc - 2, argv + 2);
	while ((opt = getopt(argc, argv, "j:s:k:q")) != -1) {
		switch (opt) {
		case 'j': jobs = strtoul(optarg, NULL, 10); break;
		case 's': seeds = strtoul(optarg, NULL, 10); break;
		case 'k':
			if (sscanf(optarg, "%u/%u", &shard, &shards) != 2 || !shard || shard > shards)
				die("--shard", "K/N with 1 <= K <= N");
			break;
		case 'q': quick = true; break;
		default: die("usage", "campaign [-j JOBS] [-s SEEDS] [-k K/N] [-q] BUILD_DIR | --merge FILE...");
		}
	}
	if (optind != argc - 1 || !jobs || !seeds)
		die("usage", "campaign [-j JOBS] [-s SEEDS] [-k K/N] [-q] BUILD_DIR | --merge FILE...");
	nattrs = quick ? 1 : sizeof(attrs) / sizeof(attrs[0]);
	runs = calloc(5 * nattrs * seeds + FAIL_NTH_MAX, sizeof(*runs));
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

	/* Run i is shard K's if i % N == K - 1; up to `jobs` boots at a time. */
	for (unsigned int i = shard - 1; i < nruns;) {
		pid_t pids[64];
		FILE *outs[64], *errs[64];
		unsigned int batch[64], nb = 0;

		for (; i < nruns && nb < jobs && nb < 64; i += shards) {
			runs[i].index = i;
			start_run(argv[optind], &runs[i], &pids[nb], &outs[nb], &errs[nb]);
			batch[nb++] = i;
		}
		for (unsigned int b = 0; b < nb; b++) {
			finish_run(&runs[batch[b]], pids[b], outs[b], errs[b]);
			print_run(&runs[batch[b]]);
			count(runs[batch[b]].spec, runs[batch[b]].fail_nth, runs[batch[b]].outcome);
		}
	}
	summary();
	free(runs);
	return 0;
}
