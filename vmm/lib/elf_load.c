/*
 * Load an ELF64 x86-64 executable's PT_LOAD segments at p_paddr, with
 * libelf; or an ELF32 i386 one's, for the i386 paging modes.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pagewalk/layout.h>

#include "internal.h"

int elf_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The boot page tables reach a segment in RAM through one of three
 * windows; i386 has no kernel map, and its direct map holds all its RAM.
 */
static bool boot_mapped(uint64_t vaddr, uint64_t paddr, uint64_t len, unsigned int levels)
{
	if (vaddr == paddr)
		return true;
	if (vaddr == paddr + PW_PAGE_OFFSET(levels))
		return true;
	return !PW_PAGING_32(levels) && vaddr == paddr + PW_START_KERNEL_MAP &&
	       paddr + len <= PW_KERNEL_MAP_SIZE;
}

/* [paddr, paddr + len) meets the hole below 4 GiB; len may reach past 2^64. */
static bool in_hole(uint64_t paddr, uint64_t len)
{
	return paddr < PW_RAM_HOLE_END &&
	       (paddr >= PW_RAM_HOLE_START || len > PW_RAM_HOLE_START - paddr);
}

static int check_header(Elf *e, GElf_Ehdr *eh, unsigned int levels, char *err, size_t errlen,
			const char *path)
{
	bool elf32 = PW_PAGING_32(levels);
	unsigned int machine = elf32 ? EM_386 : EM_X86_64;
	size_t phdr_size = elf32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);

	if (elf_kind(e) != ELF_K_ELF)
		return elf_fail(err, errlen, path, "not an ELF file");
	if (!gelf_getehdr(e, eh))
		return elf_fail(err, errlen, path, "truncated or corrupt ELF header: %s", elf_errmsg(-1));
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return elf_fail(err, errlen, path, "not little-endian");
	if (eh->e_machine != machine)
		return elf_fail(err, errlen, path, "machine %u is not %s (%s = %u)", eh->e_machine,
				elf32 ? "i386" : "x86-64", elf32 ? "EM_386" : "EM_X86_64", machine);
	if (eh->e_type != ET_EXEC)
		return elf_fail(err, errlen, path, "ELF type %u is not an executable (ET_EXEC)", eh->e_type);
	/* libelf would walk headers of another size, and name an intact header 0 corrupt. */
	if (eh->e_phentsize != phdr_size)
		return elf_fail(err, errlen, path, "e_phentsize %u is not sizeof(Elf%u_Phdr) = %zu",
				eh->e_phentsize, elf32 ? 32 : 64, phdr_size);
	return 0;
}

static int load_elf(Elf *e, const char *path, const struct guest_ram *ram, unsigned int levels,
		    const struct region *rsv, unsigned int nrsv, struct guest_image *img,
		    char *err, size_t errlen)
{
	GElf_Ehdr eh;
	size_t phnum, file_size;
	const char *file;
	bool entry_ok = false;

	if (!e)
		return elf_fail(err, errlen, path, "libelf cannot read it: %s", elf_errmsg(-1));
	if (check_header(e, &eh, levels, err, errlen, path))
		return -1;
	file = elf_rawfile(e, &file_size);
	if (!file)
		return elf_fail(err, errlen, path, "cannot read file contents: %s", elf_errmsg(-1));
	if (elf_getphdrnum(e, &phnum))
		return elf_fail(err, errlen, path, "corrupt program header count: %s", elf_errmsg(-1));
	if (eh.e_phoff > file_size || phnum * (uint64_t)eh.e_phentsize > file_size - eh.e_phoff)
		return elf_fail(err, errlen, path, "truncated: program headers end past the file's %zu bytes",
			    file_size);

	for (size_t i = 0; i < phnum; i++) {
		uint8_t *dst;
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph))
			return elf_fail(err, errlen, path, "corrupt program header %zu: %s", i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return elf_fail(err, errlen, path, "segment %zu: p_filesz %#lx > p_memsz %#lx", i,
				    (unsigned long)ph.p_filesz, (unsigned long)ph.p_memsz);
		/* No sum printed: p_offset + p_filesz may wrap. */
		if (ph.p_offset > file_size || ph.p_filesz > file_size - ph.p_offset)
			return elf_fail(err, errlen, path,
				    "truncated: segment %zu's %#lx bytes at file offset %#lx end past the file's %#zx bytes",
				    i, (unsigned long)ph.p_filesz, (unsigned long)ph.p_offset, file_size);
		/* Else every range below would print with its end before its start. */
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr)
			return elf_fail(err, errlen, path,
				    "segment %zu at guest-physical %#lx: p_memsz %#lx runs past the top of the address space",
				    i, (unsigned long)ph.p_paddr, (unsigned long)ph.p_memsz);
		dst = ram_ptr(ram, ph.p_paddr, ph.p_memsz);
		if (!dst && in_hole(ph.p_paddr, ph.p_memsz))
			return elf_fail(err, errlen, path,
				    "segment %zu at guest-physical [%#lx, %#lx) is in the MMIO hole [%#llx, %#llx) below 4 GiB, which is never RAM",
				    i, (unsigned long)ph.p_paddr, (unsigned long)(ph.p_paddr + ph.p_memsz),
				    PW_RAM_HOLE_START, PW_RAM_HOLE_END);
		if (!dst)
			return elf_fail(err, errlen, path,
				    "segment %zu at guest-physical [%#lx, %#lx) is outside guest RAM (%#lx bytes up to %#lx; see --mem)",
				    i, (unsigned long)ph.p_paddr, (unsigned long)(ph.p_paddr + ph.p_memsz),
				    (unsigned long)ram->size, (unsigned long)ram_end(ram));
		for (unsigned int r = 0; r < nrsv; r++) {
			if (ph.p_paddr < rsv[r].start + rsv[r].size &&
			    rsv[r].start < ph.p_paddr + ph.p_memsz)
				return elf_fail(err, errlen, path,
					    "segment %zu at guest-physical [%#lx, %#lx) overlaps the VMM's %s [%#lx, %#lx)",
					    i, (unsigned long)ph.p_paddr,
					    (unsigned long)(ph.p_paddr + ph.p_memsz), rsv[r].name,
					    (unsigned long)rsv[r].start,
					    (unsigned long)(rsv[r].start + rsv[r].size));
		}
		for (unsigned int j = 0; j < img->nseg; j++) {
			if (ph.p_paddr < img->seg[j].paddr + img->seg[j].memsz &&
			    img->seg[j].paddr < ph.p_paddr + ph.p_memsz)
				return elf_fail(err, errlen, path,
					    "segment %zu at guest-physical [%#lx, %#lx) overlaps an earlier one",
					    i, (unsigned long)ph.p_paddr,
					    (unsigned long)(ph.p_paddr + ph.p_memsz));
		}
		if (img->nseg == sizeof(img->seg) / sizeof(img->seg[0]))
			return elf_fail(err, errlen, path, "more than %u PT_LOAD segments", img->nseg);
		memcpy(dst, file + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		img->seg[img->nseg].vaddr = ph.p_vaddr;
		img->seg[img->nseg].paddr = ph.p_paddr;
		img->seg[img->nseg].memsz = ph.p_memsz;
		img->nseg++;
		if (eh.e_entry - ph.p_vaddr < ph.p_memsz) {
			if (!boot_mapped(ph.p_vaddr, ph.p_paddr, ph.p_memsz, levels))
				return elf_fail(err, errlen, path,
					    "entry segment %zu (vaddr %#lx, paddr %#lx) is not reachable through the boot "
					    "page tables (identity, direct map at %#llx%s)",
					    i, (unsigned long)ph.p_vaddr, (unsigned long)ph.p_paddr,
					    (unsigned long long)PW_PAGE_OFFSET(levels),
					    PW_PAGING_32(levels) ? "" : ", kernel map at 0xffffffff80000000 below 1 GiB");
			entry_ok = true;
		}
	}
	if (!img->nseg)
		return elf_fail(err, errlen, path, "no PT_LOAD segment to load");
	if (!entry_ok)
		return elf_fail(err, errlen, path, "entry point %#lx is outside every loaded segment",
			    (unsigned long)eh.e_entry);
	img->entry = eh.e_entry;
	return symbols_load(img, e, path, err, errlen);
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	default: return "not a regular file";
	}
}

/*
 * Check and load the ELF file image[0, size) (mapped by elf_load(), or the
 * fuzzer's input); `path` only names it in errors.  What libelf's
 * elf_memory() refuses without saying why (too short, wrong class) is
 * told apart first.  On failure img may hold symbols already: the caller
 * frees them with symbols_free().
 */
int elf_load_image(char *image, size_t size, const char *path, const struct guest_ram *ram,
		   unsigned int levels, const struct region *rsv, unsigned int nrsv, struct guest_image *img,
		   char *err, size_t errlen)
{
	unsigned char want = PW_PAGING_32(levels) ? ELFCLASS32 : ELFCLASS64;
	Elf *e;
	int ret;

	memset(img, 0, sizeof(*img));
	if (!size)
		return elf_fail(err, errlen, path, "empty file, not an ELF file");
	if (size < SELFMAG || memcmp(image, ELFMAG, SELFMAG))
		return elf_fail(err, errlen, path, "not an ELF file");
	if (size > EI_CLASS && (unsigned char)image[EI_CLASS] == ELFCLASS32 && want != ELFCLASS32)
		return elf_fail(err, errlen, path, "an ELF32 guest: i386 guests run with --paging 2 or 3, "
				"not %u-level paging", levels);
	if (size > EI_CLASS && (unsigned char)image[EI_CLASS] == ELFCLASS64 && want != ELFCLASS64)
		return elf_fail(err, errlen, path, "an ELF64 guest: %u-level i386 paging runs ELF32 i386 "
				"guests only", levels);
	if (size > EI_CLASS && (unsigned char)image[EI_CLASS] != want)
		return elf_fail(err, errlen, path, "ELF class %d is neither ELF32 nor ELF64",
				(unsigned char)image[EI_CLASS]);
	if (size < (want == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr)))
		return elf_fail(err, errlen, path, "truncated: %zu bytes, too short for an ELF header", size);
	e = elf_memory(image, size);
	ret = load_elf(e, path, ram, levels, rsv, nrsv, img, err, errlen);
	elf_end(e);
	return ret;
}

int elf_load(const char *path, const struct guest_ram *ram, unsigned int levels, const struct region *rsv,
	     unsigned int nrsv, struct guest_image *img, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd, ret;

	memset(img, 0, sizeof(*img));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return elf_fail(err, errlen, path, "libelf: %s", elf_errmsg(-1));
	/* O_NONBLOCK: a FIFO opens at once instead of waiting for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return elf_fail(err, errlen, path, "cannot open: %s", strerror(errno));
	/* fstat of what was opened, not stat before: no race with a rename. */
	if (fstat(fd, &st)) {
		ret = elf_fail(err, errlen, path, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = elf_fail(err, errlen, path, "%s, not an ELF file", file_kind(st.st_mode));
		goto out;
	}
	/*
	 * Mapped, not read: only the pages the loader touches cost memory, so
	 * a sparse multi-GiB ELF costs its headers and segments, not its size.
	 */
	map = st.st_size ? mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (map == MAP_FAILED) {
		ret = elf_fail(err, errlen, path, "cannot map: %s", strerror(errno));
		goto out;
	}
	ret = elf_load_image(map, st.st_size, path, ram, levels, rsv, nrsv, img, err, errlen);
	if (map)
		munmap(map, st.st_size);
out:
	close(fd);
	return ret;
}
