/* The VM: /dev/kvm, guest RAM, the loaded image, its vCPUs and how it ended. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pagewalk/layout.h>

#include "internal.h"

const char *vmm_status_name(enum vmm_status s)
{
	static const char *const names[] = {
		[VMM_OK] = "ok",
		[VMM_GUEST_FAILED] = "guest-failed",
		[VMM_BAD_INPUT] = "bad-input",
		[VMM_TRIPLE_FAULT] = "triple-fault",
		[VMM_WATCHDOG] = "watchdog",
		[VMM_NO_KVM] = "no-kvm",
		[VMM_GUEST_ERROR] = "guest-error",
		[VMM_INTERNAL] = "internal-error",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void vmm_config_init(struct vmm_config *cfg, const char *guest)
{
	*cfg = (struct vmm_config){
		.guest = guest,
		.mem_bytes = VMM_DEFAULT_MEM,
		.ncpus = 1,
		.workload = PW_WORKLOAD_DEFAULT,
		.kernel_sync = "prealloc",
		.timeout_ms = VMM_DEFAULT_TIMEOUT_MS,
		.console = stdout,
	};
}

enum vmm_status vm_stop(struct vm *vm, enum vmm_status status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (!vm->stopped) {
		vm->status = status;
		va_start(ap, fmt);
		vsnprintf(vm->msg, sizeof(vm->msg), fmt, ap);
		va_end(ap);
		__atomic_store_n(&vm->stopped, true, __ATOMIC_RELEASE);
		vcpu_kick_others(vm);
		if (vm->gdb)
			gdb_vm_stopped(vm);
	}
	status = vm->status;
	pthread_mutex_unlock(&vm->lock);
	return status;
}

enum vmm_status vm_refuse(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	va_start(ap, fmt);
	vsnprintf(vm->refusal, sizeof(vm->refusal), fmt, ap);
	va_end(ap);
	vm->refused = true;
	pthread_mutex_unlock(&vm->lock);
	return VMM_BAD_INPUT;
}

void vm_api_enter(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->refused = false;
	pthread_mutex_unlock(&vm->lock);
}

static uint64_t elapsed_ns(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000000ULL + t.tv_nsec - t0->tv_nsec;
}

/* Recursive: vm_stop() is called from inside the locked channel drain. */
void vm_lock_init(struct vm *vm)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vm->lock, &a);
	pthread_mutexattr_destroy(&a);
}

static enum vmm_status create_fail(struct vm *vm, enum vmm_status s)
{
	vm_destroy(vm);
	return s;
}

static int open_kvm(struct vm *vm, char *err, size_t errlen)
{
	int version;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		snprintf(err, errlen, "cannot open /dev/kvm: %s (errno %d)", strerror(errno), errno);
		return -1;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm: KVM API version %d, need %d", version, KVM_API_VERSION);
		return -1;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		snprintf(err, errlen, "/dev/kvm: KVM_CAP_IMMEDIATE_EXIT missing (Linux >= 4.11 needed)");
		return -1;
	}
	return 0;
}

static int create_vcpus(struct vm *vm, char *err, size_t errlen)
{
	int mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0), khz;

	if (mmap_size <= 0) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->run = MAP_FAILED;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0) {
			snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return -1;
		}
		v->run_size = mmap_size;
		v->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			snprintf(err, errlen, "mmap of vCPU %u kvm_run: %s", i, strerror(errno));
			return -1;
		}
		if (channel_init(v) || boot_setup_vcpu(v, err, errlen))
			return -1;
	}
	/* Every vCPU's TSC runs at the VM's rate; unknown (old kernels) just loses the trace's time. */
	khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	vm->tsc_khz = khz > 0 ? khz : 0;
	return 0;
}

/*
 * One KVM memory slot per RAM range, all from the one host mapping; with
 * present false, every slot deleted (corrupt.c drops shadow pages so).
 */
int vm_set_memslots(struct vm *vm, bool present)
{
	for (unsigned int i = 0; i < vm->ram.nranges; i++) {
		const struct ram_range *r = &vm->ram.range[i];
		struct kvm_userspace_memory_region region = {
			.slot = i, .guest_phys_addr = r->gpa, .memory_size = present ? r->size : 0,
			.userspace_addr = (uintptr_t)(vm->ram.host + r->offset),
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
			return -1;
	}
	return 0;
}

static int setup_memory(struct vm *vm, char *err, size_t errlen)
{
	uint8_t *host = mmap(NULL, vm->ram.size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (host == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %llu MiB of guest RAM: %s",
			 (unsigned long long)(vm->ram.size / SZ_1M), strerror(errno));
		return -1;
	}
	vm->ram.host = host;
	if (vm_set_memslots(vm, true)) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The FDT is written inside the boot area, which the checks below cover. */
_Static_assert(PW_BOOT_FDT >= PW_BOOT_AREA_START && PW_BOOT_FDT + PW_BOOT_FDT_MAX <= PW_BOOT_AREA_END,
	       "FDT outside the boot area");

/*
 * Every reserved region inside one RAM range and clear of the others: with
 * little RAM and many vCPUs the rings at the top would reach down over the
 * boot area, and each side's writes would wreck the other's.
 */
static int check_reserved(const struct vm *vm, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->nrsv; i++) {
		const struct region *a = &vm->rsv[i];

		if (!ram_range_of(&vm->ram, a->start, a->size)) {
			snprintf(err, errlen, "the VMM's %s [%#llx, %#llx) is not inside one range of "
				 "guest RAM: give more --mem", a->name, (unsigned long long)a->start,
				 (unsigned long long)(a->start + a->size));
			return -1;
		}
		for (unsigned int j = 0; j < i; j++) {
			const struct region *b = &vm->rsv[j];

			if (a->start < b->start + b->size && b->start < a->start + a->size) {
				snprintf(err, errlen, "the VMM's %s [%#llx, %#llx) overlaps its %s "
					 "[%#llx, %#llx): give more --mem or fewer --cpus", a->name,
					 (unsigned long long)a->start,
					 (unsigned long long)(a->start + a->size), b->name,
					 (unsigned long long)b->start,
					 (unsigned long long)(b->start + b->size));
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Everything vm_create() decides before it opens /dev/kvm: the config's
 * limits, RAM around the hole, the rings at the top, the reserved regions.
 * The option fuzzer runs it, and fdt_build() after it, without KVM.
 */
enum vmm_status vm_layout(struct vm *vm, const struct vmm_config *cfg, char *err, size_t errlen)
{
	const struct ram_range *top;
	uint64_t chan_size;

	if (cfg->mem_bytes < 4 * SZ_1M || cfg->mem_bytes % (2 * SZ_1M) ||
	    cfg->mem_bytes > PW_MAX_MEM_GIB * SZ_1G) {
		snprintf(err, errlen, "guest RAM must be a multiple of 2 MiB from 4 MiB to %llu GiB",
			 PW_MAX_MEM_GIB);
		return VMM_BAD_INPUT;
	}
	if (cfg->ninject > PW_INJECT_MAX_SPECS) {
		snprintf(err, errlen, "at most %u fault-injection specs", PW_INJECT_MAX_SPECS);
		return VMM_BAD_INPUT;
	}
	if (cfg->ncpus < 1 || cfg->ncpus > PW_MAX_CPUS) {
		snprintf(err, errlen, "%u vCPUs: from 1 to %u are supported", cfg->ncpus, PW_MAX_CPUS);
		return VMM_BAD_INPUT;
	}
	if (cfg->paging == 1 || cfg->paging > 5) {
		snprintf(err, errlen, "%u-level paging: 2, 3 (i386), 4, 5 or 0 (auto)", cfg->paging);
		return VMM_BAD_INPUT;
	}
	if (cfg->paging && PW_PAGING_32(cfg->paging) && cfg->mem_bytes > PW_MAX_MEM_32) {
		snprintf(err, errlen, "--paging %u (i386): guest RAM %llu MiB is above the %llu MiB of "
			 "lowmem the 3G/1G split maps (no highmem)", cfg->paging,
			 (unsigned long long)(cfg->mem_bytes / SZ_1M), PW_MAX_MEM_32 / SZ_1M);
		return VMM_BAD_INPUT;
	}
	vm->cfg = *cfg;
	vm->nvcpus = cfg->ncpus;
	vm->levels = cfg->paging ? cfg->paging : 4;	/* auto: vm_create() raises it where LA57 runs */
	vm->chan_stride = PW_RING_HDR_SIZE + PW_RING_CAPACITY * sizeof(struct pw_event);
	ram_layout(&vm->ram, cfg->mem_bytes);
	chan_size = vm->chan_stride * vm->nvcpus;
	/* The rings sit at the top of RAM, so the last range must hold them all. */
	top = &vm->ram.range[vm->ram.nranges - 1];
	if (top->size < chan_size) {
		snprintf(err, errlen, "the channel rings of %u vCPUs (%llu KiB) do not fit in the "
			 "last RAM range [%#llx, %#llx): give more or less --mem", vm->nvcpus,
			 (unsigned long long)(chan_size >> 10), (unsigned long long)top->gpa,
			 (unsigned long long)(top->gpa + top->size));
		return VMM_BAD_INPUT;
	}
	vm->chan_base = ram_end(&vm->ram) - chan_size;
	vm->rsv[vm->nrsv++] = (struct region){ "boot area", PW_BOOT_AREA_START,
					       PW_BOOT_AREA_END - PW_BOOT_AREA_START };
	vm->rsv[vm->nrsv++] = (struct region){ "channel", vm->chan_base, chan_size };
	return check_reserved(vm, err, errlen) ? VMM_BAD_INPUT : VMM_OK;
}

enum vmm_status vm_create(const struct vmm_config *cfg, struct vm **out, char *err, size_t errlen)
{
	enum vmm_status st;
	struct vm *vm;

	*out = NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(err, errlen, "out of memory");
		return VMM_INTERNAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &vm->t0);
	vm_lock_init(vm);
	vm->kvm_fd = vm->vm_fd = -1;
	st = vm_layout(vm, cfg, err, errlen);
	if (st != VMM_OK)
		return create_fail(vm, st);

	if (open_kvm(vm, err, errlen))
		return create_fail(vm, VMM_NO_KVM);
	if (cfg->paging && PW_PAGING_32(cfg->paging)) {
		char why[256];

		if (!paging32_usable(cfg->paging, why, sizeof(why))) {
			snprintf(err, errlen, "--paging %u: %s", cfg->paging, why);
			return create_fail(vm, VMM_NO_KVM);
		}
	} else if (cfg->paging != 4) {
		char why[256];
		bool la57 = la57_usable(why, sizeof(why));

		if (cfg->paging == 5 && !la57) {
			snprintf(err, errlen, "5-level paging: %s", why);
			return create_fail(vm, VMM_NO_KVM);
		}
		vm->levels = la57 ? 5 : 4;
	}
	if (vm_load_cpuid(vm, err, errlen))
		return create_fail(vm, VMM_INTERNAL);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		return create_fail(vm, VMM_NO_KVM);
	}
	if (setup_memory(vm, err, errlen))
		return create_fail(vm, VMM_INTERNAL);
	/* IPIs between vCPUs need the in-kernel local APICs. */
	if (vm->nvcpus > 1 && ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return create_fail(vm, VMM_INTERNAL);
	}
	if (elf_load(cfg->guest, &vm->ram, vm->levels, vm->rsv, vm->nrsv, &vm->img, err, errlen))
		return create_fail(vm, VMM_BAD_INPUT);
	if (boot_setup_memory(vm, err, errlen) ||
	    fdt_build(vm, ram_ptr(&vm->ram, PW_BOOT_FDT, PW_BOOT_FDT_MAX), PW_BOOT_FDT_MAX, err, errlen) ||
	    devices_init(vm))
		return create_fail(vm, VMM_INTERNAL);
	if (create_vcpus(vm, err, errlen))
		return create_fail(vm, VMM_INTERNAL);
	*out = vm;
	return VMM_OK;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	gdb_destroy(vm);	/* lets go of vCPUs parked for gdb */
	profile_free(vm);
	for (unsigned int i = 0; vm->vcpus && i < vm->nvcpus; i++)
		if (vm->vcpus[i].async.started)
			pthread_join(vm->vcpus[i].async.thread, NULL);
	for (unsigned int i = 0; vm->vcpus && i < vm->nvcpus; i++) {
		if (vm->vcpus[i].run && vm->vcpus[i].run != MAP_FAILED)
			munmap(vm->vcpus[i].run, vm->vcpus[i].run_size);
		if (vm->vcpus[i].fd > 0)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	if (vm->ram.host)
		munmap(vm->ram.host, vm->ram.size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	symbols_free(&vm->img);
	free(vm->cpuid);
	free(vm->events);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

/* Record the end once: wall time, and the JSON summary. */
void vm_finish(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->stopped && !vm->stats.wall_ns) {
		vm->stats.wall_ns = elapsed_ns(&vm->t0);
		report_flush(vm);
		report_json_summary(vm);
	}
	pthread_mutex_unlock(&vm->lock);
}

unsigned int vm_levels(const struct vm *vm)
{
	return vm->levels;
}

const char *vm_message(const struct vm *vm)
{
	return vm->refused ? vm->refusal : vm->msg;
}

bool vm_guest_exited(const struct vm *vm)
{
	return vm->guest_exited;
}

uint32_t vm_guest_status(const struct vm *vm)
{
	return vm->guest_status;
}

const struct vmm_stats *vm_stats(const struct vm *vm)
{
	return &vm->stats;
}

const struct pw_event *vm_events(const struct vm *vm, size_t *n)
{
	*n = vm->nevents;
	return vm->events;
}

const char *vm_symbolise(const struct vm *vm, uint64_t addr, char *buf, size_t len)
{
	return symbolise(&vm->img, addr, buf, len);
}

int vm_read_phys(const struct vm *vm, uint64_t gpa, void *buf, size_t len)
{
	const void *p = ram_ptr(&vm->ram, gpa, len);

	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

int vm_write_phys(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	void *p = ram_ptr(&vm->ram, gpa, len);

	if (!p)
		return -1;
	memcpy(p, buf, len);
	return 0;
}
