/*
 * What the host's KVM really delivers to a debugger, measured once on a
 * scratch VM in 64-bit long mode rather than read from capabilities: on
 * nested PVM-based hosts KVM accepts KVM_GUESTDBG_USE_SW_BP, yet an int3
 * ends in KVM_EXIT_INTERNAL_ERROR, and a write watchpoint never fires.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gdb.h"

#define MEM		0x200000ULL	/* one 2 MiB page, identity-mapped */
#define PML4		0x1000ULL
#define PDPT		0x2000ULL
#define PD		0x3000ULL
#define CODE		0x4000ULL
#define DATA		0x5000ULL

struct probe_vm {
	int vm_fd;
	unsigned int next_id;		/* a vCPU lives as long as its VM: a new id each time */
	uint8_t *mem;
	const struct kvm_cpuid2 *cpuid;
};

/* A fresh vCPU per probe: a failed one may leave its vCPU unusable. */
static int run_probe(struct probe_vm *p, int kvm_fd, const uint8_t *code, size_t len,
		     const struct kvm_guest_debug *dbg, struct kvm_run *out, char *what, size_t wlen)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = CODE, .rflags = 2, .rsp = DATA };
	struct kvm_segment cs = { .selector = 8, .limit = ~0u, .type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = { .selector = 16, .limit = ~0u, .type = 3, .present = 1, .s = 1, .db = 1, .g = 1 };
	int size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	int fd = ioctl(p->vm_fd, KVM_CREATE_VCPU, p->next_id++);
	struct kvm_run *run = MAP_FAILED;
	int ret = -1;

	memcpy(p->mem + CODE, code, len);
	if (fd < 0 || size <= 0 ||
	    (run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
	    ioctl(fd, KVM_SET_CPUID2, p->cpuid) || ioctl(fd, KVM_GET_SREGS, &s)) {
		snprintf(what, wlen, "cannot set up a probe vCPU: %s", strerror(errno));
		goto out;
	}
	s.cs = cs;
	s.ds = s.es = s.ss = s.fs = s.gs = ds;
	s.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE;
	s.cr3 = PML4;
	s.cr4 = X86_CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	if (ioctl(fd, KVM_SET_SREGS, &s) || ioctl(fd, KVM_SET_REGS, &r) ||
	    ioctl(fd, KVM_SET_GUEST_DEBUG, dbg)) {
		snprintf(what, wlen, "KVM refused the probe's state: %s", strerror(errno));
		goto out;
	}
	if (ioctl(fd, KVM_RUN, 0)) {
		snprintf(what, wlen, "KVM_RUN: %s", strerror(errno));
		goto out;
	}
	*out = *run;
	switch (run->exit_reason) {
	case KVM_EXIT_DEBUG:
		snprintf(what, wlen, "KVM_EXIT_DEBUG (exception %u, pc %#llx, dr6 %#llx)",
			 run->debug.arch.exception, (unsigned long long)run->debug.arch.pc,
			 (unsigned long long)run->debug.arch.dr6);
		break;
	case KVM_EXIT_HLT:
		snprintf(what, wlen, "nothing: the probe ran on to its hlt");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, wlen, "KVM_EXIT_INTERNAL_ERROR, suberror %u", run->internal.suberror);
		break;
	default:
		snprintf(what, wlen, "KVM exit reason %u", run->exit_reason);
		break;
	}
	ret = 0;
out:
	if (run != MAP_FAILED)
		munmap(run, size);
	if (fd >= 0)
		close(fd);
	return ret;
}

static bool debug_exit(const struct kvm_run *r, unsigned int exception, uint64_t pc)
{
	return r->exit_reason == KVM_EXIT_DEBUG && r->debug.arch.exception == exception &&
	       r->debug.arch.pc == pc;
}

static void probe_all(struct probe_vm *p, int kvm_fd, struct gdb_host *h)
{
	static const uint8_t nops[] = { 0x90, 0x90, 0xf4 };		/* nop; nop; hlt */
	static const uint8_t int3[] = { 0x90, 0xcc, 0xf4 };		/* nop; int3; hlt */
	static const uint8_t store[] = { 0x88, 0x04, 0x25, 0x00, 0x50, 0x00, 0x00, 0xf4 };	/* mov %al,DATA */
	static const uint8_t load[] = { 0x8a, 0x04, 0x25, 0x00, 0x50, 0x00, 0x00, 0xf4 };	/* mov DATA,%al */
	struct kvm_guest_debug step = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP };
	struct kvm_guest_debug hw = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP };
	struct kvm_guest_debug sw = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP };
	struct kvm_run r;
	char what[160];
	size_t n = strlen(h->report);

#define REPORT(name, ok)								\
	n += snprintf(h->report + n, sizeof(h->report) - n, "%-22s %s: %s\n", name,	\
		      (ok) ? "yes" : "no", what);					\
	n = n < sizeof(h->report) ? n : sizeof(h->report) - 1

	h->singlestep = !run_probe(p, kvm_fd, nops, sizeof(nops), &step, &r, what, sizeof(what)) &&
			debug_exit(&r, 1, CODE + 1) && (r.debug.arch.dr6 & DR6_BS);
	REPORT("single-step", h->singlestep);

	hw.arch.debugreg[0] = CODE + 1;
	hw.arch.debugreg[7] = DR7_BASE | DR7_G(0);		/* execute, 1 byte */
	h->hw_exec = !run_probe(p, kvm_fd, nops, sizeof(nops), &hw, &r, what, sizeof(what)) &&
		     debug_exit(&r, 1, CODE + 1) && (r.debug.arch.dr6 & 1);
	REPORT("hw breakpoint", h->hw_exec);

	h->sw_int3 = !run_probe(p, kvm_fd, int3, sizeof(int3), &sw, &r, what, sizeof(what)) &&
		     debug_exit(&r, 3, CODE + 1);
	REPORT("int3 breakpoint", h->sw_int3);

	hw.arch.debugreg[0] = DATA;
	hw.arch.debugreg[7] = DR7_BASE | DR7_G(0) | (1ULL << 16);	/* write, 1 byte */
	h->watch_write = !run_probe(p, kvm_fd, store, sizeof(store), &hw, &r, what, sizeof(what)) &&
			 debug_exit(&r, 1, CODE + 7) && (r.debug.arch.dr6 & 1);
	REPORT("write watchpoint", h->watch_write);

	hw.arch.debugreg[7] = DR7_BASE | DR7_G(0) | (3ULL << 16);	/* read/write, 1 byte */
	h->watch_access = !run_probe(p, kvm_fd, load, sizeof(load), &hw, &r, what, sizeof(what)) &&
			  debug_exit(&r, 1, CODE + 7) && (r.debug.arch.dr6 & 1);
	REPORT("access watchpoint", h->watch_access);
#undef REPORT
}

void gdb_probe_host(struct vm *vm, struct gdb_host *h)
{
	struct probe_vm p = { .vm_fd = -1, .mem = MAP_FAILED, .cpuid = vm->cpuid };
	struct kvm_userspace_memory_region slot = { .memory_size = MEM };
	uint64_t *pml4, *pdpt, *pd;
	int n;

	*h = (struct gdb_host){ .debug_flags = -1 };
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG) <= 0) {
		snprintf(h->report, sizeof(h->report), "KVM_CAP_SET_GUEST_DEBUG: not offered\n");
		return;
	}
	n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	if (n > 0)
		h->debug_flags = n;
	snprintf(h->report, sizeof(h->report), "KVM_CAP_SET_GUEST_DEBUG2 %s%#x\n",
		 n > 0 ? "" : "(absent) ", n > 0 ? n : 0);
	p.vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	p.mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	slot.userspace_addr = (uintptr_t)p.mem;
	if (p.vm_fd < 0 || p.mem == MAP_FAILED || ioctl(p.vm_fd, KVM_SET_USER_MEMORY_REGION, &slot)) {
		n = strlen(h->report);
		snprintf(h->report + n, sizeof(h->report) - n, "cannot create the probe VM: %s\n",
			 strerror(errno));
		goto out;
	}
	pml4 = (uint64_t *)(p.mem + PML4);
	pdpt = (uint64_t *)(p.mem + PDPT);
	pd = (uint64_t *)(p.mem + PD);
	pml4[0] = PDPT | PT_PRESENT | PT_RW;
	pdpt[0] = PD | PT_PRESENT | PT_RW;
	pd[0] = PT_PRESENT | PT_RW | PT_PSE;
	probe_all(&p, vm->kvm_fd, h);
	n = strlen(h->report);
	snprintf(h->report + n, sizeof(h->report) - n,
		 "so: break (Z0) %s; hbreak (Z1) %s; watch (Z2) %s; awatch (Z4) %s; "
		 "rwatch (Z3) never (x86 has no read-only watchpoint); stepi %s\n",
		 h->sw_int3 ? "int3 written into guest memory" :
		 h->hw_exec ? "on a free debug register (int3 is not delivered)" :
		 "refused (neither int3 nor a debug register stops the guest)",
		 h->hw_exec ? "debug registers DR0-DR3" : "unsupported",
		 h->watch_write ? "debug registers" : "unsupported",
		 h->watch_access ? "debug registers" : "unsupported",
		 h->singlestep ? "KVM single-step" : "unsupported");
out:
	if (p.mem != MAP_FAILED)
		munmap(p.mem, MEM);
	if (p.vm_fd >= 0)
		close(p.vm_fd);
}
