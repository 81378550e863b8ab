/*
 * The kernel half: vmalloc maps pages in init_mm only, with its own PUD,
 * PMD and PTE tables, which vfree leaves in place (mm/vmalloc.c); how a
 * new top-level entry reaches the other pgds is the --kernel-sync mode:
 * preallocated at boot (prealloc), copied into every pgd on pgd_list when
 * vmalloc populates it (eager, arch_sync_kernel_mappings()), or copied
 * into one pgd by vmalloc_fault() when the kernel first touches it there
 * (fault, x86-64 before 5.8).  A new pgd clones swapper_pg_dir's kernel
 * half (pgd_ctor()).
 */
#include "model.h"

static unsigned int pgd_index(uint64_t va)
{
	return (va >> 39) & 511;
}

bool kernel_pgd_has(const uint64_t bitmap[4], uint64_t va)
{
	unsigned int i = pgd_index(va) - 256;

	return bitmap[i / 64] >> (i % 64) & 1;
}

void kernel_pgd_set(uint64_t bitmap[4], uint64_t va)
{
	unsigned int i = pgd_index(va) - 256;

	bitmap[i / 64] |= 1ULL << (i % 64);
}

struct marea *kernel_area(struct model *m, uint64_t va)
{
	for (unsigned int i = 0; i < M_LABELS; i++) {
		struct marea *a = &m->areas[i];

		if (a->live && a->addr <= va && va < a->addr + a->size)
			return a;
	}
	return NULL;
}

/* sync_global_pgds(): every pgd on pgd_list gets the entries it lacks. */
static void sync_global_pgds(struct model *m, uint64_t start, uint64_t end)
{
	for (uint64_t va = start & ~(M_PGDIR_SIZE - 1); va <= end; va += M_PGDIR_SIZE) {
		if (!kernel_pgd_has(m->swapper_pgds, va))
			continue;
		for (unsigned int i = 0; i < M_LABELS; i++) {
			struct mtask *t = &m->tasks[i];

			if (t->live && !kernel_pgd_has(t->kernel_pgds, va)) {
				kernel_pgd_set(t->kernel_pgds, va);
				m->ex.syncs++;
			}
		}
	}
	m->syncs += m->ex.syncs;
}

/*
 * __vmalloc_node_range() from the hint: any page-aligned range at or
 * above it in the vmalloc area that leaves every live area its guard page
 * (which address is the allocator's choice: Linux purges freed areas
 * lazily).  Then vmap_pages_range() installs what init_mm lacks.
 */
const char *kernel_vmalloc(struct model *m, unsigned int label, uint64_t hint, uint64_t size,
			   uint64_t addr)
{
	bool top_modified = false;

	size = (size + M_PAGE - 1) & ~(M_PAGE - 1);
	if (addr & (M_PAGE - 1))
		return "not page-aligned";
	if (addr < M_VMALLOC_START || addr < (hint & ~(M_PAGE - 1)) || addr + size - 1 > M_VMALLOC_END)
		return "outside the vmalloc area or below the hint";
	for (unsigned int i = 0; i < M_LABELS; i++) {
		const struct marea *a = &m->areas[i];

		if (a->live && addr < a->addr + a->size + M_PAGE && a->addr < addr + size + M_PAGE)
			return "over a live area or its guard page";
	}
	m->areas[label] = (struct marea){ .live = true, .addr = addr, .size = size };
	for (uint64_t va = addr; va < addr + size; va += M_PAGE) {
		static const unsigned int shift[M_TABLE_LEVELS] = { 21, 30, 39 };

		if (!kernel_pgd_has(m->swapper_pgds, va)) {
			kernel_pgd_set(m->swapper_pgds, va);
			top_modified = true;
		}
		for (int l = M_PUD; l >= M_PTE; l--) {
			if (tset_add(&m->kernel_tables[l], va >> shift[l])) {
				m->ex.kernel_allocs[l]++;
				m->kernel_tables_new++;
			}
		}
	}
	if (top_modified && m->hw.sync == PW_SYNC_EAGER)
		sync_global_pgds(m, addr, addr + size - 1);
	return NULL;
}

void kernel_vfree(struct model *m, unsigned int label)
{
	m->areas[label].live = false;
}

/* vmalloc_sync_mappings(): the whole vmalloc area into every pgd. */
void kernel_vmalloc_sync(struct model *m)
{
	sync_global_pgds(m, M_VMALLOC_START, M_VMALLOC_END);
}

/*
 * A kernel access to va through the task's pgd: under the fault mode, a
 * missing top-level entry that init_mm has is copied by vmalloc_fault()
 * and the access retried.  The live area there, or NULL.
 */
struct marea *kernel_access(struct model *m, unsigned int label, uint64_t va)
{
	struct mtask *t = &m->tasks[label];
	struct mexpect *ex = &m->ex;

	if (!kernel_pgd_has(t->kernel_pgds, va) && kernel_pgd_has(m->swapper_pgds, va) &&
	    m->hw.sync == PW_SYNC_FAULT) {
		kernel_pgd_set(t->kernel_pgds, va);
		m->vmalloc_faults++;
		if (ex->nvfaults < 2)
			ex->vfaults[ex->nvfaults++] = (typeof(ex->vfaults[0])){ label, pgd_index(va) };
	}
	return kernel_pgd_has(t->kernel_pgds, va) ? kernel_area(m, va) : NULL;
}
