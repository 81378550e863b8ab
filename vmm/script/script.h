/*
 * vmm --script, -e and --shell: the scenario language over the ops-serving
 * guest (README, "Scripts and the shell").  The vmm command's; libvmm
 * knows nothing of it.
 */
#ifndef VMM_SCRIPT_H
#define VMM_SCRIPT_H

#include <stdbool.h>
#include <stdio.h>

#include "libvmm.h"

#define SCRIPT_MAX_E	16

/* Where the lines come from: a file (--script), or -e's, each cut at ';'. */
struct script_src {
	const char *file;
	const char *lines[SCRIPT_MAX_E];
	unsigned int nlines;
	bool tap;
};

/*
 * Every line checked with no VM: false after naming each bad line
 * (file:line) on stderr.  Settings lines (cpus, paging, kernel_sync,
 * split_ptlock_cpus) set cfg.
 */
bool script_check(const struct script_src *src, struct vmm_config *cfg);

/*
 * Run the lines against vm, printing what they show on `out`: 0 when every
 * expect held, 1 when one did not or a line could not run (said on
 * stderr with file:line).  The VM may have stopped: vm_run() says how.
 */
int script_run(struct vm *vm, const struct script_src *src, const struct vmm_config *cfg, FILE *out);

/* The same language at a prompt, with libedit; 0 or 1 likewise, for the expects typed. */
int script_shell(struct vm *vm, const struct vmm_config *cfg, FILE *out);

#endif
