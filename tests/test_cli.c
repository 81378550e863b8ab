/* The vmm command: default workload, reports, stops, options. */
#include <fcntl.h>

#include <pagewalk/layout.h>

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

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
	cr_assert(strstr(r.out, "256 MiB RAM, 1 CPU, 4-level paging"), "%s", r.out);
	cr_assert(strstr(r.out, "deliberate #PF at 0xffffc90000000000: handled, -EFAULT"), "%s", r.out);
	/*
	 * Then a task's demand faults (guest/kernel/workload.c): 1 trampoline
	 * fault + 4 touches, 2 PUD + 2 PMD + 3 PTE tables, 3 private pages.
	 */
	cr_assert(strstr(r.out, "task 1: 5 demand faults; tables pud=2 pmd=2 pte=3 "
				"(pgtables_bytes 28672); 3 private pages"), "%s", r.out);
	/* Exit returns the 7 tables and the pgd, and with them every page. */
	cr_assert(strstr(r.out, "task 1 exited: 8 page-table pages and 3 private pages freed"), "%s", r.out);
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
 * a task, its fork, a vmalloc needing top-level entries 402 and 403, a
 * third task.  swapper_pg_dir's kernel half has the direct map (273), the
 * kernel image (511) and, under prealloc, all 64 vmalloc entries: 66; else
 * 273, 402, 403, 511: 4.  The two pgds made before the vmalloc each take 2
 * vmalloc faults (fault) or 2 syncs (eager); the third clones them.
 */
static void expect_sharing(const char *mode, const char *want)
{
	const char *argv[] = { VMM_BIN, "--kernel-sync", mode, GUEST_ELF, NULL };
	struct cli_run r;

	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, want), "--kernel-sync %s: %s", mode, r.out);
	cli_run_free(&r);
}

Test(cli, default_workload_pgd_sharing)
{
	require_kvm();
	expect_sharing("prealloc", "pgd_list: 3 PGDs; 66 present kernel entries in swapper_pg_dir, "
				   "shared by 3 of 3; 0 syncs, 0 vmalloc faults (prealloc)");
	expect_sharing("fault", "pgd_list: 3 PGDs; 4 present kernel entries in swapper_pg_dir, "
				"shared by 3 of 3; 0 syncs, 4 vmalloc faults (fault)");
	expect_sharing("eager", "pgd_list: 3 PGDs; 4 present kernel entries in swapper_pg_dir, "
				"shared by 3 of 3; 4 syncs, 0 vmalloc faults (eager)");
}

Test(cli, trace_symbolises_the_fault)
{
	const char *argv[] = { VMM_BIN, "--trace", GUEST_ELF, NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(count_lines_with(r.out, "] fault "), 10, "%s", r.out);
	cr_assert(strstr(r.out, "addr=0xffffc90000000000 error_code=0x0 rip=0xffffffff8"), "%s", r.out);
	cr_assert(strstr(r.out, " probe_kernel_read+0x"), "%s", r.out);
	cli_run_free(&r);
}

/* One JSON object per event, then the summary; stdout holds nothing else. */
Test(cli, json_lines_one_per_event_and_a_summary)
{
	const char *argv[] = { VMM_BIN, "--json", "-", GUEST_ELF, NULL };
	struct cli_run r;
	size_t lines;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	lines = count_lines_with(r.out, "");
	cr_assert_eq(count_lines_with(r.out, "{\"type\":"), lines, "%s", r.out);
	cr_assert_eq(count_lines_with(r.out, "{\"type\":\"summary\",\"version\":\"" PW_VERSION
				      "\",\"status\":0,"), 1, "%s", r.out);
	cr_assert_eq(count_lines_with(r.out, "{\"type\":\"fault\""), 10);
	cr_assert(strstr(r.out, "\"addr\":\"0xffffc90000000000\",\"error_code\":\"0x0\""), "%s", r.out);
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
