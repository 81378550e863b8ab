/* The vmm command: default workload, reports, stops, options. */
#include <ctype.h>
#include <fcntl.h>

#include <pagewalk/layout.h>

#include "geometry.h"
#include "harness.h"

static size_t count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *end = strchr(line, '\n');
		const char *hit = strstr(line, needle);

		if (hit && (!end || hit < end))
			n++;
	}
	return n;
}

Test(cli, default_workload_faults_and_counts_tables)
{
	const char *argv[] = { VMM_BIN, GUEST_ELF, NULL };
	struct cli_run r;
	struct geometry g;
	char want[160];

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
	g = geometry(console_levels(r.out));
	snprintf(want, sizeof(want), "256 MiB RAM, 1 CPU, %u-level paging", g.levels);
	cr_assert(strstr(r.out, want), "%s", r.out);
	snprintf(want, sizeof(want), "deliberate #PF at %#lx: handled, -EFAULT",
		 (unsigned long)g.vmalloc_start);
	cr_assert(strstr(r.out, want), "%s", r.out);
	/*
	 * Then a task's demand faults (guest/kernel/workload.c): 1 trampoline
	 * fault + 4 touches, 2 PUD + 2 PMD + 3 PTE tables, and with LA57 the
	 * P4D table they share, 3 private pages; pgtables_bytes counts the 7
	 * PUD, PMD and PTE tables only, as Linux's.
	 */
	snprintf(want, sizeof(want), "task 1: 5 demand faults; tables %spud=2 pmd=2 pte=3 "
		 "(pgtables_bytes 28672); 3 private pages", g.user_p4ds ? "p4d=1 " : "");
	cr_assert(strstr(r.out, want), "%s", r.out);
	/* Exit returns the 7 tables (8 with the P4D) and the pgd, and with them every page. */
	snprintf(want, sizeof(want), "task 1 exited: %u page-table pages and 3 private pages freed",
		 8 + g.user_p4ds);
	cr_assert(strstr(r.out, want), "%s", r.out);
	/*
	 * 1 deliberate kernel #PF + 5 demand faults; then pgd_sharing(): the
	 * first task faults in its trampoline and its write (2), its child its
	 * own trampoline (fork copies no VMA without private pages) and its COW
	 * write (2); the kernel reads of the vmalloc area take none under
	 * prealloc.  10 in all.
	 */
	cr_assert(strstr(r.err, "fault=10"), "summary counts the faults: %s", r.err);
	cli_run_free(&r);
}

/*
 * The PGD-sharing summary of the default workload (guest/kernel/workload.c):
 * a task, its fork, a vmalloc needing top-level entries 402 and 403 (416
 * and 417 with LA57), a third task.  swapper_pg_dir's kernel half has the
 * direct map (273), the kernel image (511) and, under prealloc, all 64
 * (50) vmalloc entries: 66 (52); else 273, the two vmalloc entries and
 * 511: 4.  The two pgds made before the vmalloc each take 2 vmalloc faults
 * (fault) or 2 syncs (eager); the third clones them.
 */
static void expect_sharing(const char *mode, unsigned int syncs, unsigned int faults)
{
	const char *argv[] = { VMM_BIN, "--kernel-sync", mode, GUEST_ELF, NULL };
	struct cli_run r;
	struct geometry g;
	char want[160];

	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	g = geometry(console_levels(r.out));
	snprintf(want, sizeof(want), "pgd_list: 3 PGDs; %u present kernel entries in swapper_pg_dir, "
		 "shared by 3 of 3; %u syncs, %u vmalloc faults (%s)",
		 2 + (strcmp(mode, "prealloc") ? 2 : g.vmalloc_entries), syncs, faults, mode);
	cr_assert(strstr(r.out, want), "--kernel-sync %s: %s", mode, r.out);
	cli_run_free(&r);
}

Test(cli, default_workload_pgd_sharing)
{
	require_kvm();
	expect_sharing("prealloc", 0, 0);
	expect_sharing("fault", 0, 4);
	expect_sharing("eager", 4, 0);
}

Test(cli, trace_symbolises_the_fault)
{
	const char *argv[] = { VMM_BIN, "--trace", GUEST_ELF, NULL };
	const char *levels;
	struct cli_run r;
	char want[96];

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(count_lines_with(r.out, "] fault "), 10, "%s", r.out);
	/* Console text is split across trace lines: the mode from the boot event. */
	levels = strstr(r.out, " paging_levels=");
	cr_assert(levels, "%s", r.out);
	snprintf(want, sizeof(want), "addr=%#lx error_code=0x0 rip=0xffffffff8",
		 (unsigned long)geometry(levels[15] - '0').vmalloc_start);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, " probe_kernel_read+0x"), "%s", r.out);
	cli_run_free(&r);
}

/*
 * The guest prints its console in 40-byte records; the trace joins them:
 * each line of the plain run's console is one console line of the trace,
 * whole.  Trace times are the guest TSC since the first event: from 0,
 * never backwards on one vCPU.
 */
Test(cli, trace_prints_whole_console_lines_and_guest_time)
{
	const char *plain[] = { VMM_BIN, GUEST_ELF, NULL };
	const char *trace[] = { VMM_BIN, "--trace", GUEST_ELF, NULL };
	struct cli_run p, t;
	double prev = 0, time;
	size_t lines = 0;
	char want[512];

	require_kvm();
	run_vmm(&p, plain);
	run_vmm(&t, trace);
	cr_assert(p.status == 0 && t.status == 0, "%s%s", p.err, t.err);
	for (char *line = strtok(p.out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		snprintf(want, sizeof(want), "] console   \"%s\\n\"\n", line);
		cr_assert(strstr(t.out, want), "no trace line %s in\n%s", want, t.out);
	}
	cr_assert_gt(lines, 3);
	cr_assert_eq(count_lines_with(t.out, "] console "), lines, "%s", t.out);
	cr_assert_eq(sscanf(t.out, "[cpu0 %*u %lf]", &time), 1, "%s", t.out);
	cr_assert_eq(time, 0.0, "the first event is time 0");
	for (const char *l = t.out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		cr_assert_eq(sscanf(l, "[cpu0 %*u %lf]", &time), 1, "%.80s", l);
		cr_assert_geq(time, prev, "time went back: %.80s", l);
		prev = time;
	}
	cli_run_free(&p);
	cli_run_free(&t);
}

/* s with every run of blanks as one space and none after '(' or before ')' ',' ';'. */
static char *squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 2), *o = out;	/* room for a ';' after */

	cr_assert_not_null(out);
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			if (o > out && o[-1] != ' ' && o[-1] != '(')
				*o++ = ' ';
			continue;
		}
		if ((*s == ')' || *s == ',' || *s == ';') && o > out && o[-1] == ' ')
			o--;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/*
 * README's table of event fields is libvmm's descriptors, row for row: every
 * type, its fields and their kinds in order, and nothing else.  No /dev/kvm
 * needed; the nested host carries only the build tree, not README.
 */
Test(cli, readme_documents_every_event_and_field)
{
	char *readme, row[512], *table;
	size_t rows = 0;

	if (access(PW_SOURCE_DIR "/README.md", R_OK))
		cr_skip_test("no README.md at %s on this host", PW_SOURCE_DIR);
	readme = read_file(PW_SOURCE_DIR "/README.md");
	table = strstr(readme, "| type | fields |\n|---|---|\n");
	cr_assert_not_null(table, "README has no event table");
	for (unsigned int t = 1; t < PW_EV_MAX; t++) {
		const struct vmm_event_desc *d = vmm_event_desc(t);
		int n = snprintf(row, sizeof(row), "\n| `%s` | ", d->name);

		for (unsigned int i = 0; i < d->nfields; i++)
			n += snprintf(row + n, sizeof(row) - n, "%s`%s` %s", i ? ", " : "",
				      d->fields[i].name, vmm_field_kind_name(d->fields[i].kind));
		snprintf(row + n, sizeof(row) - n, "%s |\n", d->nfields ? "" : "`text`");
		cr_assert(strstr(table - 1, row), "README lacks the row %.*s",
			  (int)strlen(row) - 2, row + 1);
	}
	for (const char *l = strchr(table, '\n') + 1; (l = strchr(l, '\n') + 1) && *l == '|';)
		rows++;
	cr_assert_eq(rows, PW_EV_MAX - 1, "README's table has %zu rows", rows);
	free(readme);
}

/*
 * README's list of test-helper signatures ("How to write a test" block
 * after "Their signatures") is the headers', declaration for declaration,
 * blanks aside.  The nested host carries only the build tree: skip there.
 */
Test(cli, readme_helper_signatures_are_the_headers)
{
	static const char *const headers[] = { "tests/harness.h", "tests/guest_ops.h",
					       "tests/geometry.h" };
	char *readme, *decls = NULL, *all, *block, *end;
	size_t len = 0, n = 0;
	FILE *f;

	if (access(PW_SOURCE_DIR "/README.md", R_OK))
		cr_skip_test("no README.md at %s on this host", PW_SOURCE_DIR);
	readme = read_file(PW_SOURCE_DIR "/README.md");
	f = open_memstream(&decls, &len);
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		char path[512], *h;

		snprintf(path, sizeof(path), "%s/%s", PW_SOURCE_DIR, headers[i]);
		h = read_file(path);
		fputs(h, f);
		free(h);
	}
	fclose(f);
	all = squeeze(decls);
	block = strstr(readme, "signatures (a test checks each against the headers):\n\n```c\n");
	cr_assert_not_null(block, "README lacks the signatures block");
	block = strchr(strstr(block, "```c"), '\n') + 1;
	end = strstr(block, "```");
	*end = '\0';
	for (char *decl = strtok(block, ";"); decl; decl = strtok(NULL, ";")) {
		char *want = squeeze(decl);

		if (*want) {
			strcat(want, ";");
			cr_assert(strstr(all, want), "README's '%s' is not in the headers", want);
			n++;
		}
		free(want);
	}
	cr_assert_gt(n, 10);
	free(all);
	free(decls);
	free(readme);
}

/*
 * README's "What make run prints" is a real run, 4-level (the paging it
 * says): its console lines are vmm's stdout byte for byte, and its first
 * two summary lines (how it ended, the events by type) are vmm's; the
 * exits and the wall time depend on the host.
 */
Test(cli, readme_make_run_sample_is_true)
{
	const char *argv[] = { VMM_BIN, "--paging", "4", GUEST_ELF, NULL };
	char *readme, *sample, *p, *out, *err;
	size_t no = 0, ne = 0;
	struct cli_run r;

	if (access(PW_SOURCE_DIR "/README.md", R_OK))
		cr_skip_test("no README.md at %s on this host", PW_SOURCE_DIR);
	require_kvm();
	readme = read_file(PW_SOURCE_DIR "/README.md");
	sample = strstr(readme, "## What `make run` prints\n\n");
	cr_assert_not_null(sample);
	sample = strchr(sample, '\n') + 2;
	out = calloc(1, strlen(sample) + 1);
	err = calloc(1, strlen(sample) + 1);
	cr_assert(out && err);
	/* The block: 4-space lines to the first blank one; "pagewalk:" lines are stderr's. */
	for (p = sample; !strncmp(p, "    ", 4); p = strchr(p, '\n') + 1) {
		size_t n = strchr(p, '\n') + 1 - (p + 4);

		if (!strncmp(p + 4, "pagewalk: ", 10)) {
			memcpy(err + ne, p + 4, n);
			ne += n;
		} else {
			memcpy(out + no, p + 4, n);
			no += n;
		}
	}
	*strstr(strchr(err, '\n') + 1, "\n") = '\0';	/* the status and events lines */
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, out, "README's console lines are not vmm's");
	cr_assert(strstr(r.err, err), "README's summary lines are not vmm's:\n%s", r.err);
	cli_run_free(&r);
	free(out);
	free(err);
	free(readme);
}

/* The number after "key": in JSON text s, or the sum of the numbers in the object "key":{...}. */
static unsigned long json_number(const char *s, const char *key, bool object)
{
	char pat[64];
	unsigned long n, sum = 0;
	const char *p;
	int used;

	snprintf(pat, sizeof(pat), "\"%s\":%s", key, object ? "{" : "");
	p = strstr(s, pat);
	cr_assert_not_null(p, "no %s in %s", pat, s);
	p += strlen(pat);
	if (!object) {
		cr_assert_eq(sscanf(p, "%lu", &n), 1, "%s", p);
		return n;
	}
	for (; sscanf(p, "\"%*[a-z_]\":%lu%n", &n, &used) == 1; p += used + (p[used] == ','))
		sum += n;
	return sum;
}

/*
 * make test's JUnit file comes from Criterion's TAP (scripts/tap-junit.awk):
 * a failure's message of several lines, with XML's special characters,
 * stays whole and escaped; a skip is a skip; the counts are the TAP's.
 */
Test(cli, tap_report_becomes_junit)
{
	static const char tap[] =
		"TAP version 13\n1..3\n# Running 3 tests from s\n"
		"not ok - s::bad  (0.01s)\n  ---\n  - t.c:2: |+\n      one <two> & \"three\"\n  ...\n"
		"ok - s::good  (0.25s)\n"
		"ok - s::later  # SKIP no LA57\n";
	char path[] = "/tmp/pagewalk-tap-XXXXXX";
	const char *argv[] = { "awk", "-f", PW_SOURCE_DIR "/scripts/tap-junit.awk", path, NULL };
	struct cli_run r;
	int fd;

	if (access(argv[2], R_OK))
		cr_skip_test("no %s on this host", argv[2]);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, tap, sizeof(tap) - 1), (ssize_t)sizeof(tap) - 1);
	close(fd);
	run_program(&r, "/usr/bin/awk", argv);
	unlink(path);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "<testsuite name=\"pagewalk\" tests=\"3\" failures=\"1\" skipped=\"1\">"),
		  "%s", r.out);
	cr_assert(strstr(r.out, "classname=\"s\" name=\"bad\" time=\"0.01\"><failure message=\"failed\">"
			  "- t.c:2: |+\n    one &lt;two&gt; &amp; &quot;three&quot;\n</failure>"), "%s", r.out);
	cr_assert(strstr(r.out, "name=\"good\" time=\"0.25\"></testcase>"), "%s", r.out);
	cr_assert(strstr(r.out, "name=\"later\" time=\"0\"><skipped message=\"no LA57\"/>"), "%s", r.out);
	cli_run_free(&r);
}

/*
 * The summary's breakdowns add up: every exit has one kind, every event
 * one type.  The ops workload, told to exit at once, makes one doorbell
 * exit (WAIT_OP) and one other port exit (0xf4); the watchdog's ticks may
 * add interrupt exits.
 */
Test(cli, json_summary_counts_add_up)
{
	const char *workloads[] = { "default", "ops" };

	require_kvm();
	for (int i = 0; i < 2; i++) {
		const char *argv[] = { VMM_BIN, "--workload", workloads[i], "--json", "-", GUEST_ELF,
				       NULL };
		const char *s;
		struct cli_run r;

		run_vmm(&r, argv);
		cr_assert_eq(r.status, 0, "%s", r.err);
		s = strstr(r.out, "{\"type\":\"summary\"");
		cr_assert_not_null(s, "%s", r.out);
		cr_assert_eq(json_number(s, "exits_by_kind", true), json_number(s, "exits", false),
			     "%s", s);
		cr_assert_eq(json_number(s, "events_by_type", true), json_number(s, "events", false),
			     "%s", s);
		cr_assert_gt(json_number(s, "events", false), 0);
		if (i == 1)
			cr_assert(strstr(s, "\"exits_by_kind\":{\"io\":1,\"doorbell\":1,"), "%s", s);
		cli_run_free(&r);
	}
}

/* One JSON object per event (console: per line), then the summary; stdout holds nothing else. */
Test(cli, json_lines_one_per_event_and_a_summary)
{
	const char *argv[] = { VMM_BIN, "--json", "-", GUEST_ELF, NULL };
	struct cli_run r;
	char want[96];
	size_t lines;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	lines = count_lines_with(r.out, "");
	cr_assert_eq(count_lines_with(r.out, "{\"type\":"), lines, "%s", r.out);
	cr_assert_eq(count_lines_with(r.out, "{\"type\":\"summary\",\"version\":\"" PW_VERSION
				      "\",\"status\":0,"), 1, "%s", r.out);
	cr_assert_eq(count_lines_with(r.out, "{\"type\":\"fault\""), 10);
	snprintf(want, sizeof(want), "\"addr\":\"%#lx\",\"error_code\":\"0x0\"",
		 (unsigned long)geometry(console_levels(r.err)).vmalloc_start);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, "\"rip_sym\":\"probe_kernel_read+0x"), "%s", r.out);
	cr_assert(strstr(r.out, "\"type\":\"exit\""), "%s", r.out);
	/* The console moved to stderr to keep stdout parseable. */
	cr_assert(strstr(r.err, "deliberate #PF"), "%s", r.err);
	cli_run_free(&r);
}

/*
 * tests/guests/triple_fault.S: #UD with an empty IDT -> #DF -> shutdown.
 * VMX and PVM keep the crash state; KVM on SVM resets the vCPU on the
 * shutdown intercept, and the report must say so and show the last state
 * libvmm saw instead: here the boot state, the guest never having exited
 * before (RIP at _start, no marker in RBX yet).  Either way never the
 * RESET state (RIP fff0) as the crash's.
 */
Test(cli, triple_fault_reports_registers)
{
	const char *argv[] = { VMM_BIN, TEST_GUEST("triple_fault"), NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_TRIPLE_FAULT, "%s", r.err);
	cr_assert(strstr(r.err, "triple fault"), "%s", r.err);
	cr_assert_null(strstr(r.err, "RIP=000000000000fff0"), "RESET state as the crash's: %s", r.err);
	if (strstr(r.err, "the host reset the vCPU")) {
		cr_log_info("cli: host quirk: the vCPU is reset on a triple fault (KVM on SVM)");
		cr_assert(strstr(r.err, "as libvmm set it up at boot, not the crash state"), "%s", r.err);
		cr_assert(strstr(r.err, "_start+0x0"), "the entry point: %s", r.err);
	} else {
		cr_assert(strstr(r.err, "crash_here+0x0"), "symbolised RIP: %s", r.err);
		cr_assert(strstr(r.err, "RBX=7269706c65666c74"), "the guest's marker: %s", r.err);
	}
	/* The boot CR3 is the VMM's PML4; CR0 has PG and PE; EFER has LMA|LME. */
	cr_assert(strstr(r.err, "CR3=0000000000002000"), "%s", r.err);
	cr_assert(strstr(r.err, "CR0=0000000080050033"), "%s", r.err);
	cr_assert(strstr(r.err, "EFER=0000000000000d01"), "%s", r.err);
	cli_run_free(&r);
}

/* The same crash in the JSON summary: the registers as fields, "stale" where SVM reset the vCPU. */
Test(cli, triple_fault_registers_are_json_fields)
{
	const char *argv[] = { VMM_BIN, "--json", "-", TEST_GUEST("triple_fault"), NULL };
	struct cli_run r;
	const char *regs;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_TRIPLE_FAULT, "%s", r.err);
	regs = strstr(r.out, "\"registers\":{\"cpu\":0,");
	cr_assert_not_null(regs, "%s", r.out);
	if (strstr(regs, "\"stale\":true")) {
		cr_assert(strstr(regs, "\"rip_sym\":\"_start+0x0\""), "%s", regs);
	} else {
		cr_assert(strstr(regs, "\"stale\":false"), "%s", regs);
		cr_assert(strstr(regs, "\"rbx\":\"0x7269706c65666c74\""), "the marker: %s", regs);
		cr_assert(strstr(regs, "\"rip_sym\":\"crash_here+0x0\""), "%s", regs);
	}
	/* Boot state, as above: CR3 the VMM's PML4 (0x2000), EFER LMA|LME|SCE|NXE. */
	cr_assert(strstr(regs, "\"cr3\":\"0x2000\""), "%s", regs);
	cr_assert(strstr(regs, "\"efer\":\"0xd01\""), "%s", regs);
	cli_run_free(&r);
}

Test(cli, watchdog_stops_a_spinning_guest)
{
	const char *argv[] = { VMM_BIN, "--timeout", "0.3", TEST_GUEST("spin"), NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_WATCHDOG, "%s", r.err);
	cr_assert(strstr(r.err, "still running after 300 ms"), "%s", r.err);
	cr_assert(strstr(r.err, "spin_forever+0x0"), "where it was: %s", r.err);
	cli_run_free(&r);
}

Test(cli, watchdog_stops_a_doorbell_storm)
{
	const char *argv[] = { VMM_BIN, "--timeout", "0.5", TEST_GUEST("doorbell_storm"), NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_WATCHDOG, "%s", r.err);
	cr_assert(strstr(r.err, "ring_forever+0x"), "where it was: %s", r.err);
	cli_run_free(&r);
}

/*
 * tests/guests/halt_cli.S: cli; hlt.  With one vCPU the HLT exits to
 * userspace; with more, the in-kernel irqchip keeps it, and only the
 * periodic check sees the vCPU halted with IF clear.  Either way that is
 * a stop (status 0), long before the 5 s watchdog.  From the command line
 * the boot CPU runs alone, the others never enter KVM_RUN and are named as
 * not running.  The RIP is after the one-byte HLT, which KVM skips before
 * it blocks the vCPU: halted+0x1.
 */
Test(cli, halt_with_interrupts_off_stops_any_vcpu_count)
{
	static const char *const cpus[] = { "1", "2", "16" };
	struct cli_run r;

	require_kvm();
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		const char *argv[] = { VMM_BIN, "--cpus", cpus[i], "--timeout", "5",
				       TEST_GUEST("halt_cli"), NULL };

		run_vmm(&r, argv);
		cr_assert_eq(r.status, VMM_OK, "--cpus %s: status %d: %s", cpus[i], r.status, r.err);
		cr_assert(strstr(r.err, "guest halted with interrupts off"), "%s", r.err);
		cr_assert(strstr(r.err, "rip=0x") && strstr(r.err, " halted+0x1"), "%s", r.err);
		if (strcmp(cpus[i], "1"))
			cr_assert(strstr(r.err, "cpu 0 rip=0x") && strstr(r.err, "cpu 1 not running"),
				  "%s", r.err);
		cli_run_free(&r);
	}
}

static void expect_bad_option(const char *const argv[], const char *want)
{
	struct cli_run r;

	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_BAD_INPUT, "%s", r.err);
	cr_assert(strstr(r.err, want), "stderr should say '%s': %s", want, r.err);
	cli_run_free(&r);
}

Test(cli, bad_options)
{
	const char *mem_garbage[] = { VMM_BIN, "--mem", "lots", GUEST_ELF, NULL };
	const char *mem_odd[] = { VMM_BIN, "--mem", "3M", GUEST_ELF, NULL };
	const char *mem_huge[] = { VMM_BIN, "--mem", "65G", GUEST_ELF, NULL };
	const char *timeout[] = { VMM_BIN, "--timeout", "-1", GUEST_ELF, NULL };
	const char *workload[] = { VMM_BIN, "--workload", "nope", GUEST_ELF, NULL };
	const char *split[] = { VMM_BIN, "--split-ptlock-cpus", "0", GUEST_ELF, NULL };
	const char *sync[] = { VMM_BIN, "--kernel-sync", "lazy", GUEST_ELF, NULL };
	const char *unknown[] = { VMM_BIN, "--frobnicate", GUEST_ELF, NULL };
	const char *no_guest[] = { VMM_BIN, NULL };
	const char *trace_json[] = { VMM_BIN, "--trace", "--json", "-", GUEST_ELF, NULL };

	require_kvm();
	expect_bad_option(mem_garbage, "--mem 'lots'");
	expect_bad_option(mem_odd, "multiple of 2 MiB");
	expect_bad_option(mem_huge, "64 GiB");
	expect_bad_option(timeout, "--timeout '-1'");
	expect_bad_option(workload, "--workload 'nope'");
	expect_bad_option(split, "--split-ptlock-cpus '0'");
	expect_bad_option(sync, "--kernel-sync 'lazy'");
	expect_bad_option(unknown, "usage: vmm");
	expect_bad_option(no_guest, "usage: vmm");
	/* Trace lines would break the JSON lines on stdout. */
	expect_bad_option(trace_json, "--trace and --json -");
}

/*
 * Numbers the option parser must refuse whatever strtoul()/strtod() make
 * of them: NaN and infinity compare false with both bounds of --timeout's
 * range (and NaN would turn the watchdog off); 4294967298 = 2^32 + 2 and
 * 4294967297 = 2^32 + 1 become 2 and 1, in range, once cut to 32 bits;
 * strtoul() takes "-1" as ULONG_MAX, which is 0xffffffff in 32 bits; a
 * seed is 64 bits, and "-1" is no more a seed than it is a call number.
 */
Test(cli, numbers_out_of_range_or_not_numbers)
{
	static const char *const cases[][2] = {
		{ "--timeout", "nan" }, { "--timeout", "NaN" }, { "--timeout", "inf" },
		{ "--timeout", "-0" }, { "--cpus", "4294967298" }, { "--cpus", "+1" },
		{ "--fail-nth", "4294967297" }, { "--fail-nth", "-1" },
		{ "--split-ptlock-cpus", "4294967297" }, { "--seed", "-1" },
		{ "--seed", "18446744073709551616" },
	};
	char want[64];

	require_kvm();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { VMM_BIN, cases[i][0], cases[i][1], GUEST_ELF, NULL };

		snprintf(want, sizeof(want), "%s '%s'", cases[i][0], cases[i][1]);
		expect_bad_option(argv, want);
	}
}

/*
 * Output that cannot be written is an error of its own, status 7, and the
 * summary on stderr still says how the guest stopped: the foreign guest
 * (tests/guests/foreign.S) prints a line on the console (stdout) and exits
 * with 42.  /dev/full fails every write with ENOSPC; a pipe whose read end
 * is closed with EPIPE (SIGPIPE would kill vmm before its summary).  The
 * console line is less than stdio's buffer, so the write that fails on
 * stdout is vmm's last flush and the errno is named; the JSON file's
 * summary is flushed by libvmm, and only "write error" is certain there.
 */
static void expect_write_error(const char *const argv[], int out_fd, const char *want)
{
	struct cli_run r;

	run_vmm_to(&r, argv, out_fd);
	cr_assert_eq(r.status, VMM_INTERNAL, "status %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, want), "stderr should say '%s': %s", want, r.err);
	cr_assert(strstr(r.err, "guest exited with status 42"), "the summary: %s", r.err);
	cli_run_free(&r);
}

Test(cli, write_errors_are_status_7)
{
	const char *json[] = { VMM_BIN, "--json", "/dev/full", TEST_GUEST("foreign"), NULL };
	const char *plain[] = { VMM_BIN, TEST_GUEST("foreign"), NULL };
	int full = open("/dev/full", O_WRONLY), p[2];

	require_kvm();
	cr_assert(full >= 0 && !pipe(p));
	close(p[0]);
	expect_write_error(json, -1, "vmm: /dev/full: write error");
	expect_write_error(plain, full, "vmm: stdout: write error: No space left on device");
	expect_write_error(plain, p[1], "vmm: stdout: write error: Broken pipe");
	close(full);
	close(p[1]);
}

/*
 * Without /dev/kvm: a mount namespace with an empty /dev (as root, with
 * util-linux's unshare) makes it missing for vmm alone.  One line naming
 * /dev/kvm and the errno, status 5.
 */
Test(cli, missing_dev_kvm_is_status_5)
{
	static const char script[] = "mount -t tmpfs none /dev && exec \"$0\" \"$1\"";
	const char *argv[] = { "unshare", "-m", "sh", "-c", script, VMM_BIN, GUEST_ELF, NULL };
	struct cli_run r;

	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK))
		cr_skip_test("needs root and /usr/bin/unshare to hide /dev/kvm");
	run_program(&r, "/usr/bin/unshare", argv);
	cr_assert_eq(r.status, VMM_NO_KVM, "%s", r.err);
	cr_assert_str_eq(r.err, "vmm: cannot open /dev/kvm: No such file or directory (errno 2)\n");
	cli_run_free(&r);
}

Test(cli, help_lists_every_exit_status)
{
	const char *argv[] = { VMM_BIN, "--help", NULL };
	struct cli_run r;
	char want[8];

	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0);
	for (int s = VMM_OK; s <= VMM_INTERNAL; s++) {
		snprintf(want, sizeof(want), "\n  %d  ", s);
		cr_assert(strstr(r.out, want), "--help misses status %d", s);
	}
	cli_run_free(&r);
}
