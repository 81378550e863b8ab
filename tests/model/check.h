/* Running sequences on a VM and holding every step against the model (check.c). */
#ifndef PAGEWALK_MODEL_CHECK_H
#define PAGEWALK_MODEL_CHECK_H

#include "ops.h"
#include "script.h"

struct runner {
	struct vm *vm;
	struct mconfig cfg;
	struct model m;
	struct vm_paging pg;		/* cpu 0's; cr3 set to each pgd walked */
	uint64_t ids[M_LABELS];		/* the guest's task id of each label */
	struct gop_mem mem0;		/* at boot */
	struct gop_kinfo k0;
	uint64_t zero_frame, tramp_frame;
	struct tset universe;		/* user pages the sequence named */
	const char *tag;		/* the first mismatch: its kind, NULL if none */
	char why[4096];			/* and what it was */
	unsigned int at;		/* the op it was at; the sequence's length: at its end */
	unsigned long ops;		/* ops run since boot */
};

/* Boot a VM for cfg: false with r->why if it cannot. */
bool runner_boot(struct runner *r, const char *guest, const struct mconfig *cfg);
void runner_destroy(struct runner *r);

/*
 * Run a sequence, checking after every op, then end it: every vmalloc area
 * freed, every task exited, every page back.  False at the first mismatch
 * (r->tag, r->why); the VM is then no longer in a state to continue.
 */
bool runner_sequence(struct runner *r, const struct mseq *s);

#endif
