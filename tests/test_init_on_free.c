/*
 * init_on_free=1 (vmm --init-on-free, cfg.init_on_free): the rule is
 * Linux's, mm/page_alloc.c: free_pages_prepare() zeroes a page as it is
 * freed (kernel_init_pages()) and post_alloc_hook() then does not clear it
 * for __GFP_ZERO (init = !want_init_on_free() && ...).  So a freed page
 * reads back zero while it is free, and the fault that reuses it does not
 * call clear_page(); without the option the freed page keeps what was
 * written and the fault clears it.
 */
#include <string.h>

#include <pagewalk/layout.h>

#include "guest_ops.h"
#include "harness.h"

#define A	(64ULL << 20)
#define PAGES	4
#define VAL	0x5a5a5a5a5a5a5a5aULL

static struct vm *boot(bool init_on_free)
{
	struct vmm_config cfg;

	test_config(&cfg, GUEST_ELF, PW_WORKLOAD_OPS);
	cfg.init_on_free = init_on_free;
	return test_vm_create(&cfg);
}

/* VAL written from ring 3 into each of the PAGES pages at A; their frames, from the map events. */
static void write_pages(struct vm *vm, uint64_t t, uint64_t phys[PAGES])
{
	const struct pw_event *m[PAGES];
	size_t from;

	vm_events(vm, &from);
	for (unsigned int i = 0; i < PAGES; i++)
		cr_assert_eq(touch(vm, t, A + i * 4096ULL, PW_ACCESS_WRITE, true, VAL, NULL), 0);
	cr_assert_eq(events_since(vm, from, PW_EV_MAP, m, PAGES), PAGES);
	for (unsigned int i = 0; i < PAGES; i++)
		phys[i] = m[i]->u.map.phys;
}

/* How many instructions of clear_page() (inclusive) the profile just stopped counted. */
static uint64_t clear_page_instructions(struct vm *vm)
{
	uint64_t self, incl;

	cr_assert(vm_profile_symbol(vm, "clear_page", &self, &incl), "no symbol clear_page");
	return incl;
}

/* The frame freed by munmap: zero under init_on_free, VAL still at offset 0 without. */
static void freed_page_contents(bool init_on_free)
{
	static const uint8_t zero[4096];
	uint8_t buf[4096];
	uint64_t phys[PAGES], t, first;
	struct vm *vm = boot(init_on_free);

	t = new_task(vm);
	map(vm, t, A, PAGES * 4096ULL, RW);
	warm_up(vm, t);
	write_pages(vm, t, phys);
	cr_assert_eq(vm_profile_start(vm, 0), VMM_OK, "%s", vm_message(vm));
	unmap(vm, t, A, PAGES * 4096ULL);
	cr_assert_eq(vm_profile_stop(vm), VMM_OK, "%s", vm_message(vm));
	/* free_pages_prepare() clears each freed page: PAGES calls, each at least rep stosq and ret. */
	if (init_on_free)
		cr_assert_geq(clear_page_instructions(vm), 2 * PAGES, "munmap cleared fewer than %u pages",
			      PAGES);
	else
		cr_assert_eq(clear_page_instructions(vm), 0);
	for (unsigned int i = 0; i < PAGES; i++) {
		cr_assert_eq(vm_read_phys(vm, phys[i], buf, sizeof(buf)), 0);
		if (init_on_free) {
			cr_assert(!memcmp(buf, zero, sizeof(buf)), "freed page %#lx not zero",
				  (unsigned long)phys[i]);
		} else {
			memcpy(&first, buf, sizeof(first));
			cr_assert_eq(first, VAL, "freed page %#lx: %#lx", (unsigned long)phys[i],
				     (unsigned long)first);
		}
	}
	end_vm(vm);
}

Test(init_on_free, a_freed_page_reads_back_zero_only_under_it, .timeout = 60)
{
	require_kvm();
	freed_page_contents(true);
	freed_page_contents(false);
}

/*
 * Pages written, unmapped, mapped again and written again: the second
 * round's faults take the frames the first freed (the free list hands
 * back the last freed first), zero but for what the second write put
 * there; clear_page() runs in those faults only without init_on_free.
 */
static void refault(bool init_on_free)
{
	static const uint8_t zero[4096 - 8];
	uint64_t first[PAGES], second[PAGES], t, self, incl, cleared;
	uint8_t buf[4096];
	unsigned int reused = 0;
	struct vm *vm = boot(init_on_free);

	t = new_task(vm);
	map(vm, t, A, PAGES * 4096ULL, RW);
	warm_up(vm, t);
	write_pages(vm, t, first);
	unmap(vm, t, A, PAGES * 4096ULL);
	map(vm, t, A, PAGES * 4096ULL, RW);
	cr_assert_eq(vm_profile_start(vm, 0), VMM_OK, "%s", vm_message(vm));
	write_pages(vm, t, second);
	cr_assert_eq(vm_profile_stop(vm), VMM_OK, "%s", vm_message(vm));
	/* As profile.second_fault_cheaper_tables_attributed: the nested host does not count the #PF path. */
	if (!vm_profile_symbol(vm, "exc_page_fault", &self, &incl) || !incl) {
		end_vm(vm);
		cr_skip_test("host quirk: single-step does not enter the #PF handler from ring 3 here");
	}
	cleared = clear_page_instructions(vm);
	for (unsigned int i = 0; i < PAGES; i++)
		for (unsigned int j = 0; j < PAGES; j++)
			reused += second[i] == first[j];
	cr_assert_eq(reused, PAGES, "only %u of the faults reused a freed page", reused);
	/*
	 * One clear_page() call per reused anonymous page, each at least its
	 * rep stosq and ret: 2 * PAGES instructions or more.
	 */
	if (init_on_free)
		cr_assert_eq(cleared, 0, "the faults ran clear_page(): %lu instructions",
			     (unsigned long)cleared);
	else
		cr_assert_geq(cleared, 2 * PAGES, "the faults cleared fewer than %u pages", PAGES);
	for (unsigned int i = 0; i < PAGES; i++) {
		cr_assert_eq(vm_read_phys(vm, second[i], buf, sizeof(buf)), 0);
		cr_assert(!memcmp(buf + 8, zero, sizeof(zero)), "page %#lx not zeroed when mapped",
			  (unsigned long)second[i]);
	}
	end_vm(vm);
}

Test(init_on_free, the_fault_clears_a_freed_page_only_without_it, .timeout = 60)
{
	require_kvm();
	refault(true);
	refault(false);
}

/*
 * From the command line: --init-on-free changes when pages are zeroed, not
 * what happens: Linux's init_on_free adds no event and takes pages in the
 * same order, so the default workload's event counts are those without it.
 */
Test(init_on_free, the_cli_option_changes_no_event, .timeout = 30)
{
	const char *with[] = { VMM_BIN, "--init-on-free", GUEST_ELF, NULL };
	const char *without[] = { VMM_BIN, GUEST_ELF, NULL };
	struct cli_run a, b;
	const char *ea, *eb;

	require_kvm();
	run_vmm(&a, with);
	run_vmm(&b, without);
	cr_assert_eq(a.status, 0, "%s", a.err);
	cr_assert_eq(b.status, 0, "%s", b.err);
	ea = strstr(a.err, " events: ");
	eb = strstr(b.err, " events: ");
	cr_assert(ea && eb, "no event summary in\n%s", a.err);
	cr_assert_eq(strcspn(ea, "\n"), strcspn(eb, "\n"));
	cr_assert(!strncmp(ea, eb, strcspn(ea, "\n")), "%.*s\nagainst\n%.*s", (int)strcspn(ea, "\n"),
		  ea, (int)strcspn(eb, "\n"), eb);
	cli_run_free(&a);
	cli_run_free(&b);
}
