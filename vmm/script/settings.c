/*
 * Settings lines: the VM a script needs, at its top, so that it runs as
 * `vmm --script FILE guest.elf` with no option to remember (and as the
 * reference model's replay files begin).  They are read while the script
 * is checked, before the VM exists, and override the command line; once
 * it runs they only have to agree with it.  The shell's VM runs already:
 * there, the command line's options.
 */
#include <string.h>

#include "lang.h"
#include "session.h"

static bool settable(struct session *s, const char *what)
{
	if (s->shell)
		return fail(s, "the VM runs already: give --%s on the command line", what);
	if (s->ops_seen)
		return fail(s, "%s: settings come before the first op", what);
	return true;
}

static bool setting(struct session *s, struct cursor *c, const char *what, enum pw_field_kind kind,
		    uint64_t max, struct val *v)
{
	if (!settable(s, what) || !parse_expr(s, c, kind, v))
		return false;
	if (!tok_end(c))
		return fail(s, "column %u: %s takes one value", tok_peek(c)->col, what);
	if (v->v < 1 || v->v > max)
		return fail(s, "%s %lu: from 1 to %lu", what, (unsigned long)v->v, (unsigned long)max);
	return true;
}

bool cmd_cpus(struct session *s, struct cursor *c)
{
	struct val v;

	if (!setting(s, c, "cpus", PW_FIELD_U, PW_MAX_CPUS, &v))
		return false;
	s->ncpus = v.v;
	if (s->settings)
		s->settings->ncpus = v.v;
	return true;
}

bool cmd_kernel_sync(struct session *s, struct cursor *c)
{
	const struct token *t = tok_peek(c);
	struct val v;

	if (!setting(s, c, "kernel-sync", PW_FIELD_SYNC, UINT32_MAX, &v))
		return false;
	if (!vmm_value_name(PW_FIELD_SYNC, v.v))
		return fail(s, "column %u: kernel_sync prealloc, fault or eager", t->col);
	if (s->settings)
		s->settings->kernel_sync = vmm_value_name(PW_FIELD_SYNC, v.v);
	return true;
}

bool cmd_split_ptlock_cpus(struct session *s, struct cursor *c)
{
	struct val v;

	if (!setting(s, c, "split-ptlock-cpus", PW_FIELD_U, 999999, &v))
		return false;
	if (s->settings)
		s->settings->split_ptlock_cpus = v.v;
	return true;
}

bool cmd_paging(struct session *s, struct cursor *c)
{
	struct val v = { 0, PW_FIELD_U };	/* auto */

	if (!settable(s, "paging"))
		return false;
	if (!tok_accept(c, "auto") && !parse_expr(s, c, PW_FIELD_U, &v))
		return false;
	if (!tok_end(c))
		return fail(s, "column %u: paging takes one value", tok_peek(c)->col);
	if (v.v && v.v != 4 && v.v != 5)
		return fail(s, "paging %lu: 4, 5 or auto", (unsigned long)v.v);
	if (s->settings)
		s->settings->paging = v.v;
	return true;
}
