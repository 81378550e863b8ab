/* Cutting a script line into tokens; '#' starts a comment anywhere. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lex.h"

static bool word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

bool lex_line(const char *line, struct cursor *c, char *err, size_t errlen)
{
	static const char *const two[] = { "==", "!=", "<=", ">=" };
	const char *p = line;

	c->n = c->i = 0;
	for (;;) {
		struct token *t = &c->tok[c->n];
		size_t len = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		if (c->n == LEX_MAX_TOKENS) {
			snprintf(err, errlen, "more than %d words on one line", LEX_MAX_TOKENS);
			return false;
		}
		t->col = p - line + 1;
		if (c->n == 1 && !strcmp(c->tok[0].text, "include")) {
			t->kind = TOK_WORD;
			len = strcspn(p, "#");
			while (len && strchr(" \t\r\n", p[len - 1]))
				len--;
			if (len >= LEX_MAX_WORD) {
				snprintf(err, errlen, "a file name of more than %d characters", LEX_MAX_WORD - 1);
				return false;
			}
		} else if (word_char(*p)) {
			t->kind = TOK_WORD;
			while (word_char(p[len]))
				len++;
			if (len >= LEX_MAX_WORD) {
				snprintf(err, errlen, "column %u: a word of more than %d characters",
					 t->col, LEX_MAX_WORD - 1);
				return false;
			}
		} else {
			t->kind = TOK_PUNCT;
			len = 1;
			for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
				if (!strncmp(p, two[i], 2))
					len = 2;
			if (len == 1 && !strchr("=<>().,+-*@&|", *p)) {
				snprintf(err, errlen, "column %u: unexpected '%c'", t->col, *p);
				return false;
			}
		}
		memcpy(t->text, p, len);
		t->text[len] = '\0';
		p += len;
		c->n++;
	}
	c->tok[c->n] = (struct token){ .kind = TOK_END, .col = p - line + 1 };
	return true;
}

const struct token *tok_peek(const struct cursor *c)
{
	return &c->tok[c->i];
}

const struct token *tok_next(struct cursor *c)
{
	return &c->tok[c->i < c->n ? c->i++ : c->i];
}

bool tok_accept(struct cursor *c, const char *s)
{
	if (c->i < c->n && !strcmp(c->tok[c->i].text, s)) {
		c->i++;
		return true;
	}
	return false;
}

bool tok_end(const struct cursor *c)
{
	return c->i >= c->n;
}
