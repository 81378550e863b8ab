/* Shrinking a failing sequence to a minimal one that fails the same way (shrink.c). */
#ifndef PAGEWALK_MODEL_SHRINK_H
#define PAGEWALK_MODEL_SHRINK_H

#include "check.h"

/*
 * Whether s fails with `tag` in a fresh VM; with r, the run is left there
 * (runner_destroy() it).
 */
bool fails_fresh(const char *guest, const struct mconfig *c, const struct mseq *s, const char *tag,
		 struct runner *r);

/* Drop ops, then simplify arguments, keeping s failing with `tag`; returns the VMs booted. */
unsigned int shrink(const char *guest, const struct mconfig *c, struct mseq *s, const char *tag);

#endif
