/* The host make bench ran on (scripts/bench_host.c). */
#ifndef PAGEWALK_SCRIPTS_BENCH_HOST_H
#define PAGEWALK_SCRIPTS_BENCH_HOST_H

#include <stdio.h>

struct bench_host {
	char kernel[128], cpu[128];
	char kvm[8];		/* PVM, VMX, SVM or none */
	char module[16];	/* kvm_pvm, kvm_intel, kvm_amd */
	char under[16];		/* the hypervisor this kernel runs under (CPUID), "" on bare metal */
};

void bench_host_probe(struct bench_host *h);
/* One line for people. */
void bench_host_describe(const struct bench_host *h, char *buf, size_t len);
/* The "host" member of bench.json. */
void bench_host_json(const struct bench_host *h, FILE *j);

#endif
