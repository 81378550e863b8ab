/*
 * A session's state between lines: bound names, each task's pgd, the
 * events of the last op line, and the ops themselves, run now or started
 * on their vCPU's thread with '&'.
 */
#include <stdarg.h>
#include <string.h>

#include "lang.h"
#include "session.h"

bool fail(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return false;
}

struct binding *find_binding(struct session *s, const char *name)
{
	for (unsigned int i = 0; i < s->nnames; i++)
		if (!strcmp(s->names[i].name, name))
			return &s->names[i];
	return NULL;
}

bool reserved_name(const char *name)
{
	unsigned int type;

	for (const char *const *f = expr_functions; *f; f++)
		if (!strcmp(name, *f))
			return true;
	return op_by_name(name) || command_by_name(name) || event_type_by_name(name, &type);
}

struct binding *bind_name(struct session *s, const char *name)
{
	struct binding *b = find_binding(s, name);

	if (reserved_name(name)) {
		fail(s, "'%s' is a name of the language (an op, a command, an event type or a "
		     "function), not one to bind", name);
		return NULL;
	}
	if (!b && strlen(name) >= SCRIPT_NAME_MAX) {
		fail(s, "'%s': names are at most %d characters", name, SCRIPT_NAME_MAX - 1);
		return NULL;
	}
	if (!b && s->nnames == SCRIPT_MAX_NAMES) {
		fail(s, "more than %d names bound", SCRIPT_MAX_NAMES);
		return NULL;
	}
	if (!b) {
		b = &s->names[s->nnames++];
		snprintf(b->name, sizeof(b->name), "%s", name);
	}
	b->known = false;
	return b;
}

/*
 * Which pgd a task has: an op that made one mm (task_create, fork) made
 * one PGD_CTOR, and its positive result is the task; a PGD_DTOR retires
 * every task on that pgd.  The guest's task ids and mm ids differ (slots
 * are reused, mm ids are not), so the host learns it from the events.
 */
static void track_tasks(struct session *s, int64_t result)
{
	size_t n, ctors = 0;
	const struct pw_event *ev = last_op_events(s, &n);
	uint64_t pgd = 0;

	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == PW_EV_PGD_CTOR) {
			ctors++;
			pgd = ev[i].u.pgd_ctor.phys;
		} else if (ev[i].type == PW_EV_PGD_DTOR) {
			for (unsigned int k = 0; k < s->ntasks; k++)
				if (s->tasks[k].pgd == ev[i].u.pgd_dtor.phys)
					s->tasks[k--] = s->tasks[--s->ntasks];
		}
	}
	if (ctors == 1 && result > 0 && s->ntasks < SCRIPT_MAX_TASKS) {
		s->tasks[s->ntasks].task = result;
		s->tasks[s->ntasks++].pgd = pgd;
	}
}

static bool vm_failed(struct session *s, unsigned int op, enum vmm_status st)
{
	s->stopped = true;
	return fail(s, "%s: the VM stopped (%s): %s", vmm_op_desc(op)->name, vmm_status_name(st),
		    vm_message(s->vm));
}

static size_t nevents(struct session *s)
{
	size_t n;

	vm_events(s->vm, &n);
	return n;
}

bool run_op(struct session *s, unsigned int cpu, unsigned int op, const union pw_op_args *args,
	    int64_t *result, union pw_op_out *out)
{
	enum vmm_status st;

	if (cpu >= s->ncpus)
		return fail(s, "@%u: no such vCPU (--cpus %u)", cpu, s->ncpus);
	if (!s->vm) {
		*result = 0;
		*out = (union pw_op_out){ 0 };
		return true;
	}
	if (s->stopped)
		return fail(s, "the VM has stopped: %s", vm_message(s->vm));
	st = vm_op(s->vm, cpu, op, args, result, out);
	if (st != VMM_OK)
		return vm_failed(s, op, st);
	return true;
}

bool start_op(struct session *s, unsigned int cpu, unsigned int op, const union pw_op_args *args,
	      unsigned int binding)
{
	bool first = true;

	if (cpu >= s->ncpus)
		return fail(s, "@%u: no such vCPU (--cpus %u)", cpu, s->ncpus);
	if (s->pending[cpu].started)
		return fail(s, "@%u: the vCPU is busy with an op started with '&' (wait first)", cpu);
	for (unsigned int i = 0; i < PW_MAX_CPUS; i++)
		first &= !s->pending[i].started;
	s->pending[cpu] = (struct pending_op){ true, op, binding };
	if (!s->vm)
		return true;
	if (s->stopped)
		return fail(s, "the VM has stopped: %s", vm_message(s->vm));
	if (first)
		s->ops_start = nevents(s);
	if (vm_op_start(s->vm, cpu, op, args) != VMM_OK) {
		s->pending[cpu].started = false;
		return fail(s, "%s: %s", vmm_op_desc(op)->name, vm_message(s->vm));
	}
	return true;
}

bool wait_ops(struct session *s)
{
	bool ok = true, any = false;

	for (unsigned int cpu = 0; cpu < PW_MAX_CPUS; cpu++) {
		struct pending_op *p = &s->pending[cpu];
		struct binding *b = p->binding ? &s->names[p->binding - 1] : NULL;
		union pw_op_out out = { 0 };
		int64_t result = 0;
		enum vmm_status st;

		if (!p->started)
			continue;
		p->started = false;
		any = true;
		if (!s->vm)
			continue;
		st = vm_op_wait(s->vm, cpu, &result, &out);
		if (st != VMM_OK && ok)
			ok = vm_failed(s, p->op, st);
		if (b && st == VMM_OK) {
			b->op = p->op;
			b->result = (struct val){ result, PW_FIELD_D };
			b->out = out;
			b->known = true;
		}
	}
	/* Which of several ops made a task is not known: none is tracked. */
	if (any && s->vm && !s->stopped)
		op_line_done(s, s->ops_start, 0);
	return ok;
}

size_t event_count(struct session *s)
{
	return s->vm ? nevents(s) : 0;
}

void op_line_done(struct session *s, size_t start, int64_t result)
{
	s->win_start = start;
	s->win_end = event_count(s);
	if (s->vm)
		track_tasks(s, result);
}

bool session_boot(struct session *s)
{
	int64_t result;
	union pw_op_out out;

	if (!run_op(s, 0, PW_OP_ECHO, NULL, &result, &out))
		return false;
	s->win_start = s->win_end = event_count(s);
	return true;
}

bool task_paging(struct session *s, uint64_t task, struct vm_paging *pg)
{
	if (vm_cpu_paging(s->vm, 0, pg) != VMM_OK)
		return fail(s, "cannot read cpu 0's control registers: %s", vm_message(s->vm));
	if (!task)
		return true;
	for (unsigned int i = 0; i < s->ntasks; i++) {
		if (s->tasks[i].task == task) {
			pg->cr3 = s->tasks[i].pgd;
			return true;
		}
	}
	return fail(s, "task %lu: no live task this session made (task_create, fork) has that id",
		    (unsigned long)task);
}
