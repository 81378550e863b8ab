/* Random op sequences (gen.c). */
#ifndef PAGEWALK_MODEL_GEN_H
#define PAGEWALK_MODEL_GEN_H

#include "script.h"

/* nops ops drawn from seed for a VM of cfg on a machine like hw (NX, CR0.WP). */
void gen_sequence(uint64_t seed, unsigned int nops, const struct mconfig *cfg,
		  const struct mmachine *hw, struct mseq *out);

#endif
