/*
 * check-model: random op sequences on the pagewalk guest, every step held
 * against the reference model, many sequences to one VM; a mismatch is
 * shrunk in fresh VMs to a minimal sequence written out as a replay file.
 * README.md, "Reference model".
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "shrink.h"

static const char usage[] =
	"usage: check-model [options]\n"
	"  --seqs N        sequences to run (default 200)\n"
	"  --ops N         ops per sequence before its end (default 40)\n"
	"  --seed S        seed of the whole run (default: from the clock, printed)\n"
	"  --first I       start at sequence I of that seed (default 0)\n"
	"  --cpus N        vCPUs; each op runs on one drawn at random (default 1)\n"
	"  --sync MODE     kernel-sync mode: prealloc, fault, eager or all (default all, by turns)\n"
	"  --batch N       sequences per VM (default 250)\n"
	"  --jobs N        worker processes, a VM each, sequences dealt in turn (default 1)\n"
	"  --out FILE      where a failure's replay file goes (default check-model-fail.txt;\n"
	"                  with several jobs, FILE.N for worker N)\n"
	"  --guest ELF     the guest (default the build's guest.elf)\n"
	"  --replay FILE   run one sequence from FILE in a fresh VM instead\n";

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void print_failure(FILE *f, const struct runner *r, const struct mseq *s)
{
	fprintf(f, "# mismatch: %s\n# at: ", r->why);
	if (r->at < s->n)
		mop_print(f, &s->ops[r->at]);
	else
		fputs("the end of the sequence (areas freed, tasks exited, every page back)\n", f);
}

static int replay(const char *guest, const char *path)
{
	struct mconfig cfg = { PW_SYNC_PREALLOC, 1 };
	struct mseq s = { 0 };
	struct runner r;
	char err[256];
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f) {
		perror(path);
		return 2;
	}
	if (mseq_read(f, &s, &cfg, err, sizeof(err))) {
		fprintf(stderr, "check-model: %s: %s\n", path, err);
		return 2;
	}
	fclose(f);
	ok = runner_boot(&r, guest, &cfg) && runner_sequence(&r, &s);
	if (ok)
		printf("check-model: %s: %u ops, kernel_sync %s, cpus %u: no mismatch\n", path, s.n,
		       sync_name(cfg.sync), cfg.cpus);
	else
		print_failure(stderr, &r, &s);
	runner_destroy(&r);
	free(s.ops);
	return ok ? 0 : 1;
}

/* A failure in the long-lived VM: shrink it in fresh ones, write the replay file, say where. */
static void report(const char *guest, const struct runner *r, struct mseq *s, uint64_t seed,
		   unsigned int seq, const char *out)
{
	char tag[32];
	struct runner fresh;
	unsigned int tries = 0;
	bool repro;
	FILE *f;

	snprintf(tag, sizeof(tag), "%s", r->tag);
	fprintf(stderr, "check-model: sequence %u of seed %#lx failed:\n", seq, seed);
	print_failure(stderr, r, s);
	repro = fails_fresh(guest, &r->cfg, s, tag, NULL);
	if (repro) {
		fprintf(stderr, "check-model: shrinking (%u ops), a fresh VM per try...\n", s->n);
		tries = shrink(guest, &r->cfg, s, tag);
	} else {
		fprintf(stderr, "check-model: it does not fail in a fresh VM: it needs the kernel half "
			"earlier sequences left; the replay file has it whole\n");
	}
	f = fopen(out, "w");
	if (!f) {
		perror(out);
		return;
	}
	fprintf(f, "# check-model --seed %#lx --first %u --seqs 1: sequence %u, shrunk to %u ops in %u VMs\n",
		seed, seq, seq, s->n, tries);
	if (repro && !fails_fresh(guest, &r->cfg, s, tag, &fresh))
		abort();	/* shrink() keeps only sequences that fail */
	print_failure(f, repro ? &fresh : r, s);
	if (repro)
		runner_destroy(&fresh);
	mseq_print(f, s, &r->cfg);
	fclose(f);
	fprintf(stderr, "check-model: replay with: check-model --replay %s\n", out);
	f = fopen(out, "r");
	for (int c; f && (c = fgetc(f)) != EOF;)
		fputc(c, stderr);
	if (f)
		fclose(f);
}

struct run {
	const char *guest, *out;
	uint64_t seed;
	unsigned int first, nseqs, nops, cpus, batch, nmodes, jobs;
	enum pw_kernel_sync modes[3];
};

/*
 * Worker w's share: sequences first + w, first + w + jobs, ...  The kernel
 * half lives as long as a VM; its mode is a function of the sequence's
 * index alone.  Returns the exit status; *ops gets the ops run.
 */
static int run_share(const struct run *run, unsigned int w, unsigned long *ops)
{
	struct runner r = { 0 };
	struct mseq s = { 0 };
	char out[4096];

	snprintf(out, sizeof(out), run->jobs > 1 ? "%s.%u" : "%s", run->out, w);
	*ops = 0;
	for (unsigned int i = run->first + w; i < run->first + run->nseqs; i += run->jobs) {
		struct mconfig cfg = { run->modes[(i / run->batch) % run->nmodes], run->cpus };

		if (!r.vm || i % run->batch < run->jobs || r.cfg.sync != cfg.sync) {
			*ops += r.ops;
			runner_destroy(&r);
			if (!runner_boot(&r, run->guest, &cfg)) {
				fprintf(stderr, "check-model: %s\n", r.why);
				return 2;
			}
		}
		gen_sequence(run->seed ^ ((uint64_t)(i + 1) * 0xd1342543de82ef95ULL), run->nops, &cfg,
			     &r.m.hw, &s);
		if (!runner_sequence(&r, &s)) {
			report(run->guest, &r, &s, run->seed, i, out);
			runner_destroy(&r);
			return 1;
		}
	}
	*ops += r.ops;
	runner_destroy(&r);
	free(s.ops);
	return 0;
}

/* Several workers: the first to fail stops the others. */
static int run_jobs(const struct run *run)
{
	pid_t pids[64];
	int status = 0, ws;
	unsigned long ops;

	for (unsigned int w = 0; w < run->jobs; w++) {
		pids[w] = fork();
		if (pids[w] < 0) {
			perror("fork");
			return 2;
		}
		if (!pids[w])
			_exit(run_share(run, w, &ops));
	}
	for (unsigned int n = 0; n < run->jobs; n++) {
		pid_t pid = wait(&ws);

		if (pid < 0)
			break;
		if (!WIFEXITED(ws) || WEXITSTATUS(ws)) {
			if (!status)
				for (unsigned int w = 0; w < run->jobs; w++)
					if (pids[w] != pid)
						kill(pids[w], SIGTERM);
			status = status ? status : WIFEXITED(ws) ? WEXITSTATUS(ws) : 2;
		}
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seqs", 1, 0, 's' }, { "ops", 1, 0, 'o' }, { "seed", 1, 0, 'S' }, { "first", 1, 0, 'f' },
		{ "cpus", 1, 0, 'c' }, { "sync", 1, 0, 'y' }, { "batch", 1, 0, 'b' }, { "jobs", 1, 0, 'j' },
		{ "out", 1, 0, 'O' }, { "guest", 1, 0, 'g' }, { "replay", 1, 0, 'r' }, { "help", 0, 0, 'h' },
		{ 0 },
	};
	struct run run = {
		.guest = PW_BUILD_DIR "/guest.elf", .out = "check-model-fail.txt",
		.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32), .nseqs = 200, .nops = 40,
		.cpus = 1, .batch = 250, .nmodes = 3, .jobs = 1,
		.modes = { PW_SYNC_PREALLOC, PW_SYNC_FAULT, PW_SYNC_EAGER },
	};
	const char *replay_file = NULL;
	unsigned long ops = 0;
	double t0;
	int c, status;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': run.nseqs = strtoul(optarg, NULL, 0); break;
		case 'o': run.nops = strtoul(optarg, NULL, 0); break;
		case 'S': run.seed = strtoull(optarg, NULL, 0); break;
		case 'f': run.first = strtoul(optarg, NULL, 0); break;
		case 'c': run.cpus = strtoul(optarg, NULL, 0); break;
		case 'b': run.batch = strtoul(optarg, NULL, 0); break;
		case 'j': run.jobs = strtoul(optarg, NULL, 0); break;
		case 'O': run.out = optarg; break;
		case 'g': run.guest = optarg; break;
		case 'r': replay_file = optarg; break;
		case 'y':
			if (!strcmp(optarg, "all"))
				break;
			run.nmodes = 1;
			if (sync_parse(optarg, &run.modes[0]))
				break;
			/* fall through */
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (replay_file)
		return replay(run.guest, replay_file);
	if (run.cpus < 1 || run.cpus > 16 || !run.batch || run.jobs < 1 || run.jobs > 64 ||
	    optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	printf("check-model: %u sequences of %u ops from seed %#lx, cpus %u, %u jobs\n", run.nseqs,
	       run.nops, run.seed, run.cpus, run.jobs);
	fflush(stdout);
	t0 = now();
	status = run.jobs > 1 ? run_jobs(&run) : run_share(&run, 0, &ops);
	if (status)
		return status;
	printf("check-model: no mismatch in %u sequences", run.nseqs);
	if (run.jobs == 1)
		printf(", %lu ops (their ends included)", ops);
	printf(", %.1f s: %.1f sequences/s\n", now() - t0, run.nseqs / (now() - t0));
	return 0;
}
