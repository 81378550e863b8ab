/* Load an ELF64 x86-64 executable's PT_LOAD segments at p_paddr, with libelf. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

#include <pagewalk/layout.h>

#include "internal.h"

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The boot page tables reach a segment in RAM through one of three windows. */
static bool boot_mapped(uint64_t vaddr, uint64_t paddr, uint64_t len)
{
	if (vaddr == paddr)
		return true;
	if (vaddr == paddr + PW_PAGE_OFFSET)
		return true;
	return vaddr == paddr + PW_START_KERNEL_MAP && paddr + len <= PW_KERNEL_MAP_SIZE;
}

/* [paddr, paddr + len) meets the hole below 4 GiB; len may reach past 2^64. */
static bool in_hole(uint64_t paddr, uint64_t len)
{
	return paddr < PW_RAM_HOLE_END &&
	       (paddr >= PW_RAM_HOLE_START || len > PW_RAM_HOLE_START - paddr);
}

static int check_header(Elf *e, GElf_Ehdr *eh, char *err, size_t errlen, const char *path)
{
	if (elf_kind(e) != ELF_K_ELF) {
		size_t n;
		const char *raw = elf_rawfile(e, &n);

		if (raw && n >= SELFMAG && !memcmp(raw, ELFMAG, SELFMAG))
			return fail(err, errlen, path, "truncated: %zu bytes, too short for an ELF header", n);
		return fail(err, errlen, path, "not an ELF file");
	}
	if (gelf_getclass(e) != ELFCLASS64)
		return fail(err, errlen, path, "ELF class %d is not ELF64 (32-bit guests are not supported)",
			    gelf_getclass(e));
	if (!gelf_getehdr(e, eh))
		return fail(err, errlen, path, "truncated or corrupt ELF header: %s", elf_errmsg(-1));
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, path, "not little-endian");
	if (eh->e_machine != EM_X86_64)
		return fail(err, errlen, path, "machine %u is not x86-64 (EM_X86_64 = %u)",
			    eh->e_machine, EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return fail(err, errlen, path, "ELF type %u is not an executable (ET_EXEC)", eh->e_type);
	return 0;
}

/*
 * Check and load an ELF that libelf has opened (elf_begin or elf_memory);
 * `path` only names it in errors.  On failure img may hold symbols already:
 * the caller frees them with symbols_free().
 */
int elf_load_image(void *elf, const char *path, const struct guest_ram *ram,
		   const struct region *rsv, unsigned int nrsv, struct guest_image *img,
		   char *err, size_t errlen)
{
	Elf *e = elf;
	GElf_Ehdr eh;
	size_t phnum, file_size;
	const char *file;
	bool entry_ok = false;

	memset(img, 0, sizeof(*img));
	if (!e)
		return fail(err, errlen, path, "libelf cannot read it: %s", elf_errmsg(-1));
	if (check_header(e, &eh, err, errlen, path))
		return -1;
	file = elf_rawfile(e, &file_size);
	if (!file)
		return fail(err, errlen, path, "cannot read file contents: %s", elf_errmsg(-1));
	if (elf_getphdrnum(e, &phnum))
		return fail(err, errlen, path, "corrupt program header count: %s", elf_errmsg(-1));
	if (eh.e_phoff > file_size || phnum * (uint64_t)sizeof(Elf64_Phdr) > file_size - eh.e_phoff)
		return fail(err, errlen, path, "truncated: program headers end past the file's %zu bytes",
			    file_size);

	for (size_t i = 0; i < phnum; i++) {
		uint8_t *dst;
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph))
			return fail(err, errlen, path, "corrupt program header %zu: %s", i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return fail(err, errlen, path, "segment %zu: p_filesz %#lx > p_memsz %#lx", i,
				    (unsigned long)ph.p_filesz, (unsigned long)ph.p_memsz);
		if (ph.p_offset > file_size || ph.p_filesz > file_size - ph.p_offset)
			return fail(err, errlen, path,
				    "truncated: segment %zu needs bytes up to %#lx, file has %#zx",
				    i, (unsigned long)(ph.p_offset + ph.p_filesz), file_size);
		dst = ram_ptr(ram, ph.p_paddr, ph.p_memsz);
		if (!dst && in_hole(ph.p_paddr, ph.p_memsz))
			return fail(err, errlen, path,
				    "segment %zu at guest-physical [%#lx, %#lx) is in the MMIO hole [%#llx, %#llx) below 4 GiB, which is never RAM",
				    i, (unsigned long)ph.p_paddr, (unsigned long)(ph.p_paddr + ph.p_memsz),
				    PW_RAM_HOLE_START, PW_RAM_HOLE_END);
		if (!dst)
			return fail(err, errlen, path,
				    "segment %zu at guest-physical [%#lx, %#lx) is outside guest RAM (%#lx bytes up to %#lx; see --mem)",
				    i, (unsigned long)ph.p_paddr, (unsigned long)(ph.p_paddr + ph.p_memsz),
				    (unsigned long)ram->size, (unsigned long)ram_end(ram));
		for (unsigned int r = 0; r < nrsv; r++) {
			if (ph.p_paddr < rsv[r].start + rsv[r].size &&
			    rsv[r].start < ph.p_paddr + ph.p_memsz)
				return fail(err, errlen, path,
					    "segment %zu at guest-physical [%#lx, %#lx) overlaps the VMM's %s [%#lx, %#lx)",
					    i, (unsigned long)ph.p_paddr,
					    (unsigned long)(ph.p_paddr + ph.p_memsz), rsv[r].name,
					    (unsigned long)rsv[r].start,
					    (unsigned long)(rsv[r].start + rsv[r].size));
		}
		for (unsigned int j = 0; j < img->nseg; j++) {
			if (ph.p_paddr < img->seg[j].paddr + img->seg[j].memsz &&
			    img->seg[j].paddr < ph.p_paddr + ph.p_memsz)
				return fail(err, errlen, path,
					    "segment %zu at guest-physical [%#lx, %#lx) overlaps an earlier one",
					    i, (unsigned long)ph.p_paddr,
					    (unsigned long)(ph.p_paddr + ph.p_memsz));
		}
		if (img->nseg == sizeof(img->seg) / sizeof(img->seg[0]))
			return fail(err, errlen, path, "more than %u PT_LOAD segments", img->nseg);
		memcpy(dst, file + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		img->seg[img->nseg].vaddr = ph.p_vaddr;
		img->seg[img->nseg].paddr = ph.p_paddr;
		img->seg[img->nseg].memsz = ph.p_memsz;
		img->nseg++;
		if (eh.e_entry - ph.p_vaddr < ph.p_memsz) {
			if (!boot_mapped(ph.p_vaddr, ph.p_paddr, ph.p_memsz))
				return fail(err, errlen, path,
					    "entry segment %zu (vaddr %#lx, paddr %#lx) is not reachable through the boot "
					    "page tables (identity, direct map at %#llx, kernel map at %#llx below 1 GiB)",
					    i, (unsigned long)ph.p_vaddr, (unsigned long)ph.p_paddr,
					    PW_PAGE_OFFSET, PW_START_KERNEL_MAP);
			entry_ok = true;
		}
	}
	if (!img->nseg)
		return fail(err, errlen, path, "no PT_LOAD segment to load");
	if (!entry_ok)
		return fail(err, errlen, path, "entry point %#lx is outside every loaded segment",
			    (unsigned long)eh.e_entry);
	img->entry = eh.e_entry;
	if (symbols_load(img, e))
		return fail(err, errlen, path, "corrupt symbol table: %s", elf_errmsg(-1));
	return 0;
}

int elf_load(const char *path, const struct guest_ram *ram, const struct region *rsv,
	     unsigned int nrsv, struct guest_image *img, char *err, size_t errlen)
{
	Elf *e;
	int fd, ret;

	memset(img, 0, sizeof(*img));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(err, errlen, path, "libelf: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, path, "cannot open: %s", strerror(errno));
	e = elf_begin(fd, ELF_C_READ, NULL);
	ret = elf_load_image(e, path, ram, rsv, nrsv, img, err, errlen);
	elf_end(e);
	close(fd);
	return ret;
}
