/*
 * vmm --script, -e, --tap and --shell (vmm/script/): the examples in
 * scripts/examples/, each error path with its file:line, TAP, README's
 * sample, and the shell driven through a real pseudo-terminal.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "harness.h"

#define EXAMPLES	PW_SOURCE_DIR "/scripts/examples"

extern char **environ;

/* A script in a temporary file; free the path with free() after unlink(). */
static char *script_file(const char *text)
{
	char *path = strdup("/tmp/pagewalk-script-XXXXXX.pw");
	int fd = mkstemps(path, 3);

	cr_assert(fd >= 0, "mkstemps: %s", strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void run_script(struct cli_run *r, const char *text, const char *opt)
{
	char *path = script_file(text);
	const char *argv[] = { VMM_BIN, "--script", path, opt, GUEST_ELF, NULL };

	if (!opt) {
		argv[3] = GUEST_ELF;
		argv[4] = NULL;
	}
	run_vmm(r, argv);
	unlink(path);
	free(path);
}

Test(script, every_example_holds, .timeout = 300)
{
	DIR *d = opendir(EXAMPLES);
	struct dirent *e;
	unsigned int n = 0;

	require_kvm();
	cr_assert_not_null(d, "%s: %s", EXAMPLES, strerror(errno));
	while ((e = readdir(d))) {
		char path[512];
		const char *argv[] = { VMM_BIN, "--script", path, GUEST_ELF, NULL };
		struct cli_run r;

		if (!strstr(e->d_name, ".pw"))
			continue;
		snprintf(path, sizeof(path), EXAMPLES "/%s", e->d_name);
		run_vmm(&r, argv);
		cr_assert_eq(r.status, 0, "%s: status %d\n%s%s", e->d_name, r.status, r.out, r.err);
		cr_assert(!strstr(r.err, "expects failed"), "%s: %s", e->d_name, r.err);
		cli_run_free(&r);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 9, "examples run: %u", n);
}

/*
 * A write at 4 MiB in an empty mm, after the trampoline's own tables:
 * one PUD, one PMD and one PTE table, each counted by the guest, seen by
 * the host's walker and shown by the op's summary line.
 */
#define WRITE_AT_4M							\
	"t = task_create\n"						\
	"mmap t 4M 2M rw\n"						\
	"touch t 0x7fffffffe000 r user   # the trampoline first\n"	\
	"expect mm_info(t).puds == 1\n"					\
	"touch task=t addr=4M access=w user=user value=0x1234\n"	\
	"expect fault.tables == 3\n"					\
	"expect count(pgtable_alloc level=pud) == 1\n"			\
	"expect count(pgtable_alloc level=pmd) == 1\n"			\
	"expect count(pgtable_alloc level=pte) == 1\n"			\
	"expect mm_info(t).puds == 2\n"					\
	"expect mm_info(t) == 6 * 4K\n"					\
	"v = touch t 4M r user\n"					\
	"expect v.value == 0x1234\n"					\
	"expect walk(t, 4M).present\n"					\
	"expect walk(t, 4M).user\n"					\
	"expect walk(t, 4M).writable\n"					\
	"expect walk(t, 4M).nx\n"					\
	"expect walk(t, 4M).level == 1\n"				\
	"walk t 4M\n"

Test(script, write_in_empty_mm_installs_one_table_per_level)
{
	struct cli_run r;

	require_kvm();
	/* With a bad last line ('&&' is not in the language) nothing runs. */
	run_script(&r, WRITE_AT_4M "expect walk(t, 4M).present && 1\n", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, ":20: column 28: '&' after the expectation"), "%s", r.err);
	cr_assert_str_empty(r.out, "a script that does not parse does not run: %s", r.out);
	cli_run_free(&r);

	run_script(&r, WRITE_AT_4M, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "fault 0x400000 write user: mapped; tables +pud +pmd +pte\n"), "%s", r.out);
	cr_assert(strstr(r.out, "walk 0x400000 in task 1 (pgd 0x"), "%s", r.out);
	cr_assert(strstr(r.out, "4K page, phys 0x"), "%s", r.out);
	cr_assert(strstr(r.out, ": user rw nx accessed dirty\n"), "%s", r.out);
	cli_run_free(&r);
}

Test(script, failed_expect_names_file_line_expected_and_seen)
{
	struct cli_run r;

	require_kvm();
	run_script(&r,
		   "t = task_create\n"
		   "mmap t 4M 2M rw\n"
		   "\n"
		   "touch t 4M w user\n"
		   "expect mm_info(t).puds == 1   # the trampoline has one too\n"
		   "expect fault.outcome == segv_accerr\n"
		   "r = touch t 8M w user\n"
		   "expect fault.outcome == segv_maperr\n"
		   "expect count(task_exit signal=11) == 1\n", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, ".pw:5: expect mm_info(t).puds == 1: expected == 1, saw 2\n"), "%s",
		  r.err);
	cr_assert(strstr(r.err, ".pw:6: expect fault.outcome == segv_accerr: expected == segv_accerr, "
				"saw mapped\n"), "%s", r.err);
	/* The script went on past them: the SIGSEGV's expects held. */
	cr_assert(strstr(r.err, "vmm: 2 of 4 expects failed"), "%s", r.err);
	cli_run_free(&r);
}

/* Each line that cannot parse, named with file:line before anything runs. */
Test(script, bad_lines_are_named_before_the_vm_boots)
{
	struct cli_run r;

	run_script(&r,
		   "t = task_create\n"
		   "mmap t 4M 2M\n"			/* 2: an argument missing */
		   "mmap t 4M 2M rw 7\n"			/* 3: one too many */
		   "frobnicate t\n"			/* 4: no such op */
		   "touch t 4M w user value=1 value=2\n"	/* 5: given twice */
		   "mmap t 4M 2M prot=rq\n"		/* 6: not a prot */
		   "expect nosuch == 1\n"			/* 7: not bound */
		   "expect mm_info(t).pgds == 1\n"		/* 8: no such result */
		   "fork = task_create\n"			/* 9: a name of the language */
		   "touch t 4M w user $\n"			/* 10: not a token */
		   "@99 touch t 4M r user\n", NULL);	/* 11: no such vCPU */
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, ".pw:2: mmap: argument 'prot' missing (mmap task addr len prot)\n"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:3: column 17: mmap takes 4 arguments (mmap task addr len prot), "
				"given more\n"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:4: column 1: 'frobnicate' is not an op or a command"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:5: column 27: argument 'value' given twice"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:6: column 19: 'rq' is not a number, a bound name or a value"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:7: column 8: 'nosuch' is not a number, a bound name or a value"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:8: mm_info has no result 'pgds' (result p4ds puds pmds ptes anon)"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:9: 'fork' is a name of the language"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:10: column 19: unexpected '$'"), "%s", r.err);
	cr_assert(strstr(r.err, ".pw:11: @99: no such vCPU (--cpus 1)"), "%s", r.err);
	cr_assert(!strstr(r.err, "pagewalk:"), "no VM ran: %s", r.err);
	cli_run_free(&r);
}

/* A line that fails as it runs stops the script there: status 1. */
Test(script, a_line_that_cannot_run_stops_the_script)
{
	struct cli_run r;

	require_kvm();
	run_script(&r, "walk 5 4M\nexpect 1 == 2\n", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, ".pw:1: task 5: no live task this session made"), "%s", r.err);
	cr_assert(!strstr(r.err, "expects failed"), "line 2 did not run: %s", r.err);
	cli_run_free(&r);
}

/* A VM that fails says so in its own status, before the script's verdict. */
Test(script, vm_status_comes_before_the_scripts)
{
	const char *argv[] = { VMM_BIN, "-e", "exit 3", GUEST_ELF, NULL };
	const char *bad_opt[] = { VMM_BIN, "-e", "echo 1 2", "--workload", "faults", GUEST_ELF, NULL };
	const char *no_file[] = { VMM_BIN, "--script", "/nonexistent.pw", GUEST_ELF, NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 1, "the guest's status 3 is status 1: %s", r.err);
	cr_assert(strstr(r.err, "-e:1: exit: the VM stopped (guest-failed): guest exited with status 3"),
		  "%s", r.err);
	cli_run_free(&r);
	run_vmm(&r, bad_opt);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "--workload faults: scripts and the shell run the ops workload"), "%s", r.err);
	cli_run_free(&r);
	run_vmm(&r, no_file);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "/nonexistent.pw: No such file or directory"), "%s", r.err);
	cli_run_free(&r);
}

Test(script, e_lines_include_and_names)
{
	char *inc = script_file("t = task_create\nmmap t 4M 2M rw\n");
	char line[512];
	const char *argv[] = { VMM_BIN, "-e", line, "-e", "touch t 4M w user; expect map.kind == anon",
			       "-e", "print mm_info(t).ptes, fault.addr, walk(t, 4M).present", GUEST_ELF,
			       NULL };
	struct cli_run r;

	require_kvm();
	snprintf(line, sizeof(line), "include %s", inc);
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "2 0x400000 1\n"), "%s", r.out);
	cli_run_free(&r);
	unlink(inc);
	free(inc);
}

/* A replay file as the reference model writes it (tests/model/script.c) runs as it is. */
Test(script, model_replay_file_runs)
{
	struct cli_run r;

	require_kvm();
	run_script(&r,
		   "# check-model --seed 0x1 --first 0 --seqs 1: sequence 0\n"
		   "paging 4\n"
		   "kernel_sync fault\n"
		   "cpus 2\n"
		   "t1 = task_create\n"
		   "t2 = fork t1\n"
		   "mmap t1 0x400000 0x2000 rw\n"
		   "munmap t1 0x400000 0x1000\n"
		   "mprotect t1 0x400000 0x1000 none\n"
		   "touch t1 0x401000 w user 0x55\n"
		   "v1 = vmalloc 0x2000 0xffffc90000000000\n"
		   "touch t1 v1+0x8 r kernel\n"
		   "vfree v1\n"
		   "vmalloc_sync\n"
		   "touch t2 0x401000 r user cpu=1\n"
		   "task_exit t2\n", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	/* The settings lines made the VM: 4-level, the fault mode, two vCPUs (cpu=1 ran). */
	cr_assert(strstr(r.out, "=> 0: vmalloc_fault pgd[402] in mm 1\n"), "%s", r.out);
	cr_assert(strstr(r.out, "fault 0x401000 read user: segv_maperr; task 2 killed (signal 11)"), "%s",
		  r.out);
	cli_run_free(&r);
}

Test(script, tap_points_and_plan)
{
	struct cli_run r;

	require_kvm();
	run_script(&r, "t = task_create\nexpect t == 1\nexpect t == 2\ninvariants\n", "--tap");
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.out, "ok 1 - "), "%s", r.out);
	cr_assert(strstr(r.out, ".pw:2: expect t == 1\nnot ok 2 - "), "%s", r.out);
	cr_assert(strstr(r.out, ".pw:3: expect t == 2\n# expected == 2, saw 1\nok 3 - "), "%s", r.out);
	cr_assert(strstr(r.out, ".pw:4: invariants\n1..3\n"), "%s", r.out);
	/* TAP alone on stdout: what lines show went to stderr. */
	cr_assert(!strstr(r.out, "task_create"), "%s", r.out);
	cr_assert(strstr(r.err, "new pgd, pgd_list 1"), "%s", r.err);
	cli_run_free(&r);
}

/* The indented block lines after "    $ CMD\n" up to the next "    $ " or the block's end. */
static char *sample_after(const char *readme, const char *cmd)
{
	char want[256];
	const char *p;
	char *out = calloc(1, strlen(readme) + 1);
	size_t n = 0;

	snprintf(want, sizeof(want), "\n    $ %s\n", cmd);
	p = strstr(readme, want);
	cr_assert_not_null(p, "README has no sample '%s'", cmd);
	for (p += strlen(want); !strncmp(p, "    ", 4) && strncmp(p, "    $ ", 6);) {
		const char *end = strchr(p, '\n');

		memcpy(out + n, p + 4, end - p - 4 + 1);
		n += end - p - 4 + 1;
		p = end + 1;
	}
	return out;
}

/*
 * README's sample: the script it shows is the example file, and running
 * the command it shows prints what it shows (stdout).
 */
Test(script, readme_sample_is_the_example_and_its_output)
{
	char *readme = read_file(PW_SOURCE_DIR "/README.md");
	char *file = read_file(EXAMPLES "/fork-cow.pw");
	char *shown = sample_after(readme, "cat scripts/examples/fork-cow.pw");
	char *output = sample_after(readme, "build/vmm --script scripts/examples/fork-cow.pw build/guest.elf");
	const char *argv[] = { VMM_BIN, "--script", EXAMPLES "/fork-cow.pw", GUEST_ELF, NULL };
	struct cli_run r;

	require_kvm();
	cr_assert_str_eq(shown, file, "README shows another fork-cow.pw");
	run_vmm(&r, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(output, r.out, "README's output differs from the run's:\n%s", r.out);
	cli_run_free(&r);
	free(readme);
	free(file);
	free(shown);
	free(output);
}

/*
 * The shell under a real pseudo-terminal, as a person would use it: vmm
 * spawned (no fork running on through Criterion) in a session of its own
 * with the pty's slave as its terminal; the test types, and reads the
 * screen through a small terminal: the cursor moves libedit makes (CR,
 * LF, BS, CSI column, up, down, right, left, erase to end of line).
 */
#define ROWS 400
#define COLS 200

struct pty {
	int master;
	pid_t pid;
	char screen[ROWS][COLS + 1];
	unsigned int row, col;
	char csi[16];		/* an escape sequence being read */
	size_t ncsi;
	bool esc;
};

static void put(struct pty *p, char ch)
{
	if (p->esc) {
		p->csi[p->ncsi++] = ch;
		if ((p->ncsi == 1 && ch != '[') || (p->ncsi > 1 && ch >= 0x40 && ch <= 0x7e) ||
		    p->ncsi == sizeof(p->csi) - 1) {
			unsigned int n = (unsigned int)atoi(p->csi + 1 + (p->csi[1] == '?'));

			p->esc = false;
			if (p->ncsi == 1)
				return;
			switch (ch) {
			case 'G': p->col = n ? n - 1 : 0; break;
			case 'C': p->col += n ? n : 1; break;
			case 'D': p->col -= p->col < (n ? n : 1) ? p->col : (n ? n : 1); break;
			case 'A': p->row -= p->row < (n ? n : 1) ? p->row : (n ? n : 1); break;
			case 'B': p->row += n ? n : 1; break;
			case 'K': memset(p->screen[p->row] + p->col, ' ', COLS - p->col); break;
			}
		}
	} else if (ch == '\x1b') {
		p->esc = true;
		p->ncsi = 0;
	} else if (ch == '\r') {
		p->col = 0;
	} else if (ch == '\n') {
		p->row++;
	} else if (ch == '\b') {
		p->col -= !!p->col;
	} else if (ch >= ' ' && ch < 0x7f) {
		if (p->col >= COLS) {	/* auto-wrap */
			p->col = 0;
			p->row++;
		}
		if (p->row < ROWS)
			p->screen[p->row][p->col++] = ch;
	}
	if (p->row >= ROWS)
		p->row = ROWS - 1;
	if (p->col > COLS)
		p->col = COLS;
}

static void pty_start(struct pty *p, const char *home)
{
	const char *argv[] = { VMM_BIN, "--paging", "4", "--shell", GUEST_ELF, NULL };
	struct winsize ws = { .ws_row = 24, .ws_col = COLS };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char env_home[512];
	char *envp[] = { env_home, "TERM=vt100", NULL };
	const char *slave;

	memset(p, 0, sizeof(*p));
	for (unsigned int r = 0; r < ROWS; r++)
		memset(p->screen[r], ' ', COLS);
	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(p->master >= 0 && !grantpt(p->master) && !unlockpt(p->master), "pty: %s",
		  strerror(errno));
	ioctl(p->master, TIOCSWINSZ, &ws);
	slave = ptsname(p->master);
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, 0, 1);
	posix_spawn_file_actions_adddup2(&fa, 0, 2);
	posix_spawn_file_actions_addclose(&fa, p->master);
	posix_spawnattr_init(&attr);
	/* A session of its own: opening the slave makes it the controlling terminal. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	cr_assert_eq(posix_spawn(&p->pid, VMM_BIN, &fa, &attr, (char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
}

/* The screen from row `from` to the cursor's, a line each, trailing blanks cut. */
static void screen_text(const struct pty *p, unsigned int from, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int r = from; r <= p->row && n < len; r++) {
		int end = COLS;

		while (end && p->screen[r][end - 1] == ' ')
			end--;
		n += snprintf(buf + n, len - n, "%.*s\n", end, p->screen[r]);
	}
}

/* Is `want` on the screen from row `from` on? */
static bool shows(const struct pty *p, unsigned int from, const char *want)
{
	static char text[ROWS * (COLS + 1) + 1];

	screen_text(p, from, text, sizeof(text));
	return strstr(text, want);
}

/* The prompt, with the cursor after it. */
static bool at_prompt(const struct pty *p, unsigned int from, const char *unused)
{
	(void)from, (void)unused;
	return p->col == 5 && !strncmp(p->screen[p->row], "vmm> ", 5);
}

/*
 * libedit draws the prompt a moment before it puts the terminal in raw
 * mode (ICANON off; a pty master's termios are its slave's): keys typed
 * before that the terminal would echo itself, in cooked mode.
 */
static bool raw_mode(const struct pty *p, unsigned int from, const char *unused)
{
	struct termios t;

	(void)from, (void)unused;
	return !tcgetattr(p->master, &t) && !(t.c_lflag & ICANON);
}

/* Read the terminal until done(p, from, want) holds (10 s at most), looking every 10 ms. */
static bool pty_until(struct pty *p, bool (*done)(const struct pty *, unsigned int, const char *),
		      unsigned int from, const char *want)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done(p, from, want)) {
		struct pollfd pfd = { p->master, POLLIN, 0 };
		char buf[4096];
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			return false;
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = read(p->master, buf, sizeof(buf));
		if (n <= 0)
			return false;
		for (ssize_t i = 0; i < n; i++)
			put(p, buf[i]);
	}
	return true;
}

/*
 * Type `keys`, then wait for `want` on the screen from the cursor's row on.
 * A new line waits for the prompt first, with the cursor after it, as a
 * person does: typed sooner, while the last line runs, the terminal is in
 * cooked mode and echoes it itself.
 */
static void type(struct pty *p, bool new_line, const char *keys, const char *want)
{
	static char text[ROWS * (COLS + 1) + 1];
	unsigned int from;

	if (new_line && !(pty_until(p, at_prompt, 0, NULL) && pty_until(p, raw_mode, 0, NULL))) {
		screen_text(p, 0, text, sizeof(text));
		cr_assert_fail("no prompt in raw mode before typing '%s'; the screen:\n%s", keys, text);
	}
	from = p->row;
	cr_assert_eq(write(p->master, keys, strlen(keys)), (ssize_t)strlen(keys));
	if (!pty_until(p, shows, from, want)) {
		screen_text(p, 0, text, sizeof(text));
		cr_assert_fail("typed '%s', waited for '%s'; the screen:\n%s", keys, want, text);
	}
}

Test(script, shell_under_a_pty, .timeout = 60)
{
	char home[] = "/tmp/pagewalk-home-XXXXXX", hist[600];
	static struct pty p;
	int ws;

	require_kvm();
	cr_assert_not_null(mkdtemp(home));
	pty_start(&p, home);
	cr_assert(pty_until(&p, shows, 0, "pagewalk shell, 1 vCPU: 'help' lists ops"), "no banner");
	type(&p, true, "t = task_create\r", "=> 1: new pgd, pgd_list 1");
	/* Tab completes an op's name ("mma" is only mmap's start) and a bound name. */
	type(&p, true, "mma\t", "vmm> mmap\n");
	type(&p, false, "t 4M 2M rw\r", "=> 0x400000");
	type(&p, true, "tou\t", "vmm> touch\n");
	type(&p, false, "t 4M w user 7\r", "fault 0x400000 write user: mapped; tables +pud +pmd +pte");
	/* Up-arrow brings the line back from history; edit its end and run it again. */
	type(&p, true, "\x1b[A", "vmm> touch t 4M w user 7\n");
	type(&p, false, "\b8\r", "vmm> touch t 4M w user 8\n=> 0\n");
	type(&p, true, "expect touch(t, 4M, r, user).value == 8\r", "\nok\n");
	type(&p, true, "expect mm_info(t).ptes == 1\r", "expected == 1, saw 2");
	type(&p, true, "frob\r", "error: column 1: 'frob' is not an op or a command");
	type(&p, true, "help mmap\r", "mmap task addr len prot");
	type(&p, true, "walk t 4M\r", "4K page, phys 0x");
	/* A bound name completes too. */
	type(&p, true, "mytask = task_create\r", "=> 2: new pgd, pgd_list 2");
	type(&p, true, "print mm_info(myt\t", "vmm> print mm_info(mytask\n");
	type(&p, false, ").puds\r", "\n0\n");
	/* Ctrl-D ends it; an expect failed, so the status is 1. */
	type(&p, true, "\x04", "pagewalk: ok: guest exited with status 0");
	cr_assert_eq(waitpid(p.pid, &ws, 0), p.pid);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 1, "status %#x", ws);
	close(p.master);
	/* History outlives the shell. */
	snprintf(hist, sizeof(hist), "%s/.vmm_history", home);
	free(read_file(hist));
	unlink(hist);
	rmdir(home);
}

/* README's shell session, typed line by line: the screen must read as README shows it. */
Test(script, readme_shell_sample_is_what_the_screen_shows, .timeout = 60)
{
	static char text[ROWS * (COLS + 1) + 1];
	char *readme = read_file(PW_SOURCE_DIR "/README.md");
	char *sample = sample_after(readme, "build/vmm --paging 4 --shell build/guest.elf");
	char home[] = "/tmp/pagewalk-home-XXXXXX";
	static struct pty p;
	unsigned int lines = 0;
	int ws;

	require_kvm();
	cr_assert_not_null(mkdtemp(home));
	pty_start(&p, home);
	for (char *l = sample; (l = strstr(l, "vmm> ")); l += 5) {
		char keys[256];

		snprintf(keys, sizeof(keys), "%.*s\r", (int)strcspn(l + 5, "\n"), l + 5);
		type(&p, true, keys, keys[0] == 'e' ? "expect" : "=>");
		lines++;
	}
	cr_assert_geq(lines, 3);
	cr_assert(pty_until(&p, at_prompt, 0, NULL));
	screen_text(&p, 0, text, sizeof(text));
	*strrchr(text, 'v') = '\0';	/* the prompt waiting for the next line */
	cr_assert_str_eq(text, sample, "README's shell session differs from the screen:\n%s", text);
	type(&p, true, "\x04", "pagewalk: ok");
	cr_assert_eq(waitpid(p.pid, &ws, 0), p.pid);
	close(p.master);
	rmdir(home);
	free(readme);
	free(sample);
}
