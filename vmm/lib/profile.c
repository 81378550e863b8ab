/*
 * The exact profiler: every guest instruction single-stepped
 * (KVM_GUESTDBG_SINGLESTEP), each counted against its symbol and, through
 * the unwound call stack, against every caller; or, with a rate, the
 * vCPU kicked out of KVM_RUN on a timer and its RIP sampled.
 *
 * A debug exit says the vCPU stopped before the instruction at RIP: the
 * instruction the exit ends is the one the previous exit (or the region's
 * start) stopped before, so each vCPU keeps that one, unwound while its
 * stack was as the instruction saw it, and counts it at the next exit.
 * An instruction counts once it completed inside the region: the one the
 * guest stops on (its exit port write, its hlt) never does.  A rep string
 * instruction traps after every iteration; iterations after the first
 * leave RIP where it was and are counted apart, so that instructions are
 * what perf's `instructions` event counts.
 *
 * Markers: the host drains a vCPU's ring on every exit, before the exit
 * is handled, so a MARK event is seen at the step right after the store
 * that published it (the guest's store of ring head), with that store
 * still pending: a marker's count is the instructions its vCPU completed
 * before that store.
 *
 * Ring 3: an iretq there loads RFLAGS from its frame, TF clear, and on this
 * project's hosts a TF the host set in ring 3 reaches the guest as a #DB,
 * so ring 3 runs unstepped; its entries are counted.  The exception that
 * brings the vCPU back traps after its first instruction: the step that
 * ends there counts the iretq and that instruction, unless the host
 * stopped on the gate itself.  (A host that does step ring 3 has its
 * instructions counted in ring3.)
 *
 * Handlers the CPU enters itself run with TF cleared: where the host's
 * execution breakpoints fire, the vCPU stops on them (set_step()), and
 * the instruction that faulted is counted only when it runs again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "gdb.h"
#include "profile.h"

static void counts_free(struct profile_counts *c)
{
	for (size_t i = 0; c->stacks && i < c->cap; i++)
		free(c->stacks[i].ids);
	free(c->stacks);
	free(c->self);
	free(c->total);
	free(c->cpu_ring0);
	free(c->marks);
	*c = (struct profile_counts){ 0 };
}

static int counts_init(struct profile_counts *c, size_t nsyms, unsigned int ncpus)
{
	*c = (struct profile_counts){ .cap = 1024 };
	c->self = calloc(nsyms + 1, sizeof(*c->self));
	c->total = calloc(nsyms + 1, sizeof(*c->total));
	c->stacks = calloc(c->cap, sizeof(*c->stacks));
	c->cpu_ring0 = calloc(ncpus, sizeof(*c->cpu_ring0));
	if (c->self && c->total && c->stacks && c->cpu_ring0)
		return 0;
	counts_free(c);
	return -1;
}

static uint64_t stack_hash(const uint32_t *ids, unsigned int depth)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (unsigned int i = 0; i < depth; i++)
		h = (h ^ ids[i]) * 0x100000001b3ULL;
	return h;
}

static struct profile_stack *stack_slot(struct profile_stack *t, size_t cap, const uint32_t *ids,
					unsigned int depth)
{
	size_t i = stack_hash(ids, depth) & (cap - 1);

	while (t[i].ids && (t[i].depth != depth || memcmp(t[i].ids, ids, depth * sizeof(*ids))))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

/* Doubled at half full; false if memory ran out (the stack is then not kept). */
static bool stack_grow(struct profile_counts *c)
{
	struct profile_stack *t = calloc(2 * c->cap, sizeof(*t));

	if (!t)
		return false;
	for (size_t i = 0; i < c->cap; i++)
		if (c->stacks[i].ids)
			*stack_slot(t, 2 * c->cap, c->stacks[i].ids, c->stacks[i].depth) = c->stacks[i];
	free(c->stacks);
	c->stacks = t;
	c->cap *= 2;
	return true;
}

static void stack_add(struct profile_counts *c, const uint32_t *ids, unsigned int depth)
{
	struct profile_stack *s;

	if (2 * (c->nstacks + 1) > c->cap && !stack_grow(c)) {
		c->stacks_lost++;
		return;
	}
	s = stack_slot(c->stacks, c->cap, ids, depth);
	if (!s->ids) {
		s->ids = malloc(depth * sizeof(*ids));
		if (!s->ids) {
			c->stacks_lost++;
			return;
		}
		memcpy(s->ids, ids, depth * sizeof(*ids));
		s->depth = depth;
		c->nstacks++;
	}
	s->count++;
}

static void count(struct profile *p, unsigned int cpu, bool ring3, const uint32_t *ids,
		  unsigned int depth)
{
	struct profile_counts *c = &p->c;

	if (ring3) {
		c->ring3++;
		return;
	}
	c->ring0++;
	c->cpu_ring0[cpu]++;
	c->self[ids[0]]++;
	/* Inclusive: once per stack, however often recursion puts a symbol in it. */
	p->gen++;
	for (unsigned int i = 0; i < depth; i++)
		if (p->seen[ids[i]] != p->gen) {
			p->seen[ids[i]] = p->gen;
			c->total[ids[i]]++;
		}
	stack_add(c, ids, depth);
}

/* The registers of the exit just taken: KVM_CAP_SYNC_REGS's copy where libvmm asked for it. */
static int exit_regs(struct vcpu *vcpu, struct kvm_regs *r, struct kvm_sregs *s)
{
	const __u64 both = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;

	if ((vcpu->run->kvm_valid_regs & both) == both) {
		*r = vcpu->run->s.regs.regs;
		*s = vcpu->run->s.regs.sregs;
		return 0;
	}
	return ioctl(vcpu->fd, KVM_GET_REGS, r) || ioctl(vcpu->fd, KVM_GET_SREGS, s) ? -1 : 0;
}

static void set_pending(struct vm *vm, unsigned int cpu, const struct kvm_regs *r,
			const struct kvm_sregs *s)
{
	struct profile *p = vm->profile;
	typeof(*p->pending) *pd = &p->pending[cpu];
	uint64_t to;
	bool user;

	pd->valid = true;
	pd->rip = r->rip;
	pd->ring3 = s->cs.selector & 3;
	pd->to_ring3 = false;
	pd->iret_to = 0;
	if (!pd->ring3 && unwind_iret(&p->unw, r, s, &to, &user)) {
		pd->to_ring3 = user;
		pd->iret_to = user ? 0 : to;
	}
	pd->depth = pd->ring3 ? 0 : unwind_stack(&p->unw, r, s, pd->ids);
}

/* The pending instruction completed; an iretq to ring 3 is an entry there. */
static void count_pending(struct profile *p, unsigned int cpu)
{
	typeof(*p->pending) *pd = &p->pending[cpu];

	count(p, cpu, pd->ring3, pd->ids, pd->depth);
	p->c.ring3_entries += pd->to_ring3;
}

/*
 * Exceptions the CPU delivers itself clear TF, and KVM never sees those it
 * does not intercept (a #PF under NPT or EPT): their handlers would run
 * unstepped.  A hardware execution breakpoint on each handler's first
 * instruction stops the vCPU there, and stepping goes on through it.  #PF
 * and #GP, and #UD, by which the pagewalk guest's ring 3 comes back (ud2).
 */
static const unsigned int gate_vectors[PROFILE_GATES] = { 14, 13, 6 };

/* Is rip one of this vCPU's breakpointed handlers? */
static bool at_gate_bp(const struct profile *p, unsigned int cpu, uint64_t rip)
{
	for (unsigned int i = 0; i < p->gates[cpu].n; i++)
		if (p->gates[cpu].handler[i] == rip)
			return true;
	return false;
}

/*
 * Single-step, with the handlers' breakpoints but one at rip, which this
 * step executes (an instruction breakpoint would fault again on it).  The
 * handlers are read from the IDT once per IDT, again while any is missing
 * (a guest may load its IDT before filling it); a gate rewritten in place
 * under the same IDTR keeps its old breakpoint.
 */
static int set_step(struct profile *p, const struct vcpu *vcpu, const struct kvm_sregs *s, uint64_t rip)
{
	typeof(*p->gates) *g = &p->gates[vcpu->id];
	struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP };

	if (!p->breakpoints)
		return ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &dbg);
	if (g->idt_base != s->idt.base || g->idt_limit != s->idt.limit || g->n < PROFILE_GATES) {
		g->idt_base = s->idt.base;
		g->idt_limit = s->idt.limit;
		g->n = unwind_gates(&p->unw, s, gate_vectors, PROFILE_GATES, g->handler);
	}
	for (unsigned int i = 0; i < g->n; i++) {
		dbg.arch.debugreg[i] = g->handler[i];
		if (g->handler[i] != rip)
			dbg.arch.debugreg[7] |= DR7_G(i);
	}
	/*
	 * An iretq within ring 0 may load RFLAGS without TF, where the
	 * exception's frame was pushed by software that hid KVM's TF (PVM's
	 * delivery does; a frame the CPU pushed on VMX or SVM keeps it), and
	 * the instruction it returns to would run unstepped: stop there too.
	 * (A frame with RF set would suppress that breakpoint.)
	 */
	if (p->pending[vcpu->id].iret_to) {
		dbg.arch.debugreg[3] = p->pending[vcpu->id].iret_to;
		dbg.arch.debugreg[7] |= DR7_G(3);
	}
	if (dbg.arch.debugreg[7]) {
		dbg.arch.debugreg[7] |= DR7_BASE;
		dbg.control |= KVM_GUESTDBG_USE_HW_BP;
	}
	return ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &dbg);
}

static int step_off(const struct vcpu *vcpu)
{
	struct kvm_guest_debug dbg = { 0 };

	return ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &dbg);
}

enum exit_action profile_debug_exit(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct profile *p = vm->profile;
	struct kvm_regs r;
	struct kvm_sregs s;
	typeof(*p->pending) *pd = &p->pending[vcpu->id];
	/* A breakpoint, not a step's trap: the vCPU stopped on a handler the CPU entered. */
	bool hit = (vcpu->run->debug.arch.dr6 & 7) && !(vcpu->run->debug.arch.dr6 & DR6_BS);
	bool rearm;

	if (exit_regs(vcpu, &r, &s)) {
		vm_stop(vm, VMM_INTERNAL, "profile: cpu %u's registers: %s", vcpu->id, strerror(errno));
		return EXIT_STOP;
	}
	pthread_mutex_lock(&p->lock);
	if (p->active && pd->valid) {
		bool back = pd->to_ring3 && !(s.cs.selector & 3);

		if (pd->rip == r.rip && !pd->ring3 && unwind_is_rep(&p->unw, r.rip))
			p->c.rep_iterations++;
		else if (back || !hit || !at_gate_bp(p, vcpu->id, r.rip))
			count_pending(p, vcpu->id);	/* else it faulted: it retires when run again */
		/* Back from unstepped ring 3 past the gate's first instruction: that one too. */
		if (back && !unwind_at_gate(&p->unw, &s, r.rip)) {
			set_pending(vm, vcpu->id, &r, &s);
			count_pending(p, vcpu->id);
		}
	}
	if (p->active)
		set_pending(vm, vcpu->id, &r, &s);
	rearm = p->active && !p->hz && !(s.cs.selector & 3);
	pthread_mutex_unlock(&p->lock);
	/*
	 * KVM keeps RFLAGS.TF only while it stands at singlestep_rip (the RIP
	 * KVM_SET_GUEST_DEBUG was given at, __kvm_set_rflags()): an instruction
	 * its emulator completes writes RFLAGS back TF-less past it
	 * (x86_emulate_instruction(): kvm_rip_write(), then __kvm_set_rflags()
	 * of the emulator's eflags, read without TF by kvm_get_rflags()), and
	 * that instruction's step exit is the last.  On SVM without
	 * DecodeAssists (the nested host's: QEMU TCG offers none) every CR4
	 * access is emulated so.  Re-armed at every step, TF is back at once;
	 * not in ring 3, which runs unstepped.
	 */
	if (rearm && set_step(p, vcpu, &s, r.rip)) {
		vm_stop(vm, VMM_INTERNAL, "profile: cpu %u: KVM_SET_GUEST_DEBUG: %s", vcpu->id,
			strerror(errno));
		return EXIT_STOP;
	}
	return EXIT_CONTINUE;
}

void profile_sample(struct vcpu *vcpu)
{
	struct profile *p = vcpu->vm->profile;
	uint32_t ids[UNWIND_MAX_DEPTH];
	struct kvm_regs r;
	struct kvm_sregs s;
	bool ring3;

	if (!p->active || !p->hz || exit_regs(vcpu, &r, &s))
		return;
	ring3 = s.cs.selector & 3;
	pthread_mutex_lock(&p->lock);
	count(p, vcpu->id, ring3, ids, ring3 ? 0 : unwind_stack(&p->unw, &r, &s, ids));
	pthread_mutex_unlock(&p->lock);
}

/*
 * An exit other than a step's while single-stepping (an I/O port, MMIO, a
 * hlt) comes at the instruction the last step stopped before: VMX and SVM
 * exit with RIP on it, PVM after it (x86 instructions are at most 15
 * bytes).  Anywhere else KVM stopped stepping on the way and the guest ran
 * on uncounted.  Ring 3 runs unstepped by design, but the way back to ring
 * 0 must be stepped: an exit in ring 0 while the last step stopped in ring
 * 3 means the exception or interrupt that brought the vCPU back was
 * delivered by the CPU, which clears TF, without KVM seeing it (a #PF
 * under NPT or EPT), and its handler ran uncounted: measured on the nested
 * SVM host.
 */
void profile_check_step(struct vcpu *vcpu)
{
	struct profile *p = vcpu->vm->profile;
	typeof(*p->pending) *pd = &p->pending[vcpu->id];
	struct kvm_regs r;
	struct kvm_sregs s;

	if (!p->active || p->hz || !pd->valid || pd->to_ring3 || exit_regs(vcpu, &r, &s))
		return;
	if (pd->ring3 ? s.cs.selector & 3 : r.rip >= pd->rip && r.rip - pd->rip <= 15)
		return;
	pthread_mutex_lock(&p->lock);
	if (!p->c.steps_lost++)
		p->c.lost_rip = r.rip;
	pthread_mutex_unlock(&p->lock);
}

/* Exact only single-stepped: a sampled count says nothing of where the marker was. */
void profile_mark(struct vcpu *vcpu, uint64_t id)
{
	struct profile *p = vcpu->vm->profile;
	struct profile_counts *c = &p->c;

	pthread_mutex_lock(&p->lock);
	if (p->active && !p->hz) {
		if (c->nmarks == c->marks_cap) {
			size_t cap = c->marks_cap ? 2 * c->marks_cap : 16;
			struct vm_profile_mark *m = realloc(c->marks, cap * sizeof(*m));

			if (m) {
				c->marks = m;
				c->marks_cap = cap;
			}
		}
		if (c->nmarks < c->marks_cap)
			c->marks[c->nmarks++] = (struct vm_profile_mark){ id, vcpu->id, c->cpu_ring0[vcpu->id] };
		else
			c->marks_lost++;
	}
	pthread_mutex_unlock(&p->lock);
}

uint64_t profile_tick_ns(const struct vm *vm)
{
	const struct profile *p = vm->profile;

	return p && p->active && p->hz ? 1000000000ULL / p->hz : 0;
}

void profile_free(struct vm *vm)
{
	struct profile *p = vm->profile;

	if (!p)
		return;
	counts_free(&p->c);
	unwind_free(&p->unw);
	free(p->seen);
	free(p->pending);
	free(p->gates);
	pthread_mutex_destroy(&p->lock);
	free(p);
	vm->profile = NULL;
}

static struct profile *profile_new(struct vm *vm)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	vm->profile = p;
	p->seen = calloc(vm->img.nsyms + 1, sizeof(*p->seen));
	p->pending = calloc(vm->nvcpus, sizeof(*p->pending));
	p->gates = calloc(vm->nvcpus, sizeof(*p->gates));
	p->breakpoints = -1;
	if (!p->seen || !p->pending || !p->gates || unwind_init(&p->unw, vm)) {
		profile_free(vm);
		return NULL;
	}
	return p;
}

enum vmm_status vm_profile_start(struct vm *vm, unsigned int hz)
{
	struct profile *p = vm->profile;

	vm_api_enter(vm);
	if (vm->gdb)
		return vm_refuse(vm, "vm_profile_start: the gdb stub owns the guest's debug state");
	if (p && p->active)
		return vm_refuse(vm, "vm_profile_start: a profile is already running");
	if (hz > 1000000)
		return vm_refuse(vm, "vm_profile_start: %u samples per second: at most 1000000", hz);
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].async.started)
			return vm_refuse(vm, "vm_profile_start: cpu %u is running an op", i);
	if (!p && !(p = profile_new(vm)))
		return vm_refuse(vm, "vm_profile_start: out of memory");
	counts_free(&p->c);
	if (counts_init(&p->c, vm->img.nsyms, vm->nvcpus))
		return vm_refuse(vm, "vm_profile_start: out of memory");
	p->hz = hz;
	if (!hz && p->breakpoints < 0) {
		struct gdb_host h;

		gdb_probe_host(vm, &h);	/* a scratch VM: the nested SVM host's never fire */
		p->breakpoints = h.hw_exec;
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct kvm_regs r;
		struct kvm_sregs s;

		p->pending[i].valid = false;
		if (hz)
			continue;
		if (ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &r) || ioctl(vm->vcpus[i].fd, KVM_GET_SREGS, &s))
			return vm_stop(vm, VMM_INTERNAL, "vm_profile_start: cpu %u's registers: %s", i,
				       strerror(errno));
		set_pending(vm, i, &r, &s);
		p->gates[i].n = 0;
		if (set_step(p, &vm->vcpus[i], &s, r.rip))
			return vm_stop(vm, VMM_INTERNAL, "vm_profile_start: KVM_SET_GUEST_DEBUG: %s",
				       strerror(errno));
	}
	p->active = true;
	return VMM_OK;
}

enum vmm_status vm_profile_stop(struct vm *vm)
{
	struct profile *p = vm->profile;

	vm_api_enter(vm);
	if (!p || !p->active)
		return vm_refuse(vm, "vm_profile_stop: no profile is running");
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].async.started)
			return vm_refuse(vm, "vm_profile_stop: cpu %u is running an op", i);
	p->active = false;
	/* An iretq to ring 3 completed, though no step came back after it. */
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		if (p->pending[i].valid && p->pending[i].to_ring3)
			count_pending(p, i);
	for (unsigned int i = 0; i < vm->nvcpus && !p->hz; i++)
		if (step_off(&vm->vcpus[i]))
			return vm_stop(vm, VMM_INTERNAL, "vm_profile_stop: KVM_SET_GUEST_DEBUG: %s",
				       strerror(errno));
	return VMM_OK;
}
