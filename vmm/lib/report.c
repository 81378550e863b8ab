/*
 * Events as humans (--trace) and programs (--json) read them, both driven
 * by the field specs in shared/pagewalk/channel.h, and the run summary.
 */
#include <string.h>

#include "internal.h"

struct event_desc {
	const char *name;
	const char *fields;
};

static const struct event_desc event_descs[PW_EV_MAX] = {
#define PW_EV_DESC(name, id, str, fields) [id] = { str, fields },
	PW_EVENT_TYPES(PW_EV_DESC)
#undef PW_EV_DESC
};

/* Names for the enumerated field kinds of the event table. */
static const char *enum_name(char kind, uint64_t v)
{
	switch (kind) {
	case 'o':
		switch (v) {
#define PW_NAME(name, id, str) case id: return str;
		PW_OPS(PW_NAME)
		}
		break;
	case 'k':
		switch (v) {
		PW_FAULT_OUTCOMES(PW_NAME)
		}
		break;
	case 'l':
		switch (v) {
		PW_LEVELS(PW_NAME)
		}
		break;
	case 'm':
		switch (v) {
		PW_MAP_KINDS(PW_NAME)
		}
		break;
	case 'y':
		switch (v) {
		PW_KERNEL_SYNC_MODES(PW_NAME)
		}
		break;
	case 's':
		switch (v) {
		PW_INJECT_SITES(PW_NAME)
#undef PW_NAME
		}
		break;
	}
	return "?";
}

/* Field i of a spec "a:u b:x": its name into name[], its kind as return. */
static char field(const char *spec, unsigned int i, char *name, size_t len)
{
	for (; *spec; i--) {
		const char *colon = strchr(spec, ':'), *end = strchr(spec, ' ');

		if (!colon)
			return 0;
		if (!i) {
			snprintf(name, len, "%.*s", (int)(colon - spec), spec);
			return colon[1];
		}
		if (!end)
			return 0;
		spec = end + 1;
	}
	return 0;
}

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

void report_trace_event(struct vm *vm, const struct pw_event *ev, FILE *f)
{
	const struct event_desc *d = &event_descs[ev->type];
	char name[32], sym[128];
	char kind;

	fprintf(f, "[cpu%u %6lu] %-9s", ev->cpu, (unsigned long)ev->seq, d->name);
	if (ev->type == PW_EV_CONSOLE) {
		fputc(' ', f);
		json_string(f, (const char *)ev->args, ev->len);
	}
	for (unsigned int i = 0; i < PW_EVENT_ARGS && (kind = field(d->fields, i, name, sizeof(name))); i++) {
		uint64_t v = ev->args[i];

		switch (kind) {
		case 'd': fprintf(f, " %s=%ld", name, (long)v); break;
		case 'x': fprintf(f, " %s=0x%lx", name, (unsigned long)v); break;
		case 'o': case 'k': case 'l': case 'm': case 'y': case 's':
			fprintf(f, " %s=%s", name, enum_name(kind, v));
			break;
		case 'a':
			vm_symbolise(vm, v, sym, sizeof(sym));
			fprintf(f, " %s=%#lx%s%s", name, (unsigned long)v, *sym ? " " : "", sym);
			break;
		default: fprintf(f, " %s=%lu", name, (unsigned long)v); break;
		}
	}
	fputc('\n', f);
}

static void json_event(struct vm *vm, const struct pw_event *ev, FILE *f)
{
	const struct event_desc *d = &event_descs[ev->type];
	char name[32], sym[128];
	char kind;

	fprintf(f, "{\"type\":\"%s\",\"cpu\":%u,\"seq\":%lu,\"tsc\":%lu", d->name, ev->cpu,
		(unsigned long)ev->seq, (unsigned long)ev->tsc);
	if (ev->type == PW_EV_CONSOLE) {
		fputs(",\"text\":", f);
		json_string(f, (const char *)ev->args, ev->len);
	}
	for (unsigned int i = 0; i < PW_EVENT_ARGS && (kind = field(d->fields, i, name, sizeof(name))); i++) {
		uint64_t v = ev->args[i];

		switch (kind) {
		case 'd': fprintf(f, ",\"%s\":%ld", name, (long)v); break;
		case 'x': fprintf(f, ",\"%s\":\"0x%lx\"", name, (unsigned long)v); break;
		case 'o': case 'k': case 'l': case 'm': case 'y': case 's':
			fprintf(f, ",\"%s\":\"%s\"", name, enum_name(kind, v));
			break;
		case 'a':
			fprintf(f, ",\"%s\":\"%#lx\"", name, (unsigned long)v);
			if (*vm_symbolise(vm, v, sym, sizeof(sym))) {
				fprintf(f, ",\"%s_sym\":", name);
				json_string(f, sym, strlen(sym));
			}
			break;
		default: fprintf(f, ",\"%s\":%lu", name, (unsigned long)v); break;
		}
	}
	fputs("}\n", f);
}

void report_event(struct vm *vm, const struct pw_event *ev)
{
	if (vm->cfg.trace)
		report_trace_event(vm, ev, vm->cfg.trace);
	if (vm->cfg.json)
		json_event(vm, ev, vm->cfg.json);
}

static const char *const exit_kind_names[VMM_EXIT_KINDS] = {
	[VMM_EXIT_IO] = "io", [VMM_EXIT_DOORBELL] = "doorbell", [VMM_EXIT_MMIO] = "mmio",
	[VMM_EXIT_HLT] = "hlt", [VMM_EXIT_SHUTDOWN] = "shutdown", [VMM_EXIT_INTR] = "intr",
	[VMM_EXIT_DEBUG] = "debug", [VMM_EXIT_OTHER] = "other",
};

void report_json_summary(struct vm *vm)
{
	FILE *f = vm->cfg.json;
	const char *sep = "";

	if (!f)
		return;
	fprintf(f, "{\"type\":\"summary\",\"version\":\"%s\",\"status\":%d,\"status_name\":\"%s\","
		"\"message\":", PW_VERSION, vm->status, vmm_status_name(vm->status));
	json_string(f, vm->msg, strlen(vm->msg));
	fprintf(f, ",\"guest_exited\":%s,\"guest_status\":%u,\"exits\":%lu,\"exits_by_kind\":{",
		vm->guest_exited ? "true" : "false", vm->guest_status,
		(unsigned long)vm->stats.exits);
	for (int k = 0; k < VMM_EXIT_KINDS; k++)
		fprintf(f, "%s\"%s\":%lu", k ? "," : "", exit_kind_names[k],
			(unsigned long)vm->stats.exits_by_kind[k]);
	fprintf(f, "},\"events\":%lu,\"events_by_type\":{", (unsigned long)vm->stats.events);
	for (int t = 1; t < PW_EV_MAX; t++) {
		fprintf(f, "%s\"%s\":%lu", sep, event_descs[t].name,
			(unsigned long)vm->stats.events_by_type[t]);
		sep = ",";
	}
	fprintf(f, "},\"wall_ns\":%lu}\n", (unsigned long)vm->stats.wall_ns);
	fflush(f);
}

void vm_print_summary(const struct vm *vm, FILE *f)
{
	fprintf(f, "pagewalk: %s: %s\n", vmm_status_name(vm->status), vm->msg);
	fprintf(f, "pagewalk: %lu events:", (unsigned long)vm->stats.events);
	for (int t = 1; t < PW_EV_MAX; t++)
		if (vm->stats.events_by_type[t])
			fprintf(f, " %s=%lu", event_descs[t].name,
				(unsigned long)vm->stats.events_by_type[t]);
	fprintf(f, "\npagewalk: %lu VM exits:", (unsigned long)vm->stats.exits);
	for (int k = 0; k < VMM_EXIT_KINDS; k++)
		if (vm->stats.exits_by_kind[k])
			fprintf(f, " %s=%lu", exit_kind_names[k],
				(unsigned long)vm->stats.exits_by_kind[k]);
	fprintf(f, "; wall time %.3f ms\n", vm->stats.wall_ns / 1e6);
}
