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
#include <sys/mman.h>
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

/*
 * i386 paging is probed by running it: some hosts accept the registers
 * and then shut the vCPU down at its first instruction (PVM does).  One
 * `hlt` at 0x3000 under the mode's own tables, mapping 0 with one large
 * page, in 64 KiB of RAM.
 */
#define PROBE32_RAM	0x10000
#define PROBE32_TABLE	0x1000		/* the page directory, or PAE's PDPT */
#define PROBE32_PD	0x2000		/* PAE only */
#define PROBE32_CODE	0x3000

static void probe32_memory(unsigned int levels, uint8_t *ram)
{
	if (levels == 2) {
		*(uint32_t *)(ram + PROBE32_TABLE) = PT_PRESENT | PT_RW | PT_PSE;
	} else {
		*(uint64_t *)(ram + PROBE32_TABLE) = PROBE32_PD | PT_PRESENT;
		*(uint64_t *)(ram + PROBE32_PD) = PT_PRESENT | PT_RW | PT_PSE;
	}
	ram[PROBE32_CODE] = 0xf4;	/* hlt */
}

static const char *paging32_name(unsigned int levels)
{
	return levels == 2 ? "two-level 32-bit paging" : "PAE paging";
}

bool vmm_probe_paging32(unsigned int levels, char *why, size_t len)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, cpu = -1;
	struct kvm_cpuid2 *cpuid = NULL;
	struct kvm_run *run = MAP_FAILED;
	uint8_t *ram = MAP_FAILED;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = PROBE32_CODE, .rflags = 2 };
	long run_size = -1;
	bool ok = false;

	if (levels != 2 && levels != 3) {
		snprintf(why, len, "%u levels: i386 paging has 2 or 3", levels);
		goto out;
	}
	if (kvm < 0) {
		snprintf(why, len, "cannot open /dev/kvm: %s", strerror(errno));
		return false;
	}
	cpuid = kvm_supported_cpuid(kvm);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ram = mmap(NULL, PROBE32_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (!cpuid || vm < 0 || ram == MAP_FAILED || run_size <= 0) {
		snprintf(why, len, "cannot set up a probe VM: %s", strerror(errno));
		goto out;
	}
	probe32_memory(levels, ram);
	cpu = ioctl(vm, KVM_SET_USER_MEMORY_REGION, &(struct kvm_userspace_memory_region){
			.memory_size = PROBE32_RAM, .userspace_addr = (uintptr_t)ram }) ? -1 :
	      ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu >= 0)
		run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	/* KVM_SET_CPUID2 first: CR4 bits CPUID gates are reserved until then. */
	if (cpu < 0 || run == MAP_FAILED || ioctl(cpu, KVM_SET_CPUID2, cpuid) ||
	    ioctl(cpu, KVM_GET_SREGS, &sregs)) {
		snprintf(why, len, "cannot create a probe vCPU: %s", strerror(errno));
		goto out;
	}
	boot32_sregs(levels, PROBE32_TABLE, &sregs);
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) || ioctl(cpu, KVM_SET_REGS, &regs)) {
		snprintf(why, len, "KVM_SET_SREGS refuses 32-bit protected mode with %s: %s",
			 paging32_name(levels), strerror(errno));
		goto out;
	}
	if (ioctl(cpu, KVM_RUN, 0)) {
		snprintf(why, len, "KVM_RUN of a %s probe: %s", paging32_name(levels), strerror(errno));
		goto out;
	}
	if (run->exit_reason == KVM_EXIT_SHUTDOWN)
		snprintf(why, len, "the host shuts a 32-bit protected-mode vCPU with %s down at its "
			 "first instruction (KVM_EXIT_SHUTDOWN)", paging32_name(levels));
	else if (run->exit_reason != KVM_EXIT_HLT)
		snprintf(why, len, "a %s probe's one hlt ended in KVM exit reason %u, not KVM_EXIT_HLT",
			 paging32_name(levels), run->exit_reason);
	else {
		snprintf(why, len, "KVM runs 32-bit protected mode with %s", paging32_name(levels));
		ok = true;
	}
out:
	if (run != MAP_FAILED)
		munmap(run, run_size);
	if (cpu >= 0)
		close(cpu);
	if (ram != MAP_FAILED)
		munmap(ram, PROBE32_RAM);
	free(cpuid);
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
	return ok;
}

static struct paging32_probe {
	pthread_once_t once;
	bool ok;
	char why[256];
} paging32[2] = { { .once = PTHREAD_ONCE_INIT }, { .once = PTHREAD_ONCE_INIT } };

static void probe_2level_once(void)
{
	paging32[0].ok = vmm_probe_paging32(2, paging32[0].why, sizeof(paging32[0].why));
}

static void probe_pae_once(void)
{
	paging32[1].ok = vmm_probe_paging32(3, paging32[1].why, sizeof(paging32[1].why));
}

bool paging32_usable(unsigned int levels, char *why, size_t len)
{
	struct paging32_probe *p = &paging32[levels == 3];

	pthread_once(&p->once, levels == 3 ? probe_pae_once : probe_2level_once);
	snprintf(why, len, "%s", p->why);
	return p->ok;
}
