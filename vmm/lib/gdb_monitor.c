/*
 * gdb's `monitor` commands: libvmm's views of the stopped guest, printed in
 * gdb.  Page tables are walked by the host's walker from guest RAM, under
 * the selected thread's CR3 unless one is given.
 */
#include <string.h>

#include "gdb.h"

static const char help[] =
	"monitor commands (numbers decimal or 0x hex; CR3 default: the selected thread's):\n"
	"  ptdump [CR3]       the page tables, as Linux's /sys/kernel/debug/page_tables\n"
	"  walk ADDR [CR3]    the host walker's walk of ADDR: each level's entry, the result\n"
	"  events [N]         the last N guest events (default 20), as vmm --trace prints them\n"
	"  host               what this host's KVM delivers to a debugger, as probed\n"
	"  help               this text\n";

/* Level names as the guest's events have them: the top table is the pgd. */
static const char *level_name(unsigned int level, unsigned int levels)
{
	static const char *const names[] = { "", "pte", "pmd", "pud", "p4d", "pgd" };

	return level == levels ? "pgd" : names[level];
}

static bool paging(struct gdb *g, const char *cr3, struct vm_paging *pg, FILE *out)
{
	uint64_t v;

	if (vm_cpu_paging(g->vm, g->g_cpu, pg) != VMM_OK) {
		fprintf(out, "cannot read cpu %d's control registers\n", g->g_cpu);
		return false;
	}
	if (!cr3)
		return true;
	if (!vmm_parse_u64(cr3, UINT64_MAX, &v, NULL)) {
		fprintf(out, "'%s': not a CR3 value\n", cr3);
		return false;
	}
	pg->cr3 = v;
	return true;
}

static void ptdump(struct gdb *g, const char *cr3, FILE *out)
{
	struct vm_paging pg;

	if (!paging(g, cr3, &pg, out))
		return;
	fprintf(out, "page tables under CR3 %#llx:\n", (unsigned long long)pg.cr3);
	switch (vm_ptdump(g->vm, &pg, out)) {
	case VMM_OK:
		break;
	case VMM_BAD_INPUT:
		fprintf(out, "cpu %d has paging off\n", g->g_cpu);
		break;
	case VMM_GUEST_ERROR:
		fprintf(out, "CR3 %#llx is outside guest RAM\n", (unsigned long long)pg.cr3);
		break;
	default:
		fprintf(out, "out of memory\n");
		break;
	}
}

static void walk(struct gdb *g, const char *addr, const char *cr3, FILE *out)
{
	struct vm_paging pg;
	struct vm_walk w;
	struct mmu mmu;
	uint64_t va;
	unsigned int lowest;

	if (!addr || !vmm_parse_u64(addr, UINT64_MAX, &va, NULL)) {
		fprintf(out, "usage: monitor walk ADDR [CR3]\n");
		return;
	}
	if (!paging(g, cr3, &pg, out))
		return;
	if (vm_walk(g->vm, &pg, va, &w) != VMM_OK || mmu_init(g->vm, &pg, &mmu)) {
		fprintf(out, "%#llx: not a canonical address (above 4 GiB outside long mode), or cpu %d has paging off\n",
			(unsigned long long)va, g->g_cpu);
		return;
	}
	fprintf(out, "%#llx under CR3 %#llx:\n", (unsigned long long)va, (unsigned long long)pg.cr3);
	lowest = w.outside_ram ? w.level + 1 : w.level;
	for (unsigned int l = mmu.levels; l >= lowest && l >= 1; l--)
		fprintf(out, "  %s[%llu] = 0x%016llx\n", level_name(l, mmu.levels),
			(unsigned long long)vm_walk_index(&pg, va, l), (unsigned long long)w.entries[l - 1]);
	if (w.outside_ram)
		fprintf(out, "  -> the %s table lies outside guest RAM\n", level_name(w.level, mmu.levels));
	else if (w.rsvd)
		fprintf(out, "  -> a reserved bit is set in the %s entry (a #PF with RSVD)\n",
			level_name(w.level, mmu.levels));
	else if (!w.present)
		fprintf(out, "  -> not mapped: the %s entry is not present\n", level_name(w.level, mmu.levels));
	else
		fprintf(out, "  -> phys %#llx: %s page, %s, %s, %s%s%s, pkey %u\n",
			(unsigned long long)w.phys, vm_walk_page_size(&pg, w.level),
			w.user ? "user" : "kernel", w.writable ? "RW" : "ro", w.nx ? "NX" : "x",
			w.accessed ? ", accessed" : "", w.dirty ? ", dirty" : "", w.pkey);
}

static void events(struct gdb *g, const char *count, FILE *out)
{
	const struct pw_event *ev;
	uint64_t n = 20;
	size_t total;

	if (count && !vmm_parse_u64(count, UINT64_MAX, &n, NULL)) {
		fprintf(out, "usage: monitor events [N]\n");
		return;
	}
	pthread_mutex_lock(&g->vm->lock);
	ev = vm_events(g->vm, &total);
	if (!g->vm->cfg.record)
		fprintf(out, "events are not recorded (vmm --gdb records them; libvmm: cfg.record)\n");
	for (size_t i = total > n ? total - n : 0; i < total; i++)
		vm_print_event(g->vm, &ev[i], out, false);
	pthread_mutex_unlock(&g->vm->lock);
}

void gdb_monitor(struct gdb *g, const char *cmd, FILE *out)
{
	char buf[256], *save = NULL, *word[4] = { 0 };

	snprintf(buf, sizeof(buf), "%s", cmd);
	for (unsigned int i = 0; i < 4; i++)
		word[i] = strtok_r(i ? NULL : buf, " \t", &save);
	if (!word[0] || !strcmp(word[0], "help"))
		fputs(help, out);
	else if (!strcmp(word[0], "ptdump") && !word[2])
		ptdump(g, word[1], out);
	else if (!strcmp(word[0], "walk") && !word[3])
		walk(g, word[1], word[2], out);
	else if (!strcmp(word[0], "events") && !word[2])
		events(g, word[1], out);
	else if (!strcmp(word[0], "host") && !word[1])
		fputs(g->host.report, out);
	else
		fprintf(out, "unknown monitor command '%s'; try 'monitor help'\n", cmd);
}
