/*
 * Checks: `expect`, `invariants` (host.c) and what becomes of them.  A
 * check that does not hold fails the run (exit status 1) but not the
 * line: the script goes on, so one run shows every failure.  Under --tap
 * each check is a TAP test point on stdout, the plan at the end.
 */
#include <string.h>

#include "lang.h"
#include "session.h"

void report_check(struct session *s, bool holds, const char *what, const char *detail)
{
	s->expects++;
	s->failed += !holds;
	if (s->tap) {
		printf("%s %u - %s:%u: %s\n", holds ? "ok" : "not ok", s->expects, s->file, s->line, what);
		for (const char *p = detail; !holds && *p;) {
			size_t n = strcspn(p, "\n");

			printf("# %.*s\n", (int)n, p);
			p += n + !!p[n];
		}
		fflush(stdout);
	} else if (!holds) {
		fflush(s->out);
		fprintf(stderr, "%s:%u: %s: %s\n", s->file, s->line, what, detail);
	} else if (s->shell) {
		fprintf(s->out, "ok\n");
	}
}

bool cmd_expect(struct session *s, struct cursor *c)
{
	char detail[256];
	bool holds;

	if (tok_end(c))
		return fail(s, "expect EXPR [== != < <= > >= EXPR]");
	if (!parse_cmp(s, c, &holds, detail, sizeof(detail)))
		return false;
	if (!tok_end(c))
		return fail(s, "column %u: '%s' after the expectation", tok_peek(c)->col, tok_peek(c)->text);
	if (s->vm)
		report_check(s, holds, s->text, detail);
	return true;
}

bool cmd_print(struct session *s, struct cursor *c)
{
	char buf[64];

	if (tok_end(c))
		return fail(s, "print EXPR...");
	while (!tok_end(c)) {
		struct val v;

		if (!parse_expr(s, c, PW_FIELD_D, &v))
			return false;
		tok_accept(c, ",");
		value_format(v, buf, sizeof(buf));
		if (s->vm)
			fprintf(s->out, "%s%s", buf, tok_end(c) ? "\n" : " ");
	}
	return true;
}
