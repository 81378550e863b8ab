/*
 * The user address spaces as Linux defines them: fixed private anonymous
 * VMAs (MAP_FIXED_NOREPLACE), munmap and mprotect that split them, fork
 * with copy-on-write, exit; and each access resolved as the MMU (SDM vol.
 * 3A 4.6, 4.7) and arch/x86/mm/fault.c + mm/memory.c would: the #PF error
 * codes, the outcome of each fault, the page a PTE then maps.
 */
#include <stdlib.h>
#include <string.h>

#include <pagewalk/layout.h>
#include <pagewalk/ops.h>

#include "model.h"

#define ZERO_PAGE	0	/* model.pages[0]: the shared zero page, never written */
#define JMP_RSI		0xe6ffu	/* "jmp *%rsi": code a fetch can run and come back from */
#define PROT_RWX	(PW_PROT_READ | PW_PROT_WRITE | PW_PROT_EXEC)

static int new_page(struct model *m)
{
	unsigned int i;

	for (i = 1; i < m->npages && m->pages[i].live; i++)
		;
	if (i == m->npages) {
		m->pages = realloc(m->pages, ++m->npages * sizeof(*m->pages));
		if (!m->pages)
			abort();
		m->pages[i].words = calloc(512, 8);
		if (!m->pages[i].words)
			abort();
	}
	m->pages[i].live = true;
	m->pages[i].mapcount = 1;
	m->pages[i].exclusive = true;
	m->pages[i].frame = 0;
	memset(m->pages[i].words, 0, 4096);
	return i;
}

static void put_page(struct model *m, int page)
{
	if (--m->pages[page].mapcount == 0)
		m->pages[page].live = false;
}

void model_init(struct model *m, const struct mmachine *hw)
{
	memset(m, 0, sizeof(*m));
	m->hw = *hw;
	m->npages = 1;
	m->pages = calloc(1, sizeof(*m->pages));
	if (!m->pages)
		abort();
	m->pages[ZERO_PAGE].words = calloc(512, 8);
	if (!m->pages[ZERO_PAGE].words)
		abort();
}

static void task_free(struct mtask *t)
{
	free(t->ptes);
	for (int l = 0; l < M_TABLE_LEVELS; l++)
		tset_free(&t->tables[l]);
	memset(t, 0, sizeof(*t));
}

void model_reset_user(struct model *m)
{
	for (unsigned int i = 0; i < M_LABELS; i++)
		task_free(&m->tasks[i]);
	for (unsigned int i = 1; i < m->npages; i++)
		m->pages[i].live = false;
	memset(m->areas, 0, sizeof(m->areas));
}

void model_free(struct model *m)
{
	model_reset_user(m);
	for (unsigned int i = 0; i < m->npages; i++)
		free(m->pages[i].words);
	free(m->pages);
	for (int l = 0; l < M_TABLE_LEVELS; l++)
		tset_free(&m->kernel_tables[l]);
}

const struct mvma *model_find_vma(const struct mtask *t, uint64_t addr)
{
	for (unsigned int i = 0; i < t->nvmas; i++)
		if (t->vmas[i].start <= addr && addr < t->vmas[i].end)
			return &t->vmas[i];
	return NULL;
}

static struct mpte *find_pte(const struct mtask *t, uint64_t va)
{
	va &= ~(M_PAGE - 1);
	for (unsigned int i = 0; i < t->nptes; i++)
		if (t->ptes[i].va == va)
			return &t->ptes[i];
	return NULL;
}

const struct mpte *model_pte(const struct mtask *t, uint64_t va)
{
	return find_pte(t, va);
}

static struct mpte *set_pte(struct mtask *t, uint64_t va, enum mpte_kind kind, int page, bool writable)
{
	struct mpte *p = find_pte(t, va);

	if (!p) {
		if (t->nptes == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 32;
			t->ptes = realloc(t->ptes, t->cap * sizeof(*t->ptes));
			if (!t->ptes)
				abort();
		}
		p = &t->ptes[t->nptes++];
	}
	*p = (struct mpte){ va & ~(M_PAGE - 1), kind, page, writable };
	return p;
}

static void zap_pte(struct model *m, struct mtask *t, struct mpte *p)
{
	if (p->kind == MPTE_ANON)
		put_page(m, p->page);
	*p = t->ptes[--t->nptes];
}

/* zap_pte_range() over [start, end). */
static void zap_range(struct model *m, struct mtask *t, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < t->nptes;) {
		if (t->ptes[i].va >= start && t->ptes[i].va < end)
			zap_pte(m, t, &t->ptes[i]);
		else
			i++;
	}
}

unsigned int model_anon_pages(const struct model *m)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i < m->npages; i++)
		n += m->pages[i].live;
	return n;
}

unsigned int model_mm_anon(const struct mtask *t)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < t->nptes; i++)
		n += t->ptes[i].kind == MPTE_ANON;
	return n;
}

static void insert_vma(struct mtask *t, struct mvma v)
{
	unsigned int i;

	if (t->nvmas == M_VMAS)
		abort();	/* the generator stays far below */
	for (i = t->nvmas; i > 0 && t->vmas[i - 1].start > v.start; i--)
		t->vmas[i] = t->vmas[i - 1];
	t->vmas[i] = v;
	t->nvmas++;
}

static void remove_vma(struct mtask *t, unsigned int i)
{
	memmove(&t->vmas[i], &t->vmas[i + 1], (t->nvmas - i - 1) * sizeof(*t->vmas));
	t->nvmas--;
}

/*
 * split_vma(): both parts keep everything the VMA had, its anon_vma
 * included (vm_area_dup() copies the pointer, anon_vma_clone() links the
 * new VMA to it).  Returns the index of the part from addr.
 */
static unsigned int split_vma(struct mtask *t, unsigned int i, uint64_t addr)
{
	struct mvma hi = t->vmas[i];

	hi.start = addr;
	t->vmas[i].end = addr;
	insert_vma(t, hi);
	return i + 1;
}

/*
 * do_mmap(MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS): len 0 is
 * -EINVAL, a range that does not fit below TASK_SIZE -ENOMEM
 * (__get_unmapped_area()), then a misaligned address -EINVAL, then any
 * overlap -EEXIST.  Linux would merge the new VMA with a compatible
 * neighbour; the guest does not (README: not modelled), so neither does
 * the model.
 */
static int64_t do_mmap(struct mtask *t, uint64_t addr, uint64_t len, unsigned int prot)
{
	if (!len)
		return -PW_EINVAL;
	len = (len + M_PAGE - 1) & ~(M_PAGE - 1);
	if (!len || len > M_TASK_SIZE || addr > M_TASK_SIZE - len)
		return -PW_ENOMEM;
	if (addr & (M_PAGE - 1))
		return -PW_EINVAL;
	for (unsigned int i = 0; i < t->nvmas; i++)
		if (t->vmas[i].start < addr + len && addr < t->vmas[i].end)
			return -PW_EEXIST;
	insert_vma(t, (struct mvma){ addr, addr + len, prot, false, false });
	return addr;
}

/*
 * do_vmi_munmap(): -EINVAL for a misaligned start, a range past TASK_SIZE
 * or len 0; nothing to do without a VMA in the range; else split at both
 * ends, zap, and free_pgtables() between the neighbours left.
 */
static int64_t do_munmap(struct model *m, struct mtask *t, uint64_t start, uint64_t len)
{
	struct mvma gone[M_VMAS];
	unsigned int n = 0, i;
	uint64_t end, floor, ceiling;

	if ((start & (M_PAGE - 1)) || start > M_TASK_SIZE || len > M_TASK_SIZE - start)
		return -PW_EINVAL;
	len = (len + M_PAGE - 1) & ~(M_PAGE - 1);
	if (!len)
		return -PW_EINVAL;
	end = start + len;
	for (i = 0; i < t->nvmas && t->vmas[i].end <= start; i++)
		;
	if (i == t->nvmas || t->vmas[i].start >= end)
		return 0;
	if (t->vmas[i].start < start)
		i = split_vma(t, i, start);
	floor = i ? t->vmas[i - 1].end : 0;	/* FIRST_USER_ADDRESS */
	while (i < t->nvmas && t->vmas[i].start < end) {
		if (t->vmas[i].end > end)
			split_vma(t, i, end);
		gone[n++] = t->vmas[i];
		remove_vma(t, i);
	}
	ceiling = i < t->nvmas ? t->vmas[i].start : 0;	/* USER_PGTABLES_CEILING */
	zap_range(m, t, start, end);
	free_pgtables(t, gone, n, floor, ceiling);
	return 0;
}

/*
 * change_protection() with MM_CP_TRY_CHANGE_WRITABLE for a writable
 * private VMA: a PTE that loses VM_WRITE loses its write bit; one that
 * gains it is made writable at once only if it maps an exclusive
 * anonymous page (can_change_pte_writable()), else the next write faults.
 */
static void change_protection(struct model *m, struct mtask *t, const struct mvma *v)
{
	for (unsigned int i = 0; i < t->nptes; i++) {
		struct mpte *p = &t->ptes[i];

		if (p->va < v->start || p->va >= v->end)
			continue;
		if (!(v->prot & PW_PROT_WRITE))
			p->writable = false;
		else if (p->kind == MPTE_ANON && m->pages[p->page].exclusive)
			p->writable = true;
	}
}

/*
 * do_mprotect_pkey(): -EINVAL for a misaligned start, 0 for len 0,
 * -ENOMEM if the range wraps or starts in a hole; then VMA by VMA, a hole
 * stopping it with -ENOMEM after the VMAs before it have changed.
 * mprotect_fixup() leaves a VMA whose flags do not change alone.
 */
static int64_t do_mprotect(struct model *m, struct mtask *t, uint64_t start, uint64_t len,
			   unsigned int prot)
{
	uint64_t end, nstart;
	unsigned int i;

	if (start & (M_PAGE - 1))
		return -PW_EINVAL;
	if (!len)
		return 0;
	len = (len + M_PAGE - 1) & ~(M_PAGE - 1);
	end = start + len;
	if (end <= start)
		return -PW_ENOMEM;
	if (prot & ~PROT_RWX)
		return -PW_EINVAL;
	for (i = 0; i < t->nvmas && t->vmas[i].end <= start; i++)
		;
	if (i == t->nvmas || t->vmas[i].start > start)
		return -PW_ENOMEM;
	for (nstart = start; i < t->nvmas && t->vmas[i].start < end; i++) {
		if (t->vmas[i].start != nstart && nstart != start)
			return -PW_ENOMEM;
		if (t->vmas[i].special)
			return -PW_EINVAL;	/* not modelled; the generator keeps away */
		if (t->vmas[i].prot != prot) {
			if (t->vmas[i].start < start)
				i = split_vma(t, i, start);
			if (t->vmas[i].end > end)
				split_vma(t, i, end);
			t->vmas[i].prot = prot;
			change_protection(m, t, &t->vmas[i]);
		}
		nstart = t->vmas[i].end;
	}
	return nstart < end ? -PW_ENOMEM : 0;
}

void model_exit_mmap(struct model *m, struct mtask *t)
{
	struct mvma all[M_VMAS];
	unsigned int n = t->nvmas;

	memcpy(all, t->vmas, n * sizeof(*all));
	zap_range(m, t, 0, ~0ULL);
	free_pgtables(t, all, n, 0, 0);
	t->nvmas = 0;
	t->live = false;
	for (int l = 0; l < M_TABLE_LEVELS; l++)
		if (t->tables[l].n)
			abort();	/* the model's own rules must free everything */
}

static void task_start(struct model *m, struct mtask *t)
{
	task_free(t);
	t->live = true;
	memcpy(t->kernel_pgds, m->swapper_pgds, sizeof(t->kernel_pgds));	/* pgd_ctor() */
	insert_vma(t, (struct mvma){ PW_USER_TRAMPOLINE, PW_USER_TRAMPOLINE + M_PAGE,
				     PW_PROT_READ | PW_PROT_EXEC, false, true });
}

/*
 * dup_mmap(): every VMA is copied, with its anon_vma (anon_vma_fork());
 * copy_page_range() only for those that have one (vma_needs_copy()): each
 * present PTE is copied, a private page write-protected in both and no
 * longer exclusive to either (page_try_dup_anon_rmap()).
 */
static void do_fork(struct model *m, struct mtask *parent, struct mtask *child)
{
	task_start(m, child);
	child->nvmas = 0;
	for (unsigned int i = 0; i < parent->nvmas; i++) {
		const struct mvma *v = &parent->vmas[i];

		insert_vma(child, *v);
		if (!v->anon_vma)
			continue;
		copy_tables(child, parent, v);
		for (unsigned int j = 0; j < parent->nptes; j++) {
			struct mpte *p = &parent->ptes[j];

			if (p->va < v->start || p->va >= v->end)
				continue;
			if (p->kind == MPTE_ANON) {
				p->writable = false;
				m->pages[p->page].mapcount++;
				m->pages[p->page].exclusive = false;
			}
			set_pte(child, p->va, p->kind, p->page, false);
		}
	}
}

static void expect_fault(struct model *m, uint64_t addr, uint32_t error_code, unsigned int outcome,
			 unsigned int tables)
{
	struct mexpect *ex = &m->ex;

	if (ex->nfaults < M_MAX_FAULTS)
		ex->faults[ex->nfaults++] = (typeof(ex->faults[0])){ addr, error_code, outcome, tables };
}

static void expect_map(struct model *m, uint64_t addr, unsigned int kind, int page)
{
	struct mexpect *ex = &m->ex;

	if (ex->nmaps < M_MAX_FAULTS)
		ex->maps[ex->nmaps++] = (typeof(ex->maps[0])){ addr & ~(M_PAGE - 1), kind, page };
}

static uint32_t error_code(const struct model *m, bool present, unsigned int access, bool user)
{
	return (present ? X86_PF_PROT : 0) | (access == PW_ACCESS_WRITE ? X86_PF_WRITE : 0) |
	       (user ? X86_PF_USER : 0) |
	       (access == PW_ACCESS_FETCH && m->hw.fetch_bit ? X86_PF_INSTR : 0);
}

/* access_error() of arch/x86/mm/fault.c, in its order; a fetch counts as a read. */
static bool access_error(uint32_t ec, const struct mvma *v)
{
	if (ec & X86_PF_WRITE)
		return !(v->prot & PW_PROT_WRITE);
	if (ec & X86_PF_PROT)
		return true;
	return !(v->prot & PROT_RWX);	/* !vma_is_accessible() */
}

/* A signal ended the task: exit_mmap() of all it had. */
static void kill_task(struct model *m, unsigned int label, unsigned int signal)
{
	m->ex.exited = label;
	m->ex.exit_signal = signal;
	model_exit_mmap(m, &m->tasks[label]);
}

/*
 * handle_mm_fault() for a fault access_error() allowed: do_anonymous_page()
 * (the zero page for a read, a new exclusive page for a write, after
 * anon_vma_prepare()), do_special_mapping's fault for the trampoline, or
 * do_wp_page(): reuse a page no one else maps (wp_can_reuse_anon_folio()),
 * else copy it.  Returns the tables it installed.
 */
static unsigned int handle_mm_fault(struct model *m, struct mtask *t, struct mvma *v, uint64_t va,
				    bool write)
{
	struct mpte *p = find_pte(t, va);
	unsigned int tables = 0;
	int page;

	if (!p) {
		tables = tables_install(t, va);
		if (v->special) {
			set_pte(t, va, MPTE_SPECIAL, 0, false);
			expect_map(m, va, PW_MAP_SPECIAL, 0);
		} else if (!write) {
			set_pte(t, va, MPTE_ZERO, ZERO_PAGE, false);
			expect_map(m, va, PW_MAP_ZERO, ZERO_PAGE);
		} else {
			v->anon_vma = true;
			page = new_page(m);
			set_pte(t, va, MPTE_ANON, page, true);
			expect_map(m, va, PW_MAP_ANON, page);
		}
		return tables;
	}
	if (p->kind == MPTE_ANON && m->pages[p->page].mapcount == 1) {
		m->pages[p->page].exclusive = true;
		p->writable = true;
		expect_map(m, va, PW_MAP_WP_REUSE, p->page);
		return 0;
	}
	v->anon_vma = true;
	page = new_page(m);
	if (p->kind == MPTE_ANON) {
		memcpy(m->pages[page].words, m->pages[p->page].words, 4096);
		put_page(m, p->page);
	}
	p->kind = MPTE_ANON;
	p->page = page;
	p->writable = true;
	expect_map(m, va, PW_MAP_WP_COPY, page);
	return 0;
}

/*
 * One access to a user address, retried after each handled fault as the
 * CPU retries the instruction.  Returns the touch op's result.
 */
static int64_t user_range_access(struct model *m, unsigned int label, uint64_t va,
				 unsigned int access, bool user, uint64_t value)
{
	struct mtask *t = &m->tasks[label];

	for (int tries = 0; tries < 3; tries++) {
		struct mvma *v = (struct mvma *)model_find_vma(t, va);
		struct mpte *p = find_pte(t, va);
		bool present = p && v && (v->prot & PROT_RWX);
		bool nx = v && !(v->prot & PW_PROT_EXEC) && m->hw.nx;
		uint64_t *word;
		uint32_t ec;

		if (present && (access != PW_ACCESS_WRITE || p->writable || (!user && !m->hw.wp)) &&
		    (access != PW_ACCESS_FETCH || !nx)) {
			word = &m->pages[p->kind == MPTE_ANON ? p->page : ZERO_PAGE].words[(va & 4095) / 8];
			if (access == PW_ACCESS_WRITE) {
				if (p->kind != MPTE_ANON)
					abort();	/* the kernel without CR0.WP: not modelled */
				*word = value;
			} else if (access == PW_ACCESS_READ) {
				m->ex.check_value = p->kind != MPTE_SPECIAL;
				m->ex.value = *word;
			} else if (p->kind == MPTE_SPECIAL || (*word & 0xffff) != JMP_RSI) {
				m->ex.unpredictable = true;
			}
			return 0;
		}
		ec = error_code(m, present, access, user);
		if (!v || access_error(ec, v)) {
			unsigned int outcome = !v ? PW_FAULT_SEGV_MAPERR : PW_FAULT_SEGV_ACCERR;

			if (!user) {
				expect_fault(m, va, ec, PW_FAULT_FIXUP, 0);
				return -PW_EFAULT;
			}
			expect_fault(m, va, ec, outcome, 0);
			kill_task(m, label, 11);
			return -PW_EFAULT;
		}
		expect_fault(m, va, ec, PW_FAULT_MAPPED,
			     handle_mm_fault(m, t, v, va, access == PW_ACCESS_WRITE));
	}
	m->ex.unpredictable = true;	/* the model itself loops */
	return 0;
}

/* A kernel access to a vmalloc area, whose contents are known where the kernel wrote them. */
static int64_t kernel_rw(struct model *m, const struct mop *op, uint64_t va)
{
	struct marea *a = kernel_access(m, op->task, va);
	unsigned int i;

	if (!a) {
		m->ex.unpredictable = true;	/* the generator touches live areas only */
		return 0;
	}
	for (i = 0; i < a->nw && a->wva[i] != va; i++)
		;
	if (op->access == PW_ACCESS_WRITE && i < M_AREA_WRITES) {
		a->wva[i] = va;
		a->wval[i] = op->value;
		a->nw += i == a->nw;
	} else if (op->access == PW_ACCESS_READ && i < a->nw) {
		m->ex.check_value = true;
		m->ex.value = a->wval[i];
	}
	return 0;
}

/* A touch: ring 3 enters through the trampoline, which it may fault in first. */
static int64_t touch(struct model *m, const struct mop *op)
{
	struct mtask *t = &m->tasks[op->task];
	uint64_t va = op->area ? m->areas[op->area].addr + op->addr : op->addr;

	if (op->user && !find_pte(t, PW_USER_TRAMPOLINE) &&
	    user_range_access(m, op->task, PW_USER_TRAMPOLINE, PW_ACCESS_FETCH, true, 0) < 0)
		return -PW_EFAULT;
	m->ex.unpredictable = false;	/* the trampoline's code is known */
	if (!op->user && op->access == PW_ACCESS_FETCH)
		return -PW_EINVAL;	/* the kernel never executes user memory */
	if (va & 7) {
		m->ex.unpredictable = true;	/* the model keeps 8-byte words */
		return 0;
	}
	if (va < M_TASK_SIZE)
		return user_range_access(m, op->task, va, op->access, op->user, op->value);
	if (va < M_VMALLOC_START || va > M_VMALLOC_END) {
		m->ex.unpredictable = true;	/* outside what the model knows */
		return 0;
	}
	if (op->user) {
		/* do_kern_addr_fault(): SIGSEGV; P if this pgd maps it (a supervisor page). */
		bool present = kernel_pgd_has(t->kernel_pgds, va) && kernel_area(m, va);

		expect_fault(m, va, error_code(m, present, op->access, true), PW_FAULT_SEGV_MAPERR, 0);
		kill_task(m, op->task, 11);
		return -PW_EFAULT;
	}
	return kernel_rw(m, op, va);
}

void model_apply(struct model *m, const struct mop *op)
{
	struct mtask *t = &m->tasks[op->task];
	int64_t r = 0;

	memset(&m->ex, 0, sizeof(m->ex));
	for (unsigned int i = 0; i < M_LABELS; i++) {
		memset(m->tasks[i].allocs, 0, sizeof(m->tasks[i].allocs));
		memset(m->tasks[i].frees, 0, sizeof(m->tasks[i].frees));
	}
	switch (op->kind) {
	case MOP_TASK_CREATE:
		task_start(m, &m->tasks[op->label]);
		m->ex.any_result = true;
		break;
	case MOP_FORK:
		do_fork(m, t, &m->tasks[op->label]);
		m->ex.any_result = true;
		break;
	case MOP_TASK_EXIT:
		model_exit_mmap(m, t);
		m->ex.exited = op->task;
		break;
	case MOP_MMAP:
		r = do_mmap(t, op->addr, op->len, op->prot);
		break;
	case MOP_MUNMAP:
		r = do_munmap(m, t, op->addr, op->len);
		break;
	case MOP_MPROTECT:
		r = do_mprotect(m, t, op->addr, op->len, op->prot);
		break;
	case MOP_TOUCH:
		r = touch(m, op);
		break;
	case MOP_VMALLOC:
		m->ex.any_result = true;	/* kernel_vmalloc() once the address is known */
		break;
	case MOP_VFREE:
		kernel_vfree(m, op->area);
		break;
	case MOP_VMALLOC_SYNC:
		kernel_vmalloc_sync(m);
		r = m->ex.syncs;
		break;
	case MOP_KINDS:
		break;
	}
	m->ex.result = r;
}
