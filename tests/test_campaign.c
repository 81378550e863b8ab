/*
 * The campaign runner: a quick matrix (the five sites at probability=10
 * with seed 1, then fail-nth 1 to 3: 8 runs) split over two shards and
 * merged.  Every run of the faults workload must end untouched or
 * survived: no panic, no leak, whatever fails.  fail-nth 1 to 3 always
 * injects (the workload makes 23 injectable calls, tests/test_inject.c).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "harness.h"

static char *shard(const char *k, char *path)
{
	const char *argv[] = { CAMPAIGN_BIN, "-q", "-s", "1", "-k", k, PW_BUILD_DIR, NULL };
	struct cli_run r;
	FILE *f;

	run_program(&r, CAMPAIGN_BIN, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(path, 64, "/tmp/pagewalk-campaign-%d-%c.jsonl", getpid(), k[0]);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(r.out, f);
	fclose(f);
	return r.out;
}

Test(campaign, shards_cover_the_matrix_and_every_run_ends_clean, .timeout = 120)
{
	char p1[64], p2[64], *o1, *o2, line[32];
	const char *merge_argv[] = { CAMPAIGN_BIN, "--merge", p1, p2, NULL };
	struct cli_run r;

	require_kvm();
	o1 = shard("1/2", p1);
	o2 = shard("2/2", p2);
	for (int i = 0; i < 8; i++) {
		const char *mine = i % 2 ? o2 : o1, *other = i % 2 ? o1 : o2;

		snprintf(line, sizeof(line), "{\"run\":%d,", i);
		cr_assert(strstr(mine, line) && !strstr(other, line), "run %d in its shard only", i);
	}
	cr_assert(!strstr(o1, "\"outcome\":\"leak\"") && !strstr(o2, "\"outcome\":\"leak\""));
	cr_assert(!strstr(o1, "\"outcome\":\"panic\"") && !strstr(o2, "\"outcome\":\"panic\""));
	for (int n = 1; n <= 3; n++) {
		snprintf(line, sizeof(line), "\"fail_nth\":%d,", n);
		cr_assert(strstr(strstr(o1, line) ? o1 : o2, line), "fail-nth %d ran", n);
	}
	run_program(&r, CAMPAIGN_BIN, merge_argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* fail-nth: 3 runs, all survived (one failure each, handled). */
	cr_assert(strstr(r.err, "fail-nth                  0            3            0            0"),
		  "%s", r.err);
	/*
	 * guest.elf has no ALLOC_SPLIT_PTLOCKS (spinlock_t fits a word), so as
	 * in Linux nothing calls ptlock_alloc(): unreachable, not clean.  Every
	 * run allocates page tables, so pgtable_alloc is reachable.
	 */
	cr_assert(strstr(r.err, "campaign: ptlock_alloc: unreachable"), "%s", r.err);
	cr_assert_null(strstr(r.err, "campaign: pgtable_alloc: unreachable"), "%s", r.err);
	cli_run_free(&r);

	/* The same shard twice is a mistake, not twice the evidence. */
	merge_argv[3] = p1;
	run_program(&r, CAMPAIGN_BIN, merge_argv);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "run 0 twice"), "%s", r.err);
	cli_run_free(&r);
	free(o1);
	free(o2);
	unlink(p1);
	unlink(p2);
}

/*
 * A sanitizer report or a crash inside a campaign is an outcome of its
 * own, not a guest panic: the runner takes BUILD_DIR/vmm, here a script
 * that prints the first line of an AddressSanitizer report and exits 1
 * (as ASan does) for --inject runs, and kills itself with SIGSEGV for
 * --fail-nth runs.  The quick matrix has 5 of the first and 3 of the
 * second (see above).  Its report reaches the JSON lines (stdout), and the
 * summary counts them.
 */
Test(campaign, sanitizer_reports_and_crashes_are_outcomes)
{
	static const char script[] =
		"#!/bin/sh\n"
		"case \"$*\" in *--fail-nth*) kill -SEGV $$;; esac\n"
		"echo '==1==ERROR: AddressSanitizer: heap-buffer-overflow (a test double)' >&2\n"
		"exit 1\n";
	char dir[] = "/tmp/pagewalk-campaign-XXXXXX", vmm[64];
	const char *argv[] = { CAMPAIGN_BIN, "-q", "-s", "1", dir, NULL };
	struct cli_run r;
	FILE *f;
	size_t n;

	cr_assert(mkdtemp(dir));
	snprintf(vmm, sizeof(vmm), "%s/vmm", dir);
	f = fopen(vmm, "w");
	cr_assert(f && fputs(script, f) >= 0 && !fclose(f) && !chmod(vmm, 0755));
	/* The report goes to stdout, where harness.c's sanitizer check does not look. */
	run_program(&r, CAMPAIGN_BIN, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	n = 0;
	for (const char *p = r.out; (p = strstr(p, "\"outcome\":\"sanitizer\",\"report\":\"==1==ERROR: "
					      "AddressSanitizer: heap-buffer-overflow")); p++)
		n++;
	cr_assert_eq(n, 5, "%s", r.out);
	n = 0;
	for (const char *p = r.out; (p = strstr(p, "\"status\":139,\"injected\":0,\"calls\":0,"
					      "\"outcome\":\"crash\",\"report\":\"killed by signal 11")); p++)
		n++;
	cr_assert_eq(n, 3, "%s", r.out);
	cr_assert_null(strstr(r.out, "\"outcome\":\"panic\""), "%s", r.out);
	cli_run_free(&r);
	unlink(vmm);
	rmdir(dir);
}

/* Options: --help lists every one; out-of-range jobs and empty merges are refused by name. */
Test(campaign, options_are_checked)
{
	const char *help[] = { CAMPAIGN_BIN, "--help", NULL };
	const char *jobs[] = { CAMPAIGN_BIN, "--jobs", "65", PW_BUILD_DIR, NULL };
	const char *none[] = { CAMPAIGN_BIN, "--merge", NULL };
	const char *empty[] = { CAMPAIGN_BIN, "--merge", "/dev/null", NULL };
	static const char *const opts[] = { "--jobs", "--seeds", "--shard", "--quick", "--merge",
					    "--help" };
	struct cli_run r;

	run_program(&r, CAMPAIGN_BIN, help);
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		cr_assert(strstr(r.out, opts[i]), "--help lacks %s: %s", opts[i], r.out);
	cli_run_free(&r);
	run_program(&r, CAMPAIGN_BIN, jobs);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--jobs: '65': from 1 to 64"), "%s", r.err);
	cli_run_free(&r);
	run_program(&r, CAMPAIGN_BIN, none);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--merge: no files"), "%s", r.err);
	cli_run_free(&r);
	run_program(&r, CAMPAIGN_BIN, empty);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--merge: no runs in the files"), "%s", r.err);
	cli_run_free(&r);
}
