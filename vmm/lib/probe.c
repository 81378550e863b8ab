/*
 * Probing what the host can really run, not what CPUID says: on some KVM
 * hosts CPUID advertises LA57 but KVM_SET_SREGS with CR4.LA57 fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

/* KVM_GET_SUPPORTED_CPUID, grown until the table fits; NULL with errno set. */
struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd)
{
	for (int nent = 256;; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = nent;
		if (!ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
}

int vm_load_cpuid(struct vm *vm, char *err, size_t errlen)
{
	const struct kvm_cpuid_entry2 *e;

	vm->cpuid = kvm_supported_cpuid(vm->kvm_fd);
	if (!vm->cpuid) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return -1;
	}
	e = cpuid_entry(vm->cpuid, 0, 0);	/* "Auth"enticAMD, "Hygo"nGenuine */
	vm->amd = e && (e->ebx == 0x68747541 || e->ebx == 0x6f677948);
	e = cpuid_entry(vm->cpuid, 0x80000001, 0);
	vm->nx = e && (e->edx & (1u << 20));
	vm->gbpages = e && (e->edx & (1u << 26));
	e = cpuid_entry(vm->cpuid, 0x80000008, 0);
	vm->maxphyaddr = e ? e->eax & 0xff : 36;	/* the SDM's value without the leaf */
	return 0;
}

const struct kvm_cpuid_entry2 *cpuid_entry(const struct kvm_cpuid2 *c, uint32_t function,
					   uint32_t index)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == function && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

bool vmm_probe_la57(char *why, size_t len)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, cpu = -1;
	const struct kvm_cpuid_entry2 *l7;
	struct kvm_cpuid2 *cpuid = NULL;
	struct kvm_sregs sregs;
	bool ok = false;

	if (kvm < 0) {
		snprintf(why, len, "cannot open /dev/kvm: %s", strerror(errno));
		return false;
	}
	cpuid = kvm_supported_cpuid(kvm);
	if (!cpuid) {
		snprintf(why, len, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		goto out;
	}
	l7 = cpuid_entry(cpuid, 7, 0);
	if (!l7 || !(l7->ecx & (1u << 16))) {
		snprintf(why, len, "KVM does not offer LA57 in CPUID leaf 7");
		goto out;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	cpu = vm < 0 ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
	/* CR4 bits CPUID gates are reserved until the vCPU has that CPUID. */
	if (cpu < 0 || ioctl(cpu, KVM_SET_CPUID2, cpuid) || ioctl(cpu, KVM_GET_SREGS, &sregs)) {
		snprintf(why, len, "cannot create a probe vCPU: %s", strerror(errno));
		goto out;
	}
	/* Long mode with 5-level paging, as a 5-level boot would start. */
	sregs.cr0 |= 0x80000001;
	sregs.cr4 |= X86_CR4_PAE | X86_CR4_LA57;
	sregs.efer |= 0x500;
	sregs.cs.l = 1;
	sregs.cs.db = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &sregs)) {
		snprintf(why, len, "CPUID advertises LA57 but KVM_SET_SREGS with CR4.LA57 fails: %s",
			 strerror(errno));
		goto out;
	}
	snprintf(why, len, "KVM accepts CR4.LA57");
	ok = true;
out:
	free(cpuid);
	if (cpu >= 0)
		close(cpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return ok;
}

static struct {
	pthread_once_t once;
	bool ok;
	char why[256];
} la57 = { .once = PTHREAD_ONCE_INIT };

static void probe_la57_once(void)
{
	la57.ok = vmm_probe_la57(la57.why, sizeof(la57.why));
}

/* The host does not change under a process: every VM with `auto` paging asks this, probing once. */
bool la57_usable(char *why, size_t len)
{
	pthread_once(&la57.once, probe_la57_once);
	snprintf(why, len, "%s", la57.why);
	return la57.ok;
}
