/*
 * What host make bench ran on, as the host itself tells it: the kernel
 * (uname), the CPU model (/proc/cpuinfo), which KVM module drives
 * /dev/kvm (kvm_intel: VMX, kvm_amd: SVM, kvm_pvm: PVM, from
 * /sys/module), and whether this kernel runs under a hypervisor itself
 * (CPUID.1:ECX bit 31) and whose (the CPUID 0x40000000 signature):
 * KVM there is nested.
 */
#include <cpuid.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench_host.h"

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && v) {
			v += 1 + (v[1] == ' ');
			v[strcspn(v, "\n")] = '\0';
			for (char *q = v; *q; q++)	/* it goes into JSON as it is */
				if (*q == '"' || *q == '\\' || *q < ' ')
					*q = '?';
			snprintf(buf, len, "%s", v);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* The hypervisor this kernel runs under: its CPUID signature, "" if none. */
static void hypervisor(char *buf, size_t len)
{
	unsigned int a, b, c, d;
	char sig[13];

	buf[0] = '\0';
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
		return;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (char *s = sig; *s; s++)
		if (*s < ' ' || *s > '~' || *s == '"' || *s == '\\')
			*s = '?';
	snprintf(buf, len, "%s", sig[0] ? sig : "unnamed");
}

void bench_host_probe(struct bench_host *h)
{
	static const struct {
		const char *module, *flavour;
	} kvm[] = { { "kvm_pvm", "PVM" }, { "kvm_intel", "VMX" }, { "kvm_amd", "SVM" } };
	struct utsname u;

	snprintf(h->kernel, sizeof(h->kernel), "%s", uname(&u) ? "unknown" : u.release);
	cpu_model(h->cpu, sizeof(h->cpu));
	hypervisor(h->under, sizeof(h->under));
	snprintf(h->kvm, sizeof(h->kvm), "none");
	for (size_t i = 0; i < sizeof(kvm) / sizeof(kvm[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/module/%s", kvm[i].module);
		if (!access(path, F_OK)) {
			snprintf(h->kvm, sizeof(h->kvm), "%s", kvm[i].flavour);
			snprintf(h->module, sizeof(h->module), "%s", kvm[i].module);
			break;
		}
	}
}

void bench_host_describe(const struct bench_host *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s, Linux %s, KVM %s%s%s%s%s", h->cpu, h->kernel, h->kvm,
		 h->module[0] ? " (" : "", h->module, h->module[0] ? ")" : "",
		 h->under[0] ? ", nested: this kernel runs under a hypervisor, CPUID says " : "");
	if (h->under[0])
		snprintf(buf + strlen(buf), len - strlen(buf), "%s", h->under);
}

void bench_host_json(const struct bench_host *h, FILE *j)
{
	fprintf(j, "  \"host\": {\"kernel\": \"%s\", \"cpu\": \"%s\", \"kvm\": \"%s\", \"kvm_module\": \"%s\", "
		"\"nested\": %s, \"hypervisor\": \"%s\"},\n", h->kernel, h->cpu, h->kvm, h->module,
		h->under[0] ? "true" : "false", h->under);
}
