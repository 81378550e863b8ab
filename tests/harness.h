/* Shared by the Criterion tests: where the build is, booting, running the CLI. */
#ifndef PAGEWALK_TEST_HARNESS_H
#define PAGEWALK_TEST_HARNESS_H

#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvmm.h"

#define GUEST_ELF	PW_BUILD_DIR "/guest.elf"
#define TEST_GUEST_ELF	PW_BUILD_DIR "/guest-test.elf"	/* with guest/test/ and its ops */
#define GUEST_I386_ELF	PW_BUILD_DIR "/guest-i386.elf"	/* two-level paging */
#define GUEST_PAE_ELF	PW_BUILD_DIR "/guest-pae.elf"	/* CONFIG_X86_PAE */
#define VMM_BIN		PW_BUILD_DIR "/vmm"
#define TEST_GUEST(n)	PW_BUILD_DIR "/tests/guests/" n ".elf"
#define CAMPAIGN_BIN	PW_BUILD_DIR "/campaign"

/*
 * Every test that boots a guest starts with this: without a usable
 * /dev/kvm it skips and says why, unless PAGEWALK_REQUIRE_KVM=1 (CI), in
 * which case it fails.
 */
#define require_kvm()								\
	do {									\
		const char *why_ = kvm_unusable();				\
		if (why_ && pw_kvm_required())					\
			cr_assert_fail("PAGEWALK_REQUIRE_KVM=1 but %s", why_);		\
		else if (why_)							\
			cr_skip_test("%s", why_);				\
	} while (0)

const char *kvm_unusable(void);
int pw_kvm_required(void);

/*
 * Tests only meaningful with 5-level paging start with this: where the
 * host cannot run LA57 they skip with the probe's reason, unless
 * PAGEWALK_REQUIRE_LA57=1 (the nested run on a CPU with LA57), in which
 * case they fail.
 */
#define require_la57()								\
	do {									\
		char why_[256];							\
		require_kvm();							\
		if (vmm_probe_la57(why_, sizeof(why_)))				\
			break;							\
		if (pw_la57_required())						\
			cr_assert_fail("PAGEWALK_REQUIRE_LA57=1 but %s", why_);	\
		cr_skip_test("no 5-level paging on this host: %s", why_);	\
	} while (0)

int pw_la57_required(void);

/*
 * The same for tests of i386 paging (`levels` 2: two-level, 3: PAE): they
 * skip with vmm_probe_paging32()'s reason where the host cannot run the
 * mode, unless PAGEWALK_REQUIRE_PAGING32=1 (the nested run), where they fail.
 */
#define require_paging32(levels)						\
	do {									\
		char why_[256];							\
		require_kvm();							\
		if (vmm_probe_paging32((levels), why_, sizeof(why_)))		\
			break;							\
		if (pw_paging32_required())					\
			cr_assert_fail("PAGEWALK_REQUIRE_PAGING32=1 but %s", why_);	\
		cr_skip_test("no %s paging on this host: %s",			\
			     (levels) == 2 ? "two-level" : "PAE", why_);		\
	} while (0)

int pw_paging32_required(void);

/* A config for tests: quiet console, events recorded, 10 s watchdog. */
void test_config(struct vmm_config *cfg, const char *guest, const char *workload);

/* vm_create() that fails the test with libvmm's reason; the test owns the vm. */
struct vm *test_vm_create(const struct vmm_config *cfg);

/* Boot the pagewalk guest serving ops; the test owns the vm. */
struct vm *boot_ops_guest(uint64_t mem_bytes);

/* The same in one paging mode, 4 or 5, whatever `auto` would pick. */
struct vm *boot_ops_guest_paging(unsigned int levels);

/* The same with another guest build, kernel-sync mode, split-ptlock threshold (0: default), vCPUs. */
struct vm *boot_ops_guest_with(const char *guest, const char *kernel_sync, unsigned int split_cpus,
			       unsigned int ncpus);

/* The i386 guest for `levels` (2: GUEST_I386_ELF, 3: GUEST_PAE_ELF), 256 MiB, kernel-sync mode or NULL. */
struct vm *boot_guest32(unsigned int levels, const char *kernel_sync);

/*
 * The end of every test that leaves its guest in a sane state: the host's
 * invariant check (vm_check_invariants) and, where the vCPU can still be
 * asked, the walker against KVM_TRANSLATE; then vm_destroy().
 */
void end_vm(struct vm *vm);

/* Events of one type from event index `from` on, in order; returns how many. */
size_t events_since(struct vm *vm, size_t from, enum pw_event_type type,
		    const struct pw_event **out, size_t max);

/* build/vmm run as a child (posix_spawn) with its output captured. */
struct cli_run {
	int status;		/* exit status, or -1 if it did not exit normally */
	char *out, *err;	/* NUL-terminated */
};

void run_vmm(struct cli_run *r, const char *const argv[]);
/* The same with its stdout on out_fd (r->out stays empty). */
void run_vmm_to(struct cli_run *r, const char *const argv[], int out_fd);
void run_program(struct cli_run *r, const char *path, const char *const argv[]);
void cli_run_free(struct cli_run *r);

/* The first `max` PT_LOAD program headers of an ELF64 file, in file order. */
void elf_loads(const char *path, Elf64_Phdr *out, size_t max);

/* A whole file, NUL-terminated; free() it. */
char *read_file(const char *path);

/* A temporary copy of `src` the test may corrupt; free the path with free(). */
char *temp_copy(const char *src);

/* KVM's CPUID leaf `function` (index 0), which the vCPU gets as is (vmm/lib/boot.c). */
struct kvm_cpuid_entry2;
bool kvm_cpuid(uint32_t function, struct kvm_cpuid_entry2 *out);

#endif
