/*
 * The campaign runner: a quick matrix (the five sites at probability=10
 * with seed 1, then fail-nth 1 to 3: 8 runs) split over two shards and
 * merged.  Every run of the faults workload must end untouched or
 * survived: no panic, no leak, whatever fails.  fail-nth 1 to 3 always
 * injects (the workload makes 23 injectable calls, tests/test_inject.c).
 */
#include <stdio.h>

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
	cli_run_free(&r);
	free(o1);
	free(o2);
	unlink(p1);
	unlink(p2);
}
