/* The ELF loader: bad files are refused by name with status 2; foreign guests run. */
#include <elf.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "harness.h"

/* Patch `len` bytes at `off` of a copy of `src`, run `vmm [--mem M] copy`. */
static void expect_rejected(const char *src, off_t off, const void *bytes, size_t len,
			    const char *mem, const char *want)
{
	char *path = temp_copy(src);
	const char *argv[] = { VMM_BIN, "--mem", mem ? mem : "256M", path, NULL };
	struct cli_run r;
	int fd = open(path, O_WRONLY);

	cr_assert(fd >= 0);
	if (len)
		cr_assert_eq(pwrite(fd, bytes, len, off), (ssize_t)len);
	close(fd);
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_BAD_INPUT, "status %d, stderr: %s", r.status, r.err);
	cr_assert(strstr(r.err, want), "stderr should say '%s' but says: %s", want, r.err);
	cr_assert(strstr(r.err, path), "stderr should name the file: %s", r.err);
	cli_run_free(&r);
	unlink(path);
	free(path);
}

static Elf64_Ehdr read_ehdr(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &eh, sizeof(eh), 0), (ssize_t)sizeof(eh));
	close(fd);
	return eh;
}

static off_t phdr_off(const Elf64_Ehdr *eh, unsigned int i, size_t field)
{
	return eh->e_phoff + i * sizeof(Elf64_Phdr) + field;
}

/* Index of the first PT_LOAD of the pagewalk guest (its text). */
static unsigned int first_load(const char *path, Elf64_Phdr *out)
{
	Elf64_Ehdr eh = read_ehdr(path);
	int fd = open(path, O_RDONLY);

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		cr_assert_eq(pread(fd, out, sizeof(*out), phdr_off(&eh, i, 0)), (ssize_t)sizeof(*out));
		if (out->p_type == PT_LOAD) {
			close(fd);
			return i;
		}
	}
	cr_assert_fail("no PT_LOAD in %s", path);
	return 0;
}

Test(elf, not_an_elf)
{
	require_kvm();
	expect_rejected(GUEST_ELF, 0, "#!/bin/sh\n", 10, NULL, "not an ELF file");
}

/* An ELF32 file under a 64-bit paging mode: i386 guests need --paging 2 or 3. */
Test(elf, elf32_refused)
{
	uint8_t cls = ELFCLASS32;

	require_kvm();
	expect_rejected(GUEST_ELF, EI_CLASS, &cls, 1, NULL, "i386 guests run with --paging 2 or 3");
}

Test(elf, foreign_machine_refused)
{
	uint16_t machine = EM_AARCH64;

	require_kvm();
	expect_rejected(GUEST_ELF, offsetof(Elf64_Ehdr, e_machine), &machine, 2, NULL,
			"is not x86-64");
}

Test(elf, no_pt_load)
{
	Elf64_Ehdr eh = read_ehdr(GUEST_ELF);
	char *path = temp_copy(GUEST_ELF);
	uint32_t null = PT_NULL;
	int fd = open(path, O_WRONLY);

	require_kvm();
	/* Turn every program header into PT_NULL. */
	for (unsigned int i = 0; i < eh.e_phnum; i++)
		cr_assert_eq(pwrite(fd, &null, 4, phdr_off(&eh, i, offsetof(Elf64_Phdr, p_type))), 4);
	close(fd);
	expect_rejected(path, 0, NULL, 0, NULL, "no PT_LOAD");
	unlink(path);
	free(path);
}

Test(elf, segment_outside_ram)
{
	Elf64_Ehdr eh = read_ehdr(GUEST_ELF);
	Elf64_Phdr ph;
	unsigned int i = first_load(GUEST_ELF, &ph);

	require_kvm();
	/* The image loads at 2 MiB: with 2 MiB of RAM... the minimum is 4 MiB, so
	 * move the segment to 1 GiB and give the guest 64 MiB. */
	ph.p_paddr = 1ULL << 30;
	expect_rejected(GUEST_ELF, phdr_off(&eh, i, offsetof(Elf64_Phdr, p_paddr)), &ph.p_paddr, 8,
			"64M", "outside guest RAM");
}

/* The hole below 4 GiB is never RAM: [0xd0000000, 4 GiB), whatever --mem says. */
Test(elf, segment_in_the_mmio_hole)
{
	Elf64_Ehdr eh = read_ehdr(GUEST_ELF);
	off_t off;
	Elf64_Phdr ph;
	unsigned int i = first_load(GUEST_ELF, &ph);

	require_kvm();
	off = phdr_off(&eh, i, offsetof(Elf64_Phdr, p_paddr));
	ph.p_paddr = 0xe0000000;
	expect_rejected(GUEST_ELF, off, &ph.p_paddr, 8, "4G",
			"is in the MMIO hole [0xd0000000, 0x100000000) below 4 GiB");
	/* From the last page below the hole into it: the text is more than a page. */
	cr_assert_gt(ph.p_memsz, 4096);
	ph.p_paddr = 0xd0000000 - 4096;
	expect_rejected(GUEST_ELF, off, &ph.p_paddr, 8, "4G", "at guest-physical [0xcffff000, ");
	expect_rejected(GUEST_ELF, off, &ph.p_paddr, 8, "4G", "MMIO hole");
}

Test(elf, segment_over_reserved_boot_area)
{
	Elf64_Ehdr eh = read_ehdr(GUEST_ELF);
	Elf64_Phdr ph;
	unsigned int i = first_load(GUEST_ELF, &ph);

	require_kvm();
	ph.p_paddr = 0x10000;	/* inside the boot page tables */
	expect_rejected(GUEST_ELF, phdr_off(&eh, i, offsetof(Elf64_Phdr, p_paddr)), &ph.p_paddr, 8,
			NULL, "overlaps the VMM's boot area");
}

Test(elf, overlapping_segments)
{
	Elf64_Ehdr eh = read_ehdr(GUEST_ELF);
	Elf64_Phdr ph;
	unsigned int i = first_load(GUEST_ELF, &ph);

	require_kvm();
	/* The guest's second PT_LOAD (rodata) moved onto its first (text). */
	expect_rejected(GUEST_ELF, phdr_off(&eh, i + 1, offsetof(Elf64_Phdr, p_paddr)), &ph.p_paddr, 8,
			NULL, "overlaps an earlier one");
}

Test(elf, filesz_above_memsz)
{
	Elf64_Ehdr eh = read_ehdr(GUEST_ELF);
	Elf64_Phdr ph;
	unsigned int i = first_load(GUEST_ELF, &ph);

	require_kvm();
	ph.p_memsz = ph.p_filesz - 1;
	expect_rejected(GUEST_ELF, phdr_off(&eh, i, offsetof(Elf64_Phdr, p_memsz)), &ph.p_memsz, 8,
			NULL, "p_filesz");
}

Test(elf, truncated_file)
{
	Elf64_Phdr ph;
	char *path = temp_copy(GUEST_ELF);

	require_kvm();
	first_load(GUEST_ELF, &ph);
	/* Cut the file in the middle of the first segment's bytes. */
	cr_assert_eq(truncate(path, ph.p_offset + ph.p_filesz / 2), 0);
	expect_rejected(path, 0, NULL, 0, NULL, "truncated");
	/* And inside the ELF header itself. */
	cr_assert_eq(truncate(path, 40), 0);
	expect_rejected(path, 0, NULL, 0, NULL, "truncated");
	unlink(path);
	free(path);
}

Test(elf, entry_outside_segments)
{
	uint64_t entry = 0x1234;

	require_kvm();
	expect_rejected(GUEST_ELF, offsetof(Elf64_Ehdr, e_entry), &entry, 8, NULL,
			"entry point 0x1234 is outside every loaded segment");
}

Test(elf, missing_file)
{
	const char *argv[] = { VMM_BIN, "/nonexistent/guest.elf", NULL };
	struct cli_run r;

	require_kvm();
	run_vmm(&r, argv);
	cr_assert_eq(r.status, VMM_BAD_INPUT);
	cr_assert(strstr(r.err, "/nonexistent/guest.elf: cannot open: No such file"), "%s", r.err);
	cli_run_free(&r);
}

/* The first section header of `type` in path, and its index. */
static unsigned int find_section(const char *path, uint32_t type, Elf64_Shdr *out)
{
	Elf64_Ehdr eh = read_ehdr(path);
	int fd = open(path, O_RDONLY);

	for (unsigned int i = 0; i < eh.e_shnum; i++) {
		cr_assert_eq(pread(fd, out, sizeof(*out), eh.e_shoff + i * sizeof(*out)), (ssize_t)sizeof(*out));
		if (out->sh_type == type) {
			close(fd);
			return i;
		}
	}
	cr_assert_fail("no section of type %u in %s", type, path);
	return 0;
}

static off_t shdr_off(const char *path, unsigned int i, size_t field)
{
	return read_ehdr(path).e_shoff + i * sizeof(Elf64_Shdr) + field;
}

/*
 * Program headers come in one size, sizeof(Elf64_Phdr) = 56: 0 and 57 are
 * refused by name, not as "corrupt program header 0" nor loaded.
 */
Test(elf, phentsize_must_be_sizeof_phdr)
{
	uint16_t zero = 0, odd = sizeof(Elf64_Phdr) + 1;

	require_kvm();
	expect_rejected(TEST_GUEST("foreign"), offsetof(Elf64_Ehdr, e_phentsize), &zero, 2, NULL,
			"e_phentsize 0 is not sizeof(Elf64_Phdr) = 56");
	expect_rejected(TEST_GUEST("foreign"), offsetof(Elf64_Ehdr, e_phentsize), &odd, 2, NULL,
			"e_phentsize 57 is not sizeof(Elf64_Phdr) = 56");
}

/*
 * p_offset chosen so that p_offset + p_filesz wraps to 0x100: the message
 * must give both numbers as they are, not their wrapped sum.
 */
Test(elf, segment_offset_plus_size_wraps)
{
	const char *guest = TEST_GUEST("foreign");
	Elf64_Ehdr eh = read_ehdr(guest);
	Elf64_Phdr ph;
	unsigned int i = first_load(guest, &ph);
	uint64_t off = 0x100 - ph.p_filesz;
	char want[160];

	require_kvm();
	snprintf(want, sizeof(want), "truncated: segment %u's %#lx bytes at file offset %#lx end past",
		 i, (unsigned long)ph.p_filesz, (unsigned long)off);
	expect_rejected(guest, phdr_off(&eh, i, offsetof(Elf64_Phdr, p_offset)), &off, 8, NULL, want);
}

/* p_paddr + p_memsz past 2^64: said so, not printed as the range [0x100000, 0xfffff). */
Test(elf, segment_wraps_the_address_space)
{
	const char *guest = TEST_GUEST("foreign");
	Elf64_Ehdr eh = read_ehdr(guest);
	Elf64_Phdr ph;
	unsigned int i = first_load(guest, &ph);
	uint64_t memsz = UINT64_MAX;
	char want[160];

	require_kvm();
	snprintf(want, sizeof(want), "segment %u at guest-physical %#lx: p_memsz 0xffffffffffffffff runs "
		 "past the top of the address space", i, (unsigned long)ph.p_paddr);
	expect_rejected(guest, phdr_off(&eh, i, offsetof(Elf64_Phdr, p_memsz)), &memsz, 8, NULL, want);
}

/*
 * A bad symbol table refuses the file (README, status 2), by name: an
 * entry size of 0, and a string table cut one byte into the name that
 * starts last in it among the symbols the loader keeps (defined, not
 * SHN_ABS, named, FUNC, OBJECT or NOTYPE: symbols.c), whose name has at
 * least two bytes and so no NUL left.
 */
Test(elf, bad_symbol_table_refused_by_name)
{
	const char *guest = TEST_GUEST("foreign");
	Elf64_Shdr symtab, strtab;
	unsigned int si = find_section(guest, SHT_SYMTAB, &symtab);
	uint64_t zero = 0, cut = 0;
	int fd = open(guest, O_RDONLY);
	char name[2];

	require_kvm();
	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &strtab, sizeof(strtab), shdr_off(guest, symtab.sh_link, 0)),
		     (ssize_t)sizeof(strtab));
	for (uint64_t off = 0; off < symtab.sh_size; off += sizeof(Elf64_Sym)) {
		Elf64_Sym sym;
		int type;

		cr_assert_eq(pread(fd, &sym, sizeof(sym), symtab.sh_offset + off), (ssize_t)sizeof(sym));
		type = ELF64_ST_TYPE(sym.st_info);
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS || !sym.st_name ||
		    (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE))
			continue;
		cr_assert_eq(pread(fd, name, 2, strtab.sh_offset + sym.st_name), 2);
		if (name[1] && sym.st_name + 1 > cut)
			cut = sym.st_name + 1;
	}
	close(fd);
	cr_assert(cut, "no kept symbol with a name of two bytes or more in %s", guest);
	expect_rejected(guest, shdr_off(guest, si, offsetof(Elf64_Shdr, sh_entsize)), &zero, 8, NULL,
			"symbol table: sh_entsize 0 is not sizeof(Elf64_Sym) = 0x18");
	expect_rejected(guest, shdr_off(guest, symtab.sh_link, offsetof(Elf64_Shdr, sh_size)), &cut, 8,
			NULL, "not NUL-terminated in string table section");
}

/*
 * Only a regular file is an ELF to load: a FIFO would block open() until a
 * writer came (hence the test's timeout), a directory opens and then fails
 * inside libelf with a message about file descriptors.
 */
Test(elf, fifo_and_directory_refused, .timeout = 20)
{
	char dir[] = "/tmp/pagewalk-test-XXXXXX", fifo[sizeof(dir) + 8];
	const char *on_fifo[] = { VMM_BIN, fifo, NULL };
	const char *on_dir[] = { VMM_BIN, dir, NULL };
	struct cli_run r;

	require_kvm();
	cr_assert(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
	run_vmm(&r, on_fifo);
	cr_assert_eq(r.status, VMM_BAD_INPUT, "%s", r.err);
	cr_assert(strstr(r.err, "/fifo: a FIFO, not an ELF file"), "%s", r.err);
	cli_run_free(&r);
	run_vmm(&r, on_dir);
	cr_assert_eq(r.status, VMM_BAD_INPUT, "%s", r.err);
	cr_assert(strstr(r.err, ": a directory, not an ELF file"), "%s", r.err);
	cli_run_free(&r);
	unlink(fifo);
	rmdir(dir);
}

/*
 * The foreign guest with its one segment's bytes moved 1 GiB into the
 * file, the gap a hole: a loader that reads the whole file costs at least
 * 1 GiB; one that maps it touches the headers and the segment, and its
 * peak RSS is the VMM's own plus at most the 16 MiB of guest RAM (256 MiB
 * leaves room for the sanitizers' shadow under SANITIZE=1).
 */
Test(elf, sparse_file_is_mapped_not_read)
{
	const off_t gap = 1LL << 30;
	char *path = temp_copy(TEST_GUEST("foreign"));
	const char *argv[] = { VMM_BIN, "--mem", "16M", path, NULL };
	Elf64_Ehdr eh = read_ehdr(path);
	struct cli_run r;
	struct rusage ru;
	Elf64_Phdr ph;
	unsigned int i = first_load(path, &ph);
	int fd = open(path, O_RDWR);
	char *bytes = malloc(ph.p_filesz);

	require_kvm();
	cr_assert(fd >= 0 && bytes);
	cr_assert_eq(pread(fd, bytes, ph.p_filesz, ph.p_offset), (ssize_t)ph.p_filesz);
	/* p_offset stays congruent to p_vaddr modulo the page size. */
	ph.p_offset += gap;
	cr_assert_eq(pwrite(fd, bytes, ph.p_filesz, ph.p_offset), (ssize_t)ph.p_filesz);
	cr_assert_eq(pwrite(fd, &ph.p_offset, 8, phdr_off(&eh, i, offsetof(Elf64_Phdr, p_offset))), 8);
	close(fd);
	run_vmm(&r, argv);
	/* It still runs: exit status 42 (tests/guests/foreign.S), vmm status 1. */
	cr_assert_eq(r.status, VMM_GUEST_FAILED, "%s", r.err);
	cr_assert_str_eq(r.out, "hello from a foreign guest\n");
	cr_assert_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	cr_assert_lt(ru.ru_maxrss, 256 << 10, "peak RSS %ld KiB for a %lld-byte sparse file",
		     ru.ru_maxrss, (long long)(gap + ph.p_filesz));
	cli_run_free(&r);
	unlink(path);
	free(path);
	free(bytes);
}

/* tests/guests/foreign.S: linked at 1 MiB, only ports 0xe9 and 0xf4, exits 42. */
Test(elf, foreign_guest_runs_and_its_status_comes_back)
{
	const char *argv[] = { VMM_BIN, TEST_GUEST("foreign"), NULL };
	struct vmm_config cfg;
	struct cli_run r;
	struct vm *vm;
	char err[512];

	require_kvm();
	run_vmm(&r, argv);
	/* A non-zero guest status is vmm status 1, and the status itself is printed. */
	cr_assert_eq(r.status, VMM_GUEST_FAILED, "%s", r.err);
	cr_assert_str_eq(r.out, "hello from a foreign guest\n");
	cr_assert(strstr(r.err, "guest exited with status 42"), "%s", r.err);
	cli_run_free(&r);

	test_config(&cfg, TEST_GUEST("foreign"), PW_WORKLOAD_DEFAULT);
	cr_assert_eq(vm_create(&cfg, &vm, err, sizeof(err)), VMM_OK, "%s", err);
	cr_assert_eq(vm_run(vm), VMM_GUEST_FAILED);
	cr_assert(vm_guest_exited(vm));
	cr_assert_eq(vm_guest_status(vm), 42);
	vm_destroy(vm);
}
