/* What every part of the pagewalk guest kernel shares. */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pagewalk/boot.h>
#include <pagewalk/ring.h>
#include <pagewalk/layout.h>

#include "channel.h"
#include "pgtable.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* An address or an -errno in one long (include/linux/err.h): on i386 user
 * addresses above 2 GiB are negative as a long, and still no error. */
#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	((unsigned long)(x) >= (unsigned long)-MAX_ERRNO)
#define __va(pa)	((void *)((uintptr_t)(pa) + PAGE_OFFSET))

/* What the boot FDT told us (kernel/fdt.c). */
struct boot_params {
	uint64_t ram_bytes;		/* all RAM, the ranges summed */
	unsigned int nr_memory;		/* /memory reg: ascending, the first from 0 */
	struct {
		uint64_t start, size;
	} memory[4];
	unsigned int ncpus;
	unsigned int paging_levels;	/* CR4.LA57; /chosen pagewalk,paging-levels must agree */
	char workload[32];
	char cmdline[128];		/* /chosen bootargs, "" if none */
	uint64_t chan_base;		/* guest-physical */
	uint64_t chan_stride;
	uint32_t chan_capacity;
	uint32_t chan_threshold;
	uint16_t doorbell_port;
	unsigned int split_ptlock_cpus;	/* /chosen pagewalk,split-ptlock-cpus */
	enum pw_kernel_sync kernel_sync;	/* /chosen pagewalk,kernel-sync */
	uint64_t inject_seed;			/* /chosen pagewalk,inject-seed */
	uint32_t fail_nth;			/* /chosen pagewalk,fail-nth */
	unsigned int nr_inject;			/* /chosen pagewalk,inject */
	uint32_t inject[PW_INJECT_MAX_SPECS][PW_INJECT_CELLS];
	unsigned int nr_reserved;	/* /reserved-memory children */
	struct {
		uint64_t start, size;
	} reserved[8];
};

extern struct boot_params boot_params;

/* The end of the last RAM range: the hole below 4 GiB may lie under it. */
static inline uint64_t ram_end(void)
{
	return boot_params.memory[boot_params.nr_memory - 1].start +
	       boot_params.memory[boot_params.nr_memory - 1].size;
}
extern char _text[], _end[];

int parse_boot_fdt(uint64_t fdt_pa, struct boot_params *bp);
const char *cmdline_find_option(const char *cmdline, const char *option);	/* lib/cmdline.c */
int kstrtobool(const char *s, bool *res);


/* kernel/printk.c */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* kernel/exit.c */
__attribute__((noreturn)) void pw_exit(uint32_t status);

/* kernel/ops.c, kernel/workload.c */
__attribute__((noreturn)) void serve_ops(void);
__attribute__((noreturn)) void run_default_workload(void);
void prepare_faults_workload(void);
__attribute__((noreturn)) void run_faults_workload(void);

/* arch/ */
void trap_init(void);
void cpu_init(unsigned int cpu);
int probe_kernel_read(uintptr_t addr, uint64_t *val);
int probe_kernel_write(uintptr_t addr, uint64_t val);
void raise_exception(unsigned int vector);

#endif
