/* Port I/O exits dispatched to handlers registered per port range (kvmtool's ioport.c). */
#include <string.h>
#include <sys/ioctl.h>

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

static bool read_code(const struct vm *vm, const struct vm_paging *pg, uint64_t va, uint8_t *b)
{
	struct vm_walk w;

	return vm_walk(vm, pg, va, &w) == VMM_OK && w.present && !vm_read_phys(vm, w.phys, b, 1);
}

/*
 * Where the I/O instruction that ends at `next` starts, read back from
 * the code: IN/OUT imm8 (E4-E7, then the port), IN/OUT DX (EC-EF) or
 * INS/OUTS (6C-6F), after at most one operand-size or REP prefix.  For
 * hosts that advance RIP before the exit; 0 if the bytes are none of them.
 */
static uint64_t io_insn_before(struct vcpu *vcpu, uint64_t next, uint16_t port)
{
	struct vm_paging pg;
	uint8_t b[3];
	uint64_t at;

	if (vm_cpu_paging(vcpu->vm, vcpu->id, &pg) != VMM_OK)
		return 0;
	for (int i = 0; i < 3; i++)
		if (!read_code(vcpu->vm, &pg, next - 3 + i, &b[i]))
			b[i] = 0;
	if (port < 256 && b[1] >= 0xe4 && b[1] <= 0xe7 && b[2] == port)
		at = next - 2;
	else if ((b[2] >= 0xec && b[2] <= 0xef) || (b[2] >= 0x6c && b[2] <= 0x6f))
		at = next - 1;
	else
		return 0;
	return b[at - next + 2] == 0x66 || b[at - next + 2] == 0xf3 ? at - 1 : at;
}

/*
 * The report of an access to an unhandled port names the instruction and
 * the RIP after it, completed (vcpu_complete_io), the same on every host.
 */
static void unhandled_port(struct vcpu *vcpu, const struct kvm_run *run, bool is_write)
{
	struct kvm_regs r;
	uint64_t at = 0;
	char next[256], insn[192] = "";

	if (!ioctl(vcpu->fd, KVM_GET_REGS, &r))
		at = r.rip;
	vcpu_complete_io(vcpu);
	if (!ioctl(vcpu->fd, KVM_GET_REGS, &r) && at == r.rip)
		at = io_insn_before(vcpu, r.rip, run->io.port);
	if (at) {
		char sym[128];

		vm_symbolise(vcpu->vm, at, sym, sizeof(sym));
		snprintf(insn, sizeof(insn), " by the instruction at %#llx%s%s,",
			 (unsigned long long)at, *sym ? " " : "", sym);
	}
	vcpu_report_registers(vcpu, next, sizeof(next), false);
	vm_stop(vcpu->vm, VMM_GUEST_ERROR, "guest %s unhandled I/O port %#x (%u bytes)%s next %s",
		is_write ? "wrote" : "read", run->io.port, run->io.size, insn, next);
}

enum exit_action ioport_dispatch(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	const struct ioport *p = ioport_find(vm, run->io.port);
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if (run->io.data_offset > vcpu->run_size || bytes > vcpu->run_size - run->io.data_offset) {
		vm_stop(vm, VMM_INTERNAL, "KVM_EXIT_IO data outside the kvm_run page");
		return EXIT_STOP;
	}
	if (!p) {
		unhandled_port(vcpu, run, is_write);
		return EXIT_STOP;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		enum exit_action a = p->fn(vcpu, run->io.port, is_write, data, run->io.size, p->priv);

		if (a != EXIT_CONTINUE)
			return a;
	}
	return EXIT_CONTINUE;
}
