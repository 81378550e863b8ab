/*
 * The op mailbox, host side, one owner for the protocol: post an op into
 * the vCPU's mailbox, run the vCPU until its WAIT_OP doorbell, check that
 * the guest completed exactly that op, read the result.  Also booting every
 * vCPU to its op loop, the async ops on threads of their own, and vm_run()'s
 * "exit" op for a guest nobody drives.
 */
#include <string.h>

#include "internal.h"

static void mailbox_post(struct vcpu *vcpu, enum pw_op op, const union pw_op_args *args)
{
	struct pw_mailbox *mb = &vcpu->chan.ring->mbox;

	mb->op = op;
	mb->args = args ? *args : (union pw_op_args){ 0 };
	mb->result = 0;
	mb->out = (union pw_op_out){ 0 };
	__atomic_store_n(&mb->req_seq, ++vcpu->chan.req_seq, __ATOMIC_RELEASE);
}

/* A WAIT_OP doorbell: the guest must have completed exactly the op posted last. */
enum exit_action mailbox_wait_op(struct vcpu *vcpu)
{
	uint64_t done = __atomic_load_n(&vcpu->chan.ring->mbox.done_seq, __ATOMIC_ACQUIRE);
	uint64_t posted = vcpu->chan.req_seq;

	if (done == posted)
		return EXIT_WAIT_OP;
	if (done > posted)
		vm_stop(vcpu->vm, VMM_GUEST_ERROR,
			"channel: cpu %u reported a result for op %lu, which the host never posted "
			"(last posted: %lu)", vcpu->id, (unsigned long)done, (unsigned long)posted);
	else
		vm_stop(vcpu->vm, VMM_GUEST_ERROR,
			"channel: cpu %u asked for an op with op %lu unfinished (done_seq %lu)",
			vcpu->id, (unsigned long)posted, (unsigned long)done);
	return EXIT_STOP;
}

/* The result of the op the guest completed, after mailbox_wait_op() accepted it. */
static void mailbox_result(struct vcpu *vcpu, int64_t *result, union pw_op_out *out)
{
	const struct pw_mailbox *mb = &vcpu->chan.ring->mbox;

	if (result)
		*result = mb->result;
	if (out)
		*out = mb->out;
}

enum vmm_status vm_run(struct vm *vm)
{
	static const union pw_op_args exit_ok = { .exit = { PW_GUEST_EXIT_OK } };
	struct vcpu *vcpu = &vm->vcpus[0];
	uint64_t deadline = vcpu_deadline(vm);

	while (!vm->stopped) {
		vcpu_run(vcpu, deadline);
		/* Nobody drives this guest: its next op is to exit. */
		if (vcpu->state == VCPU_WAIT_OP)
			mailbox_post(vcpu, PW_OP_EXIT, &exit_ok);
	}
	vm_finish(vm);
	return vm->status;
}

/*
 * Bring every vCPU to its op loop, the boot CPU first: the others wait for
 * it to finish booting, and it must not free the boot page tables they
 * start on before they have left them.
 */
static enum vmm_status vm_boot(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus && !vm->stopped; i++)
		if (vm->vcpus[i].state == VCPU_RUNNABLE)
			vcpu_run(&vm->vcpus[i], vcpu_deadline(vm));
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].state != VCPU_WAIT_OP && !vm->stopped)
			vm_stop(vm, VMM_GUEST_ERROR, "cpu %u did not reach its op loop", i);
	vm->booted = !vm->stopped;
	return vm->status;
}

/* Post one op and run the vCPU until it asks for the next; the caller's thread runs it. */
static enum vmm_status run_op(struct vcpu *vcpu, enum pw_op op, const union pw_op_args *args,
			      int64_t *result, union pw_op_out *out)
{
	struct vm *vm = vcpu->vm;

	if (vcpu->state == VCPU_WAIT_OP) {
		mailbox_post(vcpu, op, args);
		vcpu_run(vcpu, vcpu_deadline(vm));
		if (vcpu->state == VCPU_WAIT_OP) {
			mailbox_result(vcpu, result, out);
			return VMM_OK;
		}
	}
	if (!vm->stopped)
		vm_stop(vm, VMM_GUEST_ERROR, "cpu %u did not come back for its next op", vcpu->id);
	pthread_mutex_lock(&vm->lock);
	/* Stopping cleanly is only success when stopping was the op. */
	if (vm->status == VMM_OK && op != PW_OP_EXIT) {
		size_t n = strlen(vm->msg);

		vm->status = VMM_GUEST_ERROR;
		snprintf(vm->msg + n, sizeof(vm->msg) - n, " (before cpu %u finished op %u)",
			 vcpu->id, op);
	}
	pthread_mutex_unlock(&vm->lock);
	vm_finish(vm);
	return vm->status;
}

static enum vmm_status check_cpu(struct vm *vm, unsigned int cpu)
{
	vm_api_enter(vm);
	/* The caller's mistake, not the guest's: the VM runs on. */
	if (cpu >= vm->nvcpus)
		return vm_refuse(vm, "vm_op: no cpu %u", cpu);
	if (vm->vcpus[cpu].async.started)
		return vm_refuse(vm, "vm_op: cpu %u is busy with an op started before", cpu);
	return vm->booted ? VMM_OK : vm_boot(vm);
}

enum vmm_status vm_op(struct vm *vm, unsigned int cpu, enum pw_op op,
		      const union pw_op_args *args, int64_t *result, union pw_op_out *out)
{
	enum vmm_status s = check_cpu(vm, cpu);

	return s == VMM_OK ? run_op(&vm->vcpus[cpu], op, args, result, out) : s;
}

static void *async_op(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vcpu_op *a = &vcpu->async;

	a->status = run_op(vcpu, a->op, &a->args, &a->result, &a->out);
	return NULL;
}

enum vmm_status vm_op_start(struct vm *vm, unsigned int cpu, enum pw_op op,
			    const union pw_op_args *args)
{
	enum vmm_status s = check_cpu(vm, cpu);
	struct vcpu_op *a;

	if (s != VMM_OK)
		return s;
	a = &vm->vcpus[cpu].async;
	a->op = op;
	a->args = args ? *args : (union pw_op_args){ 0 };
	if (pthread_create(&a->thread, NULL, async_op, &vm->vcpus[cpu]))
		return vm_stop(vm, VMM_INTERNAL, "cannot start a thread for cpu %u", cpu);
	a->started = true;
	return VMM_OK;
}

enum vmm_status vm_op_wait(struct vm *vm, unsigned int cpu, int64_t *result, union pw_op_out *out)
{
	struct vcpu_op *a;

	vm_api_enter(vm);
	if (cpu >= vm->nvcpus || !vm->vcpus[cpu].async.started)
		return vm_refuse(vm, "vm_op_wait: no op started on cpu %u", cpu);
	a = &vm->vcpus[cpu].async;
	pthread_join(a->thread, NULL);
	a->started = false;
	if (result)
		*result = a->result;
	if (out)
		*out = a->out;
	return a->status;
}
