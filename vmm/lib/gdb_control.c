/*
 * All-stop control of the vCPUs for the gdb stub, and the breakpoints.
 *
 * Each vCPU's thread passes a gate before every KVM_RUN (vcpu_run()): a
 * vCPU gdb has not resumed parks there, outside the guest, so that the
 * stub's thread may read and write its registers and the guest's memory.
 * A stop (a debug exit, Ctrl-C) takes every vCPU's permission away and
 * kicks the running ones out of KVM_RUN as vm_stop() does; the stop reply
 * goes out once every vCPU that runs is parked.  Breakpoints and the
 * single-step flag reach KVM (KVM_SET_GUEST_DEBUG) when gdb resumes.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"

static void wake(struct gdb *g)
{
	uint64_t one = 1;

	if (write(g->wake_fd, &one, sizeof(one)) < 0)
		return;		/* a full eventfd is already awake */
}

/* Every vCPU that a thread runs waits at its gate; vm->lock held. */
static bool all_parked(struct gdb *g)
{
	for (unsigned int i = 0; i < g->vm->nvcpus; i++)
		if (g->vm->vcpus[i].in_run && !g->cpu[i].parked)
			return false;
	return true;
}

void gdb_stop_all(struct gdb *g, int signal)
{
	int cpu = 0;

	if (!g->running || g->stop.cpu >= 0)
		return;
	/* Ctrl-C and the like name the first vCPU that runs. */
	for (unsigned int i = g->vm->nvcpus; i-- > 0;)
		if (g->vm->vcpus[i].in_run)
			cpu = i;
	g->stop = (struct gdb_stop){ .cpu = cpu, .signal = signal };
	for (unsigned int i = 0; i < g->vm->nvcpus; i++)
		__atomic_store_n(&g->cpu[i].allowed, false, __ATOMIC_RELEASE);
	vcpu_kick_others(g->vm);
	wake(g);
}

/*
 * A vCPU thread that is kicked while it handles an exit takes a moment to
 * come back to its gate; vCPUs that leave vcpu_run() instead stop counting.
 * Waited for in short steps, so no path has to signal the leaving.
 */
void gdb_wait_parked(struct gdb *g)
{
	struct vm *vm = g->vm;

	pthread_mutex_lock(&vm->lock);
	while (!all_parked(g) && !vm->stopped) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->cond, &vm->lock, &ts);
	}
	pthread_mutex_unlock(&vm->lock);
}

bool gdb_vcpu_gate(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct gdb *g = vm->gdb;
	struct gdb_vcpu *c = &g->cpu[vcpu->id];

	/* A stale "allowed" is harmless: a stop kicks this vCPU out of KVM_RUN right away. */
	if (__atomic_load_n(&c->allowed, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&vm->lock);
	c->parked = true;
	while (!c->allowed && !vm->stopped) {
		pthread_cond_broadcast(&g->cond);
		pthread_cond_wait(&g->cond, &vm->lock);
	}
	c->parked = false;
	pthread_mutex_unlock(&vm->lock);
	return vm->stopped;
}

void gdb_vm_stopped(struct vm *vm)
{
	pthread_cond_broadcast(&vm->gdb->cond);
	wake(vm->gdb);
}

/* What a KVM_EXIT_DEBUG was, from DR6 and the slots it names. */
static struct gdb_stop classify(struct gdb *g, struct vcpu *vcpu)
{
	const struct kvm_debug_exit_arch *a = &vcpu->run->debug.arch;
	struct gdb_stop st = { .cpu = vcpu->id, .signal = 5 };

	if (a->exception == 3) {
		for (unsigned int i = 0; i < g->nsw; i++)
			if (g->sw[i].addr == a->pc)
				st.reason = "swbreak";
		return st;
	}
	for (unsigned int i = 0; i < 4; i++) {
		const struct gdb_hw_slot *s = &g->hw[i];

		if (!(a->dr6 & (1u << i)) || s->kind == BP_NONE)
			continue;
		if (s->kind == BP_EXEC)
			st.reason = s->from_z0 ? "swbreak" : "hwbreak";
		else
			st.reason = s->kind == BP_WRITE ? "watch" : "awatch";
		st.addr = s->watch_addr;
		return st;
	}
	return st;	/* DR6.BS: the single step; anything else: a plain SIGTRAP */
}

/*
 * A debug exit: the first of a round is the stop gdb hears about; one that
 * comes while that stop is under way waits on its vCPU for the next resume,
 * if it is a trap that would not come again (a step, a watchpoint).  A
 * breakpoint is a fault: its vCPU is still on the instruction and hits it
 * again when it runs, if gdb still has it inserted.
 */
enum exit_action gdb_debug_exit(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct gdb *g = vm->gdb;
	struct gdb_vcpu *c = &g->cpu[vcpu->id];
	struct gdb_stop st;

	pthread_mutex_lock(&vm->lock);
	st = classify(g, vcpu);
	__atomic_store_n(&c->allowed, false, __ATOMIC_RELEASE);
	c->step = false;
	if (g->running && g->stop.cpu < 0) {
		g->stop = st;
		for (unsigned int i = 0; i < vm->nvcpus; i++)
			__atomic_store_n(&g->cpu[i].allowed, false, __ATOMIC_RELEASE);
		vcpu_kick_others(vm);
		wake(g);
	} else if (!st.reason || !strstr(st.reason, "break")) {
		c->pending = true;
		c->pending_stop = st;
	}
	pthread_mutex_unlock(&vm->lock);
	return EXIT_CONTINUE;
}

static uint64_t dr7(const struct gdb *g)
{
	static const unsigned int rw[] = { [BP_EXEC] = 0, [BP_WRITE] = 1, [BP_ACCESS] = 3 };
	uint64_t v = DR7_BASE;

	for (unsigned int i = 0; i < 4; i++) {
		const struct gdb_hw_slot *s = &g->hw[i];
		unsigned int len = s->len == 8 ? 2 : s->len - 1;	/* LEN: 1 0, 2 1, 4 3, 8 2 */

		if (s->kind != BP_NONE)
			v |= DR7_G(i) | ((uint64_t)rw[s->kind] << (16 + 4 * i)) |
			     ((uint64_t)(s->kind == BP_EXEC ? 0 : len) << (18 + 4 * i));
	}
	return v;
}

/* Every vCPU's debug state from the breakpoints and its step flag; vm->lock held, vCPUs out of the guest. */
static int apply_debug(struct gdb *g, bool off)
{
	struct kvm_guest_debug dbg = { 0 };
	bool hw = false;
	int err = 0;

	for (unsigned int i = 0; i < 4; i++) {
		dbg.arch.debugreg[i] = g->hw[i].addr;
		hw |= g->hw[i].kind != BP_NONE;
	}
	dbg.arch.debugreg[7] = dr7(g);
	for (unsigned int i = 0; i < g->vm->nvcpus; i++) {
		bool step = g->cpu[i].step && !off;

		dbg.control = 0;
		if (!off && (hw || g->nsw || step))
			dbg.control = KVM_GUESTDBG_ENABLE | (hw ? KVM_GUESTDBG_USE_HW_BP : 0) |
				      (g->nsw ? KVM_GUESTDBG_USE_SW_BP : 0);
		/* An interrupt between two steps would step into its handler: block them, where KVM can. */
		if (step)
			dbg.control |= KVM_GUESTDBG_SINGLESTEP |
				       (g->host.debug_flags > 0 && (g->host.debug_flags & KVM_GUESTDBG_BLOCKIRQ) ?
					KVM_GUESTDBG_BLOCKIRQ : 0);
		if (ioctl(g->vm->vcpus[i].fd, KVM_SET_GUEST_DEBUG, &dbg))
			err = -1;
	}
	return err;
}

static bool slot_names(const struct gdb *g, uint64_t watch_addr)
{
	for (unsigned int i = 0; i < 4; i++)
		if (g->hw[i].kind > BP_EXEC && g->hw[i].watch_addr == watch_addr)
			return true;
	return false;
}

int gdb_resume(struct gdb *g, const bool run[], const bool step[])
{
	struct vm *vm = g->vm;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct gdb_vcpu *c = &g->cpu[i];

		if (!run[i] || !c->pending)
			continue;
		c->pending = false;
		/* A watchpoint gdb has removed since is no longer news. */
		if (c->pending_stop.reason && !slot_names(g, c->pending_stop.addr))
			continue;
		g->stop = c->pending_stop;
		ret = 1;
		goto out;
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		g->cpu[i].step = run[i] && step[i];
	if (apply_debug(g, false)) {
		ret = -1;
		goto out;
	}
	g->running = true;
	g->stop.cpu = -1;
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		__atomic_store_n(&g->cpu[i].allowed, run[i], __ATOMIC_RELEASE);
	pthread_cond_broadcast(&g->cond);
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static void remove_sw(struct gdb *g, unsigned int i)
{
	uint8_t b;

	/* Put the byte back unless the guest has written over the int3 since. */
	if (!vm_read_phys(g->vm, g->sw[i].phys, &b, 1) && b == 0xcc)
		vm_write_phys(g->vm, g->sw[i].phys, &g->sw[i].orig, 1);
	g->sw[i] = g->sw[--g->nsw];
}

void gdb_halt(struct gdb *g, int signal)
{
	struct vm *vm = g->vm;
	bool any = g->running;

	pthread_mutex_lock(&vm->lock);
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		any |= g->cpu[i].allowed;
	if (any) {
		g->running = true;
		g->stop.cpu = -1;
		gdb_stop_all(g, signal);
	}
	pthread_mutex_unlock(&vm->lock);
	gdb_wait_parked(g);
	pthread_mutex_lock(&vm->lock);
	g->running = false;
	pthread_mutex_unlock(&vm->lock);
}

/*
 * Detach, a client gone, or the stub's end: a running guest is stopped
 * first (KVM_SET_GUEST_DEBUG waits for a vCPU's KVM_RUN to return, and must
 * not under vm->lock), then every breakpoint comes out and every vCPU runs.
 */
void gdb_release(struct gdb *g)
{
	struct vm *vm = g->vm;

	gdb_halt(g, 2);
	pthread_mutex_lock(&vm->lock);
	while (g->nsw)
		remove_sw(g, 0);
	memset(g->hw, 0, sizeof(g->hw));
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		g->cpu[i].step = g->cpu[i].pending = false;
	if (!vm->stopped)
		apply_debug(g, true);
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		__atomic_store_n(&g->cpu[i].allowed, true, __ATOMIC_RELEASE);
	g->running = false;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* A watched range as aligned pieces of 1, 2, 4 or 8 bytes, one debug register each. */
static unsigned int split(uint64_t addr, uint64_t len, uint64_t piece[4], unsigned int plen[4])
{
	unsigned int n = 0;

	while (len) {
		unsigned int size = 8;

		while (size > 1 && ((addr & (size - 1)) || size > len))
			size /= 2;
		if (n == 4)
			return 5;
		piece[n] = addr;
		plen[n++] = size;
		addr += size;
		len -= size;
	}
	return n;
}

static int insert_hw(struct gdb *g, enum gdb_bp_kind kind, uint64_t addr, uint64_t len, bool z0)
{
	uint64_t piece[4];
	unsigned int plen[4], n = kind == BP_EXEC ? 1 : split(addr, len, piece, plen), nfree = 0;

	if (kind == BP_EXEC) {
		piece[0] = addr;
		plen[0] = 1;
	}
	for (unsigned int i = 0; i < 4; i++)
		nfree += g->hw[i].kind == BP_NONE;
	if (!len || n > nfree)
		return ENOSPC;
	for (unsigned int i = 0, k = 0; i < 4 && k < n; i++)
		if (g->hw[i].kind == BP_NONE)
			g->hw[i] = (struct gdb_hw_slot){ kind, piece[k], plen[k], z0, addr }, k++;
	return 0;
}

static int remove_hw(struct gdb *g, enum gdb_bp_kind kind, uint64_t addr, bool z0)
{
	int found = ENOENT;

	for (unsigned int i = 0; i < 4; i++)
		if (g->hw[i].kind == kind && g->hw[i].watch_addr == addr && g->hw[i].from_z0 == z0) {
			g->hw[i] = (struct gdb_hw_slot){ .kind = BP_NONE };
			found = 0;
			if (kind == BP_EXEC)
				break;
		}
	return found;
}

/*
 * Z0 is an int3 written into the physical frame (kernel text is mapped
 * read-only, the frame is not) where the host delivers int3 as a debug
 * exit, else a free debug register; Z1 a debug register; Z2 and Z4 debug
 * registers where the host's watchpoints fire.  x86 has no read-only
 * watchpoint (Z3).  ENOSYS: gdb is told the packet is not supported.  Not
 * Z0: gdb would then write an int3 itself, which such a host hands to the
 * guest's own #BP handler; an error makes it say it cannot insert it.
 */
int gdb_insert_bp(struct gdb *g, int type, uint64_t addr, unsigned int len)
{
	int ret = ENOSYS;

	pthread_mutex_lock(&g->vm->lock);
	switch (type) {
	case 0:
		if (!g->host.sw_int3) {
			ret = g->host.hw_exec ? insert_hw(g, BP_EXEC, addr, 1, true) : ENOTSUP;
			break;
		}
		ret = g->nsw == GDB_MAX_SW_BPS ? ENOSPC : 0;
		if (!ret && !gdb_virt_to_phys(g->vm, g->g_cpu, addr, &g->sw[g->nsw].phys))
			ret = EFAULT;
		if (!ret && vm_read_phys(g->vm, g->sw[g->nsw].phys, &g->sw[g->nsw].orig, 1))
			ret = EFAULT;
		if (!ret) {
			static const uint8_t int3 = 0xcc;

			g->sw[g->nsw].addr = addr;
			vm_write_phys(g->vm, g->sw[g->nsw++].phys, &int3, 1);
		}
		break;
	case 1:
		ret = g->host.hw_exec ? insert_hw(g, BP_EXEC, addr, 1, false) : ENOSYS;
		break;
	case 2:
		ret = g->host.watch_write ? insert_hw(g, BP_WRITE, addr, len, false) : ENOSYS;
		break;
	case 4:
		ret = g->host.watch_access ? insert_hw(g, BP_ACCESS, addr, len, false) : ENOSYS;
		break;
	}
	pthread_mutex_unlock(&g->vm->lock);
	return ret;
}

int gdb_remove_bp(struct gdb *g, int type, uint64_t addr, unsigned int len)
{
	int ret = ENOSYS;

	(void)len;
	pthread_mutex_lock(&g->vm->lock);
	switch (type) {
	case 0:
		if (!g->host.sw_int3) {
			ret = remove_hw(g, BP_EXEC, addr, true);
			break;
		}
		ret = ENOENT;
		for (unsigned int i = 0; i < g->nsw; i++)
			if (g->sw[i].addr == addr) {
				remove_sw(g, i);
				ret = 0;
				break;
			}
		break;
	case 1:
		ret = remove_hw(g, BP_EXEC, addr, false);
		break;
	case 2:
		ret = remove_hw(g, BP_WRITE, addr, false);
		break;
	case 4:
		ret = remove_hw(g, BP_ACCESS, addr, false);
		break;
	}
	pthread_mutex_unlock(&g->vm->lock);
	return ret;
}

/* gdb reads the code as it was: an inserted int3 shows its original byte. */
void gdb_shadow_sw_bps(struct gdb *g, uint64_t addr, uint8_t *buf, size_t len)
{
	for (unsigned int i = 0; i < g->nsw; i++)
		if (g->sw[i].addr - addr < len)
			buf[g->sw[i].addr - addr] = g->sw[i].orig;
}

/* A write over an inserted int3 changes the byte it will restore, and keeps the int3. */
void gdb_write_around_sw_bps(struct gdb *g, uint64_t addr, uint8_t *buf, size_t len)
{
	for (unsigned int i = 0; i < g->nsw; i++)
		if (g->sw[i].addr - addr < len) {
			g->sw[i].orig = buf[g->sw[i].addr - addr];
			buf[g->sw[i].addr - addr] = 0xcc;
		}
}
