/*
 * Events as humans (--trace) and programs (--json) read them: one walker
 * over each event's field descriptors (abi.c), two printers; and the run
 * summary.
 */
#include <string.h>

#include "internal.h"

static void json_string(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * How --trace and --json differ: the formats of a field (name, value) and
 * of console text; a symbol follows its address inline in a trace and as
 * its own NAME_sym key in JSON.
 */
struct printer {
	const char *text;	/* before a console line */
	const char *field;	/* name, value */
	const char *quoted;	/* name, value: a JSON string */
	const char *sym;	/* name, before the symbol's string; NULL: inline */
};

static const struct printer trace_printer = { " ", " %s=%s", " %s=%s", NULL };
static const struct printer json_printer = {
	",\"text\":", ",\"%s\":%s", ",\"%s\":\"%s\"", ",\"%s_sym\":",
};

/* A field's value as text: decimal, hex or an enumerated name; *quote if JSON must quote it. */
static void field_value(const struct vmm_field_desc *fd, uint64_t v, char *buf, size_t len,
			bool *quote)
{
	const char *name = vmm_value_name(fd->kind, v);

	*quote = true;
	switch (fd->kind) {
	case PW_FIELD_D:
		snprintf(buf, len, "%ld", (long)v);
		*quote = false;
		break;
	case PW_FIELD_U: case PW_FIELD_BOOL: case PW_FIELD_TASK:
		snprintf(buf, len, "%lu", (unsigned long)v);
		*quote = false;
		break;
	default:
		if (name)
			snprintf(buf, len, "%s", name);
		else
			snprintf(buf, len, fd->kind == PW_FIELD_ADDR ? "%#lx" : "0x%lx", (unsigned long)v);
		break;
	}
}

/* One event's fields, and for a console event its line of text. */
static void print_fields(struct vm *vm, const struct pw_event *ev, const char *text, size_t len,
			 const struct printer *p, FILE *f)
{
	const struct vmm_event_desc *d = vmm_event_desc(ev->type);
	char val[64], sym[128];
	bool quote;

	if (text) {
		fputs(p->text, f);
		json_string(f, text, len);
	}
	for (unsigned int i = 0; i < d->nfields; i++) {
		const struct vmm_field_desc *fd = &d->fields[i];
		uint64_t v = ev->u.words[i];

		field_value(fd, v, val, sizeof(val), &quote);
		fprintf(f, quote ? p->quoted : p->field, fd->name, val);
		if (fd->kind != PW_FIELD_ADDR || !*vm_symbolise(vm, v, sym, sizeof(sym)))
			continue;
		if (!p->sym) {
			fprintf(f, " %s", sym);
			continue;
		}
		fprintf(f, p->sym, fd->name);
		json_string(f, sym, strlen(sym));
	}
}

/* "[cpu0     73     0.012345] name": the time in seconds of guest TSC since the first event. */
static void trace_event(struct vm *vm, const struct pw_event *ev, const char *text, size_t len,
			FILE *f)
{
	fprintf(f, "[cpu%u %6lu", ev->cpu, (unsigned long)ev->seq);
	if (vm->tsc_khz)
		fprintf(f, " %12.6f", (double)(int64_t)(ev->tsc - vm->tsc0) / (vm->tsc_khz * 1e3));
	fprintf(f, "] %-9s", vmm_event_desc(ev->type)->name);
	print_fields(vm, ev, text, len, &trace_printer, f);
	fputc('\n', f);
}

static void json_event(struct vm *vm, const struct pw_event *ev, const char *text, size_t len,
		       FILE *f)
{
	fprintf(f, "{\"type\":\"%s\",\"cpu\":%u,\"seq\":%lu,\"tsc\":%lu",
		vmm_event_desc(ev->type)->name, ev->cpu, (unsigned long)ev->seq,
		(unsigned long)ev->tsc);
	print_fields(vm, ev, text, len, &json_printer, f);
	fputs("}\n", f);
}

/* The trace's time 0: the first event printed, or recorded. */
static void time_zero(struct vm *vm, uint64_t tsc)
{
	if (!vm->tsc0_set) {
		vm->tsc0 = tsc;
		vm->tsc0_set = true;
	}
}

void vm_print_event(struct vm *vm, const struct pw_event *ev, FILE *f, bool json)
{
	const char *text = ev->type == PW_EV_CONSOLE ? ev->u.text : NULL;
	size_t len = text ? ev->len : 0, n;
	const struct pw_event *first = vm_events(vm, &n);

	time_zero(vm, n ? first->tsc : ev->tsc);
	if (json)
		json_event(vm, ev, text, len, f);
	else
		trace_event(vm, ev, text, len, f);
}

static void print_event(struct vm *vm, const struct pw_event *ev, const char *text, size_t len)
{
	time_zero(vm, ev->tsc);
	if (vm->cfg.trace)
		trace_event(vm, ev, text, len, vm->cfg.trace);
	if (vm->cfg.json)
		json_event(vm, ev, text, len, vm->cfg.json);
}

/* The console line gathered so far as one console event: seq and tsc of its first record. */
static void flush_line(struct vm *vm, unsigned int cpu)
{
	struct console_line *l = &vm->vcpus[cpu].line;
	const struct pw_event ev = { .type = PW_EV_CONSOLE, .cpu = cpu, .seq = l->seq, .tsc = l->tsc };

	if (l->len)
		print_event(vm, &ev, l->text, l->len);
	l->len = 0;
}

/* Console records join into lines (a record holds 40 bytes); other events print as they come. */
void report_event(struct vm *vm, const struct pw_event *ev)
{
	struct console_line *l = &vm->vcpus[ev->cpu].line;

	if (!vm->cfg.trace && !vm->cfg.json)
		return;
	if (ev->type != PW_EV_CONSOLE) {
		print_event(vm, ev, NULL, 0);
		return;
	}
	for (uint32_t i = 0; i < ev->len; i++) {
		if (!l->len) {
			l->seq = ev->seq;
			l->tsc = ev->tsc;
		}
		l->text[l->len++] = ev->u.text[i];
		if (ev->u.text[i] == '\n' || l->len == sizeof(l->text))
			flush_line(vm, ev->cpu);
	}
}

void report_flush(struct vm *vm)
{
	for (unsigned int cpu = 0; cpu < vm->nvcpus; cpu++)
		flush_line(vm, cpu);
}

static const char *const exit_kind_names[VMM_EXIT_KINDS] = {
	[VMM_EXIT_IO] = "io", [VMM_EXIT_DOORBELL] = "doorbell", [VMM_EXIT_MMIO] = "mmio",
	[VMM_EXIT_HLT] = "hlt", [VMM_EXIT_SHUTDOWN] = "shutdown", [VMM_EXIT_INTR] = "intr",
	[VMM_EXIT_DEBUG] = "debug", [VMM_EXIT_OTHER] = "other",
};

/* "registers":{...}: the crash's registers as fields (README, "JSON lines"). */
static void json_registers(struct vm *vm, FILE *f)
{
	const struct kvm_regs *r = &vm->crash.regs;
	const struct kvm_sregs *s = &vm->crash.sregs;
	const struct { const char *name; uint64_t v; } regs[] = {
		{ "rax", r->rax }, { "rbx", r->rbx }, { "rcx", r->rcx }, { "rdx", r->rdx },
		{ "rsi", r->rsi }, { "rdi", r->rdi }, { "rbp", r->rbp }, { "rsp", r->rsp },
		{ "r8", r->r8 }, { "r9", r->r9 }, { "r10", r->r10 }, { "r11", r->r11 },
		{ "r12", r->r12 }, { "r13", r->r13 }, { "r14", r->r14 }, { "r15", r->r15 },
		{ "rip", r->rip }, { "rflags", r->rflags }, { "cs", s->cs.selector },
		{ "ss", s->ss.selector }, { "cr0", s->cr0 }, { "cr2", s->cr2 }, { "cr3", s->cr3 },
		{ "cr4", s->cr4 }, { "efer", s->efer },
	};
	char sym[128];

	fprintf(f, ",\"registers\":{\"cpu\":%u,\"stale\":%s", vm->crash.cpu,
		vm->crash.stale ? "true" : "false");
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		fprintf(f, ",\"%s\":\"0x%lx\"", regs[i].name, (unsigned long)regs[i].v);
	if (*vm_symbolise(vm, r->rip, sym, sizeof(sym))) {
		fputs(",\"rip_sym\":", f);
		json_string(f, sym, strlen(sym));
	}
	fputc('}', f);
}

void report_json_summary(struct vm *vm)
{
	FILE *f = vm->cfg.json;
	const char *sep = "";

	if (!f)
		return;
	fprintf(f, "{\"type\":\"summary\",\"version\":\"%s\",\"status\":%d,\"status_name\":\"%s\","
		"\"message\":", PW_VERSION, vm->status, vmm_status_name(vm->status));
	json_string(f, vm->msg, strlen(vm->msg));
	if (vm->crash.valid)
		json_registers(vm, f);
	fprintf(f, ",\"guest_exited\":%s,\"guest_status\":%u,\"exits\":%lu,\"exits_by_kind\":{",
		vm->guest_exited ? "true" : "false", vm->guest_status,
		(unsigned long)vm->stats.exits);
	for (int k = 0; k < VMM_EXIT_KINDS; k++)
		fprintf(f, "%s\"%s\":%lu", k ? "," : "", exit_kind_names[k],
			(unsigned long)vm->stats.exits_by_kind[k]);
	fprintf(f, "},\"events\":%lu,\"events_by_type\":{", (unsigned long)vm->stats.events);
	for (int t = 1; t < PW_EV_MAX; t++) {
		fprintf(f, "%s\"%s\":%lu", sep, vmm_event_desc(t)->name,
			(unsigned long)vm->stats.events_by_type[t]);
		sep = ",";
	}
	fprintf(f, "},\"tsc_khz\":%u,\"wall_ns\":%lu}\n", vm->tsc_khz,
		(unsigned long)vm->stats.wall_ns);
	fflush(f);
}

void vm_print_summary(const struct vm *vm, FILE *f)
{
	fprintf(f, "pagewalk: %s: %s\n", vmm_status_name(vm->status), vm->msg);
	fprintf(f, "pagewalk: %lu events:", (unsigned long)vm->stats.events);
	for (int t = 1; t < PW_EV_MAX; t++)
		if (vm->stats.events_by_type[t])
			fprintf(f, " %s=%lu", vmm_event_desc(t)->name,
				(unsigned long)vm->stats.events_by_type[t]);
	fprintf(f, "\npagewalk: %lu VM exits:", (unsigned long)vm->stats.exits);
	for (int k = 0; k < VMM_EXIT_KINDS; k++)
		if (vm->stats.exits_by_kind[k])
			fprintf(f, " %s=%lu", exit_kind_names[k],
				(unsigned long)vm->stats.exits_by_kind[k]);
	fprintf(f, "; wall time %.3f ms\n", vm->stats.wall_ns / 1e6);
}
