/* Sequences as replayable text (script.c) and the VM they run in. */
#ifndef PAGEWALK_MODEL_SCRIPT_H
#define PAGEWALK_MODEL_SCRIPT_H

#include "model.h"

struct mconfig {
	enum pw_kernel_sync sync;
	unsigned int cpus;
};

const char *sync_name(enum pw_kernel_sync s);
bool sync_parse(const char *s, enum pw_kernel_sync *out);
void mseq_push(struct mseq *s, const struct mop *op);
void mop_print(FILE *f, const struct mop *op);
void mseq_print(FILE *f, const struct mseq *s, const struct mconfig *c);
/* Appends to s; c gets the file's kernel_sync and cpus lines.  -1 with err on a bad line. */
int mseq_read(FILE *f, struct mseq *s, struct mconfig *c, char *err, size_t len);

#endif
