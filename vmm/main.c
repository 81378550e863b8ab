/* vmm: boot an ELF guest on /dev/kvm and report what it did. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/*
 * A full disk or a reader gone: the output is incomplete, an error of its
 * own.  With SIGPIPE ignored a closed pipe is EPIPE here, not a silent death.
 * The errno is known only if this flush is the one that failed: stdio
 * keeps the error flag of an earlier write, not its errno.
 */
static bool write_failed(FILE *f, const char *name)
{
	errno = 0;
	if (!fflush(f) && !ferror(f))
		return false;
	if (errno)
		fprintf(stderr, "vmm: %s: write error: %s\n", name, strerror(errno));
	else
		fprintf(stderr, "vmm: %s: write error, output incomplete\n", name);
	return true;
}

/* One pgd's tables, under cpu 0's paging mode. */
static void dump_pgd(struct vm *vm, struct vm_paging pg, uint64_t cr3, FILE *f)
{
	pg.cr3 = cr3;
	switch (vm_ptdump(vm, &pg, f)) {
	case VMM_OK:
		break;
	case VMM_BAD_INPUT:
		fprintf(stderr, "vmm: --ptdump: cpu 0 is not in long mode\n");
		break;
	case VMM_INTERNAL:
		fprintf(stderr, "vmm: --ptdump: out of memory\n");
		break;
	default:
		fprintf(stderr, "vmm: --ptdump: CR3 %#llx is outside guest RAM\n", (unsigned long long)cr3);
		break;
	}
}

/*
 * After the console and before the summary, whatever stopped the guest.
 * False if --ptdump=CR3 names no live pgd.
 */
static bool dump_page_tables(struct vm *vm, const struct options *o, FILE *f)
{
	struct vm_pgd *pgds;
	struct vm_paging pg;
	size_t n, shown = 0;

	if (vm_cpu_paging(vm, 0, &pg) != VMM_OK) {
		fprintf(stderr, "vmm: --ptdump: cannot read cpu 0's control registers\n");
		return true;
	}
	if (o->ptdump == PTDUMP_CPU0) {
		fprintf(f, "page tables of cpu 0, CR3 %#llx:\n", (unsigned long long)pg.cr3);
		dump_pgd(vm, pg, pg.cr3, f);
		return true;
	}
	n = vm_pgds(vm, NULL, 0);
	pgds = calloc(n, sizeof(*pgds));
	if (!pgds && n) {
		fprintf(stderr, "vmm: --ptdump: out of memory\n");
		return true;
	}
	vm_pgds(vm, pgds, n);
	for (size_t i = 0; i < n; i++) {
		if (o->ptdump == PTDUMP_PGD && pgds[i].phys != o->ptdump_pgd)
			continue;
		if (pgds[i].mm)
			fprintf(f, "page tables of mm %llu, pgd %#llx:\n", (unsigned long long)pgds[i].mm,
				(unsigned long long)pgds[i].phys);
		else
			fprintf(f, "page tables of init_mm, swapper_pg_dir %#llx:\n",
				(unsigned long long)pgds[i].phys);
		dump_pgd(vm, pg, pgds[i].phys, f);
		shown++;
	}
	if (o->ptdump == PTDUMP_PGD && !shown) {
		fprintf(stderr, "vmm: --ptdump=%#llx: not a live pgd; the live ones:",
			(unsigned long long)o->ptdump_pgd);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %#llx", (unsigned long long)pgds[i].phys);
		fprintf(stderr, "\n");
	}
	free(pgds);
	return o->ptdump != PTDUMP_PGD || shown;
}

/* The table on stderr or in FILE, the folded stacks in FILE.folded; false if a file failed. */
static bool write_profile(struct vm *vm, const char *path)
{
	char folded[4096];
	FILE *f;
	bool ok;

	vm_profile_stop(vm);
	if (!path)
		return vm_profile_report(vm, stderr) == VMM_OK;
	snprintf(folded, sizeof(folded), "%s.folded", path);
	f = fopen(path, "w");
	ok = f && vm_profile_report(vm, f) == VMM_OK;
	if (f && fclose(f))
		ok = false;
	if (!ok) {
		fprintf(stderr, "vmm: --profile=%s: %s\n", path, strerror(errno));
		return false;
	}
	f = fopen(folded, "w");
	ok = f && vm_profile_folded(vm, f) == VMM_OK;
	if (f && fclose(f))
		ok = false;
	if (!ok)
		fprintf(stderr, "vmm: --profile: %s: %s\n", folded, strerror(errno));
	return ok;
}

int main(int argc, char **argv)
{
	struct options o;
	struct vmm_config *cfg = &o.cfg;
	char err[1024];
	struct vm *vm;
	enum vmm_status s;
	bool failed, script = false;
	int script_status = 0;
	FILE *shown;

	signal(SIGPIPE, SIG_IGN);
	switch (parse_options(argc, argv, &o, err, sizeof(err))) {
	case OPT_RUN:
		break;
	case OPT_HELP:
		usage(stdout);
		return write_failed(stdout, "stdout") ? VMM_INTERNAL : 0;
	case OPT_VERSION:
		printf("vmm (pagewalk) %s\n", PW_VERSION);
		return write_failed(stdout, "stdout") ? VMM_INTERNAL : 0;
	case OPT_BAD:
		if (!err[0])
			usage(stderr);
		else
			fprintf(stderr, "vmm: %s\n(see vmm --help)\n", err);
		return VMM_BAD_INPUT;
	}
	script = o.shell || o.script.file || o.script.nlines;
	if (script && !o.shell && !script_check(&o.script, cfg))
		return 1;
	if (o.json_path) {
		cfg->json = strcmp(o.json_path, "-") ? fopen(o.json_path, "w") : stdout;
		if (!cfg->json) {
			fprintf(stderr, "vmm: --json %s: %s\n", o.json_path, strerror(errno));
			return VMM_BAD_INPUT;
		}
		/* Keep stdout pure JSON lines; the console is in them as "console" events. */
		if (cfg->json == stdout)
			cfg->console = stderr;
	}

	s = vm_create(cfg, &vm, err, sizeof(err));
	if (s != VMM_OK) {
		fprintf(stderr, "vmm: %s\n", err);
		return s;
	}
	if (o.gdb_port >= 0) {
		s = vm_gdb_listen(vm, o.gdb_port, err, sizeof(err));
		if (s != VMM_OK) {
			fprintf(stderr, "vmm: --gdb %d: %s\n", o.gdb_port, err);
			vm_destroy(vm);
			return s;
		}
		fprintf(stderr, "vmm: gdb: waiting on 127.0.0.1:%u (target remote :%u)\n",
			vm_gdb_port(vm), vm_gdb_port(vm));
		fflush(stderr);
	}
	if (o.profile && vm_profile_start(vm, o.profile_hz) != VMM_OK) {
		fprintf(stderr, "vmm: --profile: %s\n", vm_message(vm));
		vm_destroy(vm);
		return VMM_INTERNAL;
	}
	/* What script lines show: not where JSON lines or TAP go. */
	shown = cfg->json == stdout || o.script.tap ? stderr : stdout;
	if (o.shell)
		script_status = script_shell(vm, cfg, shown);
	else if (script)
		script_status = script_run(vm, &o.script, cfg, shown);
	s = vm_run(vm);
	if (o.ptdump && !dump_page_tables(vm, &o, cfg->json == stdout ? stderr : stdout))
		s = VMM_BAD_INPUT;
	failed = write_failed(stdout, "stdout");
	if (o.profile)
		failed |= !write_profile(vm, o.profile_path);
	if (cfg->json && cfg->json != stdout) {
		failed |= write_failed(cfg->json, o.json_path);
		fclose(cfg->json);
	}
	/* The summary still says how the guest stopped; stderr itself can only fail silently. */
	vm_print_summary(vm, stderr);
	vm_destroy(vm);
	/* A VM that failed says so first; then the script's own verdict (README, "Exit statuses"). */
	return failed || ferror(stderr) ? VMM_INTERNAL : s != VMM_OK ? (int)s : script_status;
}
