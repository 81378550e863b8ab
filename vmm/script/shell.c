/*
 * vmm --shell: the script language at a prompt, with libedit's line
 * editing, history (kept in ~/.vmm_history) and completion of ops,
 * commands, event types and the names bound so far.  Each line is checked
 * on a copy of the session before it runs, so a bad line changes nothing.
 */
#include <editline/readline.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang.h"
#include "script.h"
#include "session.h"

#define HISTORY_LINES 1000

static struct session *completing;	/* readline's callbacks take no context */

/* The i-th word that may complete: ops, commands, functions, event types, bound names. */
static const char *candidate(unsigned int i)
{
	for (unsigned int op = 1; op < PW_OP_MAX; op++)
		if (vmm_op_desc(op) && !i--)
			return vmm_op_desc(op)->name;
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (!i--)
			return cmd->name;
	for (const char *const *f = expr_functions; *f; f++)
		if (!i--)
			return *f;
	/* An event type that is also an op (fork, vmalloc...) is offered once. */
	for (unsigned int t = 1; t < PW_EV_MAX; t++)
		if (vmm_event_desc(t) && !op_by_name(vmm_event_desc(t)->name) && !i--)
			return vmm_event_desc(t)->name;
	return i < completing->nnames ? completing->names[i].name : NULL;
}

static char *generator(const char *text, int state)
{
	static unsigned int i;
	const char *word;

	if (!state)
		i = 0;
	while ((word = candidate(i++)))
		if (!strncmp(word, text, strlen(text)))
			return strdup(word);
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)start, (void)end;
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, generator);
}

static void shell_line(struct session *s, char *text)
{
	struct session check = *s;

	check.vm = NULL;
	s->text = text;
	s->line++;
	if (!run_line(&check, text)) {
		fprintf(stderr, "error: %s\n", check.err);
		return;
	}
	if (!run_line(s, text))
		fprintf(stderr, "error: %s\n", s->err);
}

int script_shell(struct vm *vm, const struct vmm_config *cfg, FILE *out)
{
	struct session *s = malloc(sizeof(*s));
	const char *home = getenv("HOME");
	char history[4096] = "";
	char *text;
	int status;

	if (!s)
		return 1;
	session_init(s, vm, cfg, out, false);
	s->shell = true;
	s->file = "shell";
	completing = s;
	rl_readline_name = "vmm";
	rl_basic_word_break_characters = " \t\n=(),.<>@&|+-*";
	rl_attempted_completion_function = complete;
	if (home && *home) {
		snprintf(history, sizeof(history), "%s/.vmm_history", home);
		read_history(history);
	}
	stifle_history(HISTORY_LINES);
	if (!session_boot(s)) {
		fprintf(stderr, "vmm: %s\n", s->err);
		free(s);
		return 1;
	}
	if (isatty(STDIN_FILENO))
		fprintf(out, "pagewalk shell, %u vCPU%s: 'help' lists ops and commands, Tab completes, "
			"Ctrl-D ends\n", s->ncpus, s->ncpus == 1 ? "" : "s");
	while (!s->quit && !s->stopped && (text = readline("vmm> "))) {
		if (*text)
			add_history(text);
		shell_line(s, text);
		free(text);
		fflush(out);
	}
	if (!s->quit && !s->stopped)
		fputc('\n', out);
	if (!run_line(s, "wait"))
		fprintf(stderr, "error: %s\n", s->err);
	if (*history)
		write_history(history);
	status = s->failed ? 1 : 0;
	free(s);
	return status;
}
