# pagewalk: `make` builds build/vmm and build/guest.elf; `make run`,
# `make test` and `make fuzz` first install what is missing
# (scripts/install-deps.sh).
O ?= build
# V=1 shows every command in full instead of its short line.
ifeq ($(V),1)
Q :=
ECHO := :
else
Q := @
ECHO := echo
endif
ifeq ($(SANITIZE),1)
O := build/sanitize
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif

CC ?= gcc
PW_VERSION := $(shell sed -n 's/^\#define PW_VERSION "\(.*\)"/\1/p' vmm/include/libvmm.h)
PREFIX ?= /usr/local
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP \
	-Ishared -Ivmm/include $(SANFLAGS)
HOST_LDFLAGS := $(SANFLAGS)
HOST_LIBS := -lelf -lfdt

# The guest: freestanding, kernel code model, linked at 0xffffffff80200000.
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -MMD -MP \
	-ffreestanding -fno-pic -fno-pie -mcmodel=kernel -mno-red-zone \
	-mgeneral-regs-only -fstack-protector-strong \
	-mstack-protector-guard=tls -mstack-protector-guard-reg=fs -mstack-protector-guard-offset=40 -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -Iguest/include -Ishared
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
LIBFDT_A := /usr/lib/x86_64-linux-gnu/libfdt.a

# The same guest built for i386 (README, "The i386 guest"): CONFIG_X86_32,
# two-level paging, the 3G/1G split, linked at PAGE_OFFSET + its physical
# load address as Linux i386 links vmlinux.  The stack protector is i386's
# TLS one (%gs:20), the slot Debian's i386 libfdt.a reads, unpacked from
# libfdt-dev:i386 by scripts/install-deps.sh.
GUEST32_CFLAGS := -m32 -march=i686 -std=gnu11 -O2 -g -Wall -Wextra -Werror -MMD -MP \
	-ffreestanding -fno-pic -fno-pie -mgeneral-regs-only -fstack-protector-strong \
	-mstack-protector-guard=tls -mstack-protector-guard-reg=gs -mstack-protector-guard-offset=20 \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -DCONFIG_X86_32 -Iguest/include -Ishared
GUEST32_LDFLAGS := -m32 $(GUEST_LDFLAGS)
I386_DEPS := $(O)/deps-i386
LIBFDT32_A := $(I386_DEPS)/usr/lib/i386-linux-gnu/libfdt.a

LIBVMM_SRCS := $(wildcard vmm/lib/*.c)
# guest/arch/ and lib/: files named *_32 are i386's; head.S, head64.c,
# entry.S, user.S and desc.c x86-64's; the rest is one source for both.
ARCH32_SRCS := $(wildcard guest/arch/*_32.S guest/arch/*_32.c guest/lib/*_32.c)
ARCH64_SRCS := guest/arch/head.S guest/arch/head64.c guest/arch/entry.S guest/arch/user.S guest/arch/desc.c
GUEST_ALL_SRCS := $(wildcard guest/arch/*.S guest/arch/*.c guest/kernel/*.c guest/mm/*.c guest/lib/*.c)
GUEST_SRCS := $(filter-out $(ARCH32_SRCS),$(GUEST_ALL_SRCS))
GUEST32_SRCS := $(filter-out $(ARCH64_SRCS),$(GUEST_ALL_SRCS))
# guest/test/ (the access differential, the fault-path bench) registers its
# ops and #PF handlers through linker tables: linked in, it is the test image.
GUEST_TEST_SRCS := $(wildcard guest/test/*.c)
TEST_SRCS := $(wildcard tests/*.c)
TEST_GUESTS := $(patsubst tests/guests/%.S,$(O)/tests/guests/%.elf,$(wildcard tests/guests/*.S)) \
	$(patsubst tests/guests/i386/%.S,$(O)/tests/guests/%.elf,$(wildcard tests/guests/i386/*.S))

LIBVMM_OBJS := $(LIBVMM_SRCS:%.c=$(O)/obj/%.o)
# The vmm command's script language and shell (vmm/script/), not libvmm's.
SCRIPT_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(wildcard vmm/script/*.c))
GUEST_OBJS := $(patsubst %,$(O)/obj/%.o,$(basename $(GUEST_SRCS)))
GUEST32_OBJS := $(patsubst %,$(O)/obj-i386/%.o,$(basename $(GUEST32_SRCS)))
# The i386 guest again with CONFIG_X86_PAE: PAE's geometry (pgtable-3level.h).
GUEST_PAE_OBJS := $(patsubst %,$(O)/obj-pae/%.o,$(basename $(GUEST32_SRCS)))
GUEST_TEST_OBJS := $(GUEST_OBJS) $(patsubst %,$(O)/obj/%.o,$(basename $(GUEST_TEST_SRCS)))
# The same guest with CONFIG_DEBUG_SPINLOCK: spinlock_t outgrows a word, so
# split page-table locks come from the ptlock cache (ALLOC_SPLIT_PTLOCKS).
GUEST_DBG_OBJS := $(patsubst %,$(O)/obj-debug-spinlock/%.o,$(basename $(GUEST_SRCS)))
TEST_OBJS := $(TEST_SRCS:%.c=$(O)/obj/%.o)
MODEL_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(wildcard tests/model/*.c))

# libFuzzer harnesses (tests/fuzz/) over libvmm, built with clang, ASan and UBSan.
FUZZ := build/fuzz
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP \
	-Ishared -Ivmm/include -Ivmm/lib -Ivmm -DPW_GUEST_ELF='"$(abspath $(O))/guest.elf"' $(FUZZ_SAN)
FUZZ_LIBVMM_OBJS := $(LIBVMM_SRCS:%.c=$(FUZZ)/obj/%.o)
FUZZERS := $(FUZZ)/fuzz_elf $(FUZZ)/fuzz_channel $(FUZZ)/fuzz_options

.PHONY: all deps run test test-nested check-model fuzz bench bench-nested bench-compare campaign install check-install lint-ci clean
all: $(O)/vmm $(O)/guest.elf $(O)/guest-test.elf $(O)/guest-debug-spinlock.elf $(O)/guest-i386.elf \
	$(O)/guest-pae.elf

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	cd $(O) && ./vmm guest.elf

test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory all $(O)/tests/pagewalk-tests $(O)/campaign $(TEST_GUESTS)
	scripts/run-tests.sh $(O)/tests/pagewalk-tests $(TESTFLAGS)

# The suite again on KVM with SVM+NPT, nested under QEMU TCG: README,
# "The second host".  NESTED_CPU picks QEMU's CPU model (default max).
test-nested: deps
	@$(MAKE) --no-print-directory all $(O)/tests/pagewalk-tests $(O)/campaign $(TEST_GUESTS)
	scripts/test-nested.sh $(O) $(TESTFLAGS)

# The reference model against the guest: README, "Reference model".  SEQS
# sequences (of MODELFLAGS' --ops, default 40), SEED (default: from the
# clock, printed), CPUS vCPUs, JOBS worker processes.
SEQS ?= 200
CPUS ?= 1
JOBS ?= 1
check-model: deps
	@$(MAKE) --no-print-directory all $(O)/check-model
	$(O)/check-model --seqs $(SEQS) --cpus $(CPUS) --jobs $(JOBS) $(if $(SEED),--seed $(SEED)) \
		--out $(O)/check-model-fail.txt $(MODELFLAGS)

$(O)/check-model: $(MODEL_OBJS) $(O)/libvmm.a
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) -lpthread

# Seeds: the guest ELFs we build (the pagewalk guest without its DWARF,
# which the loader never reads but the fuzzer would spend most mutations on)
# rings dumped from real runs (needs /dev/kvm), and command lines, their
# arguments NUL-separated.  New inputs go to $(FUZZ)/corpus/, crashes to
# $(FUZZ)/crash-*.
fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory all $(TEST_GUESTS) $(FUZZERS) $(FUZZ)/ring_seed
	rm -rf $(FUZZ)/seeds
	mkdir -p $(FUZZ)/seeds/elf $(FUZZ)/seeds/channel $(FUZZ)/seeds/options \
		$(FUZZ)/corpus/elf $(FUZZ)/corpus/channel $(FUZZ)/corpus/options
	strip --strip-debug -o $(FUZZ)/seeds/elf/guest.elf $(O)/guest.elf
	cp $(TEST_GUESTS) $(FUZZ)/seeds/elf/
	$(FUZZ)/ring_seed $(O)/guest.elf $(FUZZ)/seeds/channel
	printf '%s\0' --mem 4G --cpus 2 --timeout 0.5 --seed 0x10 g.elf > $(FUZZ)/seeds/options/1
	printf '%s\0' --gdb 1234 --cpus 2 --ptdump g.elf > $(FUZZ)/seeds/options/3
	printf '%s\0' --profile=p.txt --profile-hz 997 --timeout 0 g.elf > $(FUZZ)/seeds/options/4
	printf '%s\0' --inject 'pgtable_alloc:level=pmd,interval=3,times=2' --fail-nth 3 \
		--split-ptlock-cpus 4 --kernel-sync fault --workload ops --json - --ptdump g.elf \
		> $(FUZZ)/seeds/options/2
	$(FUZZ)/fuzz_elf -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ)/crash-elf- $(FUZZ)/corpus/elf $(FUZZ)/seeds/elf
	$(FUZZ)/fuzz_channel -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ)/crash-channel- $(FUZZ)/corpus/channel $(FUZZ)/seeds/channel
	$(FUZZ)/fuzz_options -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ)/crash-options- $(FUZZ)/corpus/options $(FUZZ)/seeds/options

# Reports, never asserts: see README, "Benchmarks".  bench-nested: the
# same in the second host; bench-compare A=a.json B=b.json: B over A.
bench bench-nested:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory all $(O)/bench $(O)/page_fault1 $(TEST_GUESTS)
	scripts/bench.sh $(O) $(if $(filter bench-nested,$@),nested)

bench-compare:
	scripts/bench-compare.sh $(A) $(B)

# A fault-injection campaign over this machine's cores: README, "Fault injection".
campaign: deps
	@$(MAKE) --no-print-directory all $(O)/campaign
	$(O)/campaign -j $$(( $$(nproc) < 64 ? $$(nproc) : 64 )) $(CAMPAIGNFLAGS) $(O) > $(O)/campaign.jsonl

$(O)/campaign: scripts/campaign.c
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $<

$(O)/bench: $(O)/obj/scripts/bench.o $(O)/obj/scripts/bench_host.o $(O)/libvmm.a
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) -lpthread -lm

$(O)/page_fault1: scripts/page_fault1.c scripts/timing.h
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $<

$(O)/obj/scripts/%.o: scripts/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

# README, "Install": vmm, its man page, the guest ELFs, libvmm (static and
# shared) with its headers and pkg-config file.  DESTDIR stages it.
LIBDIR := $(PREFIX)/lib
INCLUDEDIR := $(PREFIX)/include
install: all $(O)/libvmm.so $(O)/vmm.1 $(O)/libvmm.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/libvmm $(DESTDIR)$(INCLUDEDIR)/pagewalk \
		$(DESTDIR)$(PREFIX)/share/pagewalk $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(O)/vmm $(DESTDIR)$(PREFIX)/bin/vmm
	install -m 644 $(O)/vmm.1 $(DESTDIR)$(PREFIX)/share/man/man1/vmm.1
	install -m 644 $(O)/guest.elf $(O)/guest-i386.elf $(O)/guest-pae.elf $(O)/guest-test.elf $(O)/guest-debug-spinlock.elf $(DESTDIR)$(PREFIX)/share/pagewalk/
	install -m 644 $(O)/libvmm.a $(DESTDIR)$(LIBDIR)/libvmm.a
	install -m 755 $(O)/libvmm.so $(DESTDIR)$(LIBDIR)/libvmm.so.0
	ln -sf libvmm.so.0 $(DESTDIR)$(LIBDIR)/libvmm.so
	install -m 644 vmm/include/libvmm.h vmm/include/x86.h $(DESTDIR)$(INCLUDEDIR)/libvmm/
	install -m 644 $(wildcard shared/pagewalk/*.h) $(DESTDIR)$(INCLUDEDIR)/pagewalk/
	install -m 644 $(O)/libvmm.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libvmm.pc

# Installs into a scratch DESTDIR and builds README's libvmm example against it.
check-install:
	scripts/check-install.sh $(O)

# The GitHub workflow cannot run here: its YAML is checked instead.
lint-ci:
	@scripts/install-deps.sh lint
	yamllint --strict -d '{extends: default, rules: {line-length: {max: 100}, document-start: disable}}' \
		.github/workflows/ci.yml

# From the same usage text as --help, so the two cannot disagree.
$(O)/vmm.1: $(O)/vmm
	@scripts/install-deps.sh man
	@$(ECHO) "  MAN     $@"
	$(Q)help2man --no-info --name='run a guest ELF on KVM and report what its page tables do' \
		--section=1 --output=$@ $(O)/vmm

$(O)/libvmm.pc: Makefile
	@$(ECHO) "  GEN     $@"
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
		'Name: libvmm' 'Description: pagewalk: boot an x86-64 guest on KVM, drive it, walk its page tables' \
		'Version: $(PW_VERSION)' 'Libs: -L$${libdir} -lvmm' 'Libs.private: -lelf -lfdt -lpthread' \
		'Cflags: -I$${includedir}/libvmm -I$${includedir}' > $@

# The shared library's objects, position-independent.
$(O)/obj-pic/vmm/%.o: vmm/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -fPIC -c $< -o $@

$(O)/libvmm.so: $(LIBVMM_SRCS:%.c=$(O)/obj-pic/%.o)
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -shared -Wl,-soname,libvmm.so.0 -o $@ $^ $(HOST_LIBS) -lpthread

clean:
	rm -rf build

$(O)/obj/vmm/%.o: vmm/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

$(O)/libvmm.a: $(LIBVMM_OBJS)
	@$(ECHO) "  AR      $@"
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(O)/vmm: $(O)/obj/vmm/main.o $(O)/obj/vmm/options.o $(SCRIPT_OBJS) $(O)/libvmm.a
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) -ledit

$(O)/obj/guest/%.o: guest/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/obj/guest/%.o: guest/%.S
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/guest.elf: $(GUEST_OBJS) guest/guest.lds
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(GUEST_LDFLAGS) -T guest/guest.lds -o $@ $(GUEST_OBJS) $(LIBFDT_A)

$(O)/guest-test.elf: $(GUEST_TEST_OBJS) guest/guest.lds
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(GUEST_LDFLAGS) -T guest/guest.lds -o $@ $(GUEST_TEST_OBJS) $(LIBFDT_A)

$(O)/obj-debug-spinlock/guest/%.o: guest/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -DCONFIG_DEBUG_SPINLOCK -c $< -o $@

$(O)/obj-debug-spinlock/guest/%.o: guest/%.S
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -DCONFIG_DEBUG_SPINLOCK -c $< -o $@

$(O)/guest-debug-spinlock.elf: $(GUEST_DBG_OBJS) guest/guest.lds
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(GUEST_LDFLAGS) -T guest/guest.lds -o $@ $(GUEST_DBG_OBJS) $(LIBFDT_A)

$(LIBFDT32_A):
	@scripts/install-deps.sh libfdt-i386 $(I386_DEPS)

$(O)/obj-i386/guest/%.o: guest/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC32    $@"
	$(Q)$(CC) $(GUEST32_CFLAGS) -c $< -o $@

$(O)/obj-i386/guest/%.o: guest/%.S
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  AS32    $@"
	$(Q)$(CC) $(GUEST32_CFLAGS) -c $< -o $@

$(O)/guest-i386.elf: $(GUEST32_OBJS) guest/guest_32.lds $(LIBFDT32_A)
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(GUEST32_LDFLAGS) -T guest/guest_32.lds -o $@ $(GUEST32_OBJS) $(LIBFDT32_A)

$(O)/obj-pae/guest/%.o: guest/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CCPAE   $@"
	$(Q)$(CC) $(GUEST32_CFLAGS) -DCONFIG_X86_PAE -c $< -o $@

$(O)/obj-pae/guest/%.o: guest/%.S
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  ASPAE   $@"
	$(Q)$(CC) $(GUEST32_CFLAGS) -DCONFIG_X86_PAE -c $< -o $@

$(O)/guest-pae.elf: $(GUEST_PAE_OBJS) guest/guest_32.lds $(LIBFDT32_A)
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(GUEST32_LDFLAGS) -T guest/guest_32.lds -o $@ $(GUEST_PAE_OBJS) $(LIBFDT32_A)

# Tests find the build through PW_BUILD_DIR (and README through PW_SOURCE_DIR),
# so they run from any directory.
$(O)/obj/tests/%.o: tests/%.c
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -DPW_BUILD_DIR='"$(abspath $(O))"' -DPW_SOURCE_DIR='"$(CURDIR)"' -c $< -o $@

$(O)/tests/pagewalk-tests: $(TEST_OBJS) $(O)/libvmm.a
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) -lcriterion

# Foreign guests: a few lines of assembly each, linked low at 1 MiB.
$(O)/tests/guests/%.elf: tests/guests/%.S tests/guests/ring.h
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  AS      $@"
	$(Q)$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-Ttext-segment=0x100000 \
		-Wl,-z,noexecstack -o $@ $<

# i386 foreign guests (ELF32, for --paging 2 and 3), linked the same way.
$(O)/tests/guests/%.elf: tests/guests/i386/%.S
	$(Q)mkdir -p $(@D)
	@$(ECHO) "  AS      $@"
	$(Q)$(CC) -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-Ttext-segment=0x100000 \
		-Wl,-z,noexecstack -o $@ $<

$(FUZZ)/obj/%.o: %.c
	$(Q)mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZERS): $(FUZZ)/%: $(FUZZ)/obj/tests/fuzz/%.o $(FUZZ_LIBVMM_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(HOST_LIBS)

# The option parser is the vmm command's, not libvmm's.
$(FUZZ)/fuzz_options: $(FUZZ)/obj/vmm/options.o

$(FUZZ)/ring_seed: $(FUZZ)/obj/tests/fuzz/ring_seed.o $(FUZZ_LIBVMM_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(HOST_LIBS)

# Flags live here: objects follow them.
$(LIBVMM_OBJS) $(O)/obj/vmm/main.o $(O)/obj/vmm/options.o $(SCRIPT_OBJS) $(GUEST_TEST_OBJS) $(GUEST_DBG_OBJS) $(GUEST32_OBJS) $(GUEST_PAE_OBJS) $(TEST_OBJS) $(MODEL_OBJS): Makefile
$(LIBVMM_SRCS:%.c=$(O)/obj-pic/%.o): Makefile
$(FUZZ)/obj/vmm/lib/%.o $(FUZZ)/obj/tests/fuzz/%.o: Makefile
$(FUZZ)/obj/vmm/options.o: Makefile

-include $(shell find $(O) -path $(O)/nested -prune -o -name '*.d' -type f -print 2>/dev/null)
