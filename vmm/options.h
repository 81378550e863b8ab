/* The vmm command's options (vmm/options.c), apart from main() for tests/fuzz/fuzz_options.c. */
#ifndef VMM_OPTIONS_H
#define VMM_OPTIONS_H

#include "libvmm.h"
#include "script/script.h"

struct options {
	struct vmm_config cfg;		/* guest, and every setting the options give */
	const char *json_path;		/* --json, opened by main() */
	enum { PTDUMP_OFF, PTDUMP_CPU0, PTDUMP_ALL, PTDUMP_PGD } ptdump;	/* --ptdump[=all|CR3] */
	uint64_t ptdump_pgd;		/* --ptdump=CR3 */
	int gdb_port;			/* --gdb: 0 any free port; -1 no stub */
	struct script_src script;	/* --script FILE or -e LINES, --tap */
	bool shell;			/* --shell */
	bool profile;			/* --profile or --profile-hz */
	const char *profile_path;	/* --profile=FILE: the table there, folded stacks in FILE.folded */
	unsigned int profile_hz;	/* --profile-hz: sample; 0 single-steps */
};

enum opt_result {
	OPT_RUN,	/* boot cfg.guest */
	OPT_HELP,	/* -h: print usage() on stdout */
	OPT_VERSION,	/* --version: print PW_VERSION on stdout */
	OPT_BAD,	/* the reason in err, or err empty: print usage() on stderr */
};

/* argv as getopt_long() takes it, from optind's current value. */
enum opt_result parse_options(int argc, char **argv, struct options *o, char *err, size_t errlen);
void usage(FILE *f);

#endif
