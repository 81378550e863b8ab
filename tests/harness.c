#include <dirent.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <pagewalk/sizes.h>

#include "harness.h"
#include "quirks.h"

extern char **environ;

const char *kvm_unusable(void)
{
	static char why[256];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	snprintf(why, sizeof(why), "no usable /dev/kvm: %s", strerror(errno));
	return why;
}

int pw_kvm_required(void)
{
	const char *v = getenv("PAGEWALK_REQUIRE_KVM");

	return v && !strcmp(v, "1");
}

/*
 * Every guest event of a test, as --json lines, in build/test-logs/
 * SUITE.TEST.jsonl, kept when the test fails (kvm-unit-tests' logs/): the
 * runner empties the folder when it starts and drops a log when its test
 * passes or is skipped.  Line-buffered, so a test that crashes keeps it.
 */
#define TEST_LOGS	PW_BUILD_DIR "/test-logs"

static void log_path(const struct criterion_test *t, char *path, size_t len)
{
	snprintf(path, len, TEST_LOGS "/%s.%s.jsonl", t->category, t->name);
}

static FILE *test_log(void)
{
	static FILE *f;
	char path[512];

	if (!f && criterion_current_test) {
		log_path(criterion_current_test, path, sizeof(path));
		f = fopen(path, "a");
		if (f)
			setvbuf(f, NULL, _IOLBF, 0);
	}
	return f;
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	DIR *d;
	struct dirent *e;

	(void)set;
	mkdir(TEST_LOGS, 0755);
	d = opendir(TEST_LOGS);
	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".jsonl"))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
}

ReportHook(POST_TEST)(struct criterion_test_stats *stats)
{
	char path[512];

	if (stats->test_status != CR_STATUS_FAILED) {
		log_path(stats->test, path, sizeof(path));
		unlink(path);
	}
}

int pw_la57_required(void)
{
	const char *v = getenv("PAGEWALK_REQUIRE_LA57");

	return v && !strcmp(v, "1");
}

int pw_paging32_required(void)
{
	const char *v = getenv("PAGEWALK_REQUIRE_PAGING32");

	return v && !strcmp(v, "1");
}

void test_config(struct vmm_config *cfg, const char *guest, const char *workload)
{
	vmm_config_init(cfg, guest);
	cfg->workload = workload;
	cfg->console = NULL;
	cfg->record = true;
	cfg->json = test_log();
}

struct vm *test_vm_create(const struct vmm_config *cfg)
{
	struct vm *vm;
	char err[1024];

	cr_assert_eq(vm_create(cfg, &vm, err, sizeof(err)), VMM_OK, "vm_create: %s", err);
	return vm;
}

struct vm *boot_ops_guest(uint64_t mem_bytes)
{
	struct vmm_config cfg;

	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	if (mem_bytes)
		cfg.mem_bytes = mem_bytes;
	return test_vm_create(&cfg);
}

struct vm *boot_ops_guest_paging(unsigned int levels)
{
	struct vmm_config cfg;

	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	cfg.paging = levels;
	return test_vm_create(&cfg);
}

struct vm *boot_guest32(unsigned int levels, const char *kernel_sync)
{
	struct vmm_config cfg;
	struct vm *vm;

	test_config(&cfg, levels == 2 ? GUEST_I386_ELF : GUEST_PAE_ELF, PW_WORKLOAD_OPS);
	cfg.paging = levels;
	cfg.mem_bytes = 256 * SZ_1M;
	if (kernel_sync)
		cfg.kernel_sync = kernel_sync;
	vm = test_vm_create(&cfg);
	cr_assert_eq(vm_levels(vm), levels);
	return vm;
}

struct vm *boot_ops_guest_with(const char *guest, const char *kernel_sync, unsigned int split_cpus,
			       unsigned int ncpus)
{
	struct vmm_config cfg;

	test_config(&cfg, guest, PW_WORKLOAD_OPS);
	if (kernel_sync)
		cfg.kernel_sync = kernel_sync;
	cfg.split_ptlock_cpus = split_cpus;
	cfg.ncpus = ncpus;
	return test_vm_create(&cfg);
}

size_t events_since(struct vm *vm, size_t from, enum pw_event_type type,
		    const struct pw_event **out, size_t max)
{
	size_t n, found = 0;
	const struct pw_event *ev = vm_events(vm, &n);

	for (size_t i = from; i < n; i++) {
		if (ev[i].type != type)
			continue;
		if (found < max)
			out[found] = &ev[i];
		found++;
	}
	return found;
}

static char *slurp(FILE *f)
{
	long n;
	char *buf;

	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	return buf;
}

static void run(struct cli_run *r, const char *path, const char *const argv[], int out_fd)
{
	FILE *out = tmpfile(), *err = tmpfile();
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int ws;

	cr_assert(out && err, "tmpfile: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd >= 0 ? out_fd : fileno(out), 1);
	posix_spawn_file_actions_adddup2(&fa, fileno(err), 2);
	cr_assert_eq(posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ), 0,
		     "cannot spawn %s", path);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	r->out = slurp(out);
	r->err = slurp(err);
	fclose(out);
	fclose(err);
	/* Under SANITIZE=1 the child is instrumented too: its reports fail the test. */
	cr_assert(!strstr(r->err, "Sanitizer") && !strstr(r->err, "runtime error:"),
		  "sanitizer report from %s: %s", path, r->err);
}

void run_vmm(struct cli_run *r, const char *const argv[])
{
	run(r, VMM_BIN, argv, -1);
}

void run_vmm_to(struct cli_run *r, const char *const argv[], int out_fd)
{
	run(r, VMM_BIN, argv, out_fd);
}

void run_program(struct cli_run *r, const char *path, const char *const argv[])
{
	run(r, path, argv, -1);
}

void cli_run_free(struct cli_run *r)
{
	free(r->out);
	free(r->err);
}

char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;

	cr_assert(f, "%s: %s", path, strerror(errno));
	buf = slurp(f);
	fclose(f);
	return buf;
}

char *temp_copy(const char *src)
{
	char *path = strdup("/tmp/pagewalk-test-XXXXXX");
	int in = open(src, O_RDONLY), out = mkstemp(path);
	char buf[65536];
	ssize_t n;

	cr_assert(in >= 0 && out >= 0, "temp copy of %s: %s", src, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, n), n);
	close(in);
	close(out);
	return path;
}

void elf_loads(const char *path, Elf64_Phdr *out, size_t max)
{
	int fd = open(path, O_RDONLY);
	size_t found = 0;
	Elf64_Ehdr eh;

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(pread(fd, &eh, sizeof(eh), 0), (ssize_t)sizeof(eh));
	for (unsigned int i = 0; i < eh.e_phnum && found < max; i++) {
		Elf64_Phdr ph;

		cr_assert_eq(pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)), (ssize_t)sizeof(ph));
		if (ph.p_type == PT_LOAD)
			out[found++] = ph;
	}
	close(fd);
	cr_assert_eq(found, max, "%s: %zu PT_LOADs, expected %zu", path, found, max);
}

bool kvm_cpuid(uint32_t function, struct kvm_cpuid_entry2 *out)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	bool found = false;

	cr_assert(c && fd >= 0);
	c->nent = 256;
	cr_assert_eq(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c), 0, "%s", strerror(errno));
	for (unsigned int i = 0; i < c->nent; i++) {
		if (c->entries[i].function == function && c->entries[i].index == 0) {
			*out = c->entries[i];
			found = true;
		}
	}
	close(fd);
	free(c);
	return found;
}

void end_vm(struct vm *vm)
{
	char report[4096];

	if (vm_levels(vm) == 3 && pdpte_quirk_clear(vm))
		cr_log_info("host quirk: %s", host_quirk_names[QUIRK_A_IN_PAE_PDPTE]);
	cr_assert_eq(vm_check_invariants(vm, report, sizeof(report)), VMM_OK, "invariants: %s", report);
	cr_assert_eq(vm_check_translate(vm, 0, 32, report, sizeof(report)), VMM_OK, "%s", report);
	vm_destroy(vm);
}
