/*
 * One VM, many sequences: each op runs on the guest and through the model,
 * then everything the model predicts is compared: the op's result and the
 * value read, its events (faults with their error codes and outcomes,
 * PTEs set and why, tables allocated and freed per mm and level, tasks
 * ended, vmalloc faults, kernel syncs), the counters (mm_info, meminfo,
 * kinfo) and, through the host's own page walker, every PTE and table the
 * model says an mm has, and none that it does not.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define TABLE_LEVELS	5	/* PW_LEVEL_PTE .. PW_LEVEL_PGD */

static bool fail(struct runner *r, const char *tag, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (r->tag)
		return false;
	r->tag = tag;
	n = snprintf(r->why, sizeof(r->why), "%s: ", tag);
	va_start(ap, fmt);
	vsnprintf(r->why + n, sizeof(r->why) - n, fmt, ap);
	va_end(ap);
	return false;
}

static void add_universe(struct runner *r, uint64_t va)
{
	if (va < M_TASK_SIZE)
		tset_add(&r->universe, va & ~(M_PAGE - 1));
}

/* init_mm's tables in the vmalloc area at boot, from guest RAM. */
static void read_kernel_half(struct runner *r)
{
	uint64_t pgd[512], pud[512], pmd[512];

	if (vm_read_phys(r->vm, r->k0.swapper, pgd, sizeof(pgd)))
		return;
	for (uint64_t va = M_VMALLOC_START; va < M_VMALLOC_END; va += M_PGDIR_SIZE) {
		uint64_t e = pgd[(va >> 39) & 511];

		if (!(e & PT_PRESENT))
			continue;
		kernel_pgd_set(r->m.swapper_pgds, va);
		tset_add(&r->m.kernel_tables[M_PUD], va >> 39);
		if (vm_read_phys(r->vm, e & PT_ADDR_MASK, pud, sizeof(pud)))
			continue;
		for (unsigned int i = 0; i < 512; i++) {
			uint64_t va1 = va + i * M_PUD_SIZE;

			if (!(pud[i] & PT_PRESENT) || (pud[i] & PT_PSE))
				continue;
			tset_add(&r->m.kernel_tables[M_PMD], va1 >> 30);
			if (vm_read_phys(r->vm, pud[i] & PT_ADDR_MASK, pmd, sizeof(pmd)))
				continue;
			for (unsigned int j = 0; j < 512; j++)
				if ((pmd[j] & PT_PRESENT) && !(pmd[j] & PT_PSE))
					tset_add(&r->m.kernel_tables[M_PTE], (va1 + j * M_PMD_SIZE) >> 21);
		}
	}
}

bool runner_boot(struct runner *r, const char *guest, const struct mconfig *cfg)
{
	struct vmm_config vc;
	struct mmachine hw;
	char err[1024];

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	vmm_config_init(&vc, guest);
	vc.workload = PW_WORKLOAD_OPS;
	vc.record = true;
	vc.console = NULL;
	vc.ncpus = cfg->cpus;
	vc.kernel_sync = sync_name(cfg->sync);
	vc.paging = 4;		/* the model's geometry: 4-level, p4d folded */
	if (vm_create(&vc, &r->vm, err, sizeof(err)) != VMM_OK)
		return fail(r, "boot", "vm_create: %s", err);
	if (gop_meminfo(r->vm, &r->mem0) || gop_kinfo(r->vm, &r->k0) ||
	    vm_cpu_paging(r->vm, 0, &r->pg) != VMM_OK)
		return fail(r, "boot", "%s", vm_message(r->vm));
	hw.nx = r->pg.efer & EFER_NXE;
	hw.wp = r->pg.cr0 & X86_CR0_WP;
	hw.fetch_bit = hw.nx || (r->pg.cr4 & X86_CR4_SMEP);
	hw.sync = cfg->sync;
	model_init(&r->m, &hw);
	read_kernel_half(r);
	for (uint64_t va = M_VMALLOC_START; va < M_VMALLOC_END; va += M_PGDIR_SIZE)
		if (cfg->sync == PW_SYNC_PREALLOC && !kernel_pgd_has(r->m.swapper_pgds, va))
			return fail(r, "boot", "prealloc: swapper_pg_dir lacks vmalloc entry %lu",
				    (va >> 39) & 511);
	return true;
}

void runner_destroy(struct runner *r)
{
	if (r->vm)
		vm_destroy(r->vm);
	model_free(&r->m);
	tset_free(&r->universe);
	r->vm = NULL;
}

/* Whether an op can run: shrinking drops the ops that define labels. */
static bool runnable(const struct model *m, const struct mop *op)
{
	switch (op->kind) {
	case MOP_TASK_CREATE:
		return !m->tasks[op->label].live;
	case MOP_VMALLOC:
		return !m->areas[op->label].live;
	case MOP_VFREE:
		return m->areas[op->area].live;
	case MOP_VMALLOC_SYNC:
		return true;
	case MOP_FORK:
		return m->tasks[op->task].live && !m->tasks[op->label].live;
	case MOP_TOUCH:
		if (op->area && !m->areas[op->area].live)
			return false;
		/* fall through */
	default:
		return m->tasks[op->task].live;
	}
}

/* A new page's frame: no other live page, nor the zero page, may have it. */
static bool learn_frame(struct runner *r, int page, uint64_t phys)
{
	struct mpage *p = &r->m.pages[page];

	if (p->frame && p->frame != phys)
		return fail(r, "frames", "page at %#lx, model page %d had %#lx", phys, page, p->frame);
	if (phys == r->zero_frame)
		return fail(r, "frames", "a private page at the zero page's frame %#lx", phys);
	for (unsigned int i = 1; i < r->m.npages; i++)
		if ((int)i != page && r->m.pages[i].live && r->m.pages[i].frame == phys)
			return fail(r, "frames", "frame %#lx holds two private pages", phys);
	p->frame = phys;
	return true;
}

static bool learn_fixed_frame(struct runner *r, uint64_t *frame, uint64_t phys, const char *what)
{
	if (*frame && *frame != phys)
		return fail(r, "frames", "%s at %#lx, was %#lx", what, phys, *frame);
	*frame = phys;
	return true;
}

static bool check_map(struct runner *r, const struct mtask *t, unsigned int i, const struct pw_event *e)
{
	const struct mexpect *ex = &r->m.ex;

	if (i >= ex->nmaps || e->u.map.mm != t->mm || e->u.map.addr != ex->maps[i].addr ||
	    e->u.map.kind != ex->maps[i].kind)
		return fail(r, "maps", "PTE set #%u: mm %lu %#lx kind %lu, model: %s%#lx kind %u", i,
			    e->u.map.mm, e->u.map.addr, e->u.map.kind, i < ex->nmaps ? "" : "none ",
			    i < ex->nmaps ? ex->maps[i].addr : 0, i < ex->nmaps ? ex->maps[i].kind : 0);
	switch (e->u.map.kind) {
	case PW_MAP_ZERO:
		return learn_fixed_frame(r, &r->zero_frame, e->u.map.phys, "zero page");
	case PW_MAP_SPECIAL:
		return learn_fixed_frame(r, &r->tramp_frame, e->u.map.phys, "trampoline");
	default:
		return learn_frame(r, ex->maps[i].page, e->u.map.phys);
	}
}

/* Table allocations and frees of one op, per mm and level, against the model's. */
struct tally {
	uint64_t mm;
	unsigned int allocs[TABLE_LEVELS + 1], frees[TABLE_LEVELS + 1];
};

static struct tally *tally_of(struct tally *t, unsigned int *n, uint64_t mm)
{
	for (unsigned int i = 0; i < *n; i++)
		if (t[i].mm == mm)
			return &t[i];
	if (*n == M_LABELS + 1)
		return NULL;
	memset(&t[*n], 0, sizeof(t[*n]));
	t[*n].mm = mm;
	return &t[(*n)++];
}

static bool check_tables_events(struct runner *r, const struct mop *op, const struct pw_event *ev,
				size_t n)
{
	struct tally model[M_LABELS + 1], guest[M_LABELS + 1], *t;
	unsigned int nm = 0, ng = 0;
	struct model *m = &r->m;

	t = tally_of(model, &nm, 0);
	for (int l = 0; l < M_TABLE_LEVELS; l++)
		t->allocs[l + 1] = m->ex.kernel_allocs[l];
	for (unsigned int i = 1; i < M_LABELS; i++) {
		const struct mtask *mt = &m->tasks[i];
		bool born = (op->kind == MOP_TASK_CREATE || op->kind == MOP_FORK) && op->label == i;
		bool died = m->ex.exited == (int)i;

		if (!mt->pgd)
			continue;
		t = tally_of(model, &nm, mt->mm);
		for (int l = 0; l < M_TABLE_LEVELS; l++) {
			t->allocs[l + 1] = mt->allocs[l];
			t->frees[l + 1] = mt->frees[l];
		}
		t->allocs[PW_LEVEL_PGD] = born;
		t->frees[PW_LEVEL_PGD] = died;
	}
	for (size_t i = 0; i < n; i++) {
		bool alloc = ev[i].type == PW_EV_PGTABLE_ALLOC;
		unsigned int level;
		uint64_t mm;

		if (alloc) {
			level = ev[i].u.pgtable_alloc.level;
			mm = ev[i].u.pgtable_alloc.mm;
		} else if (ev[i].type == PW_EV_PGTABLE_FREE) {
			level = ev[i].u.pgtable_free.level;
			mm = ev[i].u.pgtable_free.mm;
		} else {
			continue;
		}
		t = tally_of(guest, &ng, mm);
		if (!t || level > TABLE_LEVELS)
			return fail(r, "tables", "table event for mm %lu level %u", mm, level);
		if (alloc)
			t->allocs[level]++;
		else
			t->frees[level]++;
	}
	for (unsigned int i = 0; i < ng; i++) {
		struct tally *g = &guest[i], *mt = tally_of(model, &nm, g->mm);

		if (!mt || memcmp(g->allocs, mt->allocs, sizeof(g->allocs)) ||
		    memcmp(g->frees, mt->frees, sizeof(g->frees)))
			return fail(r, "tables", "mm %lu: tables allocated pte/pmd/pud/pgd %u/%u/%u/%u, freed "
				    "%u/%u/%u/%u; model %u/%u/%u/%u and %u/%u/%u/%u", g->mm,
				    g->allocs[1], g->allocs[2], g->allocs[3], g->allocs[5], g->frees[1],
				    g->frees[2], g->frees[3], g->frees[5], mt ? mt->allocs[1] : 0,
				    mt ? mt->allocs[2] : 0, mt ? mt->allocs[3] : 0, mt ? mt->allocs[5] : 0,
				    mt ? mt->frees[1] : 0, mt ? mt->frees[2] : 0, mt ? mt->frees[3] : 0,
				    mt ? mt->frees[5] : 0);
	}
	for (unsigned int i = 0; i < nm; i++) {
		struct tally *mt = &model[i], *g = tally_of(guest, &ng, mt->mm);
		static const unsigned int none[TABLE_LEVELS + 1];

		if (g && memcmp(g->allocs, mt->allocs, sizeof(g->allocs)) == 0 &&
		    memcmp(g->frees, mt->frees, sizeof(g->frees)) == 0)
			continue;
		if (!memcmp(mt->allocs, none, sizeof(none)) && !memcmp(mt->frees, none, sizeof(none)))
			continue;
		return fail(r, "tables", "mm %lu: the model allocates pte/pmd/pud %u/%u/%u and frees "
			    "%u/%u/%u tables, the guest reports other counts", mt->mm, mt->allocs[1],
			    mt->allocs[2], mt->allocs[3], mt->frees[1], mt->frees[2], mt->frees[3]);
	}
	return true;
}

static bool check_events(struct runner *r, const struct mop *op, const struct pw_event *ev, size_t n)
{
	const struct mexpect *ex = &r->m.ex;
	const struct mtask *t = &r->m.tasks[op->task];
	unsigned int nf = 0, nmap = 0, nexit = 0, nvf = 0, nsync = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pw_event *e = &ev[i];
		uint64_t addr;

		switch (e->type) {
		case PW_EV_FAULT:
			/* The trampoline's entry point, where ring 3 starts, is the guest's choice. */
			addr = ex->faults[nf].addr == PW_USER_TRAMPOLINE ? e->u.fault.addr & ~(M_PAGE - 1) : e->u.fault.addr;
			if (nf >= ex->nfaults || addr != ex->faults[nf].addr ||
			    e->u.fault.error_code != ex->faults[nf].error_code || e->u.fault.outcome != ex->faults[nf].outcome ||
			    e->u.fault.tables != ex->faults[nf].tables)
				return fail(r, "faults", "#PF #%u at %#lx error code %#lx outcome %lu, %lu tables; "
					    "model: %s%#lx error code %#x outcome %u, %u tables", nf, e->u.fault.addr,
					    e->u.fault.error_code, e->u.fault.outcome, e->u.fault.tables, nf < ex->nfaults ? "" : "none ",
					    nf < ex->nfaults ? ex->faults[nf].addr : 0,
					    nf < ex->nfaults ? ex->faults[nf].error_code : 0,
					    nf < ex->nfaults ? ex->faults[nf].outcome : 0,
					    nf < ex->nfaults ? ex->faults[nf].tables : 0);
			nf++;
			break;
		case PW_EV_MAP:
			if (!check_map(r, t, nmap++, e))
				return false;
			break;
		case PW_EV_TASK_EXIT:
			if (nexit++ || !ex->exited || e->u.task_exit.task != r->ids[ex->exited] ||
			    e->u.task_exit.signal != ex->exit_signal)
				return fail(r, "exit", "task %lu ended, signal %lu; model: %s t%d signal %u",
					    e->u.task_exit.task, e->u.task_exit.signal, ex->exited ? "" : "none", ex->exited,
					    ex->exit_signal);
			break;
		case PW_EV_VMALLOC_FAULT:
			if (nvf >= ex->nvfaults || e->u.vmalloc_fault.mm != r->m.tasks[ex->vfaults[nvf].task].mm ||
			    e->u.vmalloc_fault.index != ex->vfaults[nvf].index)
				return fail(r, "vmalloc_fault", "mm %lu entry %lu; model: %u of them", e->u.vmalloc_fault.mm,
					    e->u.vmalloc_fault.index, ex->nvfaults);
			nvf++;
			break;
		case PW_EV_KERNEL_SYNC:
			nsync++;
			break;
		case PW_EV_RACE_LOST:
		case PW_EV_EXCEPTION:
		case PW_EV_INJECT:
			return fail(r, "events", "unexpected event type %u", e->type);
		default:
			break;
		}
	}
	if (nf != ex->nfaults)
		return fail(r, "faults", "%u #PFs handled, model %u (first missing at %#lx error code %#x)",
			    nf, ex->nfaults, ex->faults[nf].addr, ex->faults[nf].error_code);
	if (nmap != ex->nmaps)
		return fail(r, "maps", "%u PTEs set, model %u (first missing at %#lx kind %u)", nmap,
			    ex->nmaps, ex->maps[nmap].addr, ex->maps[nmap].kind);
	if (nexit != (ex->exited != 0))
		return fail(r, "exit", "no task ended; model: t%d with signal %u", ex->exited, ex->exit_signal);
	if (nvf != ex->nvfaults)
		return fail(r, "vmalloc_fault", "%u vmalloc faults, model %u", nvf, ex->nvfaults);
	if (nsync != ex->syncs)
		return fail(r, "kernel_sync", "%u top-level entries synced, model %u", nsync, ex->syncs);
	return check_tables_events(r, op, ev, n);
}

/* The task a create or fork made: its id, and its mm and pgd from PGD_CTOR. */
static bool learn_task(struct runner *r, const struct mop *op, int64_t res, const struct pw_event *ev,
		       size_t n)
{
	struct mtask *t = &r->m.tasks[op->label];

	if (res <= 0)
		return fail(r, "result", "%s gave %ld", op->kind == MOP_FORK ? "fork" : "task_create",
			    (long)res);
	r->ids[op->label] = res;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == PW_EV_PGD_CTOR) {
			t->mm = ev[i].u.pgd_ctor.mm;
			t->pgd = ev[i].u.pgd_ctor.phys;
			return true;
		}
	}
	return fail(r, "events", "no pgd_ctor for the new task");
}

static bool check_mm(struct runner *r, unsigned int label)
{
	const struct mtask *t = &r->m.tasks[label];
	struct gop_mm mi;

	if (!t->live)
		return true;
	if (gop_mm_info(r->vm, r->ids[label], &mi) != VMM_OK)
		return fail(r, "guest", "mm_info: %s", vm_message(r->vm));
	if (mi.tables[M_PTE] != t->tables[M_PTE].n || mi.tables[M_PMD] != t->tables[M_PMD].n ||
	    mi.tables[M_PUD] != t->tables[M_PUD].n || mi.anon != model_mm_anon(t) ||
	    mi.bytes != (int64_t)(4096 * (mi.tables[0] + mi.tables[1] + mi.tables[2])))
		return fail(r, "mm_info", "t%u: pud/pmd/pte %lu/%lu/%lu, %lu anon pages, pgtables_bytes %ld; "
			    "model %u/%u/%u, %u", label, mi.tables[M_PUD], mi.tables[M_PMD], mi.tables[M_PTE],
			    mi.anon, (long)mi.bytes, t->tables[M_PUD].n, t->tables[M_PMD].n,
			    t->tables[M_PTE].n, model_mm_anon(t));
	return true;
}

static unsigned int live_tasks(const struct model *m, unsigned int *tables)
{
	unsigned int n = 0;

	*tables = 0;
	for (unsigned int i = 0; i < M_LABELS; i++) {
		const struct mtask *t = &m->tasks[i];

		if (t->live) {
			n++;
			*tables += 1 + t->tables[M_PTE].n + t->tables[M_PMD].n + t->tables[M_PUD].n;
		}
	}
	return n;
}

/* meminfo's anonymous and page-table pages (the pgd included), kinfo's kernel-half counters. */
static bool check_counters(struct runner *r, bool kinfo)
{
	struct gop_mem mem;
	struct gop_kinfo k;
	unsigned int tables, tasks = live_tasks(&r->m, &tables);
	uint64_t anon = r->mem0.anon + model_anon_pages(&r->m);
	uint64_t pgtable = r->mem0.pgtable + tables + r->m.kernel_tables_new;

	if (gop_meminfo(r->vm, &mem) != VMM_OK)
		return fail(r, "guest", "meminfo: %s", vm_message(r->vm));
	if (mem.anon != anon || mem.pgtable != pgtable)
		return fail(r, "meminfo", "%lu anonymous and %lu page-table pages; model %lu and %lu",
			    mem.anon, mem.pgtable, anon, pgtable);
	if (!kinfo)
		return true;
	if (gop_kinfo(r->vm, &k) != VMM_OK)
		return fail(r, "guest", "kinfo: %s", vm_message(r->vm));
	if (k.pgd_list != r->k0.pgd_list + tasks || k.syncs != r->k0.syncs + r->m.syncs ||
	    k.vmalloc_faults != r->k0.vmalloc_faults + r->m.vmalloc_faults)
		return fail(r, "kinfo", "pgd_list %lu, %lu syncs, %lu vmalloc faults since boot; model %lu, "
			    "%lu, %lu", k.pgd_list - r->k0.pgd_list, k.syncs - r->k0.syncs,
			    k.vmalloc_faults - r->k0.vmalloc_faults, (uint64_t)tasks, r->m.syncs,
			    r->m.vmalloc_faults);
	return true;
}

static bool walk(struct runner *r, uint64_t cr3, uint64_t va, struct vm_walk *w)
{
	struct vm_paging pg = r->pg;

	pg.cr3 = cr3;
	if (vm_walk(r->vm, &pg, va, w) != VMM_OK)
		return fail(r, "walk", "vm_walk %#lx: %s", va, vm_message(r->vm));
	return true;
}

static bool check_pte(struct runner *r, unsigned int label, const struct mpte *p)
{
	const struct mtask *t = &r->m.tasks[label];
	const struct mvma *v = model_find_vma(t, p->va);
	bool hw_present = v && (v->prot & (PW_PROT_READ | PW_PROT_WRITE | PW_PROT_EXEC));
	bool nx = r->m.hw.nx && v && !(v->prot & PW_PROT_EXEC);
	uint64_t frame = p->kind == MPTE_ZERO ? r->zero_frame :
			 p->kind == MPTE_SPECIAL ? r->tramp_frame : r->m.pages[p->page].frame;
	struct vm_walk w;

	if (!walk(r, t->pgd, p->va, &w))
		return false;
	if (!hw_present && w.present)
		return fail(r, "walk", "t%u %#lx: present, the model has it PROT_NONE", label, p->va);
	if (hw_present && (!w.present || w.level != 1 || !w.user || w.writable != p->writable ||
			   w.nx != nx || (frame && (w.phys & PT_ADDR_MASK) != frame)))
		return fail(r, "walk", "t%u %#lx: present %d level %u user %d writable %d nx %d frame %#lx; "
			    "model writable %d nx %d frame %#lx (%s)", label, p->va, w.present, w.level,
			    w.user, w.writable, w.nx, w.phys & PT_ADDR_MASK, p->writable, nx, frame,
			    p->kind == MPTE_ZERO ? "zero page" : p->kind == MPTE_SPECIAL ? "trampoline" :
			    r->m.pages[p->page].mapcount > 1 ? "shared" : "private");
	return true;
}

/* Each table the model says the mm has: the entry above it is present. */
static bool check_tables(struct runner *r, unsigned int label)
{
	static const unsigned int shift[M_TABLE_LEVELS] = { 21, 30, 39 };
	const struct mtask *t = &r->m.tasks[label];
	struct vm_walk w;

	for (int l = 0; l < M_TABLE_LEVELS; l++) {
		for (unsigned int i = 0; i < t->tables[l].n; i++) {
			uint64_t va = t->tables[l].keys[i] << shift[l];

			if (!walk(r, t->pgd, va, &w))
				return false;
			if (!(w.entries[l + 1] & PT_PRESENT))
				return fail(r, "walk", "t%u: no %s table for %#lx", label,
					    (const char *[]){ "PTE", "PMD", "PUD" }[l], va);
		}
	}
	return true;
}

/* The pgd's vmalloc-area entries, and each live area seen through it as through swapper_pg_dir. */
static bool check_kernel_half(struct runner *r, unsigned int label)
{
	const struct mtask *t = &r->m.tasks[label];
	uint64_t pgd[512];
	struct vm_walk w, k;

	if (vm_read_phys(r->vm, t->pgd, pgd, sizeof(pgd)))
		return fail(r, "walk", "t%u: pgd %#lx outside RAM", label, t->pgd);
	for (uint64_t va = M_VMALLOC_START; va < M_VMALLOC_END; va += M_PGDIR_SIZE)
		if (!(pgd[(va >> 39) & 511] & PT_PRESENT) != !kernel_pgd_has(t->kernel_pgds, va))
			return fail(r, "kernel_half", "t%u: pgd entry %lu %s, the model %s", label,
				    (va >> 39) & 511, pgd[(va >> 39) & 511] & PT_PRESENT ? "present" : "empty",
				    kernel_pgd_has(t->kernel_pgds, va) ? "has it" : "does not");
	for (unsigned int i = 1; i < M_LABELS; i++) {
		const struct marea *a = &r->m.areas[i];

		if (!a->live || !kernel_pgd_has(t->kernel_pgds, a->addr))
			continue;
		if (!walk(r, t->pgd, a->addr, &w) || !walk(r, r->k0.swapper, a->addr, &k))
			return false;
		if (!w.present || w.user || !w.writable || w.phys != k.phys)
			return fail(r, "kernel_half", "t%u: v%u at %#lx: present %d user %d writable %d, "
				    "phys %#lx, swapper_pg_dir's %#lx", label, i, a->addr, w.present, w.user,
				    w.writable, w.phys, k.phys);
	}
	return true;
}

static bool check_walks(struct runner *r)
{
	for (unsigned int i = 1; i < M_LABELS; i++) {
		const struct mtask *t = &r->m.tasks[i];
		struct vm_walk w;

		if (!t->live)
			continue;
		for (unsigned int j = 0; j < t->nptes; j++)
			if (!check_pte(r, i, &t->ptes[j]))
				return false;
		for (unsigned int j = 0; j < r->universe.n; j++) {
			uint64_t va = r->universe.keys[j];

			if (model_pte(t, va))
				continue;
			if (!walk(r, t->pgd, va, &w))
				return false;
			if (w.present)
				return fail(r, "walk", "t%u %#lx: present, the model has no PTE", i, va);
		}
		if (!check_tables(r, i) || !check_kernel_half(r, i))
			return false;
	}
	return true;
}

static void note_addresses(struct runner *r, const struct mop *op)
{
	switch (op->kind) {
	case MOP_MMAP:
	case MOP_MUNMAP:
	case MOP_MPROTECT:
		add_universe(r, op->addr);
		if (op->len)
			add_universe(r, op->addr + op->len - 1);
		break;
	case MOP_TOUCH:
		if (!op->area)
			add_universe(r, op->addr);
		break;
	default:
		break;
	}
}

static bool run_op(struct runner *r, const struct mop *op)
{
	struct model *m = &r->m;
	uint64_t area = op->area ? m->areas[op->area].addr : 0, value;
	const struct pw_event *ev;
	size_t n0, n1;
	int64_t res;
	bool kinfo;
	const char *why;

	if (!runnable(m, op))
		return true;
	vm_events(r->vm, &n0);
	model_apply(m, op);
	if (m->ex.unpredictable)
		return fail(r, "unmodelled", "the model cannot say what this op does");
	note_addresses(r, op);
	if (gop_run(r->vm, op, r->ids[op->task], area, &res, &value) != VMM_OK)
		return fail(r, "guest", "the guest stopped: %s", vm_message(r->vm));
	r->ops++;
	ev = vm_events(r->vm, &n1);
	if ((op->kind == MOP_TASK_CREATE || op->kind == MOP_FORK) &&
	    !learn_task(r, op, res, ev + n0, n1 - n0))
		return false;
	if (op->kind == MOP_VMALLOC) {
		if (res == -PW_ENOMEM)
			return fail(r, "result", "vmalloc: -ENOMEM");
		why = kernel_vmalloc(m, op->label, op->addr, op->len, res);
		if (why)
			return fail(r, "result", "vmalloc gave %#lx: %s", (uint64_t)res, why);
	} else if (!m->ex.any_result && res != m->ex.result) {
		return fail(r, "result", "%ld, model %ld", (long)res, (long)m->ex.result);
	}
	if (m->ex.check_value && value != m->ex.value)
		return fail(r, "value", "read %#lx, model %#lx", value, m->ex.value);
	if (!check_events(r, op, ev + n0, n1 - n0))
		return false;
	if (!check_mm(r, op->task) ||
	    ((op->kind == MOP_FORK || op->kind == MOP_TASK_CREATE) && !check_mm(r, op->label)))
		return false;
	kinfo = op->kind != MOP_MMAP && op->kind != MOP_MUNMAP && op->kind != MOP_MPROTECT &&
		(op->kind != MOP_TOUCH || op->area || m->ex.exited);
	return check_counters(r, kinfo) && check_walks(r);
}

/* The end of every sequence: areas freed, tasks exited, every page back. */
static bool end_sequence(struct runner *r)
{
	struct model *m = &r->m;
	char report[2048];
	struct gop_mem mem;
	struct mop op;

	if (vm_check_invariants(r->vm, report, sizeof(report)) != VMM_OK)
		return fail(r, "invariants", "%s", report);
	for (unsigned int i = 1; i < M_LABELS; i++) {
		if (m->areas[i].live) {
			op = (struct mop){ .kind = MOP_VFREE, .area = i };
			if (!run_op(r, &op))
				return false;
		}
	}
	for (unsigned int i = 1; i < M_LABELS; i++) {
		if (m->tasks[i].live) {
			op = (struct mop){ .kind = MOP_TASK_EXIT, .task = i };
			if (!run_op(r, &op))
				return false;
		}
	}
	if (gop_meminfo(r->vm, &mem) != VMM_OK)
		return fail(r, "guest", "meminfo: %s", vm_message(r->vm));
	if (mem.free + m->kernel_tables_new != r->mem0.free || mem.slab != r->mem0.slab)
		return fail(r, "end", "%ld pages not back (%ld slab pages), beyond init_mm's %u new tables",
			    (long)(r->mem0.free - mem.free - m->kernel_tables_new),
			    (long)(mem.slab - r->mem0.slab), m->kernel_tables_new);
	model_reset_user(m);
	memset(r->ids, 0, sizeof(r->ids));
	r->universe.n = 0;
	return true;
}

bool runner_sequence(struct runner *r, const struct mseq *s)
{
	for (r->at = 0; r->at < s->n; r->at++)
		if (!run_op(r, &s->ops[r->at]))
			return false;
	return end_sequence(r);
}
