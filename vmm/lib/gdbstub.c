/*
 * The GDB remote serial protocol on 127.0.0.1 (gdb's "Remote Protocol"
 * appendix): one client at a time, all-stop, every vCPU a thread (id
 * cpu + 1).  Its own thread serves the socket; the vCPUs are stopped and
 * resumed through gdb_control.c.  Until gdb resumes them every vCPU waits
 * at its first instruction, as QEMU's -s -S.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdb.h"

#define PACKET_MAX	16384		/* qSupported's PacketSize, 0x4000 */

struct conn {
	struct gdb *g;
	int fd;
	char in[PACKET_MAX + 1];
	size_t in_len;
	enum { IDLE, DATA, CSUM1, CSUM2 } state;
	uint8_t sum;
	unsigned int csum;
	char *last;			/* the last packet sent, for a '-' */
	size_t last_len;
	bool closed;
};

static const char hexd[] = "0123456789abcdef";

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void send_raw(struct conn *c, const char *buf, size_t len)
{
	while (len && !c->closed) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->closed = true;
			return;
		}
		buf += n;
		len -= n;
	}
}

/* "$data#cs", data escaped as binary: '#', '$', '}' and '*' become '}' and the byte ^ 0x20. */
static void send_packet_len(struct conn *c, const char *data, size_t len)
{
	char *p = malloc(2 * len + 4);
	size_t n = 0;
	uint8_t sum = 0;

	if (!p) {
		c->closed = true;
		return;
	}
	p[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];

		if (ch == '#' || ch == '$' || ch == '}' || ch == '*') {
			p[n++] = '}';
			sum += '}';
			ch ^= 0x20;
		}
		p[n++] = ch;
		sum += (uint8_t)ch;
	}
	p[n++] = '#';
	p[n++] = hexd[sum >> 4];
	p[n++] = hexd[sum & 15];
	send_raw(c, p, n);
	free(c->last);
	c->last = p;
	c->last_len = n;
}

static void send_packet(struct conn *c, const char *s)
{
	send_packet_len(c, s, strlen(s));
}

static void send_error(struct conn *c, int err)
{
	char e[8];

	snprintf(e, sizeof(e), "E%02x", err & 0xff);
	send_packet(c, e);
}

/* Console text for gdb's user: O packets, hex, while gdb waits for a reply. */
static void send_output(struct conn *c, const char *text, size_t len)
{
	char buf[1 + 2 * 1024 + 1];

	for (size_t off = 0; off < len; off += 1024) {
		size_t n = 0, m = len - off < 1024 ? len - off : 1024;

		buf[n++] = 'O';
		for (size_t i = 0; i < m; i++) {
			buf[n++] = hexd[(uint8_t)text[off + i] >> 4];
			buf[n++] = hexd[(uint8_t)text[off + i] & 15];
		}
		buf[n] = '\0';
		send_packet(c, buf);
	}
}

static bool parse_hex(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	if (hexval(*p) < 0)
		return false;
	for (; hexval(*p) >= 0; p++) {
		if (x >> 60)
			return false;
		x = x << 4 | hexval(*p);
	}
	*v = x;
	*s = p;
	return true;
}

/* A thread id: -1 all, 0 any, else cpu + 1.  Returns the cpu, -1 for all, -2 for any, -3 if bad. */
static int parse_thread(struct gdb *g, const char *s)
{
	uint64_t id;

	if (!strcmp(s, "-1"))
		return -1;
	if (!parse_hex(&s, &id) || *s)
		return -3;
	if (id == 0)
		return -2;
	return id <= g->vm->nvcpus ? (int)id - 1 : -3;
}

static void stop_reply(struct conn *c)
{
	struct gdb *g = c->g;
	char buf[128];
	int n, cpu = g->stop.cpu >= 0 ? g->stop.cpu : 0;

	g->g_cpu = g->c_cpu = cpu;
	n = snprintf(buf, sizeof(buf), "T%02xthread:%x;", g->stop.signal, cpu + 1);
	if (g->stop.reason && !strcmp(g->stop.reason + 1, "watch"))
		snprintf(buf + n, sizeof(buf) - n, "awatch:%llx;", (unsigned long long)g->stop.addr);
	else if (g->stop.reason && !strcmp(g->stop.reason, "watch"))
		snprintf(buf + n, sizeof(buf) - n, "watch:%llx;", (unsigned long long)g->stop.addr);
	else if (g->stop.reason && g->ext_reasons)
		snprintf(buf + n, sizeof(buf) - n, "%s:;", g->stop.reason);
	send_packet(c, buf);
}

/* The VM ended while gdb waited: why, then W (the guest's exit status) or X (a signal). */
static void exit_reply(struct conn *c)
{
	struct vm *vm = c->g->vm;
	static const int sig[] = {
		[VMM_TRIPLE_FAULT] = 11, [VMM_WATCHDOG] = 14, [VMM_GUEST_ERROR] = 7, [VMM_INTERNAL] = 6,
	};
	char buf[2300];
	int n = snprintf(buf, sizeof(buf), "vmm: %s: %s\n", vmm_status_name(vm->status), vm->msg);

	send_output(c, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	if (vm->status == VMM_OK || vm->status == VMM_GUEST_FAILED)
		snprintf(buf, sizeof(buf), "W%02x", vm->guest_status & 0xff);
	else
		snprintf(buf, sizeof(buf), "X%02x",
			 (unsigned int)vm->status < sizeof(sig) / sizeof(sig[0]) ? sig[vm->status] : 6);
	send_packet(c, buf);
}

static void kill_vm(struct gdb *g)
{
	vm_stop(g->vm, VMM_OK, "killed from gdb");
}

static bool resume(struct conn *c, const bool run[], const bool step[])
{
	int r = gdb_resume(c->g, run, step);

	if (r < 0)
		send_error(c, EIO);
	else if (r > 0)
		stop_reply(c);
	return r == 0;
}

/*
 * c [ADDR], s [ADDR], C SIG[;ADDR], S SIG[;ADDR]: continue every vCPU, or
 * step the Hc one alone; an address first sets its RIP.  A signal cannot
 * be delivered to a VM: it is ignored, as QEMU does.
 */
static bool legacy_resume(struct conn *c, const char *p)
{
	struct gdb *g = c->g;
	bool run[PW_MAX_CPUS] = { 0 }, st[PW_MAX_CPUS] = { 0 }, step = p[0] == 's' || p[0] == 'S';
	const char *args = p + 1;
	uint64_t sig, addr;

	if ((p[0] == 'C' || p[0] == 'S') && (!parse_hex(&args, &sig) || (*args && *args++ != ';'))) {
		send_error(c, EINVAL);
		return false;
	}
	if (*args) {
		struct kvm_regs r;
		struct vcpu *v = &g->vm->vcpus[g->c_cpu];

		if (!parse_hex(&args, &addr) || ioctl(v->fd, KVM_GET_REGS, &r)) {
			send_error(c, EINVAL);
			return false;
		}
		r.rip = addr;
		if (ioctl(v->fd, KVM_SET_REGS, &r)) {
			send_error(c, EIO);
			return false;
		}
	}
	for (unsigned int i = 0; i < g->vm->nvcpus; i++)
		run[i] = !step || (int)i == g->c_cpu;
	st[g->c_cpu] = step;
	return resume(c, run, st);
}

/* vCont;ACTION[:THREAD]...: the first action that names a thread is its action. */
static bool vcont(struct conn *c, const char *args)
{
	struct gdb *g = c->g;
	bool run[PW_MAX_CPUS] = { 0 }, step[PW_MAX_CPUS] = { 0 }, set[PW_MAX_CPUS] = { 0 };

	while (*args == ';') {
		char action = *++args;
		int cpu = -1;
		uint64_t sig;

		if (action != 'c' && action != 's' && action != 'C' && action != 'S')
			goto bad;
		args++;
		if ((action == 'C' || action == 'S') && !parse_hex(&args, &sig))
			goto bad;
		if (*args == ':') {
			char tid[24];
			size_t n = strcspn(++args, ";");

			if (n >= sizeof(tid))
				goto bad;
			memcpy(tid, args, n);
			tid[n] = '\0';
			args += n;
			cpu = parse_thread(g, tid);
			if (cpu < -1)
				goto bad;
		}
		for (unsigned int i = 0; i < g->vm->nvcpus; i++) {
			if (set[i] || (cpu >= 0 && (int)i != cpu))
				continue;
			set[i] = run[i] = true;
			step[i] = action == 's' || action == 'S';
		}
	}
	if (*args)
		goto bad;
	return resume(c, run, step);
bad:
	send_error(c, EINVAL);
	return false;
}

static void read_memory(struct conn *c, const char *args)
{
	struct gdb *g = c->g;
	uint64_t addr, len;
	uint8_t buf[PACKET_MAX / 2];
	char hex[PACKET_MAX + 1];
	size_t n;

	if (!parse_hex(&args, &addr) || *args++ != ',' || !parse_hex(&args, &len) || *args) {
		send_error(c, EINVAL);
		return;
	}
	len = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	n = gdb_read_virt(g, g->g_cpu, addr, buf, len);
	if (!n && len) {
		send_error(c, EFAULT);	/* E0e: nothing mapped there under this vCPU's CR3 */
		return;
	}
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = hexd[buf[i] >> 4];
		hex[2 * i + 1] = hexd[buf[i] & 15];
	}
	hex[2 * n] = '\0';
	send_packet(c, hex);
}

static void write_memory(struct conn *c, const char *args)
{
	struct gdb *g = c->g;
	uint64_t addr, len;
	uint8_t buf[PACKET_MAX / 2];

	if (!parse_hex(&args, &addr) || *args++ != ',' || !parse_hex(&args, &len) || *args++ != ':' ||
	    len > sizeof(buf) || strlen(args) != 2 * len) {
		send_error(c, EINVAL);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(args[2 * i]), lo = hexval(args[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			send_error(c, EINVAL);
			return;
		}
		buf[i] = hi << 4 | lo;
	}
	if (gdb_write_virt(g, g->g_cpu, addr, buf, len) != len)
		send_error(c, EFAULT);
	else
		send_packet(c, "OK");
}

static void registers(struct conn *c, char op, const char *args)
{
	struct gdb *g = c->g;
	struct vcpu *v = &g->vm->vcpus[g->g_cpu];
	char hex[2048];
	uint64_t regno = (uint64_t)-1;

	if ((op == 'p' || op == 'P') && (!parse_hex(&args, &regno) || regno > 1000 ||
					 (op == 'P' ? *args++ != '=' : *args != '\0'))) {
		send_error(c, EINVAL);
		return;
	}
	if (op == 'g' || op == 'p') {
		if (!gdb_regs_read(v, (int)regno, hex, sizeof(hex)))
			send_error(c, EINVAL);
		else
			send_packet(c, hex);
		return;
	}
	if (gdb_regs_write(v, (int)regno, args))
		send_error(c, EINVAL);
	else
		send_packet(c, "OK");
}

static void breakpoint(struct conn *c, char op, const char *args)
{
	uint64_t type, addr, kind;
	int err;

	if (!parse_hex(&args, &type) || *args++ != ',' || !parse_hex(&args, &addr) || *args++ != ',' ||
	    !parse_hex(&args, &kind) || (*args && *args != ';') || type > 4 || kind > 4096) {
		send_error(c, EINVAL);
		return;
	}
	err = op == 'Z' ? gdb_insert_bp(c->g, type, addr, kind) : gdb_remove_bp(c->g, type, addr, kind);
	if (err == ENOSYS)
		send_packet(c, "");
	else if (err)
		send_error(c, err);
	else
		send_packet(c, "OK");
}

static void xfer_features(struct conn *c, const char *args)
{
	const char *xml = gdb_target_xml();
	size_t total = strlen(xml);
	uint64_t off, len;
	char *buf;

	if (strncmp(args, "target.xml:", 11)) {
		send_error(c, ENOENT);
		return;
	}
	args += 11;
	if (!parse_hex(&args, &off) || *args++ != ',' || !parse_hex(&args, &len) || *args) {
		send_error(c, EINVAL);
		return;
	}
	if (off > total) {
		send_error(c, EINVAL);
		return;
	}
	len = len < total - off ? len : total - off;
	len = len < PACKET_MAX / 2 ? len : PACKET_MAX / 2;
	buf = malloc(len + 1);
	if (!buf) {
		send_error(c, ENOMEM);
		return;
	}
	buf[0] = off + len < total ? 'm' : 'l';
	memcpy(buf + 1, xml + off, len);
	send_packet_len(c, buf, len + 1);
	free(buf);
}

static void monitor(struct conn *c, const char *hex)
{
	size_t n = strlen(hex) / 2, len = 0;
	char *cmd = malloc(n + 1), *text = NULL;
	FILE *out;

	if (!cmd || strlen(hex) % 2) {
		free(cmd);
		send_error(c, EINVAL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		cmd[i] = hi < 0 || lo < 0 ? '?' : hi << 4 | lo;
	}
	cmd[n] = '\0';
	out = open_memstream(&text, &len);
	if (!out) {
		free(cmd);
		send_error(c, ENOMEM);
		return;
	}
	gdb_monitor(c->g, cmd, out);
	fclose(out);
	send_output(c, text, len);
	send_packet(c, "OK");
	free(text);
	free(cmd);
}

static void thread_info(struct conn *c, const char *args)
{
	struct gdb *g = c->g;
	char buf[256];
	int cpu = parse_thread(g, args);
	size_t n;

	if (cpu < 0) {
		send_error(c, EINVAL);
		return;
	}
	n = snprintf(buf, sizeof(buf), "cpu %d%s", cpu,
		     g->vm->vcpus[cpu].in_run ? "" : ", no thread runs it");
	for (size_t i = n; i-- > 0;) {	/* in place, from the end */
		uint8_t ch = buf[i];

		buf[2 * i] = hexd[ch >> 4];
		buf[2 * i + 1] = hexd[ch & 15];
	}
	buf[2 * n] = '\0';
	send_packet(c, buf);
}

static void query(struct conn *c, const char *q)
{
	struct gdb *g = c->g;
	char buf[256];

	if (!strncmp(q, "qSupported", 10)) {
		g->ext_reasons = strstr(q, "swbreak+") && strstr(q, "hwbreak+");
		snprintf(buf, sizeof(buf), "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;"
			 "vContSupported+%s", PACKET_MAX, g->ext_reasons ? ";swbreak+;hwbreak+" : "");
		send_packet(c, buf);
	} else if (!strncmp(q, "qXfer:features:read:", 20)) {
		xfer_features(c, q + 20);
	} else if (!strcmp(q, "qfThreadInfo")) {
		size_t n = snprintf(buf, sizeof(buf), "m");

		for (unsigned int i = 0; i < g->vm->nvcpus; i++)
			n += snprintf(buf + n, sizeof(buf) - n, "%s%x", i ? "," : "", i + 1);
		send_packet(c, buf);
	} else if (!strcmp(q, "qsThreadInfo")) {
		send_packet(c, "l");
	} else if (!strcmp(q, "qC")) {
		snprintf(buf, sizeof(buf), "QC%x", g->g_cpu + 1);
		send_packet(c, buf);
	} else if (!strcmp(q, "qAttached")) {
		send_packet(c, "1");	/* gdb detaches on quit: the guest runs on */
	} else if (!strncmp(q, "qThreadExtraInfo,", 17)) {
		thread_info(c, q + 17);
	} else if (!strncmp(q, "qRcmd,", 6)) {
		monitor(c, q + 6);
	} else {
		send_packet(c, "");
	}
}

/* One packet while every vCPU is stopped.  False when the session ends. */
static bool dispatch(struct conn *c, char *p)
{
	struct gdb *g = c->g;
	int cpu;

	switch (p[0]) {
	case '?':
		stop_reply(c);
		break;
	case 'g': case 'G': case 'p': case 'P':
		registers(c, p[0], p + 1);
		break;
	case 'm':
		read_memory(c, p + 1);
		break;
	case 'M':
		write_memory(c, p + 1);
		break;
	case 'c': case 'C': case 's': case 'S':
		legacy_resume(c, p);
		break;
	case 'Z': case 'z':
		breakpoint(c, p[0], p + 1);
		break;
	case 'H':
		cpu = p[1] ? parse_thread(g, p + 2) : -3;
		if ((p[1] != 'g' && p[1] != 'c') || cpu == -3) {
			send_error(c, EINVAL);
			break;
		}
		if (cpu >= 0)
			*(p[1] == 'g' ? &g->g_cpu : &g->c_cpu) = cpu;
		send_packet(c, "OK");
		break;
	case 'T':
		send_packet(c, parse_thread(g, p + 1) >= 0 ? "OK" : "E01");
		break;
	case 'D':
		send_packet(c, "OK");
		return false;
	case 'k':
		kill_vm(g);
		return false;
	case 'q':
		query(c, p);
		break;
	case 'Q':
		if (!strcmp(p, "QStartNoAckMode")) {
			send_packet(c, "OK");
			g->noack = true;
		} else {
			send_packet(c, "");
		}
		break;
	case 'v':
		if (!strcmp(p, "vCont?"))
			send_packet(c, "vCont;c;C;s;S");
		else if (!strncmp(p, "vCont;", 6))
			vcont(c, p + 5);	/* from its first ';' */
		else if (!strncmp(p, "vKill", 5)) {
			send_packet(c, "OK");
			kill_vm(g);
			return false;
		} else
			send_packet(c, "");
		break;
	default:
		send_packet(c, "");
		break;
	}
	return !c->closed;
}

/* The stop gdb waits for, once every running vCPU is parked; or the VM's end. */
static bool report_stop(struct conn *c)
{
	struct gdb *g = c->g;
	struct vm *vm = g->vm;
	bool stopped, ended;

	pthread_mutex_lock(&vm->lock);
	stopped = g->running && g->stop.cpu >= 0;
	ended = g->running && vm->stopped;
	pthread_mutex_unlock(&vm->lock);
	if (ended) {
		g->running = false;
		exit_reply(c);
		return false;
	}
	if (!stopped)
		return true;
	gdb_wait_parked(g);
	pthread_mutex_lock(&vm->lock);
	g->running = false;
	pthread_mutex_unlock(&vm->lock);
	if (vm->stopped) {
		exit_reply(c);
		return false;
	}
	stop_reply(c);
	return true;
}

static void interrupt(struct gdb *g)
{
	pthread_mutex_lock(&g->vm->lock);
	gdb_stop_all(g, 2);
	pthread_mutex_unlock(&g->vm->lock);
}

/* A byte from gdb; false when the session ends. */
static bool input(struct conn *c, uint8_t ch)
{
	struct gdb *g = c->g;

	switch (c->state) {
	case IDLE:
		if (ch == 0x03 && g->running)
			interrupt(g);
		else if (ch == '-' && c->last && !g->noack)
			send_raw(c, c->last, c->last_len);
		else if (ch == '$') {
			c->state = DATA;
			c->in_len = 0;
			c->sum = 0;
		}
		return true;	/* '+' and noise between packets */
	case DATA:
		if (ch == '#') {
			c->state = CSUM1;
			return true;
		}
		c->sum += ch;
		if (c->in_len < PACKET_MAX)
			c->in[c->in_len] = ch;
		c->in_len++;
		return true;
	case CSUM1:
		c->csum = hexval(ch) < 0 ? 0x100 : (unsigned int)hexval(ch) << 4;
		c->state = CSUM2;
		return true;
	case CSUM2:
		c->state = IDLE;
		if (hexval(ch) < 0 || c->csum > 0xff || (c->csum | hexval(ch)) != c->sum ||
		    c->in_len > PACKET_MAX) {
			if (!g->noack)
				send_raw(c, "-", 1);
			return true;
		}
		if (!g->noack)
			send_raw(c, "+", 1);
		c->in[c->in_len] = '\0';
		if (g->running) {
			send_error(c, EBUSY);	/* all-stop: only Ctrl-C while the guest runs */
			return !c->closed;
		}
		return dispatch(c, c->in);
	}
	return true;
}

/* A second client is told so by a closed connection, at once. */
static void refuse_client(struct gdb *g)
{
	int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd >= 0)
		close(fd);
}

static void drain_wake(struct gdb *g)
{
	uint64_t v;

	if (read(g->wake_fd, &v, sizeof(v)) < 0)
		return;		/* EAGAIN: nothing pending */
}

static void session(struct gdb *g, int fd)
{
	struct conn c = { .g = g, .fd = fd };
	bool alive = true;
	int one = 1;

	/*
	 * Every reply is its '+' and then its packet, two sends: under Nagle
	 * the packet waits for the client's delayed ACK of the '+' (40 ms on
	 * Linux).  QEMU's gdbstub (its chardev's nodelay) and gdb's ser-tcp.c
	 * turn Nagle off too.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->noack = g->ext_reasons = false;
	/* A guest left running by the last client stops for this one, as under QEMU. */
	gdb_halt(g, 5);
	g->g_cpu = g->c_cpu = g->stop.cpu >= 0 ? g->stop.cpu : 0;
	while (alive && !c.closed) {
		struct pollfd p[3] = { { fd, POLLIN, 0 }, { g->wake_fd, POLLIN, 0 }, { g->listen_fd, POLLIN, 0 } };
		uint8_t buf[4096];
		ssize_t n;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			drain_wake(g);
			if (__atomic_load_n(&g->quit, __ATOMIC_ACQUIRE)) {
				if (g->running && g->vm->stopped)
					exit_reply(&c);
				break;
			}
			alive = report_stop(&c);
		}
		if (alive && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n == 0 || (n < 0 && errno != EINTR))
				break;		/* gdb went away: as a detach */
			for (ssize_t i = 0; i < n && alive; i++)
				alive = input(&c, buf[i]);
		}
		/* After this client's input: one that left in the same wakeup makes way for the next. */
		if (alive && !c.closed && (p[2].revents & POLLIN))
			refuse_client(g);
	}
	free(c.last);
	close(fd);
	/* Detached, killed or gone: breakpoints out, and the guest runs on (or ends). */
	gdb_release(g);
}

static void *serve(void *arg)
{
	struct gdb *g = arg;

	while (!__atomic_load_n(&g->quit, __ATOMIC_ACQUIRE)) {
		struct pollfd p[2] = { { g->listen_fd, POLLIN, 0 }, { g->wake_fd, POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			drain_wake(g);
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (g->vm->stopped) {	/* nothing left to debug */
			close(fd);
			continue;
		}
		session(g, fd);
	}
	return NULL;
}

static enum vmm_status listen_fail(struct gdb *g, enum vmm_status s, char *err, size_t errlen,
				   const char *what, uint16_t port)
{
	snprintf(err, errlen, "gdb: cannot %s 127.0.0.1:%u: %s", what, port, strerror(errno));
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->wake_fd >= 0)
		close(g->wake_fd);
	pthread_cond_destroy(&g->cond);
	free(g);
	return s;
}

enum vmm_status vm_gdb_listen(struct vm *vm, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	struct gdb *g;
	int one = 1;

	if (vm->gdb || vm->booted || vm->stopped) {
		snprintf(err, errlen, "gdb: the stub must be started once, before the VM runs");
		return VMM_BAD_INPUT;
	}
	/* gdb_regs.c describes x86-64's registers: an i386 guest's would come out wrong. */
	if (PW_PAGING_32(vm->levels)) {
		snprintf(err, errlen, "gdb: not for i386 guests (--paging %u): the stub has x86-64's "
			 "registers and target description only", vm->levels);
		return VMM_BAD_INPUT;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "gdb: out of memory");
		return VMM_INTERNAL;
	}
	g->vm = vm;
	pthread_cond_init(&g->cond, NULL);
	g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->wake_fd < 0 || g->listen_fd < 0)
		return listen_fail(g, VMM_INTERNAL, err, errlen, "create a socket for", port);
	setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(g->listen_fd, (struct sockaddr *)&sa, sizeof(sa)))
		return listen_fail(g, VMM_BAD_INPUT, err, errlen, "listen on", port);
	if (listen(g->listen_fd, 1) || getsockname(g->listen_fd, (struct sockaddr *)&sa, &salen))
		return listen_fail(g, VMM_BAD_INPUT, err, errlen, "listen on", port);
	g->port = ntohs(sa.sin_port);
	gdb_probe_host(vm, &g->host);
	/* Stopped at the entry until gdb resumes: the stop gdb's first '?' hears about. */
	g->stop = (struct gdb_stop){ .cpu = 0, .signal = 5 };
	vm->gdb = g;
	if (pthread_create(&g->thread, NULL, serve, g)) {
		vm->gdb = NULL;
		return listen_fail(g, VMM_INTERNAL, err, errlen, "start a thread for", port);
	}
	g->thread_started = true;
	return VMM_OK;
}

uint16_t vm_gdb_port(const struct vm *vm)
{
	return vm->gdb ? vm->gdb->port : 0;
}

/* Before the vCPU threads are joined: a vCPU parked for gdb must be let go first. */
void gdb_destroy(struct vm *vm)
{
	struct gdb *g = vm->gdb;

	if (!g)
		return;
	__atomic_store_n(&g->quit, true, __ATOMIC_RELEASE);
	gdb_vm_stopped(vm);
	if (g->thread_started)
		pthread_join(g->thread, NULL);
	gdb_release(g);
	close(g->listen_fd);
	close(g->wake_fd);
	pthread_cond_destroy(&g->cond);
	vm->gdb = NULL;
	free(g);
}
