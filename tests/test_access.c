/*
 * The walker's permission differential against the real MMU, in the manner
 * of kvm-unit-tests' x86/access.c.  A case is a PDE and a PTE (or one 2 MiB
 * PDE) with any of P, R/W, U/S, NX, A and D, or with one reserved bit;
 * CR0.WP and EFER.NXE, and where KVM offers them CR4.SMEP, CR4.SMAP with
 * EFLAGS.AC either way, and CR4.PKE with each PKRU right on the leaf's key;
 * and one access: read, write or fetch, from ring 3 or from the kernel.  The guest (guest/kernel/access.c) builds the entries
 * over its test page and makes the access; the host's model says whether it
 * faults, with which error code, and what the entries hold after.  Every
 * case must agree.
 *
 * One test per access (read, write, fetch; kernel or user), each in a VM
 * of its own, so that the six run side by side under Criterion's jobs.
 *
 * The model is libvmm's walker: each case's entries go into the task's
 * tables in guest RAM (the guest waits between ops), vm_walk() and
 * vm_walk_permits() decide translation, reserved bits and rights, and the
 * error code (SDM vol. 3A 4.7) and A/D bits (4.8) follow from their answer.
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <time.h>

#include "guest_ops.h"
#include "harness.h"
#include "quirks.h"

#define TEST_ADDR	SZ_1G		/* the task's 2 MiB for the test */

#define PT_BIT13	(1ULL << 13)	/* reserved in a 2 MiB PDE and a 1 GiB PDPTE */
#define PT_PKEY1	(1ULL << PT_PKEY_SHIFT)	/* protection key 1 */

#define PKRU_AD1	(1u << 2)	/* key 1: access disable */
#define PKRU_WD1	(1u << 3)	/* key 1: write disable */


#define MAX_MISMATCHES	20		/* printed; all are counted */

struct cases {
	struct pw_access_case *c;
	size_t n, cap;
};

static void add(struct cases *cs, uint64_t pde, uint64_t pte, uint64_t how)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? 2 * cs->cap : 4096;
		cs->c = realloc(cs->c, cs->cap * sizeof(*cs->c));
		cr_assert_not_null(cs->c);
	}
	cs->c[cs->n++] = (struct pw_access_case){ .pde = pde, .pte = pte, .how = how };
}

/* The flags of `flags` picked by the bits of m. */
static uint64_t subset(const uint64_t *flags, unsigned int n, unsigned int m)
{
	uint64_t e = 0;

	for (unsigned int i = 0; i < n; i++)
		if (m & (1u << i))
			e |= flags[i];
	return e;
}

/* What KVM's CPUID offers of the optional dimensions. */
struct features {
	bool smep, smap, pku, gbpages;
};

static struct features offered(void)
{
	struct kvm_cpuid_entry2 l7 = { 0 }, ext = { 0 };
	bool has7 = kvm_cpuid(7, &l7), has_ext = kvm_cpuid(0x80000001, &ext);

	return (struct features){
		.smep = has7 && (l7.ebx & (1u << 7)),
		.smap = has7 && (l7.ebx & (1u << 20)),
		.pku = has7 && (l7.ecx & (1u << 3)),
		.gbpages = has_ext && (ext.edx & (1u << 26)),
	};
}

/*
 * The modes, as PW_AC_* bits of `how`: CR0.WP x EFER.NXE, and where
 * offered x SMEP x (SMAP off, on with AC clear, on with AC set); then PKE
 * under EFER.NXE x CR0.WP (the write-disable of kernel writes follows it)
 * with each of key 1's four PKRU rights.  EFER.NXE changes least often:
 * the guest moves the kernel's own NX bits each time it does.
 */
static unsigned int make_modes(const struct features *f, uint64_t *mode)
{
	static const uint64_t smap[] = { 0, PW_AC_CR4_SMAP, PW_AC_CR4_SMAP | PW_AC_EFLAGS_AC };
	static const uint32_t pkru[] = { 0, PKRU_AD1, PKRU_WD1, PKRU_AD1 | PKRU_WD1 };
	unsigned int n = 0;

	for (int nxe = 1; nxe >= 0; nxe--)
		for (int wp = 1; wp >= 0; wp--)
			for (int sm = 0; sm <= f->smep; sm++)
				for (int sa = 0; sa < (f->smap ? 3 : 1); sa++)
					mode[n++] = (nxe ? PW_AC_EFER_NXE : 0) | (wp ? PW_AC_CR0_WP : 0) |
						    (sm ? PW_AC_CR4_SMEP : 0) | smap[sa];
	for (int wp = 1; f->pku && wp >= 0; wp--)
		for (int k = 0; k < 4; k++)
			mode[n++] = PW_AC_EFER_NXE | (wp ? PW_AC_CR0_WP : 0) | PW_AC_CR4_PKE |
				    (uint64_t)pkru[k] << PW_AC_PKRU_SHIFT;
	return n;
}

/*
 * Per mode, for one access: every PDE over every PTE, every 2 MiB PDE, then one
 * reserved bit (past MAXPHYADDR in the PTE or the PDE, or bit 13 of a
 * 2 MiB PDE) over the rights bits; with 1 GiB pages, every 1 GiB PDPTE
 * and its reserved bits the same way.  Under PKE every leaf has key 1.
 * The AC bit only changes kernel data accesses: with it, only those run.
 * `acc` is the access: PW_ACCESS_READ, _WRITE or _FETCH, with PW_AC_USER.
 */
static void make_cases(struct cases *cs, const uint64_t *mode, unsigned int nmodes, uint64_t rsvd,
		       bool gbpages, uint64_t acc)
{
	static const uint64_t pde_f[] = { PT_PRESENT, PT_RW, PT_USER, PT_NX, PT_ACCESSED };
	static const uint64_t pte_f[] = { PT_PRESENT, PT_RW, PT_USER, PT_NX, PT_ACCESSED, PT_DIRTY };

	for (unsigned int i = 0; i < nmodes; i++) {
		uint64_t key = mode[i] & PW_AC_CR4_PKE ? PT_PKEY1 : 0, how = mode[i] | acc;

		if ((how & PW_AC_EFLAGS_AC) &&
		    ((acc & PW_AC_USER) || (acc & PW_AC_ACCESS) == PW_ACCESS_FETCH))
			continue;
		for (unsigned int d = 0; d < 32; d++)
			for (unsigned int t = 0; t < 64; t++)
				add(cs, subset(pde_f, 5, d), key | subset(pte_f, 6, t), how);
		for (unsigned int d = 0; d < 64; d++)
			add(cs, key | PT_PSE | subset(pte_f, 6, d), 0, how);
		for (unsigned int t = 0; rsvd && t < 8 * 16; t++) {
			uint64_t pde = subset(pde_f, 3, t % 8), pte = key | subset(pte_f, 4, t / 8);

			add(cs, pde, pte | rsvd, how);
			add(cs, pde | rsvd, pte, how);
		}
		for (unsigned int d = 0; d < 16; d++) {
			uint64_t large = key | PT_PSE | subset(pte_f, 4, d);

			if (rsvd)
				add(cs, large | rsvd, 0, how);
			add(cs, large | PT_BIT13, 0, how);
		}
		for (unsigned int d = 0; gbpages && d < 64; d++)
			add(cs, key | PT_PSE | subset(pte_f, 6, d), 0, how | PW_AC_PDPTE);
		for (unsigned int d = 0; gbpages && d < 16; d++) {
			uint64_t huge = key | PT_PSE | subset(pte_f, 4, d);

			if (rsvd)
				add(cs, huge | rsvd, 0, how | PW_AC_PDPTE);
			add(cs, huge | PT_BIT13, 0, how | PW_AC_PDPTE);
		}
	}
}

/* Where the guest's entries live, and the vCPU's paging with CR3 = the task's pgd. */
struct model {
	struct vm *vm;
	struct vm_paging pg;
	uint64_t va, page, pte_table;	/* the test page's address, where it is, its PTE table */
	uint64_t va_1g;			/* its address through a 1 GiB PDPTE */
	uint64_t pud_at, pde_at, pte_at;	/* guest-physical addresses of the three entries */
	uint64_t pud;			/* the task's own PDPTE there */
};

struct answer {
	int64_t error_code;		/* -1: no #PF */
	uint64_t pde, pte;		/* the entries after */
	uint64_t pde_either;		/* bits of pde the SDM leaves to the CPU */
};

static struct answer predict(const struct model *m, const struct pw_access_case *c)
{
	unsigned int access = c->how & PW_AC_ACCESS;
	bool large = c->pde & PT_PSE, gb = c->how & PW_AC_PDPTE, nxe = c->how & PW_AC_EFER_NXE;
	unsigned int rights = (c->how & PW_AC_USER ? VM_ACCESS_USER : 0) |
			      (access == PW_ACCESS_WRITE ? VM_ACCESS_WRITE : 0) |
			      (access == PW_ACCESS_FETCH ? VM_ACCESS_FETCH : 0);
	struct vm_paging pg = m->pg;
	struct answer a = { .error_code = -1 };
	uint64_t *leaf = large ? &a.pde : &a.pte;
	uint64_t pud = m->pud, va = gb ? m->va_1g : m->va;
	struct vm_walk w;
	uint32_t code;

	pg.cr0 = c->how & PW_AC_CR0_WP ? pg.cr0 | X86_CR0_WP : pg.cr0 & ~X86_CR0_WP;
	pg.efer = nxe ? pg.efer | EFER_NXE : pg.efer & ~EFER_NXE;
	pg.cr4 &= ~(X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE);
	pg.cr4 |= (c->how & PW_AC_CR4_SMEP ? X86_CR4_SMEP : 0) |
		  (c->how & PW_AC_CR4_SMAP ? X86_CR4_SMAP : 0) |
		  (c->how & PW_AC_CR4_PKE ? X86_CR4_PKE : 0);
	pg.rflags = c->how & PW_AC_EFLAGS_AC ? X86_EFLAGS_AC : 0;
	pg.pkru = c->how >> PW_AC_PKRU_SHIFT;
	if (gb) {		/* pde is the PDPTE; the PDE and PTE are out of the walk */
		a.pde = pud = (m->page & ~(SZ_1G - 1)) | c->pde;
	} else {
		a.pde = (large ? m->page & ~(2 * SZ_1M - 1) : m->pte_table) | c->pde;
		a.pte = large ? 0 : m->page | c->pte;
		cr_assert_eq(vm_write_phys(m->vm, m->pde_at, &a.pde, 8), 0);
		cr_assert_eq(vm_write_phys(m->vm, m->pte_at, &a.pte, 8), 0);
	}
	cr_assert_eq(vm_write_phys(m->vm, m->pud_at, &pud, 8), 0);
	cr_assert_eq(vm_walk(m->vm, &pg, va + (access == PW_ACCESS_FETCH ? 0 : PW_AC_DATA), &w),
		     VMM_OK);

	code = vm_walk_fault(&pg, &w, rights);
	if (w.present && !code) {
		*leaf |= PT_ACCESSED | (access == PW_ACCESS_WRITE ? PT_DIRTY : 0);
		if (!large)
			a.pde |= PT_ACCESSED;
		return a;
	}
	a.error_code = code;
	/*
	 * A faulting walk may or may not have set A in a PDE it went through
	 * to the PTE (4.8 sets A in an entry "used" for translation and does
	 * not say when a later level faults: KVM's walker leaves it, QEMU's
	 * sets it).  Stricter than x86/access.c, which ignores PDE.A on every
	 * fault: where the walk ends at the PDE itself (not present, a
	 * reserved bit, or a 2 MiB leaf that denies the access) the PDE gave
	 * no translation (4.7), and both walkers leave its A alone.
	 */
	if (w.level == 1)
		a.pde_either = PT_ACCESSED;
	return a;
}

/*
 * The entries must agree, and the error code; or differ only by named host
 * quirks, each marked in seen[].
 */
static bool agree(const struct answer *a, const struct pw_access_case *c, bool seen[NR_HOST_QUIRKS])
{
	bool pde_ok = !((a->pde ^ c->pde_after) & ~a->pde_either);
	enum host_quirk q;

	if (!pde_ok && (c->how & PW_AC_PDPTE) && a->error_code >= 0) {
		q = gb_leaf_quirk(a->pde, c->pde_after);
		if (q == QUIRK_NONE)
			return false;
		seen[q] = pde_ok = true;
	}
	if (!pde_ok || a->pte != c->pte_after)
		return false;
	if (a->error_code == c->error_code)
		return true;
	q = pf_error_quirk(a->error_code, c->error_code);
	if (q == QUIRK_NONE)
		return false;
	return seen[q] = true;
}

static const char *flags(uint64_t e, uint64_t rsvd, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ PT_PRESENT, "P" }, { PT_RW, "RW" }, { PT_USER, "US" }, { PT_ACCESSED, "A" }, { PT_DIRTY, "D" },
		{ PT_PSE, "PS" }, { PT_NX, "NX" }, { PT_BIT13, "bit13" }, { PT_PKEY1, "key1" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (e & names[i].bit)
			used += snprintf(buf + used, len - used, "%s%s", used ? "|" : "", names[i].name);
	if (e & rsvd)
		used += snprintf(buf + used, len - used, "%srsvd", used ? "|" : "");
	if (!used)
		snprintf(buf, len, "-");
	return buf;
}

static const char *fault(int64_t error_code, char *buf, size_t len)
{
	if (error_code < 0)
		return "no #PF";
	snprintf(buf, len, "#PF %#lx", (unsigned long)error_code);
	return buf;
}

static void report_mismatch(size_t i, const struct pw_access_case *c, const struct answer *a,
			    uint64_t rsvd)
{
	static const char *const access[] = { "read", "write", "fetch" };
	char pde[64], pte[64], want[32], got[32];

	cr_log_error("case %zu: PDE %s PTE %s, %s %s, CR0.WP=%d EFER.NXE=%d SMEP=%d SMAP=%d AC=%d "
		     "PKE=%d PKRU=%#x: model %s, PDE %#lx (A either way: %s), PTE %#lx; "
		     "MMU %s, PDE %#lx, PTE %#lx",
		     i, flags(c->pde, rsvd, pde, sizeof(pde)), flags(c->pte, rsvd, pte, sizeof(pte)),
		     c->how & PW_AC_USER ? "user" : "kernel", access[c->how & PW_AC_ACCESS],
		     !!(c->how & PW_AC_CR0_WP), !!(c->how & PW_AC_EFER_NXE),
		     !!(c->how & PW_AC_CR4_SMEP), !!(c->how & PW_AC_CR4_SMAP),
		     !!(c->how & PW_AC_EFLAGS_AC), !!(c->how & PW_AC_CR4_PKE),
		     (unsigned int)(c->how >> PW_AC_PKRU_SHIFT),
		     fault(a->error_code, want, sizeof(want)), (unsigned long)a->pde,
		     a->pde_either ? "yes" : "no", (unsigned long)a->pte,
		     fault(c->error_code, got, sizeof(got)), (unsigned long)c->pde_after,
		     (unsigned long)c->pte_after);
}

/* Which optional dimensions run, and why any does not: reported, never silently dropped. */
static void report_dimensions(const struct features *f)
{
	const struct {
		const char *what;
		bool offered;
	} d[] = {
		{ "SMEP", f->smep },
		{ "SMAP and EFLAGS.AC", f->smap },
		{ "PKU", f->pku },
		{ "1 GiB pages", f->gbpages },
	};

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		cr_log_info("access: %s %s", d[i].what,
			    d[i].offered ? "exercised" : "skipped: not in KVM's CPUID on this host");
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Every case of one access (PW_ACCESS_* with PW_AC_USER) in every mode. */
static void model_and_mmu_agree(uint64_t acc)
{
	struct kvm_cpuid_entry2 leaf;
	struct features f = offered();
	uint64_t modes[32];
	unsigned int nmodes;
	struct cases cs = { 0 };
	struct answer *want;
	struct model m = { 0 };
	struct timespec t0;
	struct vm_walk w;
	struct pw_access_test_out out;
	uint64_t t, rsvd, clean_pde, zero = 0;
	unsigned int maxphyaddr, ops = 0;
	size_t mismatches = 0, faults = 0, rsvd_faults = 0, pk_faults = 0, quirks[NR_HOST_QUIRKS] = { 0 };
	double model_s, guest_s;

	require_kvm();
	report_dimensions(&f);
	maxphyaddr = kvm_cpuid(0x80000008, &leaf) ? leaf.eax & 0xff : 36;
	rsvd = maxphyaddr < 52 ? 1ULL << maxphyaddr : 0;
	if (!rsvd)
		cr_log_info("access: reserved address bits skipped: MAXPHYADDR is 52");
	nmodes = make_modes(&f, modes);
	make_cases(&cs, modes, nmodes, rsvd, f.gbpages, acc);

	m.vm = boot_ops_guest_with(TEST_GUEST_ELF, NULL, 0, 1);
	t = new_task(m.vm);
	map(m.vm, t, TEST_ADDR, 2 * SZ_1M, RW);
	cr_assert_eq(op(m.vm, access_test, &out, t, TEST_ADDR, 0), 0);
	m.page = out.page;
	m.va = TEST_ADDR + (m.page & (2 * SZ_1M - 1));
	cr_assert_eq(vm_cpu_paging(m.vm, 0, &m.pg), VMM_OK);
	m.pg.cr3 = pgd_of(m.vm, 1);
	cr_assert_eq(vm_walk(m.vm, &m.pg, m.va, &w), VMM_OK);
	cr_assert(!w.present && w.level == 1, "the op made a PTE table and left the page unmapped");
	clean_pde = w.entries[1];
	m.pte_table = clean_pde & PT_ADDR_MASK;
	m.pde_at = (w.entries[2] & PT_ADDR_MASK) + ((m.va >> 21) & 511) * 8;
	m.pte_at = m.pte_table + ((m.va >> 12) & 511) * 8;
	m.pud = w.entries[2];
	m.pud_at = (w.entries[3] & PT_ADDR_MASK) + ((m.va >> 30) & 511) * 8;
	m.va_1g = TEST_ADDR + (m.page & (SZ_1G - 1));

	/* The model's answers are fixed before the guest runs a case. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	want = calloc(cs.n, sizeof(*want));
	cr_assert_not_null(want);
	for (size_t i = 0; i < cs.n; i++)
		want[i] = predict(&m, &cs.c[i]);
	cr_assert_eq(vm_write_phys(m.vm, m.pud_at, &m.pud, 8), 0);
	cr_assert_eq(vm_write_phys(m.vm, m.pde_at, &clean_pde, 8), 0);
	cr_assert_eq(vm_write_phys(m.vm, m.pte_at, &zero, 8), 0);
	model_s = seconds_since(&t0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0, n; i < cs.n; i += n, ops++) {
		/*
		 * An op ends where EFER.NXE changes: the guest parks the
		 * kernel's NX bits (a walk of all its mappings) when an op
		 * clears it and puts them back before the op returns.
		 */
		for (n = 1; i + n < cs.n && n < PW_ACCESS_TEST_MAX; n++)
			if ((cs.c[i + n].how ^ cs.c[i].how) & PW_AC_EFER_NXE)
				break;
		cr_assert_eq(vm_write_phys(m.vm, out.table, &cs.c[i], n * sizeof(cs.c[0])), 0);
		cr_assert_eq(op(m.vm, access_test, NULL, t, TEST_ADDR, n), (int64_t)n);
		cr_assert_eq(vm_read_phys(m.vm, out.table, &cs.c[i], n * sizeof(cs.c[0])), 0);
	}
	guest_s = seconds_since(&t0);

	for (size_t i = 0; i < cs.n; i++) {
		faults += cs.c[i].error_code >= 0;
		rsvd_faults += cs.c[i].error_code >= 0 && (cs.c[i].error_code & X86_PF_RSVD);
		pk_faults += cs.c[i].error_code >= 0 && (cs.c[i].error_code & X86_PF_PK);
		bool seen[NR_HOST_QUIRKS] = { false };

		if (agree(&want[i], &cs.c[i], seen)) {
			for (int k = 0; k < NR_HOST_QUIRKS; k++)
				quirks[k] += seen[k];
			continue;
		}
		if (mismatches++ < MAX_MISMATCHES)
			report_mismatch(i, &cs.c[i], &want[i], rsvd);
	}
	cr_log_info("access: %zu cases in %u modes (%zu #PF, %zu of them RSVD, %zu PK), %zu disagree; "
		    "the model took %.0f ms, the guest %.1f s in %u ops",
		    cs.n, nmodes, faults, rsvd_faults, pk_faults, mismatches, model_s * 1e3, guest_s, ops);
	for (int k = 0; k < NR_HOST_QUIRKS; k++)
		if (quirks[k])
			cr_log_info("access: host quirk: %zu cases show %s", quirks[k],
				    host_quirk_names[k]);
	cr_assert_eq(mismatches, 0, "%zu of %zu cases disagree (the first %d above)", mismatches,
		     cs.n, MAX_MISMATCHES);

	/* The op leaves the task's tables as it found them. */
	cr_assert_eq(vm_walk(m.vm, &m.pg, m.va, &w), VMM_OK);
	cr_assert(!w.present && w.level == 1 && (w.entries[1] & PT_ADDR_MASK) == m.pte_table);
	free(want);
	free(cs.c);
	vm_destroy(m.vm);
}

Test(access, model_and_mmu_agree_on_kernel_reads)
{
	model_and_mmu_agree(PW_ACCESS_READ);
}

Test(access, model_and_mmu_agree_on_kernel_writes)
{
	model_and_mmu_agree(PW_ACCESS_WRITE);
}

Test(access, model_and_mmu_agree_on_kernel_fetches)
{
	model_and_mmu_agree(PW_ACCESS_FETCH);
}

Test(access, model_and_mmu_agree_on_user_reads)
{
	model_and_mmu_agree(PW_AC_USER | PW_ACCESS_READ);
}

Test(access, model_and_mmu_agree_on_user_writes)
{
	model_and_mmu_agree(PW_AC_USER | PW_ACCESS_WRITE);
}

Test(access, model_and_mmu_agree_on_user_fetches)
{
	model_and_mmu_agree(PW_AC_USER | PW_ACCESS_FETCH);
}
