/* The vCPU loop: KVM_RUN, drain the channel, dispatch the exit; and the watchdog. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static __thread struct kvm_run *running;

/* The watchdog signal only needs KVM_RUN to return: immediate_exit covers
 * the window where it arrives while we are outside the guest. */
static void watchdog_signal(int sig)
{
	(void)sig;
	if (running)
		running->immediate_exit = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * SIGRTMIN kicks a vCPU thread out of KVM_RUN, for its watchdog timer or
 * because another vCPU stopped the VM.  libvmm installs its handler once,
 * for the process, and keeps it: vCPU threads come and go concurrently, so
 * no thread may put back what it found.  Each thread unblocks the signal
 * only while it runs its vCPU.
 */
static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = watchdog_signal };

	sigaction(SIGRTMIN, &sa, NULL);
}

/*
 * The watchdog: a POSIX timer that signals this thread when the deadline
 * passes, armed only while the vCPU runs; the thread's signal mask comes
 * back afterwards.
 */
struct watchdog {
	timer_t timer;
	bool armed;
	sigset_t old_mask;
};

/*
 * Under the in-kernel irqchip (more than one vCPU) a HLT never exits to
 * userspace, so the timer also ticks every HALT_POLL_NS for halted_for_good();
 * the deadline is then checked at that granularity.  The sampling profiler
 * ticks it faster.
 */
#define HALT_POLL_NS	50000000ULL

static uint64_t tick_ns(const struct vm *vm)
{
	uint64_t tick = vm->nvcpus > 1 ? HALT_POLL_NS : 0, sample = vm->profile ? profile_tick_ns(vm) : 0;

	return sample && (!tick || sample < tick) ? sample : tick;
}

static int watchdog_arm(struct watchdog *wd, uint64_t deadline, uint64_t tick)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN };
	uint64_t now = now_ns(), left = deadline > now ? deadline - now : 1;
	struct itimerspec its;
	sigset_t unblock;

	if (tick && (!deadline || left > tick))
		left = tick;
	its = (struct itimerspec){
		.it_value = { .tv_sec = left / 1000000000ULL, .tv_nsec = left % 1000000000ULL },
		.it_interval = { .tv_sec = tick / 1000000000ULL, .tv_nsec = tick % 1000000000ULL },
	};
	pthread_once(&kick_once, install_kick_handler);
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGRTMIN);
	pthread_sigmask(SIG_UNBLOCK, &unblock, &wd->old_mask);
	wd->armed = false;
	if (!deadline && !tick)
		return 0;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &wd->timer)) {
		pthread_sigmask(SIG_SETMASK, &wd->old_mask, NULL);
		return -1;
	}
	if (timer_settime(wd->timer, 0, &its, NULL)) {
		timer_delete(wd->timer);
		pthread_sigmask(SIG_SETMASK, &wd->old_mask, NULL);
		return -1;
	}
	wd->armed = true;
	return 0;
}

/* The timer goes first: once it is deleted no new signal can be raised. */
static void watchdog_disarm(struct watchdog *wd)
{
	if (wd->armed)
		timer_delete(wd->timer);
	pthread_sigmask(SIG_SETMASK, &wd->old_mask, NULL);
}

/*
 * vm_stop() on one vCPU thread: the others may be deep in the guest, so
 * each gets immediate_exit and a kick.  Called with vm->lock held, which
 * vcpu_run() takes to enter and leave `in_run`.
 */
void vcpu_kick_others(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->in_run || pthread_equal(v->thread, pthread_self()))
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGRTMIN);
	}
}

static void format_registers(const struct vcpu *vcpu, const struct kvm_regs *r,
			     const struct kvm_sregs *s, char *buf, size_t len, bool full)
{
	char sym[128];

	vm_symbolise(vcpu->vm, r->rip, sym, sizeof(sym));
	if (!full) {
		snprintf(buf, len, "rip=%#llx%s%s", r->rip, *sym ? " " : "", sym);
		return;
	}
	snprintf(buf, len,
		 "cpu %u rip=%#llx%s%s\n"
		 "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n"
		 "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n"
		 "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n"
		 "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n"
		 "RIP=%016llx RFLAGS=%08llx CS=%04x SS=%04x\n"
		 "CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n"
		 "EFER=%016llx",
		 vcpu->id, r->rip, *sym ? " " : "", sym,
		 r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp,
		 r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
		 r->rip, r->rflags, s->cs.selector, s->ss.selector,
		 s->cr0, s->cr2, s->cr3, s->cr4, s->efer);
}

static void record_crash(struct vcpu *vcpu, const struct kvm_regs *r, const struct kvm_sregs *s,
			 bool stale)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->lock);
	if (!vm->crash.valid)
		vm->crash = (struct crash_regs){ true, stale, vcpu->id, *r, *s };
	pthread_mutex_unlock(&vm->lock);
}

/* With full, the report of a stop: its registers are also the JSON summary's. */
void vcpu_report_registers(struct vcpu *vcpu, char *buf, size_t len, bool full)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) || ioctl(vcpu->fd, KVM_GET_SREGS, &s)) {
		snprintf(buf, len, "(registers unavailable: %s)", strerror(errno));
		return;
	}
	if (full)
		record_crash(vcpu, &r, &s, false);
	format_registers(vcpu, &r, &s, buf, len, full);
}

/*
 * PKRU from the vCPU's XSAVE image (non-compacted, as KVM_GET_XSAVE gives
 * it): state component 9, at the offset CPUID leaf 0xd subleaf 9 gives.
 */
int vcpu_pkru(struct vcpu *vcpu, uint32_t *pkru)
{
	const struct kvm_cpuid_entry2 *e = cpuid_entry(vcpu->vm->cpuid, 0xd, 9);
	struct kvm_xsave xs;

	if (!e || e->eax < 4 || e->ebx + 4 > sizeof(xs.region) || ioctl(vcpu->fd, KVM_GET_XSAVE, &xs))
		return -1;
	memcpy(pkru, (uint8_t *)xs.region + e->ebx, 4);
	return 0;
}

/*
 * On VMX and SVM a userspace I/O or MMIO exit leaves the instruction
 * pending, RIP on it, until the next KVM_RUN completes it; other hosts
 * (PVM) complete it before they exit.  KVM_RUN with immediate_exit
 * completes it and returns at once (api.rst, KVM_EXIT_IO), so that a
 * report reads the same registers on every host.
 */
void vcpu_complete_io(struct vcpu *vcpu)
{
	vcpu->run->immediate_exit = 1;
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0)	/* -EINTR is the answer expected */
		vm_stop(vcpu->vm, VMM_INTERNAL, "KVM_RUN with immediate_exit ran the guest");
	vcpu->run->immediate_exit = 0;
}

/*
 * KVM on SVM resets the vCPU on a shutdown intercept (svm.c,
 * shutdown_interception(): the VMCB is undefined after one), so it reads
 * as after RESET.  A guest libvmm started in long mode cannot be there
 * otherwise: it would have to leave protected mode first.
 */
static bool at_reset_vector(const struct kvm_regs *r, const struct kvm_sregs *s)
{
	return r->rip == 0xfff0 && s->cs.selector == 0xf000 && !(s->cr0 & X86_CR0_PE);
}

static void triple_fault(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char regs[1024], when[64];

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) || ioctl(vcpu->fd, KVM_GET_SREGS, &s) ||
	    !at_reset_vector(&r, &s)) {
		vcpu_report_registers(vcpu, regs, sizeof(regs), true);
		vm_stop(vcpu->vm, VMM_TRIPLE_FAULT, "guest triple fault (KVM_EXIT_SHUTDOWN) on %s", regs);
		return;
	}
	record_crash(vcpu, &vcpu->seen.regs, &vcpu->seen.sregs, true);
	format_registers(vcpu, &vcpu->seen.regs, &vcpu->seen.sregs, regs, sizeof(regs), true);
	if (vcpu->seen.exit)
		snprintf(when, sizeof(when), "at its exit %llu of %llu",
			 (unsigned long long)vcpu->seen.exit, (unsigned long long)vcpu->exits);
	else
		snprintf(when, sizeof(when), "as libvmm set it up at boot");
	vm_stop(vcpu->vm, VMM_TRIPLE_FAULT,
		"guest triple fault (KVM_EXIT_SHUTDOWN) on cpu %u; the host reset the vCPU on the "
		"shutdown (KVM on SVM does), so the crash state is lost; the last state libvmm saw, "
		"%s, not the crash state:\n%s", vcpu->id, when, regs);
}

static enum exit_action handle_exit(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	char regs[1024];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		STAT_INC(vm->stats.exits_by_kind[run->io.port == PW_PORT_DOORBELL ? VMM_EXIT_DOORBELL
										  : VMM_EXIT_IO]);
		return ioport_dispatch(vcpu, run);
	case KVM_EXIT_MMIO:
		STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_MMIO]);
		vcpu_complete_io(vcpu);
		vcpu_report_registers(vcpu, regs, sizeof(regs), false);
		vm_stop(vm, VMM_GUEST_ERROR,
			"guest %s %u bytes at guest-physical %#llx: no RAM or device there; %s",
			run->mmio.is_write ? "wrote" : "read", run->mmio.len,
			(unsigned long long)run->mmio.phys_addr, regs);
		return EXIT_STOP;
	case KVM_EXIT_HLT: {
		struct kvm_regs r;

		STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_HLT]);
		vcpu_report_registers(vcpu, regs, sizeof(regs), false);
		if (ioctl(vcpu->fd, KVM_GET_REGS, &r))
			r.rflags = 0;
		/* Without an irqchip nothing can wake it, so either way it is done. */
		vm_stop(vm, VMM_OK, "guest halted with interrupts %s, %s",
			r.rflags & X86_EFLAGS_IF ? "on" : "off", regs);
		return EXIT_STOP;
	}
	case KVM_EXIT_SHUTDOWN:
		STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_SHUTDOWN]);
		triple_fault(vcpu);
		return EXIT_STOP;
	case KVM_EXIT_DEBUG:
		if (!vm->gdb && !vm->profile)
			break;
		STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_DEBUG]);
		return vm->gdb ? gdb_debug_exit(vcpu) : profile_debug_exit(vcpu);
	case KVM_EXIT_FAIL_ENTRY:
		STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_OTHER]);
		vm_stop(vm, VMM_INTERNAL, "KVM_EXIT_FAIL_ENTRY, hardware reason %#llx",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return EXIT_STOP;
	case KVM_EXIT_INTERNAL_ERROR:
		STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_OTHER]);
		vcpu_report_registers(vcpu, regs, sizeof(regs), true);
		vm_stop(vm, VMM_GUEST_ERROR, "KVM internal error, suberror %u, on %s",
			run->internal.suberror, regs);
		return EXIT_STOP;
	default:
		break;
	}
	STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_OTHER]);
	vcpu_report_registers(vcpu, regs, sizeof(regs), false);
	vm_stop(vm, VMM_GUEST_ERROR, "unhandled KVM exit reason %u at %s", run->exit_reason, regs);
	return EXIT_STOP;
}

/*
 * A vCPU halted with IF clear waits in KVM_RUN for an NMI or INIT that only
 * another running vCPU could send (a vCPU outside KVM_RUN sends nothing).
 * When every running vCPU is so, the guest has stopped, as a lone vCPU's
 * HLT exit says.  Each thread reads its own vCPU, on a timer tick: a vCPU
 * ioctl from another thread would wait for that vCPU's KVM_RUN to return.
 */
static bool halted_for_good(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_mp_state mp;
	struct kvm_regs r;
	char which[1024], sym[128];
	size_t n = 0;
	bool all = true;

	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) || mp.mp_state != KVM_MP_STATE_HALTED ||
	    ioctl(vcpu->fd, KVM_GET_REGS, &r) || (r.rflags & X86_EFLAGS_IF))
		return false;
	pthread_mutex_lock(&vm->lock);
	vcpu->halted_rip = r.rip;
	__atomic_store_n(&vcpu->halted_cli, true, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < vm->nvcpus && all; i++) {
		const struct vcpu *v = &vm->vcpus[i];

		if (v->in_run && !__atomic_load_n(&v->halted_cli, __ATOMIC_RELAXED))
			all = false;
		else if (!v->in_run)
			n += snprintf(which + n, sizeof(which) - n, "; cpu %u not running", i);
		else
			n += snprintf(which + n, sizeof(which) - n, "; cpu %u rip=%#llx%s%s", i,
				      (unsigned long long)v->halted_rip,
				      *vm_symbolise(vm, v->halted_rip, sym, sizeof(sym)) ? " " : "", sym);
		n = n < sizeof(which) ? n : sizeof(which) - 1;
	}
	if (all)
		vm_stop(vm, VMM_OK, "guest halted with interrupts off on every running vCPU%s", which);
	pthread_mutex_unlock(&vm->lock);
	return all;
}

static void watchdog_expired(struct vcpu *vcpu)
{
	char regs[1024];

	vcpu_report_registers(vcpu, regs, sizeof(regs), true);
	vm_stop(vcpu->vm, VMM_WATCHDOG, "guest still running after %u ms, on %s",
		vcpu->vm->cfg.timeout_ms, regs);
}

uint64_t vcpu_deadline(const struct vm *vm)
{
	return vm->cfg.timeout_ms ? now_ns() + vm->cfg.timeout_ms * 1000000ULL : 0;
}

int vcpu_run(struct vcpu *vcpu, uint64_t deadline)
{
	struct vm *vm = vcpu->vm;
	struct watchdog wd;

	if (vm->stopped || vcpu->state == VCPU_STOPPED) {
		vcpu->state = VCPU_STOPPED;	/* an op posted now will never run */
		return vm->status;
	}
	vcpu->state = VCPU_RUNNABLE;
	running = vcpu->run;
	vcpu->run->immediate_exit = 0;
	__atomic_store_n(&vcpu->halted_cli, false, __ATOMIC_RELAXED);
	if (watchdog_arm(&wd, deadline, tick_ns(vm))) {
		vm_stop(vm, VMM_INTERNAL, "cannot arm the watchdog timer: %s", strerror(errno));
		vcpu->state = VCPU_STOPPED;
		return vm->status;
	}
	pthread_mutex_lock(&vm->lock);
	vcpu->thread = pthread_self();
	vcpu->in_run = true;
	if (vm->stopped)
		vcpu->run->immediate_exit = 1;	/* stopped before we could be kicked */
	pthread_mutex_unlock(&vm->lock);
	for (;;) {
		if (vm->gdb && gdb_vcpu_gate(vcpu))
			break;		/* stopped while gdb held it */
		int ret = ioctl(vcpu->fd, KVM_RUN, 0);
		int err = errno;

		STAT_INC(vm->stats.exits);
		vcpu->exits++;
		if (vcpu->run->kvm_valid_regs &&
		    (ret < 0 || vcpu->run->exit_reason != KVM_EXIT_SHUTDOWN)) {
			vcpu->seen.regs = vcpu->run->s.regs.regs;
			vcpu->seen.sregs = vcpu->run->s.regs.sregs;
			vcpu->seen.exit = vcpu->exits;
		}
		if (channel_drain(vcpu))
			break;
		if (ret < 0 && err != EINTR && err != EAGAIN) {
			vm_stop(vm, VMM_INTERNAL, "KVM_RUN: %s", strerror(err));
			break;
		}
		if (ret < 0) {
			STAT_INC(vm->stats.exits_by_kind[VMM_EXIT_INTR]);
			vcpu->run->immediate_exit = 0;
			if (vm->profile)
				profile_sample(vcpu);
		} else {
			__atomic_store_n(&vcpu->halted_cli, false, __ATOMIC_RELAXED);	/* it ran */
		}
		/* Checked on every exit, so a doorbell storm cannot outrun it. */
		if (deadline && now_ns() >= deadline) {
			watchdog_expired(vcpu);
			break;
		}
		if (ret < 0 && vm->nvcpus > 1 && halted_for_good(vcpu))
			break;
		if (ret >= 0) {
			enum exit_action a;

			if (vm->profile && vcpu->run->exit_reason != KVM_EXIT_DEBUG)
				profile_check_step(vcpu);
			a = handle_exit(vcpu);

			if (a == EXIT_WAIT_OP)
				vcpu->state = VCPU_WAIT_OP;
			if (a != EXIT_CONTINUE)
				break;
		}
		if (__atomic_load_n(&vm->stopped, __ATOMIC_ACQUIRE))
			break;		/* another vCPU ended the VM */
	}
	pthread_mutex_lock(&vm->lock);
	vcpu->in_run = false;
	pthread_mutex_unlock(&vm->lock);
	watchdog_disarm(&wd);
	running = NULL;
	if (vcpu->state != VCPU_WAIT_OP)
		vcpu->state = VCPU_STOPPED;
	return vm->status;
}
