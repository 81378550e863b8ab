/*
 * Delta debugging over a failing sequence, every try in a fresh VM: drop
 * chunks of ops, halving the chunk when none can go, then simplify each
 * remaining op's arguments.  A try counts only if it fails the same way
 * (the same kind of mismatch).
 */
#include <stdlib.h>
#include <string.h>

#include "shrink.h"

#define MAX_TRIES	400

bool fails_fresh(const char *guest, const struct mconfig *c, const struct mseq *s, const char *tag,
		 struct runner *r)
{
	struct runner local, *p = r ? r : &local;
	bool same = runner_boot(p, guest, c) && !runner_sequence(p, s) && !strcmp(p->tag, tag);

	if (!r)
		runner_destroy(p);
	return same;
}

static void copy_seq(struct mseq *to, const struct mseq *from)
{
	to->n = 0;
	for (unsigned int i = 0; i < from->n; i++)
		mseq_push(to, &from->ops[i]);
}

/* The i-th simpler version of op in *out: 1 if it differs, 0 if not, -1 past the last. */
static int simpler(const struct mop *op, unsigned int i, struct mop *out)
{
	bool range = op->kind == MOP_MMAP || op->kind == MOP_MUNMAP || op->kind == MOP_MPROTECT ||
		     op->kind == MOP_VMALLOC;

	*out = *op;
	switch (i) {
	case 0:
		out->cpu = 0;
		return op->cpu != 0;
	case 1:
		out->len = M_PAGE;
		return range && op->len != M_PAGE;
	case 2:
		out->prot = PW_PROT_READ | PW_PROT_WRITE;
		return (op->kind == MOP_MMAP || op->kind == MOP_MPROTECT) && op->prot != out->prot;
	case 3:
		out->value = 0x55;
		return op->kind == MOP_TOUCH && op->access == PW_ACCESS_WRITE && op->value != 0x55;
	case 4:
		out->addr &= ~(M_PAGE - 1);
		return op->kind == MOP_TOUCH && op->addr != out->addr;
	default:
		return -1;
	}
}

/* Labels in the order the ops define them, from 1: t1, t2... and v1, v2... */
static void renumber(struct mseq *s)
{
	unsigned int task[M_LABELS] = { 0 }, area[M_LABELS] = { 0 }, nt = 0, na = 0;

	for (unsigned int i = 0; i < s->n; i++) {
		struct mop *op = &s->ops[i];

		if (op->kind == MOP_TASK_CREATE || op->kind == MOP_FORK) {
			task[op->label] = ++nt;
			op->label = nt;
		} else if (op->kind == MOP_VMALLOC) {
			area[op->label] = ++na;
			op->label = na;
		}
		op->task = task[op->task];
		op->area = area[op->area];
	}
}

unsigned int shrink(const char *guest, const struct mconfig *c, struct mseq *s, const char *tag)
{
	struct mseq cand = { 0 };
	unsigned int tries = 0, chunk = s->n / 2 ? s->n / 2 : 1;

	for (;;) {
		bool progress = false;

		for (unsigned int i = 0; i < s->n && tries < MAX_TRIES;) {
			cand.n = 0;
			for (unsigned int j = 0; j < s->n; j++)
				if (j < i || j >= i + chunk)
					mseq_push(&cand, &s->ops[j]);
			tries++;
			if (fails_fresh(guest, c, &cand, tag, NULL)) {
				copy_seq(s, &cand);
				progress = true;
			} else {
				i += chunk;
			}
		}
		if (tries >= MAX_TRIES || (!progress && chunk == 1))
			break;
		if (!progress)
			chunk /= 2;
	}
	for (unsigned int i = 0; i < s->n; i++) {
		struct mop op;

		int d;

		for (unsigned int k = 0; (d = simpler(&s->ops[i], k, &op)) >= 0 && tries < MAX_TRIES; k++) {
			if (!d)
				continue;
			copy_seq(&cand, s);
			cand.ops[i] = op;
			tries++;
			if (fails_fresh(guest, c, &cand, tag, NULL))
				s->ops[i] = op;
		}
	}
	free(cand.ops);
	renumber(s);
	return tries;
}
