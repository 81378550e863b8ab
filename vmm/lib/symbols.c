/* The guest's ELF symbol table, for "rip=0x... handle_mm_fault+0x4a" in every report. */
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_symbol(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool wanted(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info);

	/* Assembly labels are STT_NOTYPE; SHN_ABS values are constants, not places. */
	return s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_ABS && s->st_name &&
	       (type == STT_FUNC || type == STT_OBJECT || type == STT_NOTYPE);
}

/*
 * The names reach terminals in every report: a copy with each byte that is
 * not printable ASCII, and the backslash itself, as \xNN, so that no
 * guest ELF can send escape sequences through a crash report.
 */
static char *printable_dup(const char *s)
{
	char *out = malloc(4 * strlen(s) + 1), *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c >= 0x7f || c == '\\')
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = c;
	}
	*p = '\0';
	return out;
}

/*
 * Symbols from the first SHT_SYMTAB, checked as the guest's ELF is untrusted:
 * an entry size that is not its class's symbol size, a string table that is not
 * one, a name outside it or not terminated inside it refuse the file (-1,
 * the reason in err) rather than print garbage or libelf's "no error".
 */
int symbols_load(struct guest_image *img, void *elf, const char *path, char *err, size_t errlen)
{
	Elf *e = elf;
	Elf_Scn *scn = NULL;
	size_t sym_size = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);	/* Elf64_Sym or Elf32_Sym */

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d, *strs;
		GElf_Shdr sh, strsh;
		Elf_Scn *strscn;
		size_t n;

		if (!gelf_getshdr(scn, &sh))
			return elf_fail(err, errlen, path, "section header: %s", elf_errmsg(-1));
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_entsize != sym_size)
			return elf_fail(err, errlen, path,
					"symbol table: sh_entsize %#lx is not sizeof(Elf%u_Sym) = %#zx",
					(unsigned long)sh.sh_entsize,
					sym_size == sizeof(Elf64_Sym) ? 64 : 32, sym_size);
		strscn = elf_getscn(e, sh.sh_link);
		if (!strscn || !gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB)
			return elf_fail(err, errlen, path,
					"symbol table: sh_link %u is not a string table section",
					(unsigned int)sh.sh_link);
		d = elf_getdata(scn, NULL);
		strs = elf_getdata(strscn, NULL);
		if (!d || !strs)
			return elf_fail(err, errlen, path,
					"symbol table or its strings past the end of the file: %s",
					elf_errmsg(-1));
		n = d->d_size / sym_size;
		img->syms = calloc(n ? n : 1, sizeof(*img->syms));
		if (!img->syms)
			return elf_fail(err, errlen, path, "%zu symbols: out of memory", n);
		for (size_t i = 0; i < n; i++) {
			const char *name;
			GElf_Sym s;

			if (!gelf_getsym(d, i, &s))
				return elf_fail(err, errlen, path, "symbol %zu: %s", i, elf_errmsg(-1));
			if (!wanted(&s))
				continue;
			if (s.st_name >= strs->d_size)
				return elf_fail(err, errlen, path,
						"symbol %zu: name at %#x past the %#zx bytes of string table section %u",
						i, (unsigned int)s.st_name, strs->d_size, (unsigned int)sh.sh_link);
			name = (const char *)strs->d_buf + s.st_name;
			if (!memchr(name, '\0', strs->d_size - s.st_name))
				return elf_fail(err, errlen, path,
						"symbol %zu: name at %#x not NUL-terminated in string table section %u",
						i, (unsigned int)s.st_name, (unsigned int)sh.sh_link);
			/* GNU as's local labels (.L*), kept in Debian's i386 libfdt.a: places inside a function. */
			if (!strncmp(name, ".L", 2))
				continue;
			img->syms[img->nsyms].addr = s.st_value;
			img->syms[img->nsyms].size = s.st_size;
			img->syms[img->nsyms].name = printable_dup(name);
			if (!img->syms[img->nsyms].name)
				return elf_fail(err, errlen, path, "symbol %zu: out of memory", i);
			img->nsyms++;
		}
		qsort(img->syms, img->nsyms, sizeof(*img->syms), cmp_symbol);
		return 0;
	}
	return 0;
}

void symbols_free(struct guest_image *img)
{
	for (size_t i = 0; i < img->nsyms; i++)
		free(img->syms[i].name);
	free(img->syms);
	img->syms = NULL;
	img->nsyms = 0;
}

static bool in_image(const struct guest_image *img, uint64_t addr)
{
	for (unsigned int i = 0; i < img->nseg; i++)
		if (addr - img->seg[i].vaddr < img->seg[i].memsz)
			return true;
	return false;
}

/*
 * The index of the nearest symbol at or below addr, as kallsyms finds it;
 * -1 outside the image or below its first symbol.
 */
long symbol_index(const struct guest_image *img, uint64_t addr)
{
	size_t lo = 0, hi = img->nsyms;

	if (!in_image(img, addr))
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (img->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	/* Prefer the sized symbol that covers addr over a label at the same place. */
	while (lo > 1 && img->syms[lo - 2].addr == img->syms[lo - 1].addr && !img->syms[lo - 1].size)
		lo--;
	return lo - 1;
}

const char *symbolise(const struct guest_image *img, uint64_t addr, char *buf, size_t len)
{
	long i = symbol_index(img, addr);

	buf[0] = '\0';
	if (i >= 0)
		snprintf(buf, len, "%s+0x%lx", img->syms[i].name, (unsigned long)(addr - img->syms[i].addr));
	return buf;
}
