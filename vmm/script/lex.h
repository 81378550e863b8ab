/* The script language's tokens: a line cut into words and punctuation. */
#ifndef VMM_SCRIPT_LEX_H
#define VMM_SCRIPT_LEX_H

#include <stdbool.h>
#include <stddef.h>

#define LEX_MAX_TOKENS	64
#define LEX_MAX_WORD	256	/* a word, or the file name `include` takes */

enum tok_kind {
	TOK_END,
	TOK_WORD,	/* a name or a number: letters, digits, '_' */
	TOK_PUNCT,	/* == != <= >= = < > ( ) . , + - * @ & | */
};

struct token {
	enum tok_kind kind;
	char text[LEX_MAX_WORD];
	unsigned int col;	/* 1-based, for messages */
};

/* A line's tokens and the reader's place in them; tok[n] is TOK_END. */
struct cursor {
	struct token tok[LEX_MAX_TOKENS + 1];
	unsigned int n, i;
};

/*
 * Cut `line` up to a '#' comment; false with the reason in err.  After a
 * first word `include` the rest of the line is one word, the file's name.
 */
bool lex_line(const char *line, struct cursor *c, char *err, size_t errlen);

const struct token *tok_peek(const struct cursor *c);
const struct token *tok_next(struct cursor *c);
/* Consume the punctuation or word `s` if it comes next. */
bool tok_accept(struct cursor *c, const char *s);
bool tok_end(const struct cursor *c);

#endif
