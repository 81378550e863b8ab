/*
 * Random sequences over several tasks, their addresses drawn toward what
 * page-table code gets wrong: table boundaries (2 MiB, 1 GiB, 512 GiB), the
 * trampoline's own tables, and the edges of the VMAs already there.  A
 * scratch model follows along so that each op is drawn from the state the
 * sequence has reached (live tasks, their VMAs, which pages hold code).
 */
#include <string.h>

#include "gen.h"

#define MAX_LIVE	4	/* tasks alive at once */
#define MAX_AREAS	4
#define JMP_RSI		0xe6ffu

struct gen {
	uint64_t s;
	struct model m;
	const struct mconfig *cfg;
	unsigned int next_task, next_area;
	struct mseq *out;
};

static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int below(struct gen *g, unsigned int n)
{
	return rnd(g) % n;
}

static bool chance(struct gen *g, unsigned int percent)
{
	return below(g, 100) < percent;
}

static unsigned int live_task(struct gen *g)
{
	unsigned int live[M_LABELS], n = 0;

	for (unsigned int i = 1; i < M_LABELS; i++)
		if (g->m.tasks[i].live)
			live[n++] = i;
	return n ? live[below(g, n)] : 0;
}

static unsigned int count_live(struct gen *g)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i < M_LABELS; i++)
		n += g->m.tasks[i].live;
	return n;
}

static unsigned int live_area(struct gen *g)
{
	unsigned int live[M_LABELS], n = 0;

	for (unsigned int i = 1; i < M_LABELS; i++)
		if (g->m.areas[i].live)
			live[n++] = i;
	return n ? live[below(g, n)] : 0;
}

/* A VMA of the task other than the trampoline, or NULL. */
static const struct mvma *pick_vma(struct gen *g, const struct mtask *t)
{
	unsigned int n = t->nvmas - 1;	/* the trampoline is the last */

	return n ? &t->vmas[below(g, n)] : NULL;
}

static void emit_op(struct gen *g, struct mop *op)
{
	op->cpu = below(g, g->cfg->cpus);
	mseq_push(g->out, op);
	model_apply(&g->m, op);
}

/* A range near a table boundary, below the trampoline. */
static void pick_range(struct gen *g, uint64_t *addr, uint64_t *len)
{
	static const uint64_t anchors[] = {
		0x400000, 5 * M_PMD_SIZE, M_PUD_SIZE, 3 * M_PUD_SIZE - M_PMD_SIZE, M_PGDIR_SIZE,
		2 * M_PGDIR_SIZE + M_PUD_SIZE,
		PW_USER_TRAMPOLINE & ~(M_PMD_SIZE - 1),		/* the trampoline's PTE table */
		PW_USER_TRAMPOLINE & ~(M_PUD_SIZE - 1),		/* its PMD table */
		PW_USER_TRAMPOLINE & ~(M_PGDIR_SIZE - 1),	/* its PUD table */
	};
	uint64_t a = anchors[below(g, sizeof(anchors) / sizeof(anchors[0]))];
	unsigned int k = below(g, 100);

	*addr = a + ((int64_t)below(g, 17) - 8) * (int64_t)M_PAGE;
	*len = (1 + below(g, 4)) * M_PAGE;
	if (k < 10)
		*len += M_PMD_SIZE;
	else if (k < 12)
		*len += M_PUD_SIZE;
	if (*addr + *len > PW_USER_TRAMPOLINE)
		*addr = PW_USER_TRAMPOLINE - *len - below(g, 4) * M_PAGE;
}

static unsigned int pick_prot(struct gen *g)
{
	static const unsigned int prots[] = {
		PW_PROT_READ | PW_PROT_WRITE, PW_PROT_READ | PW_PROT_WRITE, PW_PROT_READ | PW_PROT_WRITE,
		PW_PROT_READ | PW_PROT_WRITE, PW_PROT_READ, PW_PROT_READ | PW_PROT_EXEC,
		PW_PROT_READ | PW_PROT_WRITE | PW_PROT_EXEC, 0, PW_PROT_WRITE, PW_PROT_EXEC,
	};

	return prots[below(g, sizeof(prots) / sizeof(prots[0]))];
}

static bool overlaps(const struct mtask *t, uint64_t addr, uint64_t len)
{
	for (unsigned int i = 0; i < t->nvmas; i++)
		if (t->vmas[i].start < addr + len && addr < t->vmas[i].end)
			return true;
	return false;
}

static void gen_mmap(struct gen *g, unsigned int task)
{
	struct mop op = { .kind = MOP_MMAP, .task = task, .prot = pick_prot(g) };

	for (int tries = 0; tries < 6; tries++) {
		pick_range(g, &op.addr, &op.len);
		if (!overlaps(&g->m.tasks[task], op.addr, op.len) || chance(g, 5))
			break;
	}
	emit_op(g, &op);
}

/* Arguments Linux refuses, each for its own reason. */
static void odd_range(struct gen *g, struct mop *op)
{
	switch (below(g, 4)) {
	case 0:
		op->len = 0;
		break;
	case 1:
		op->addr += 0x10;
		break;
	case 2:
		op->addr = M_TASK_SIZE - M_PAGE;
		op->len = 4 * M_PAGE;
		break;
	default:
		op->len = -M_PAGE;
		break;
	}
}

/* Part of a VMA: whole, head, tail, middle, into the next one, or over it with the holes around. */
static void vma_range(struct gen *g, const struct mtask *t, const struct mvma *v, struct mop *op)
{
	uint64_t pages = (v->end - v->start) / M_PAGE, k = 1 + below(g, pages > 8 ? 8 : pages);
	uint64_t boundary = (v->start + M_PMD_SIZE) & ~(M_PMD_SIZE - 1);
	const struct mvma *next = v + 1 < &t->vmas[t->nvmas - 1] ? v + 1 : NULL;

	op->addr = v->start;
	op->len = v->end - v->start;
	switch (below(g, 7)) {
	case 0:
		break;
	case 1:
		if (k < pages)
			op->len = k * M_PAGE;
		break;
	case 2:
		if (k < pages) {
			op->addr = v->end - k * M_PAGE;
			op->len = k * M_PAGE;
		}
		break;
	case 3:
		if (pages > 2) {
			op->addr = v->start + M_PAGE * (1 + below(g, pages - 2));
			op->len = M_PAGE * (1 + below(g, (v->end - op->addr) / M_PAGE - 1));
		}
		break;
	case 4:
		if (boundary < v->end) {
			op->addr = boundary;
			op->len = v->end - boundary;
		}
		break;
	case 5:
		if (next) {
			op->addr = v->end - k * M_PAGE < v->start ? v->start : v->end - k * M_PAGE;
			op->len = next->start + M_PAGE - op->addr;
		}
		break;
	default:
		if (v->start >= M_PMD_SIZE + 0x100000 && v->end + M_PMD_SIZE <= t->vmas[t->nvmas - 1].start) {
			op->addr = v->start - M_PMD_SIZE;
			op->len = v->end - v->start + 2 * M_PMD_SIZE;
		}
		break;
	}
}

static void gen_range_op(struct gen *g, unsigned int task, enum mop_kind kind)
{
	const struct mtask *t = &g->m.tasks[task];
	const struct mvma *v = pick_vma(g, t);
	struct mop op = { .kind = kind, .task = task, .prot = pick_prot(g) };

	if (v && !chance(g, 10))
		vma_range(g, t, v, &op);
	else
		pick_range(g, &op.addr, &op.len);
	if (chance(g, 3))
		odd_range(g, &op);
	emit_op(g, &op);
}

/* Whether a fetch at va has an outcome the model knows: a fault, or code that returns. */
static bool fetch_known(struct gen *g, const struct mtask *t, uint64_t va)
{
	const struct mvma *v = model_find_vma(t, va);
	const struct mpte *p = model_pte(t, va);

	if (!v)
		return true;
	if (!(v->prot & PW_PROT_EXEC))
		return g->m.hw.nx || !(v->prot & (PW_PROT_READ | PW_PROT_WRITE));
	return p && p->kind == MPTE_ANON &&
	       (g->m.pages[p->page].words[(va & 4095) / 8] & 0xffff) == JMP_RSI;
}

static void gen_touch(struct gen *g, unsigned int task)
{
	static const uint64_t offsets[] = { 0, 8, 0x800, 0xff8 };
	const struct mtask *t = &g->m.tasks[task];
	const struct mvma *v = pick_vma(g, t);
	struct mop op = { .kind = MOP_TOUCH, .task = task, .user = !chance(g, 25) };
	unsigned int k = below(g, 100);

	/*
	 * Outside every VMA a user access ends the task, and a new one costs
	 * the guest more than the rest of a sequence: mostly the kernel there.
	 */
	if (k < 10 && live_area(g)) {
		op.area = live_area(g);
		op.addr = below(g, g->m.areas[op.area].size / 8) * 8;
		op.user = chance(g, 10);
	} else if (k < 18 || !v) {
		pick_range(g, &op.addr, &op.len);
		op.user = chance(g, 25);
	} else {
		uint64_t pages = (v->end - v->start) / M_PAGE;

		if (k < 26) {
			op.addr = chance(g, 50) ? v->start - M_PAGE : v->end;
			op.user = chance(g, 25);
		} else if (chance(g, 50))
			op.addr = chance(g, 50) ? v->start : v->end - M_PAGE;
		else
			op.addr = v->start + below(g, pages) * M_PAGE;
		op.addr += offsets[below(g, 4)];
	}
	op.access = below(g, 2) ? PW_ACCESS_READ : PW_ACCESS_WRITE;
	if (op.user && chance(g, 6) && (op.area || fetch_known(g, t, op.addr)))
		op.access = PW_ACCESS_FETCH;
	if (op.access == PW_ACCESS_WRITE)
		op.value = chance(g, 25) ? (rnd(g) << 16) | JMP_RSI : rnd(g) | 1;
	emit_op(g, &op);
}

static void gen_vmalloc(struct gen *g)
{
	static const uint64_t hints[] = {
		0, M_PUD_SIZE - M_PAGE, M_PMD_SIZE - 2 * M_PAGE, M_PGDIR_SIZE, 2 * M_PGDIR_SIZE,
		3 * M_PGDIR_SIZE - M_PAGE,
	};
	struct mop op = { .kind = MOP_VMALLOC, .label = g->next_area++ };
	uint64_t guess;

	op.len = (1 + below(g, 4)) * M_PAGE;
	op.addr = M_VMALLOC_START + hints[below(g, sizeof(hints) / sizeof(hints[0]))];
	emit_op(g, &op);
	/* The scratch model needs an address: any the allocator could give. */
	for (guess = op.addr; kernel_vmalloc(&g->m, op.label, op.addr, op.len, guess); guess += M_PUD_SIZE)
		;
}

/* One op drawn from the state reached; false when no task is left to act and no label to make one. */
static bool gen_op(struct gen *g)
{
	unsigned int task = live_task(g), live = count_live(g), k = below(g, 100);
	struct mop op = { 0 };

	if (!live || (k < 2 && live < MAX_LIVE && g->next_task < M_LABELS)) {
		if (g->next_task == M_LABELS)
			return false;
		op = (struct mop){ .kind = MOP_TASK_CREATE, .label = g->next_task++ };
		emit_op(g, &op);
	} else if (k < 8 && live < MAX_LIVE && g->next_task < M_LABELS) {
		op = (struct mop){ .kind = MOP_FORK, .task = task, .label = g->next_task++ };
		emit_op(g, &op);
	} else if (k < 13) {
		op = (struct mop){ .kind = MOP_TASK_EXIT, .task = task };
		emit_op(g, &op);
	} else if (k < 31) {
		gen_mmap(g, task);
	} else if (k < 41) {
		gen_range_op(g, task, MOP_MUNMAP);
	} else if (k < 53) {
		gen_range_op(g, task, MOP_MPROTECT);
	} else if (k < 56 && g->next_area < M_LABELS) {
		unsigned int a = live_area(g);
		unsigned int n = 0;

		for (unsigned int i = 1; i < M_LABELS; i++)
			n += g->m.areas[i].live;
		if (a && (n == MAX_AREAS || chance(g, 40))) {
			op = (struct mop){ .kind = MOP_VFREE, .area = a };
			emit_op(g, &op);
		} else {
			gen_vmalloc(g);
		}
	} else if (k < 57) {
		op = (struct mop){ .kind = MOP_VMALLOC_SYNC };
		emit_op(g, &op);
	} else {
		gen_touch(g, task);
	}
	return true;
}

void gen_sequence(uint64_t seed, unsigned int nops, const struct mconfig *cfg,
		  const struct mmachine *hw, struct mseq *out)
{
	struct gen g = { .s = seed, .cfg = cfg, .next_task = 1, .next_area = 1, .out = out };

	model_init(&g.m, hw);
	out->n = 0;
	while (out->n < nops && gen_op(&g))
		;
	model_free(&g.m);
}
