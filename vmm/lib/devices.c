/* The ports every guest may use: debug console, COM1, exit, doorbell. */
#include <string.h>

#include <pagewalk/layout.h>

#include "internal.h"

static uint32_t io_value(const uint8_t *data, unsigned int size)
{
	uint32_t v = 0;

	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	return v;
}

static enum exit_action console_putc(struct vm *vm, uint8_t c)
{
	if (vm->cfg.console)
		fputc(c, vm->cfg.console);
	return EXIT_CONTINUE;
}

/* 0xe9: a write prints the byte; a read answers 0xe9, as Bochs and QEMU do. */
static enum exit_action debugcon_io(struct vcpu *vcpu, uint16_t port, bool is_write,
				     uint8_t *data, unsigned int size, void *priv)
{
	(void)port, (void)size, (void)priv;
	if (is_write)
		return console_putc(vcpu->vm, data[0]);
	data[0] = PW_PORT_DEBUGCON;
	return EXIT_CONTINUE;
}

/* A 16550 that is always ready: THR prints, LSR says empty, the rest reads 0. */
static enum exit_action uart_io(struct vcpu *vcpu, uint16_t port, bool is_write,
				     uint8_t *data, unsigned int size, void *priv)
{
	(void)priv;
	if (is_write)
		return port == PW_PORT_COM1 ? console_putc(vcpu->vm, data[0]) : EXIT_CONTINUE;
	memset(data, 0, size);
	if (port == PW_PORT_COM1 + 5)
		data[0] = PW_UART_LSR_THRE | PW_UART_LSR_TEMT;
	return EXIT_CONTINUE;
}

/* isa-debug-exit: the value written is the guest's exit status. */
static enum exit_action exit_io(struct vcpu *vcpu, uint16_t port, bool is_write,
				     uint8_t *data, unsigned int size, void *priv)
{
	struct vm *vm = vcpu->vm;
	uint32_t status = io_value(data, size);

	(void)port, (void)priv;
	if (!is_write) {
		memset(data, 0, size);
		return EXIT_CONTINUE;
	}
	vm->guest_exited = true;
	vm->guest_status = status;
	vm_stop(vm, status ? VMM_GUEST_FAILED : VMM_OK, "guest exited with status %u", status);
	return EXIT_STOP;
}

static enum exit_action doorbell_io(struct vcpu *vcpu, uint16_t port, bool is_write,
				     uint8_t *data, unsigned int size, void *priv)
{
	uint32_t why = io_value(data, size);

	(void)port, (void)priv;
	if (!is_write || size != 4 || (why != PW_DOORBELL_FLUSH && why != PW_DOORBELL_WAIT_OP)) {
		vm_stop(vcpu->vm, VMM_GUEST_ERROR,
			"channel: bad doorbell access on cpu %u (%s, %u bytes, value %#x)", vcpu->id,
			is_write ? "write" : "read", size, why);
		return EXIT_STOP;
	}
	/* The ring was drained on this exit already; WAIT_OP parks the vCPU. */
	return why == PW_DOORBELL_WAIT_OP ? mailbox_wait_op(vcpu) : EXIT_CONTINUE;
}

int devices_init(struct vm *vm)
{
	int err = ioport_register(vm, PW_PORT_DEBUGCON, 1, debugcon_io, NULL);

	err = err ?: ioport_register(vm, PW_PORT_COM1, 8, uart_io, NULL);
	err = err ?: ioport_register(vm, PW_PORT_EXIT, 1, exit_io, NULL);
	return err ?: ioport_register(vm, PW_PORT_DOORBELL, 1, doorbell_io, NULL);
}
