/* Port I/O exits dispatched to handlers registered per port range (kvmtool's ioport.c). */
#include <string.h>

#include "internal.h"

int ioport_register(struct vm *vm, uint16_t start, uint16_t len, ioport_fn fn, void *priv)
{
	if (vm->nioports == sizeof(vm->ioports) / sizeof(vm->ioports[0]))
		return -1;
	for (unsigned int i = 0; i < vm->nioports; i++) {
		const struct ioport *p = &vm->ioports[i];

		if (start < p->start + p->len && p->start < start + len)
			return -1;
	}
	vm->ioports[vm->nioports++] = (struct ioport){ start, len, fn, priv };
	return 0;
}

static const struct ioport *ioport_find(const struct vm *vm, uint16_t port)
{
	for (unsigned int i = 0; i < vm->nioports; i++)
		if ((uint16_t)(port - vm->ioports[i].start) < vm->ioports[i].len)
			return &vm->ioports[i];
	return NULL;
}

/* 0 to re-enter the guest, -1 when the VM stopped (vm->status says why). */
int ioport_dispatch(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	const struct ioport *p = ioport_find(vm, run->io.port);
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	char regs[256];

	if (run->io.data_offset > vcpu->run_size || bytes > vcpu->run_size - run->io.data_offset) {
		vm_stop(vm, VMM_INTERNAL, "KVM_EXIT_IO data outside the kvm_run page");
		return -1;
	}
	if (!p) {
		vcpu_report_registers(vcpu, regs, sizeof(regs), false);
		vm_stop(vm, VMM_GUEST_ERROR, "guest %s unhandled I/O port %#x (%u bytes) at %s",
			is_write ? "wrote" : "read", run->io.port, run->io.size, regs);
		return -1;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		if (p->fn(vcpu, run->io.port, is_write, data, run->io.size, p->priv))
			return -1;
	return 0;
}
