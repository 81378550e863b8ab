/*
 * The gdb stub (vmm --gdb): Debian's gdb in batch mode against the real
 * guest, and a raw client for the protocol's corner cases.  Expected values
 * come from elsewhere: symbol addresses and code bytes from the guest ELF,
 * the task's pgd and its pages from the guest's own events (--json), a
 * direct-map address's frame from the layout.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <pagewalk/layout.h>

#include "guest_ops.h"
#include "harness.h"

extern char **environ;

/* A vmm --gdb 0 in the background, its output in files, the port it printed. */
struct vmm_proc {
	pid_t pid;
	int port;
	char out[32], err[32];
};

static void vmm_start(struct vmm_proc *p, const char *guest, const char *const extra[])
{
	const char *argv[16] = { VMM_BIN, "--gdb", "0" };
	posix_spawn_file_actions_t fa;
	int n = 3, out, err;

	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n++] = guest;
	strcpy(p->out, "/tmp/pagewalk-gdb-XXXXXX");
	strcpy(p->err, "/tmp/pagewalk-gdb-XXXXXX");
	out = mkstemp(p->out);
	err = mkstemp(p->err);
	cr_assert(out >= 0 && err >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	cr_assert_eq(posix_spawn(&p->pid, VMM_BIN, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out);
	close(err);
	/* It says where it listens once it does. */
	for (int i = 0; i < 2000; i++) {
		char *text = read_file(p->err);
		const char *at = strstr(text, "127.0.0.1:");

		p->port = at ? atoi(at + 10) : 0;
		free(text);
		if (p->port)
			return;
		cr_assert_eq(waitpid(p->pid, NULL, WNOHANG), 0, "vmm --gdb exited before it listened");
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	cr_assert_fail("vmm --gdb did not say where it listens");
}

/* Its exit status, after at most `secs`; its output in *out and *err (free them). */
static int vmm_wait(struct vmm_proc *p, int secs, char **out, char **err)
{
	int ws;

	for (int i = 0; i < secs * 100; i++) {
		if (waitpid(p->pid, &ws, WNOHANG) == p->pid) {
			*out = read_file(p->out);
			*err = read_file(p->err);
			unlink(p->out);
			unlink(p->err);
			cr_assert(!strstr(*err, "Sanitizer") && !strstr(*err, "runtime error:"),
				  "sanitizer report from vmm: %s", *err);
			return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
		}
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	*err = read_file(p->err);
	cr_assert_fail("vmm still running after %d s: %s", secs, *err);
	return -1;
}

static const char *gdb_binary(void)
{
	static const char *const candidates[] = { "/usr/bin/gdb-multiarch", "/usr/bin/gdb" };

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!access(candidates[i], X_OK))
			return candidates[i];
	return NULL;
}

#define require_gdb()								\
	do {									\
		require_kvm();							\
		if (!gdb_binary() && pw_kvm_required())				\
			cr_assert_fail("no gdb (scripts/install-deps.sh installs it)");	\
		else if (!gdb_binary())						\
			cr_skip_test("no gdb: scripts/install-deps.sh installs it");	\
	} while (0)

/*
 * gdb -batch in the background: connect, then each command as an -ex; its
 * stdout and stderr (where batch mode puts the stub's console output and
 * gdb's warnings) in order into one file.
 */
static pid_t gdb_spawn(int port, const char *elf, const char *const cmds[], char path[32])
{
	char target[64];
	const char *argv[64] = { gdb_binary(), "-nx", "-batch", "-ex", "set pagination off", "-ex", target };
	posix_spawn_file_actions_t fa;
	int n = 7, fd;
	pid_t pid;

	snprintf(target, sizeof(target), "target remote 127.0.0.1:%d", port);
	for (; *cmds; cmds++) {
		cr_assert(n < 60);
		argv[n++] = "-ex";
		argv[n++] = *cmds;
	}
	argv[n++] = elf;
	argv[n] = NULL;
	strcpy(path, "/tmp/pagewalk-gdb-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	cr_assert_eq(posix_spawn(&pid, gdb_binary(), &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	return pid;
}

/* Its output, once it has exited (within 120 s). */
static char *gdb_reap(pid_t pid, const char *path)
{
	char *out;

	for (int i = 0; i < 12000 && waitpid(pid, NULL, WNOHANG) != pid; i++)
		usleep(10000);
	if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cr_assert_fail("gdb still running after 120 s:\n%s", read_file(path));
	}
	out = read_file(path);
	unlink(path);
	return out;
}

/* The number after the first `what` in gdb's output: "$2 = ", "cr3 ", "-> phys ". */
static uint64_t after(const char *out, const char *what)
{
	const char *at = strstr(out, what);

	cr_assert(at, "no '%s' in gdb's output:\n%s", what, out);
	at += strlen(what);
	while (*at == ' ')
		at++;
	return strtoull(at, NULL, 0);
}

/* A symbol's address (and size) from the ELF's own symbol table. */
static uint64_t elf_symbol(const char *path, const char *name, uint64_t *size)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	uint64_t addr = 0;

	cr_assert(fd >= 0 && elf_version(EV_CURRENT) != EV_NONE);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while ((scn = elf_nextscn(e, scn)) && !addr) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;

			if (gelf_getsym(d, i, &s) && !strcmp(elf_strptr(e, sh.sh_link, s.st_name), name)) {
				addr = s.st_value;
				if (size)
					*size = s.st_size;
				break;
			}
		}
	}
	elf_end(e);
	close(fd);
	cr_assert(addr, "%s: no symbol %s", path, name);
	return addr;
}

/* The file's bytes at a virtual address, from the section that holds it. */
static void elf_bytes(const char *path, uint64_t addr, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	bool found = false;

	cr_assert(fd >= 0);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while ((scn = elf_nextscn(e, scn)) && !found) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_PROGBITS && addr >= sh.sh_addr &&
		    addr + len <= sh.sh_addr + sh.sh_size) {
			cr_assert_eq(pread(fd, buf, len, sh.sh_offset + addr - sh.sh_addr), (ssize_t)len);
			found = true;
		}
	}
	elf_end(e);
	close(fd);
	cr_assert(found, "%s: no section holds %#lx", path, (unsigned long)addr);
}

/* A field of the first JSON event line that has all of `match`. */
static uint64_t json_field(const char *json, const char *const match[], const char *field)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"%s\":", field);
	for (const char *line = json; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		size_t len = strcspn(line, "\n");
		char *copy = strndup(line, len), *at;
		bool all = true;
		uint64_t v;

		for (const char *const *m = match; *m; m++)
			all &= strstr(copy, *m) != NULL;
		at = strstr(copy, pat);
		if (all && at) {
			at += strlen(pat);
			v = strtoull(at + (*at == '"'), NULL, 0);
			free(copy);
			return v;
		}
		free(copy);
	}
	cr_assert_fail("no event with %s and %s in:\n%s", match[0], field, json);
	return 0;
}

/* vmm --gdb 0 with `extra`, gdb's batch of `cmds` against it (its output in *g); vmm's exit status. */
static int session(const char *guest, const char *const extra[], const char *const cmds[],
		   char **g, char **out, char **err)
{
	struct vmm_proc p;
	char path[32];

	vmm_start(&p, guest, extra);
	*g = gdb_reap(gdb_spawn(p.port, guest, cmds, path), path);
	return vmm_wait(&p, 30, out, err);
}

/*
 * What the stub probed this host's KVM to deliver (`monitor host`), once
 * per test process.  Each test that depends on it checks the claim: what
 * the stub says works must work, what it says does not must be refused
 * to gdb, leaving the guest unharmed.
 */
static bool host_says(const char *what)
{
	static char *report;

	if (!report) {
		char *out, *err;

		cr_assert_eq(session(GUEST_ELF, NULL, (const char *[]){ "monitor host", "kill", NULL },
				     &report, &out, &err), 0, "%s", err);
		free(out);
		free(err);
	}
	cr_assert(strstr(report, "so: "), "%s", report);
	return strstr(report, what);
}

/*
 * Where the host stops the guest for no breakpoint, gdb hears so when it
 * inserts one, and the guest runs on unharmed; stepi works everywhere.
 */
static void breakpoint_refused(const char *cmd, const char *refusal)
{
	const char *cmds[] = { cmd, "continue", "delete", "stepi", "p/x $pc", "continue", NULL };
	Elf64_Ehdr eh;
	char *g;
	char *out, *err;
	int fd = open(GUEST_ELF, O_RDONLY);

	cr_assert(fd >= 0 && pread(fd, &eh, sizeof(eh), 0) == sizeof(eh));
	close(fd);
	cr_assert_eq(session(GUEST_ELF, NULL, cmds, &g, &out, &err), 0, "%s", err);
	cr_assert(strstr(g, refusal), "want '%s' in:\n%s", refusal, g);
	/* The entry's first instruction is the one-byte cli (guest/arch/head.S). */
	cr_assert_eq(after(g, "$1 = "), eh.e_entry + 1, "%s", g);
	cr_assert(strstr(g, "exited normally"), "%s", g);
	cr_assert(strstr(out, "pgd_list: 3 PGDs"), "the workload ran to its end: %s", out);
	free(out);
	free(err);
	free(g);
}

/*
 * The session, README's transcript: a hardware breakpoint in
 * handle_mm_fault with a condition gdb evaluates (the task's first write;
 * its first fault is the fetch of the user trampoline), the stack down to
 * exc_page_fault, the fault's address, CR3 against the task's pgd, code
 * against the ELF, monitor walk before and after the fault against the
 * guest's own map event, the threads of --cpus 2, finish, stepi, kill.
 */
Test(gdb, hbreak_in_handle_mm_fault, .timeout = 180)
{
	char json[] = "/tmp/pagewalk-gdb-json-XXXXXX";
	const char *extra[] = { "--cpus", "2", "--json", json, NULL };
	const char *cmds[] = {
		"hbreak handle_mm_fault if flags & 1",
		"continue",
		"bt",
		"p/x $pc",
		"p/x address",
		"info registers cr3",
		"x/2gx handle_mm_fault",
		"monitor walk 0x400000",
		"monitor walk 0xffff888000123456",
		"info threads",
		"delete",
		"finish",
		"monitor walk 0x400000",
		"p/x $pc",
		"stepi",
		"p/x $pc",
		"monitor events 2",
		"kill",
		NULL,
	};
	uint64_t sym, text[2], pgd, page, ret;
	char *g;
	char *out, *err, *events, want[128];
	int status;

	require_gdb();
	if (!host_says("hbreak (Z1) debug registers")) {
		breakpoint_refused("hbreak handle_mm_fault", "Cannot insert hardware breakpoint 1");
		return;
	}
	close(mkstemp(json));
	status = session(GUEST_ELF, extra, cmds, &g, &out, &err);
	events = read_file(json);
	unlink(json);

	sym = elf_symbol(GUEST_ELF, "handle_mm_fault", NULL);
	cr_assert(strstr(g, "Hardware assisted breakpoint 1"), "%s", g);
	cr_assert_eq(after(g, "$1 = "), sym, "%s", g);
	cr_assert(strstr(g, " exc_page_fault (regs="), "bt: %s", g);
	/* The default workload's task writes first at 4 MiB (guest/kernel/workload.c). */
	cr_assert_eq(after(g, "$2 = "), 0x400000, "%s", g);
	/* CR3 is the task's pgd, the one the guest reported making. */
	pgd = json_field(events, (const char *[]){ "\"type\":\"pgd_ctor\"", "\"mm\":1,", NULL }, "phys");
	cr_assert_eq(after(g, "cr3 ") & PT_ADDR_MASK, pgd, "%s", g);
	elf_bytes(GUEST_ELF, sym, text, sizeof(text));
	snprintf(want, sizeof(want), "<handle_mm_fault>:\t%#lx\t%#lx", (unsigned long)text[0],
		 (unsigned long)text[1]);
	cr_assert(strstr(g, want), "want '%s' in:\n%s", want, g);
	/* Before the fault, nothing maps it: the task's pgd has no entry 0 yet. */
	cr_assert(strstr(g, "-> not mapped: the pgd entry is not present"), "%s", g);
	/*
	 * The direct map is RAM at PAGE_OFFSET: 0x123456 is its own frame's
	 * offset, in 4K pages (the guest leaves pfn 0 unmapped, so the first
	 * 2 MiB are not one page).
	 */
	cr_assert(strstr(g, "-> phys 0x123456: 4K page, kernel, RW, NX"), "%s", g);
	cr_assert(strstr(g, "Thread 1 (cpu 0)") && strstr(g, "Thread 2 (cpu 1"), "%s", g);
	/* After the fault, the walker finds the page the guest says it mapped there. */
	page = json_field(events, (const char *[]){ "\"type\":\"map\"", "\"addr\":\"0x400000\"", NULL }, "phys");
	snprintf(want, sizeof(want), "-> phys %#lx: 4K page, user, RW", (unsigned long)page);
	cr_assert(strstr(g, want), "want '%s' in:\n%s", want, g);
	/* finish stops where bt said handle_mm_fault returns to; stepi moves on from there. */
	ret = after(g, "#1  ");
	cr_assert_eq(after(g, "$4 = "), ret, "%s", g);
	cr_assert_neq(after(g, "$5 = "), ret, "%s", g);
	cr_assert_eq(status, 0, "%s", err);
	cr_assert(strstr(err, "pagewalk: ok: killed from gdb"), "%s", err);
	cr_assert(strstr(err, "VM exits:") && strstr(err, "debug="), "%s", err);
	free(events);
	free(out);
	free(err);
	free(g);
}

/*
 * `break` is Z0: an int3 in guest memory where the host delivers it, a
 * debug register where not (monitor host says which).  With breakpoints
 * kept inserted, gdb still reads the original code; without any, the guest
 * runs to its end and gdb hears its exit status.
 */
Test(gdb, break_then_run_to_exit, .timeout = 180)
{
	const char *cmds[] = {
		"monitor host",
		"set breakpoint always-inserted on",
		"break __pud_alloc",
		"continue",
		"p/x $pc",
		"p/x *(unsigned char *)__pud_alloc",
		"delete",
		"continue",
		NULL,
	};
	uint64_t sym;
	uint8_t byte;
	char *g;
	char *out, *err;
	int status;

	require_gdb();
	if (host_says("break (Z0) refused")) {
		breakpoint_refused("break __pud_alloc", "Cannot insert breakpoint 1");
		return;
	}
	status = session(GUEST_ELF, NULL, cmds, &g, &out, &err);
	sym = elf_symbol(GUEST_ELF, "__pud_alloc", NULL);
	elf_bytes(GUEST_ELF, sym, &byte, 1);
	cr_assert(strstr(g, "so: break (Z0) "), "%s", g);
	cr_assert(strstr(g, "Breakpoint 1, __pud_alloc"), "%s", g);
	cr_assert_eq(after(g, "$1 = "), sym, "%s", g);
	cr_assert_eq(after(g, "$2 = "), byte, "an inserted int3 shows through: %s", g);
	cr_assert(strstr(g, "exited normally"), "%s", g);
	cr_assert_eq(status, 0, "%s", err);
	cr_assert(strstr(out, "pgd_list: 3 PGDs"), "the workload ran to its end: %s", out);
	cr_assert(strstr(err, "pagewalk: ok: guest exited with status 0"), "%s", err);
	free(out);
	free(err);
	free(g);
}

/*
 * Watchpoints where the host's fire; where they do not (monitor host
 * probed it), gdb is told Z2 is unsupported and says it cannot insert the
 * watchpoint rather than waiting for a stop that never comes.
 */
Test(gdb, watch_where_the_host_fires_them, .timeout = 180)
{
	const char *cmds[] = {
		"watch pgd_list",
		"continue",
		"kill",
		NULL,
	};
	char *g;
	char *out, *err;
	bool fires;

	require_gdb();
	fires = host_says("watch (Z2) debug registers");
	cr_assert(fires || host_says("watch (Z2) unsupported"));
	cr_assert_eq(session(GUEST_ELF, NULL, cmds, &g, &out, &err), 0, "%s", err);
	if (fires) {
		/* pgd_ctor() puts the first task's pgd on the list. */
		cr_assert(strstr(g, "Hardware watchpoint 1: pgd_list"), "%s", g);
		cr_assert(strstr(g, "New value = (struct page *) 0x"), "%s", g);
	} else {
		cr_assert(strstr(g, "Could not insert hardware watchpoint 1"), "%s", g);
	}
	free(out);
	free(err);
	free(g);
}

/* A raw client: one socket, packets framed and acked by hand. */
static int rsp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	cr_assert(fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)), "connect: %s", strerror(errno));
	/* As gdb's ser-tcp.c: the '+' acking a reply and the next packet are two sends. */
	cr_assert_eq(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	return fd;
}

static void rsp_write(int fd, const char *s, size_t n)
{
	cr_assert_eq(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void rsp_send(int fd, const char *data)
{
	char buf[512];
	uint8_t sum = 0;

	for (const char *p = data; *p; p++)
		sum += (uint8_t)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", data, sum);
	rsp_write(fd, buf, strlen(buf));
}

/* One byte within 10 s; -1 at EOF. */
static int rsp_byte(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t c;

	cr_assert_eq(poll(&p, 1, 10000), 1, "no answer from the stub in 10 s");
	return recv(fd, &c, 1, 0) == 1 ? c : -1;
}

/* The next packet's data (acks before it skipped), checksum verified, acked. */
static char *rsp_recv(int fd, char *buf, size_t len)
{
	size_t n = 0;
	uint8_t sum = 0;
	int c;
	char cs[3];

	while ((c = rsp_byte(fd)) != '$')
		cr_assert(c == '+', "expected a packet, got %#x", c);
	while ((c = rsp_byte(fd)) != '#') {
		cr_assert(c >= 0 && n + 1 < len);
		buf[n++] = c;
		sum += c;
	}
	buf[n] = '\0';
	cs[0] = rsp_byte(fd);
	cs[1] = rsp_byte(fd);
	cs[2] = '\0';
	cr_assert_eq(strtoul(cs, NULL, 16), sum, "checksum of '%s'", buf);
	rsp_write(fd, "+", 1);
	return buf;
}

static char *rsp(int fd, const char *data, char *buf, size_t len)
{
	rsp_send(fd, data);
	return rsp_recv(fd, buf, len);
}

/*
 * Ctrl-C on a guest that spins without an exit, and the protocol's corner
 * cases: a bad checksum is NAKed and the next good packet answered, an
 * unknown packet gets the empty reply, malformed arguments an error, an
 * unmapped address E0e (EFAULT) and a read across the end of the mapping
 * its mapped part; a second client is closed at once; a client gone
 * mid-run leaves the guest running, for the next client to stop, even
 * one that connects at once.
 */
Test(gdb, raw_protocol_and_ctrl_c, .timeout = 120)
{
	uint64_t spin = elf_symbol(TEST_GUEST("spin"), "spin_forever", NULL);
	struct vmm_proc p;
	char buf[20000], want[64], *out, *err;
	int fd, fd2;

	require_kvm();
	vmm_start(&p, TEST_GUEST("spin"), NULL);
	fd = rsp_connect(p.port);
	cr_assert_str_eq(rsp(fd, "?", buf, sizeof(buf)), "T05thread:1;");
	rsp_write(fd, "$g#00", 5);
	cr_assert_eq(rsp_byte(fd), '-', "a bad checksum is NAKed");
	cr_assert(strstr(rsp(fd, "qSupported:swbreak+;hwbreak+", buf, sizeof(buf)), "PacketSize=4000;"
		  "qXfer:features:read+"), "%s", buf);
	cr_assert_str_eq(rsp(fd, "vMustReplyEmpty", buf, sizeof(buf)), "");
	cr_assert_str_eq(rsp(fd, "jUnknownPacket:1", buf, sizeof(buf)), "");
	cr_assert_str_eq(rsp(fd, "mzz,4", buf, sizeof(buf)), "E16");
	cr_assert_str_eq(rsp(fd, "Hg9", buf, sizeof(buf)), "E16", "no thread 9 with one vCPU");
	rsp(fd, "qXfer:features:read:target.xml:0,4000", buf, sizeof(buf));
	cr_assert(buf[0] == 'l' && strstr(buf, "<architecture>i386:x86-64</architecture>") &&
		  strstr(buf, "org.gnu.gdb.i386.core") && strstr(buf, "name=\"fs_base\"") &&
		  strstr(buf, "name=\"cr3\""), "%s", buf);
	/* The boot tables map the first GiB of the address space: 16 TiB is under an empty PML4E. */
	cr_assert_str_eq(rsp(fd, "m100000000000,8", buf, sizeof(buf)), "E0e");
	/* Identity-mapped RAM ends at 256 MiB: of 16 bytes from 8 before it, 8 come back. */
	cr_assert_eq(strlen(rsp(fd, "mffffff8,10", buf, sizeof(buf))), 16, "%s", buf);

	fd2 = rsp_connect(p.port);
	cr_assert_eq(rsp_byte(fd2), -1, "a second client is closed at once");
	close(fd2);

	/* Ctrl-C: the guest spins in one instruction, with no exit to stop at. */
	rsp_send(fd, "c");
	cr_assert_eq(rsp_byte(fd), '+');
	usleep(300000);
	rsp_write(fd, "\x03", 1);
	cr_assert_str_eq(rsp_recv(fd, buf, sizeof(buf)), "T02thread:1;");
	rsp(fd, "p10", buf, sizeof(buf));	/* rip */
	snprintf(want, sizeof(want), "%016lx", (unsigned long)__builtin_bswap64(spin));
	cr_assert_str_eq(buf, want, "RIP in spin_forever");
	/* A step from _start (set by S's address), over its 2-byte pause: spin_forever again. */
	snprintf(buf, sizeof(buf), "S05;%lx", (unsigned long)elf_symbol(TEST_GUEST("spin"), "_start", NULL));
	cr_assert_str_eq(rsp(fd, buf, buf, sizeof(buf)), "T05thread:1;");
	cr_assert_str_eq(rsp(fd, "p10", buf, sizeof(buf)), want);
	/* Registers: g is the target description's 600 bytes; a GPR writes, a lone selector does not. */
	cr_assert_eq(strlen(rsp(fd, "g", buf, sizeof(buf))), 1200, "%s", buf);
	cr_assert_str_eq(rsp(fd, "P0=8877665544332211", buf, sizeof(buf)), "OK");
	cr_assert_str_eq(rsp(fd, "p0", buf, sizeof(buf)), "8877665544332211");
	cr_assert_str_eq(rsp(fd, "P12=2b000000", buf, sizeof(buf)), "E16", "cs alone");

	/* Gone mid-run: the guest runs on; the next client finds it stopped. */
	rsp_send(fd, "c");
	cr_assert_eq(rsp_byte(fd), '+');
	close(fd);
	usleep(300000);
	cr_assert_eq(waitpid(p.pid, NULL, WNOHANG), 0, "vmm ended with its client");
	fd = rsp_connect(p.port);
	cr_assert_str_eq(rsp(fd, "?", buf, sizeof(buf)), "T05thread:1;");
	/* One that connects as soon as the last has gone is served, not refused as a second. */
	rsp_send(fd, "c");
	cr_assert_eq(rsp_byte(fd), '+');
	close(fd);
	fd = rsp_connect(p.port);
	cr_assert_str_eq(rsp(fd, "?", buf, sizeof(buf)), "T05thread:1;");
	rsp_send(fd, "k");
	cr_assert_eq(vmm_wait(&p, 20, &out, &err), 0, "%s", err);
	cr_assert(strstr(err, "pagewalk: ok: killed from gdb"), "%s", err);
	close(fd);
	free(out);
	free(err);
}

/* Bad ports and a port in use: status 2 and why, before anything runs. */
Test(gdb, bad_ports_are_refused)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char port[16];
	struct cli_run r;

	require_kvm();
	run_vmm(&r, (const char *[]){ VMM_BIN, "--gdb", "65536", GUEST_ELF, NULL });
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--gdb '65536': a TCP port from 0"), "%s", r.err);
	cli_run_free(&r);
	run_vmm(&r, (const char *[]){ VMM_BIN, "--gdb", "-1", GUEST_ELF, NULL });
	cr_assert_eq(r.status, 2, "%s", r.err);
	cli_run_free(&r);
	run_vmm(&r, (const char *[]){ VMM_BIN, "--gdb", "0", "--timeout", "5", GUEST_ELF, NULL });
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--gdb with --timeout"), "%s", r.err);
	cli_run_free(&r);

	cr_assert(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(fd, 1) &&
		  !getsockname(fd, (struct sockaddr *)&sa, &len));
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	run_vmm(&r, (const char *[]){ VMM_BIN, "--gdb", port, GUEST_ELF, NULL });
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "cannot listen on 127.0.0.1:") && strstr(r.err, "Address already in use"),
		  "%s", r.err);
	cli_run_free(&r);
	close(fd);
}

/*
 * Through libvmm, with ops on two vCPUs at once, cpu 0 in the middle of a
 * long op.  Where hardware breakpoints work, gdb's breakpoint that only
 * cpu 1 takes (gdb evaluates the condition: cpu 0 passes __pud_alloc at
 * boot) stops cpu 0 too, kicked out of its op; elsewhere Ctrl-C from a raw
 * client stops it, the stop naming cpu 0, the one that runs.  After detach
 * both ops finish, no event lost, and the guest is sane.
 */
Test(gdb, libvmm_two_cpus_all_stop, .timeout = 180)
{
	const char *cmds[] = {
		"hbreak __pud_alloc if $_thread == 2",
		"continue",
		"p/x $pc",
		"info threads",
		"detach",
		NULL,
	};
	const uint64_t nseq = 16000;
	uint64_t t;
	const struct pw_event *seq[1];
	struct vmm_config cfg;
	struct vm *vm;
	char err[256], path[32], buf[256], *g;
	bool hw;
	int64_t res;
	size_t from;
	pid_t pid = -1;
	int fd = -1;

	require_gdb();
	hw = host_says("hbreak (Z1) debug registers");
	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	cfg.ncpus = 2;
	cfg.timeout_ms = 0;	/* the time stopped in gdb would count */
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_OK, "%s", err);
	cr_assert_eq(vm_gdb_listen(vm, 0, err, sizeof(err)), VMM_OK, "%s", err);
	if (hw) {
		pid = gdb_spawn(vm_gdb_port(vm), GUEST_ELF, cmds, path);
	} else {
		fd = rsp_connect(vm_gdb_port(vm));
		rsp_send(fd, "c");
		cr_assert_eq(rsp_byte(fd), '+');
	}
	t = new_task(vm);		/* boots both vCPUs, once gdb resumes them */
	map(vm, t, 4 * SZ_1M, 2 * SZ_1M, RW);
	vm_events(vm, &from);
	cr_assert_eq(VM_OP_START(vm, 0, emit, nseq), VMM_OK, "%s", vm_message(vm));
	usleep(300000);			/* well into its 16000 events */
	if (!hw) {
		rsp_write(fd, "\x03", 1);
		cr_assert_str_eq(rsp_recv(fd, buf, sizeof(buf)), "T02thread:1;");
		cr_assert_str_eq(rsp(fd, "qfThreadInfo", buf, sizeof(buf)), "m1,2");
		cr_assert_str_eq(rsp(fd, "D", buf, sizeof(buf)), "OK");
		close(fd);
	}
	cr_assert_eq(VM_OP(vm, 1, touch, &res, NULL, t, 4 * SZ_1M, PW_ACCESS_WRITE, true, 42), VMM_OK,
		     "%s", vm_message(vm));
	cr_assert_eq(res, 0);
	cr_assert_eq(vm_op_wait(vm, 0, &res, NULL), VMM_OK, "%s", vm_message(vm));
	cr_assert_eq(res, (int64_t)nseq);
	cr_assert_eq(events_since(vm, from, PW_EV_SEQ, seq, 1), nseq, "every event of the op came through");
	if (hw) {
		g = gdb_reap(pid, path);
		cr_assert(strstr(g, "Thread 2 hit Breakpoint 1, __pud_alloc"), "%s", g);
		cr_assert_eq(after(g, "$1 = "), elf_symbol(GUEST_ELF, "__pud_alloc", NULL), "%s", g);
		cr_assert(strstr(g, "* 2    Thread 2 (cpu 1)"), "%s", g);
		/* cpu 0 was stopped in its op, not between ops (where it would wait for the next). */
		cr_assert(strstr(g, "  1    Thread 1 (cpu 0)") && !strstr(g, "PW_DOORBELL_WAIT_OP"), "%s", g);
		cr_assert(strstr(g, "(Remote target) detached]"), "%s", g);
		free(g);
	}
	end_vm(vm);
}
