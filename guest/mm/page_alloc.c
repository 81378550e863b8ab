/*
 * Physical pages: one struct page per frame (mem_map) and a free list.
 * Unlike the buddy allocator this hands out single pages only, which is all
 * page tables and anonymous memory need; pages never allocated are taken
 * from the free ranges in order, so boot does not touch every struct page
 * (guest RAM arrives zeroed from the VMM, mem_map with it).
 */
#include "asm.h"
#include "kernel.h"
#include "mm.h"

struct page *mem_map;
uint64_t max_pfn;
struct mm_counters mm_counters;

static spinlock_t zone_lock;	/* free list, ranges and counters */
static struct page *free_list;
static struct {
	uint64_t start, end;	/* pfns */
} ranges[16];
static unsigned int nr_ranges, cur_range;
static uint64_t next_pfn, fresh_end;	/* never-allocated pages: [next_pfn, fresh_end) of ranges[cur_range] */

/*
 * init_on_free=1 on the command line (Linux's early_init_on_free()):
 * pages are zeroed when freed, so allocation need not clear them.
 * CONFIG_INIT_ON_FREE_DEFAULT_ON is off, so is this by default.
 */
static bool init_on_free;

static bool want_init_on_free(void)
{
	return init_on_free;
}

/* Cut [start, end) out of the free ranges. */
static void reserve(uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < nr_ranges; i++) {
		uint64_t s = ranges[i].start, e = ranges[i].end;

		if (end <= s || start >= e)
			continue;
		if (start > s && end < e) {
			if (nr_ranges == ARRAY_SIZE(ranges))
				panic("page_alloc_init: too many free ranges");
			memmove(&ranges[i + 2], &ranges[i + 1], (nr_ranges - i - 1) * sizeof(ranges[0]));
			nr_ranges++;
			ranges[i + 1].start = end;
			ranges[i + 1].end = e;
			ranges[i].end = start;
		} else if (start <= s && end >= e) {
			ranges[i].start = ranges[i].end = 0;
		} else if (start <= s) {
			ranges[i].start = end;
		} else {
			ranges[i].end = start;
		}
	}
}

void page_alloc_init(void)
{
	uint64_t map_pages;

	spin_lock_init(&zone_lock);
	if (kstrtobool(cmdline_find_option(boot_params.cmdline, "init_on_free"), &init_on_free))
		init_on_free = false;
	/* As FLATMEM: mem_map spans the hole too, its struct pages never used. */
	max_pfn = ram_end() >> PAGE_SHIFT;
	for (unsigned int i = 0; i < boot_params.nr_memory; i++) {
		ranges[i].start = boot_params.memory[i].start >> PAGE_SHIFT;
		ranges[i].end = ranges[i].start + (boot_params.memory[i].size >> PAGE_SHIFT);
	}
	nr_ranges = boot_params.nr_memory;
	/* pfn 0 is never handed out: a table entry naming it is a bug, and
	 * the direct map leaves it unmapped to catch the dereference. */
	reserve(0, 1);
	for (unsigned int i = 0; i < boot_params.nr_reserved; i++)
		reserve(boot_params.reserved[i].start >> PAGE_SHIFT,
			(boot_params.reserved[i].start + boot_params.reserved[i].size + PAGE_SIZE - 1) >> PAGE_SHIFT);
	reserve(__pa_symbol(_text) >> PAGE_SHIFT, (__pa_symbol(_end) + PAGE_SIZE - 1) >> PAGE_SHIFT);

	/* memblock_alloc() for mem_map: the first free range that holds it. */
	map_pages = (max_pfn * sizeof(struct page) + PAGE_SIZE - 1) >> PAGE_SHIFT;
	for (unsigned int i = 0; i < nr_ranges && !mem_map; i++) {
		if (ranges[i].end - ranges[i].start < map_pages)
			continue;
		mem_map = __va(ranges[i].start << PAGE_SHIFT);
		reserve(ranges[i].start, ranges[i].start + map_pages);
	}
	if (!mem_map)
		panic("no room for mem_map (%lu pages)", (unsigned long)map_pages);

	for (unsigned int i = 0; i < nr_ranges; i++)
		mm_counters.total += ranges[i].end - ranges[i].start;
	mm_counters.free = mm_counters.total;
	cur_range = 0;
	next_pfn = ranges[0].start;
	fresh_end = ranges[0].end;
}

/* The next never-allocated page; one compare while the current range lasts. */
static struct page *take_fresh_page(void)
{
	while (next_pfn >= fresh_end) {
		if (cur_range + 1 >= nr_ranges)
			return NULL;
		cur_range++;
		next_pfn = ranges[cur_range].start;
		fresh_end = ranges[cur_range].end;
	}
	return pfn_to_page(next_pfn++);
}

/* A word at a time: rep stosq/movsq, rep stosl/movsl on i386 (Linux's clear_page_32). */
#ifdef CONFIG_X86_32
#define REP_STOS_WORD	"rep stosl"
#define REP_MOVS_WORD	"rep movsl"
#else
#define REP_STOS_WORD	"rep stosq"
#define REP_MOVS_WORD	"rep movsq"
#endif

/* Out of line, as Linux's clear_page_rep (arch/x86/lib/clear_page_64.S). */
__attribute__((noinline)) void clear_page(void *va)
{
	void *p = va;
	unsigned long n = PAGE_SIZE / sizeof(long);

	asm volatile(REP_STOS_WORD : "+D"(p), "+c"(n) : "a"(0UL) : "memory");
}

void copy_page(void *to, const void *from)
{
	unsigned long n = PAGE_SIZE / sizeof(long);

	asm volatile(REP_MOVS_WORD : "+D"(to), "+S"(from), "+c"(n) : : "memory");
}

static uint64_t *counter_for(uint32_t flags)
{
	if (flags & PG_table)
		return &mm_counters.pgtable;
	if (flags & PG_anon)
		return &mm_counters.anon;
	if (flags & PG_slab)
		return &mm_counters.slab;
	return &mm_counters.kernel;
}

/*
 * get_zeroed_page(): one zeroed page with refcount 1, tagged with its use.
 * Where Linux clears every page it hands out zeroed (its free pages are
 * not known to be zero), the guest clears only pages that were freed: a
 * page never allocated is still as the VMM gave it, an anonymous mapping
 * the host kernel zero-fills, and the ranges exclude everything written
 * before page_alloc_init() (the image, mem_map, the reserved regions).
 * Under init_on_free every freed page was cleared when it was freed, so,
 * as post_alloc_hook() there, none is cleared here.
 */
struct page *alloc_page(uint32_t flags)
{
	struct page *page;
	bool zeroed = false;

	spin_lock(&zone_lock);
	page = free_list;
	if (page) {
		free_list = page->next_free;
	} else {
		page = take_fresh_page();
		zeroed = true;
	}
	if (page) {
		mm_counters.free--;
		(*counter_for(flags))++;
	}
	spin_unlock(&zone_lock);
	if (!page)
		return NULL;
	*page = (struct page){ .flags = flags, .refcount = 1 };
	if (!zeroed && !want_init_on_free())
		clear_page(page_address(page));
	return page;
}

void __free_page(struct page *page)
{
	if (page->flags & PG_reserved)
		panic("freeing reserved page %#lx", (unsigned long)page_to_pfn(page));
	if (want_init_on_free())	/* free_pages_prepare(): kernel_init_pages(), before the lock */
		clear_page(page_address(page));
	spin_lock(&zone_lock);
	(*counter_for(page->flags))--;
	mm_counters.free++;
	*page = (struct page){ .next_free = free_list };
	free_list = page;
	spin_unlock(&zone_lock);
}

void get_page(struct page *page)
{
	__atomic_add_fetch(&page->refcount, 1, __ATOMIC_RELAXED);
}

void put_page(struct page *page)
{
	int32_t ref = __atomic_sub_fetch(&page->refcount, 1, __ATOMIC_ACQ_REL);

	if (ref < 0)
		panic("put_page: refcount %d on pfn %#lx", ref, (unsigned long)page_to_pfn(page));
	if (ref == 0)
		__free_page(page);
}

/*
 * free_reserved_area(): pages the VMM reserved and we no longer need join
 * the allocator; Linux frees each through __free_page(), which clears it
 * under init_on_free: so here, before they are on the free list.
 */
void free_reserved_area(uint64_t start, uint64_t end)
{
	if (want_init_on_free())
		for (uint64_t pfn = start >> PAGE_SHIFT; pfn < end >> PAGE_SHIFT; pfn++)
			clear_page(__va(pfn << PAGE_SHIFT));
	spin_lock(&zone_lock);
	for (uint64_t pfn = start >> PAGE_SHIFT; pfn < end >> PAGE_SHIFT; pfn++) {
		struct page *page = pfn_to_page(pfn);

		*page = (struct page){ .next_free = free_list };
		free_list = page;
		mm_counters.total++;
		mm_counters.free++;
	}
	spin_unlock(&zone_lock);
}
