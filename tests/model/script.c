/*
 * Sequences as text, one op a line, the op's name from PW_OPS then its
 * arguments, as `vmm --script` reads them:
 *
 *	paging 4			(the model's geometry)
 *	kernel_sync fault		(the VM: prealloc, fault or eager)
 *	cpus 2
 *	t1 = task_create
 *	t2 = fork t1
 *	mmap t1 0x400000 0x2000 rw	(prot: none or any of r, w, x)
 *	munmap t1 0x400000 0x1000
 *	mprotect t1 0x400000 0x1000 none
 *	touch t1 0x401000 w user 0x55	(r, w or x; user or kernel; a write's value)
 *	v1 = vmalloc 0x2000 0xffffc90000000000	(size, lowest address wanted)
 *	touch t1 v1+0x8 r kernel
 *	vfree v1
 *	vmalloc_sync
 *	task_exit t2
 *
 * An op runs on vCPU 0 unless it ends with cpu=N.  '#' starts a comment.
 */
#include <stdlib.h>
#include <string.h>

#include "script.h"

static const char *const names[MOP_KINDS] = {
	[MOP_TASK_CREATE] = "task_create", [MOP_FORK] = "fork", [MOP_TASK_EXIT] = "task_exit",
	[MOP_MMAP] = "mmap", [MOP_MUNMAP] = "munmap", [MOP_MPROTECT] = "mprotect",
	[MOP_TOUCH] = "touch", [MOP_VMALLOC] = "vmalloc", [MOP_VFREE] = "vfree",
	[MOP_VMALLOC_SYNC] = "vmalloc_sync",
};

static const char *const sync_names[] = {
	[PW_SYNC_PREALLOC] = "prealloc", [PW_SYNC_FAULT] = "fault", [PW_SYNC_EAGER] = "eager",
};

const char *sync_name(enum pw_kernel_sync s)
{
	return sync_names[s];
}

bool sync_parse(const char *s, enum pw_kernel_sync *out)
{
	for (unsigned int i = PW_SYNC_PREALLOC; i <= PW_SYNC_EAGER; i++) {
		if (!strcmp(s, sync_names[i])) {
			*out = i;
			return true;
		}
	}
	return false;
}

void mseq_push(struct mseq *s, const struct mop *op)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->ops = realloc(s->ops, s->cap * sizeof(*s->ops));
		if (!s->ops)
			abort();
	}
	s->ops[s->n++] = *op;
}

static void print_prot(FILE *f, unsigned int prot)
{
	if (!prot)
		fputs(" none", f);
	else
		fprintf(f, " %s%s%s", prot & PW_PROT_READ ? "r" : "", prot & PW_PROT_WRITE ? "w" : "",
			prot & PW_PROT_EXEC ? "x" : "");
}

void mop_print(FILE *f, const struct mop *op)
{
	if (op->kind == MOP_TASK_CREATE || op->kind == MOP_FORK)
		fprintf(f, "t%u = ", op->label);
	else if (op->kind == MOP_VMALLOC)
		fprintf(f, "v%u = ", op->label);
	fputs(names[op->kind], f);
	switch (op->kind) {
	case MOP_MMAP:
	case MOP_MPROTECT:
		fprintf(f, " t%u %#lx %#lx", op->task, op->addr, op->len);
		print_prot(f, op->prot);
		break;
	case MOP_MUNMAP:
		fprintf(f, " t%u %#lx %#lx", op->task, op->addr, op->len);
		break;
	case MOP_TOUCH:
		fprintf(f, " t%u ", op->task);
		if (op->area)
			fprintf(f, "v%u+", op->area);
		fprintf(f, "%#lx %s %s", op->addr, op->access == PW_ACCESS_WRITE ? "w" :
			op->access == PW_ACCESS_FETCH ? "x" : "r", op->user ? "user" : "kernel");
		if (op->access == PW_ACCESS_WRITE)
			fprintf(f, " %#lx", op->value);
		break;
	case MOP_VMALLOC:
		fprintf(f, " %#lx %#lx", op->len, op->addr);
		break;
	case MOP_VFREE:
		fprintf(f, " v%u", op->area);
		break;
	case MOP_FORK:
	case MOP_TASK_EXIT:
		fprintf(f, " t%u", op->task);
		break;
	default:
		break;
	}
	if (op->cpu)
		fprintf(f, " cpu=%u", op->cpu);
	fputc('\n', f);
}

void mseq_print(FILE *f, const struct mseq *s, const struct mconfig *c)
{
	fprintf(f, "paging 4\nkernel_sync %s\ncpus %u\n", sync_name(c->sync), c->cpus);
	for (unsigned int i = 0; i < s->n; i++)
		mop_print(f, &s->ops[i]);
}

/* "tN" or "vN" with N a label, then the rest of the word in *rest. */
static bool label(const char *w, char kind, unsigned int *out, char **rest)
{
	unsigned long n;

	if (!w || w[0] != kind)
		return false;
	n = strtoul(w + 1, rest, 10);
	if (*rest == w + 1 || n < 1 || n >= M_LABELS)
		return false;
	*out = n;
	return true;
}

static bool number(const char *w, uint64_t *out)
{
	char *end;

	if (!w)
		return false;
	*out = strtoull(w, &end, 0);
	return *end == '\0' && end != w;
}

static bool prot(const char *w, unsigned int *out)
{
	*out = 0;
	if (!w)
		return false;
	if (!strcmp(w, "none"))
		return true;
	for (; *w; w++) {
		const char *p = strchr("rwx", *w);

		if (!p)
			return false;
		*out |= 1u << (p - "rwx");	/* PW_PROT_READ, _WRITE, _EXEC */
	}
	return *out != 0;
}

static bool touch_args(char **w, unsigned int nw, struct mop *op)
{
	char *rest;
	const char *acc;

	if (nw < 4)
		return false;
	if (label(w[1], 'v', &op->area, &rest)) {
		if (*rest != '+' || !number(rest + 1, &op->addr))
			return false;
	} else if (!number(w[1], &op->addr)) {
		return false;
	}
	acc = strchr("rwx", w[2][0]);
	if (!acc || w[2][1])
		return false;
	op->access = acc - "rwx";	/* PW_ACCESS_READ, _WRITE, _FETCH */
	if (strcmp(w[3], "user") && strcmp(w[3], "kernel"))
		return false;
	op->user = !strcmp(w[3], "user");
	if (op->access == PW_ACCESS_WRITE)
		return nw == 5 && number(w[4], &op->value);
	return nw == 4;
}

/* One op's words after the name (w[0] is the task for task ops). */
static bool op_args(char **w, unsigned int nw, struct mop *op)
{
	char *rest;
	bool task = label(w[0], 't', &op->task, &rest) && !*rest;

	switch (op->kind) {
	case MOP_TASK_CREATE:
	case MOP_VMALLOC_SYNC:
		return nw == 0;
	case MOP_FORK:
	case MOP_TASK_EXIT:
		return nw == 1 && task;
	case MOP_MMAP:
	case MOP_MPROTECT:
		return nw == 4 && task && number(w[1], &op->addr) && number(w[2], &op->len) &&
		       prot(w[3], &op->prot);
	case MOP_MUNMAP:
		return nw == 3 && task && number(w[1], &op->addr) && number(w[2], &op->len);
	case MOP_TOUCH:
		return task && touch_args(w, nw, op);
	case MOP_VMALLOC:
		return nw == 2 && number(w[0], &op->len) && number(w[1], &op->addr);
	case MOP_VFREE:
		return nw == 1 && label(w[0], 'v', &op->area, &rest) && !*rest;
	default:
		return false;
	}
}

static bool parse_line(char *line, struct mop *op, struct mconfig *c, bool *is_op)
{
	char *w[8], *save, *rest;
	unsigned int nw = 0, def = 0;
	uint64_t n;

	*strchrnul(line, '#') = '\0';
	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save))
		if (nw < 8)
			w[nw++] = t;
	*is_op = false;
	if (!nw)
		return true;
	if (!strcmp(w[0], "kernel_sync"))
		return nw == 2 && sync_parse(w[1], &c->sync);
	if (!strcmp(w[0], "cpus"))
		return nw == 2 && number(w[1], &n) && n >= 1 && n <= PW_MAX_CPUS && (c->cpus = n);
	if (!strcmp(w[0], "paging"))	/* the model's geometry is 4-level, nothing else */
		return nw == 2 && !strcmp(w[1], "4");
	memset(op, 0, sizeof(*op));
	if (!strncmp(w[nw - 1], "cpu=", 4)) {
		if (!number(w[nw - 1] + 4, &n) || n >= c->cpus)
			return false;
		op->cpu = n;
		nw--;
	}
	if (nw >= 3 && !strcmp(w[1], "=")) {
		if (!label(w[0], w[0][0], &op->label, &rest) || *rest)
			return false;
		def = 2;
	}
	for (op->kind = 0; op->kind < MOP_KINDS && strcmp(w[def], names[op->kind]); op->kind++)
		;
	if (op->kind == MOP_KINDS)
		return false;
	if ((op->kind == MOP_TASK_CREATE || op->kind == MOP_FORK) != (def && w[0][0] == 't'))
		return false;
	if ((op->kind == MOP_VMALLOC) != (def && w[0][0] == 'v'))
		return false;
	*is_op = true;
	return op_args(w + def + 1, nw - def - 1, op);
}

int mseq_read(FILE *f, struct mseq *s, struct mconfig *c, char *err, size_t len)
{
	char line[512];
	unsigned int lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		struct mop op;
		bool is_op;
		char copy[512];

		lineno++;
		strcpy(copy, line);
		if (!parse_line(line, &op, c, &is_op)) {
			snprintf(err, len, "line %u: cannot read: %s", lineno, strtok(copy, "\n"));
			return -1;
		}
		if (is_op)
			mseq_push(s, &op);
	}
	return 0;
}
