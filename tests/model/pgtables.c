/*
 * Which page tables an mm owns, from the geometry alone: a PTE table per
 * 2 MiB, a PMD table per 1 GiB, a PUD table per 512 GiB that a mapped page
 * needs, and free_pgtables()' floor and ceiling rules (mm/memory.c) for
 * when munmap and exit free them.  The pgd is not counted, as
 * pgtables_bytes does not count it.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const unsigned int level_shift[M_TABLE_LEVELS] = { 21, 30, 39 };

bool tset_has(const struct tset *s, uint64_t key)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->keys[i] == key)
			return true;
	return false;
}

bool tset_add(struct tset *s, uint64_t key)
{
	if (tset_has(s, key))
		return false;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->keys = realloc(s->keys, s->cap * sizeof(*s->keys));
		if (!s->keys)
			abort();
	}
	s->keys[s->n++] = key;
	return true;
}

bool tset_del(struct tset *s, uint64_t key)
{
	for (unsigned int i = 0; i < s->n; i++) {
		if (s->keys[i] == key) {
			s->keys[i] = s->keys[--s->n];
			return true;
		}
	}
	return false;
}

void tset_free(struct tset *s)
{
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

/* __pud_alloc(), __pmd_alloc(), __pte_alloc() on the way to va's PTE. */
unsigned int tables_install(struct mtask *t, uint64_t va)
{
	unsigned int n = 0;

	for (int l = M_PUD; l >= M_PTE; l--) {
		if (tset_add(&t->tables[l], va >> level_shift[l])) {
			t->allocs[l]++;
			n++;
		}
	}
	return n;
}

static bool has(const struct mtask *t, int level, uint64_t va)
{
	return tset_has(&t->tables[level], va >> level_shift[level]);
}

static void drop(struct mtask *t, int level, uint64_t va)
{
	if (tset_del(&t->tables[level], va >> level_shift[level]))
		t->frees[level]++;
}

/* pmd_addr_end() and friends: the next boundary, or end if that comes first. */
static uint64_t addr_end(uint64_t addr, uint64_t end, uint64_t size)
{
	uint64_t boundary = (addr + size) & ~(size - 1);

	return boundary - 1 < end - 1 ? boundary : end;
}

/*
 * The test that ends free_pmd_range() and free_pud_range(): the table over
 * start's `size`-aligned range is free to go only if that whole range lies
 * between floor and ceiling (0 being the top), no other VMA using it.
 */
static bool table_unused(uint64_t start, uint64_t end, uint64_t floor, uint64_t ceiling,
			 uint64_t size)
{
	start &= ~(size - 1);
	if (start < floor)
		return false;
	if (ceiling) {
		ceiling &= ~(size - 1);
		if (!ceiling)
			return false;
	}
	return end - 1 <= ceiling - 1;
}

/*
 * free_pmd_range(), free_pud_range(), free_pgd_range(): Linux's code, on
 * the model's sets.  The p4d level is folded into the pgd on 4-level
 * paging, so its PGDIR_MASK test is the PUD table's.
 */
static void free_pmd_range(struct mtask *t, uint64_t addr, uint64_t end, uint64_t floor,
			   uint64_t ceiling)
{
	uint64_t start = addr, next;

	do {
		next = addr_end(addr, end, M_PMD_SIZE);
		drop(t, M_PTE, addr);		/* free_pte_range() */
	} while (addr = next, addr != end);

	if (table_unused(start, end, floor, ceiling, M_PUD_SIZE))
		drop(t, M_PMD, start);
}

static void free_pud_range(struct mtask *t, uint64_t addr, uint64_t end, uint64_t floor,
			   uint64_t ceiling)
{
	uint64_t start = addr, next;

	do {
		next = addr_end(addr, end, M_PUD_SIZE);
		if (has(t, M_PMD, addr))
			free_pmd_range(t, addr, next, floor, ceiling);
	} while (addr = next, addr != end);

	if (table_unused(start, end, floor, ceiling, M_PGDIR_SIZE))
		drop(t, M_PUD, start);
}

static void free_pgd_range(struct mtask *t, uint64_t addr, uint64_t end, uint64_t floor,
			   uint64_t ceiling)
{
	uint64_t next;

	addr &= ~(M_PMD_SIZE - 1);
	if (addr < floor) {
		addr += M_PMD_SIZE;
		if (!addr)
			return;
	}
	if (ceiling) {
		ceiling &= ~(M_PMD_SIZE - 1);
		if (!ceiling)
			return;
	}
	if (end - 1 > ceiling - 1)
		end -= M_PMD_SIZE;
	if (addr > end - 1)
		return;
	do {
		next = addr_end(addr, end, M_PGDIR_SIZE);
		if (has(t, M_PUD, addr))
			free_pud_range(t, addr, next, floor, ceiling);
	} while (addr = next, addr != end);
}

/*
 * free_pgtables() over the VMAs just unmapped, sorted: nearby ones (less
 * than a PMD apart) are gathered into one call, whose ceiling is the next
 * unmapped VMA's start, or the caller's ceiling after the last.
 */
void free_pgtables(struct mtask *t, const struct mvma *vmas, unsigned int n, uint64_t floor,
		   uint64_t ceiling)
{
	unsigned int i = 0, j;

	while (i < n) {
		for (j = i; j + 1 < n && vmas[j + 1].start <= vmas[j].end + M_PMD_SIZE; j++)
			;
		free_pgd_range(t, vmas[i].start, vmas[j].end, floor,
			       j + 1 < n ? vmas[j + 1].start : ceiling);
		i = j + 1;
	}
}

/*
 * copy_page_range() allocates the child's table at each level wherever the
 * parent has one over the VMA (pud_alloc, pmd_alloc, pte_alloc before it
 * looks at the entries below): every parent table whose range meets it.
 */
void copy_tables(struct mtask *child, const struct mtask *parent, const struct mvma *vma)
{
	for (int l = M_PUD; l >= M_PTE; l--) {
		const struct tset *s = &parent->tables[l];

		for (unsigned int i = 0; i < s->n; i++) {
			uint64_t lo = s->keys[i] << level_shift[l], hi = lo + (1ULL << level_shift[l]);

			if (lo < vma->end && vma->start < hi && tset_add(&child->tables[l], s->keys[i]))
				child->allocs[l]++;
		}
	}
}
