/*
 * Scripts: a file (and the files it includes) or -e's lines, checked whole
 * with no VM, then run line by line.  A line that cannot run stops the
 * script; an expect that does not hold does not (expect.c).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "script.h"
#include "session.h"

#define INCLUDE_DEPTH 8

void session_init(struct session *s, struct vm *vm, const struct vmm_config *cfg, FILE *out, bool tap)
{
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->out = out;
	s->tap = tap;
	s->ncpus = cfg->ncpus;
}

/* The line as messages quote it: without its comment and the blanks around. */
static char *quotable(char *text)
{
	size_t n = strcspn(text, "#");

	while (n && strchr(" \t\r\n", text[n - 1]))
		n--;
	text[n] = '\0';
	return text + strspn(text, " \t");
}

/* One line; a failure named with its file:line. */
static bool line(struct session *s, char *text)
{
	s->text = text = quotable(text);
	if (run_line(s, text))
		return true;
	fflush(s->out);	/* what the lines before showed comes before the error */
	/* An include's failing line was named where it was. */
	if (s->err[0])
		fprintf(stderr, "%s:%u: %s\n  %s\n", s->file, s->line, s->err, text);
	return false;
}

/* Checking goes on past a bad line, to name them all; running stops there. */
static bool run_file(struct session *s, const char *path)
{
	const char *outer = s->file;
	unsigned int outer_line = s->line;
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	bool ok = true;

	if (!f)
		return fail(s, "%s: %s", path, strerror(errno));
	s->file = path;
	s->line = 0;
	while (getline(&buf, &cap, f) > 0 && !s->quit) {
		s->line++;
		if (!line(s, buf)) {
			ok = false;
			if (s->vm)
				break;
		}
	}
	free(buf);
	fclose(f);
	s->file = outer;
	s->line = outer_line;
	s->err[0] = '\0';	/* named already */
	return ok;
}

bool cmd_include(struct session *s, struct cursor *c)
{
	const struct token *t = tok_next(c);
	char path[PATH_MAX], dir[PATH_MAX];
	bool ok;

	if (t->kind != TOK_WORD || !*t->text)
		return fail(s, "include FILE");
	if (s->depth == INCLUDE_DEPTH)
		return fail(s, "include %s: more than %d includes deep (one includes itself?)", t->text,
			    INCLUDE_DEPTH);
	snprintf(dir, sizeof(dir), "%s", s->file);
	if (t->text[0] == '/' || !strcmp(s->file, "-e") || !strcmp(s->file, "shell"))
		snprintf(path, sizeof(path), "%s", t->text);
	else
		snprintf(path, sizeof(path), "%s/%s", dirname(dir), t->text);
	s->depth++;
	ok = run_file(s, path);
	s->depth--;
	return ok;
}

/* -e's lines, each cut at ';', numbered from 1 across them all. */
static bool run_lines(struct session *s, const struct script_src *src)
{
	bool ok = true;

	s->file = "-e";
	s->line = 0;
	for (unsigned int i = 0; i < src->nlines && !s->quit; i++) {
		char *copy = strdup(src->lines[i]), *save = NULL;

		if (!copy)
			return fail(s, "out of memory");
		for (char *l = strtok_r(copy, ";", &save); l && !s->quit; l = strtok_r(NULL, ";", &save)) {
			s->line++;
			if (!line(s, l)) {
				ok = false;
				if (s->vm)
					break;
			}
		}
		free(copy);
		if (!ok && s->vm)
			break;
	}
	return ok;
}

static bool run_src(struct session *s, const struct script_src *src)
{
	bool ok;

	if (!src->file)
		ok = run_lines(s, src);
	else if (!(ok = run_file(s, src->file)) && s->err[0])
		fprintf(stderr, "vmm: --script %s\n", s->err);
	/* The ops started last with '&' finish before the VM is told to exit. */
	return line(s, (char[]){ "wait" }) && ok;
}

bool script_check(const struct script_src *src, struct vmm_config *cfg)
{
	struct session s;

	session_init(&s, NULL, cfg, stdout, src->tap);
	s.settings = cfg;
	return run_src(&s, src);
}

int script_run(struct vm *vm, const struct script_src *src, const struct vmm_config *cfg, FILE *out)
{
	struct session s;
	bool ok;

	session_init(&s, vm, cfg, out, src->tap);
	ok = session_boot(&s);
	if (!ok)
		fprintf(stderr, "vmm: %s\n", s.err);
	else
		ok = run_src(&s, src);
	if (src->tap)
		printf("1..%u\n", s.expects);
	if (s.failed)
		fprintf(stderr, "vmm: %u of %u expects failed\n", s.failed, s.expects);
	return ok && !s.failed ? 0 : 1;
}
