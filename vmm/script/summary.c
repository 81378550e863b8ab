/*
 * What an op line did, in one line: its result, then its events in order,
 * the same ones merged ("map anon x3"), page-table allocations and frees
 * gathered into one "tables +pud +pmd -pte".  The shell prints it after
 * each op, a script after each op line.
 */
#include <string.h>

#include "session.h"

#define SUMMARY_PHRASES 12

struct phrases {
	char text[SUMMARY_PHRASES][96];
	unsigned int count[SUMMARY_PHRASES], n, dropped;
};

static void add(struct phrases *p, const char *text)
{
	if (p->n && !strcmp(p->text[p->n - 1], text)) {
		p->count[p->n - 1]++;
	} else if (p->n == SUMMARY_PHRASES) {
		p->dropped++;
	} else {
		snprintf(p->text[p->n], sizeof(p->text[0]), "%s", text);
		p->count[p->n++] = 1;
	}
}

static const char *name(enum pw_field_kind kind, uint64_t v)
{
	const char *n = vmm_value_name(kind, v);

	return n ? n : "?";
}

/* "write user", "fetch user", "read kernel": the access a #PF error code describes. */
static void access_of(uint64_t ec, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", ec & VM_ACCESS_FETCH ? "fetch" : ec & VM_ACCESS_WRITE ? "write" : "read",
		 ec & VM_ACCESS_USER ? "user" : "kernel");
}

/* One event as a phrase, or "" for those the line leaves out (console, op, seq...). */
static void phrase(const struct pw_event *ev, char *buf, size_t len, char *tables, size_t tlen)
{
	const union pw_event_fields *u = &ev->u;
	char acc[32];
	size_t n = strlen(tables);

	buf[0] = '\0';
	switch (ev->type) {
	case PW_EV_FAULT:
		access_of(u->fault.error_code, acc, sizeof(acc));
		snprintf(buf, len, "fault %#lx %s: %s", (unsigned long)u->fault.addr, acc,
			 name(PW_FIELD_OUTCOME, u->fault.outcome));
		break;
	case PW_EV_PGTABLE_ALLOC:
	case PW_EV_PGTABLE_FREE:
		snprintf(tables + n, tlen - n, " %c%s", ev->type == PW_EV_PGTABLE_ALLOC ? '+' : '-',
			 name(PW_FIELD_LEVEL, u->pgtable_alloc.level));
		break;
	case PW_EV_RACE_LOST:
		snprintf(buf, len, "race lost (%s)", name(PW_FIELD_LEVEL, u->race_lost.level));
		break;
	case PW_EV_MAP:
		snprintf(buf, len, "map %s", name(PW_FIELD_MAP, u->map.kind));
		break;
	case PW_EV_TASK_EXIT:
		if (u->task_exit.signal)
			snprintf(buf, len, "task %lu killed (signal %lu)", (unsigned long)u->task_exit.task,
				 (unsigned long)u->task_exit.signal);
		else
			snprintf(buf, len, "task %lu exits", (unsigned long)u->task_exit.task);
		break;
	case PW_EV_PGD_CTOR:
		snprintf(buf, len, "new pgd, pgd_list %lu", (unsigned long)u->pgd_ctor.pgd_list);
		break;
	case PW_EV_PGD_DTOR:
		snprintf(buf, len, "pgd freed, pgd_list %lu", (unsigned long)u->pgd_dtor.pgd_list);
		break;
	case PW_EV_KERNEL_SYNC:
		snprintf(buf, len, "%s sync of pgd[%lu] into mm %lu", name(PW_FIELD_SYNC, u->kernel_sync.sync),
			 (unsigned long)u->kernel_sync.index, (unsigned long)u->kernel_sync.mm);
		break;
	case PW_EV_VMALLOC_FAULT:
		snprintf(buf, len, "vmalloc_fault pgd[%lu] in mm %lu", (unsigned long)u->vmalloc_fault.index,
			 (unsigned long)u->vmalloc_fault.mm);
		break;
	case PW_EV_VMALLOC:
	case PW_EV_VFREE:
		snprintf(buf, len, "%s %#lx", ev->type == PW_EV_VMALLOC ? "vmalloc" : "vfree",
			 (unsigned long)u->vmalloc.addr);
		break;
	case PW_EV_FORK:
		snprintf(buf, len, "fork %lu -> %lu", (unsigned long)u->fork.parent,
			 (unsigned long)u->fork.child);
		break;
	case PW_EV_INJECT:
		snprintf(buf, len, "injected %s failure", name(PW_FIELD_SITE, u->inject.site));
		break;
	case PW_EV_EXCEPTION:
		snprintf(buf, len, "exception %lu", (unsigned long)u->exception.vector);
		break;
	default:
		break;
	}
}

void op_summary(struct session *s, const char *what, const int64_t *result, FILE *f)
{
	struct phrases p = { .n = 0 };
	char buf[96], tables[256] = "";
	size_t n;
	const struct pw_event *ev = last_op_events(s, &n);
	const char *sep = result ? ":" : "";

	for (size_t i = 0; i < n; i++) {
		phrase(&ev[i], buf, sizeof(buf), tables, sizeof(tables));
		if (*buf)
			add(&p, buf);
	}
	if (what)
		fprintf(f, "%-30s =>", what);
	else
		fprintf(f, "=>");
	if (result) {
		value_format((struct val){ *result, PW_FIELD_D }, buf, sizeof(buf));
		fprintf(f, " %s", buf);
	}
	for (unsigned int i = 0; i < p.n; i++, sep = ";")
		fprintf(f, p.count[i] > 1 ? "%s %s x%u" : "%s %s", sep, p.text[i], p.count[i]);
	if (*tables)
		fprintf(f, "%s tables%s", sep, tables);
	if (p.dropped)
		fprintf(f, "; %u more", p.dropped);
	if (vm_guest_exited(s->vm))
		fprintf(f, "; the guest exited, status %u", vm_guest_status(s->vm));
	fputc('\n', f);
}
