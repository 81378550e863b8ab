/*
 * Boot parameters from the VMM's flattened device tree, parsed with libfdt.
 *
 * Linux's early FDT code looks each node up from the root by path and each
 * property by name (early_init_dt_scan_chosen(): fdt_path_offset(),
 * fdt_getprop()), and libfdt walks the tags from the start of the tree or
 * node for every one: 5 paths and 14 properties cost ~96 000 instructions
 * here.  The guest differs: it walks the tags once (fdt_next_tag()) and
 * takes each wanted property as it passes, the same values found: a path's
 * node is the first top-level node of that name, a property the first of
 * its name in the node.
 */
#include <libfdt.h>

#include "kernel.h"
#include "pgtable.h"

/* A property wanted from a node: its value and length once found. */
struct fdt_want {
	const char *name;
	const void *val;	/* NULL: absent */
	int len;
};

/*
 * The property at off, if one of want[] not yet found: fdt_getprop()'s first
 * match.  fdt_next_tag() has just checked that the whole property lies in
 * the block, so its header is read in place rather than walked to again by
 * fdt_getprop_by_offset(); its name is still checked, by fdt_get_string().
 * Values need no realignment: parse_boot_fdt() takes version 16 and up.
 */
static int take_prop(const void *fdt, int off, struct fdt_want *want, unsigned int n)
{
	const struct fdt_property *prop = fdt_offset_ptr(fdt, off, sizeof(*prop));
	const char *name = prop ? fdt_get_string(fdt, fdt32_ld(&prop->nameoff), NULL) : NULL;

	if (!name)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		if (!want[i].val && !strcmp(name, want[i].name)) {
			want[i].val = prop->data;
			want[i].len = fdt32_ld(&prop->len);
			break;
		}
	}
	return 0;
}

static int prop_u32(const struct fdt_want *w, uint32_t *out)
{
	if (!w->val || w->len != sizeof(fdt32_t))
		return -1;
	*out = fdt32_ld(w->val);
	return 0;
}

/* One (address, size) pair with #address-cells = #size-cells = 2. */
static int prop_reg(const struct fdt_want *w, uint64_t *addr, uint64_t *size)
{
	const fdt64_t *p = w->val;

	if (!p || w->len != 2 * sizeof(*p))
		return -1;
	*addr = fdt64_ld(&p[0]);
	*size = fdt64_ld(&p[1]);
	return 0;
}

/* The top-level nodes read, by the path Linux would look each up by. */
enum fdt_node { FN_OTHER, FN_CHOSEN, FN_MEMORY, FN_RESERVED, FN_CPUS, FN_CHANNEL, FN_NR };

#define FDT_PATH(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char *name;
	size_t len;
} fdt_node_path[FN_NR] = {
	[FN_CHOSEN] = FDT_PATH("chosen"), [FN_MEMORY] = FDT_PATH("memory"),
	[FN_RESERVED] = FDT_PATH("reserved-memory"), [FN_CPUS] = FDT_PATH("cpus"),
	[FN_CHANNEL] = FDT_PATH(PW_FDT_CHANNEL),
};
#undef FDT_PATH

/* In the order the VMM writes them (vmm/lib/fdt.c): a name's first compare is then its match. */
enum {
	CH_BOOTARGS, CH_WORKLOAD, CH_KERNEL_SYNC, CH_PAGING_LEVELS, CH_SPLIT_PTLOCK_CPUS, CH_INJECT,
	CH_FAIL_NTH, CH_INJECT_SEED, CH_NR
};
enum { CHAN_REG, RING_STRIDE, RING_CAPACITY, RING_THRESHOLD, DOORBELL_PORT, CHAN_NR };

/* What one walk of the tree found. */
struct fdt_scan {
	bool found[FN_NR];
	struct fdt_want chosen[CH_NR], memory, channel[CHAN_NR];
	unsigned int ncpus;		/* /cpus children */
	unsigned int nr_reserved;	/* /reserved-memory children, their reg in bp */
	bool bad_reserved;
};

/*
 * A top-level node's name against a path component, as fdt_path_offset()
 * matches it: the name itself, or the name and a unit address after '@'.
 */
static enum fdt_node fdt_node_kind(const char *name)
{
	for (enum fdt_node k = FN_OTHER + 1; k < FN_NR; k++) {
		size_t n = fdt_node_path[k].len;

		if (!memcmp(name, fdt_node_path[k].name, n) && (name[n] == '\0' || name[n] == '@'))
			return k;
	}
	return FN_OTHER;
}

/*
 * One walk of the structure block: a node's properties come before its
 * children (devicetree spec 5.4.1), so the properties wanted are those of
 * the node last begun.  A reserved region's reg is read at its end.
 */
static int fdt_scan(const void *fdt, struct fdt_scan *s, struct boot_params *bp)
{
	const struct { struct fdt_want *want; unsigned int n; } node_wants[FN_NR] = {
		[FN_CHOSEN] = { s->chosen, CH_NR }, [FN_MEMORY] = { &s->memory, 1 },
		[FN_CHANNEL] = { s->channel, CHAN_NR },
	};
	struct fdt_want region = { .name = "reg" }, *want = NULL;
	enum fdt_node top = FN_OTHER;	/* the top-level node the walk is in */
	unsigned int nwant = 0;
	int depth = -1, off, next;

	for (off = 0;; off = next) {
		switch (fdt_next_tag(fdt, off, &next)) {
		case FDT_BEGIN_NODE:
			want = NULL;
			if (++depth == 1) {
				/* The name follows the tag; fdt_next_tag() found its end in the block. */
				const char *name = fdt_offset_ptr(fdt, off + FDT_TAGSIZE, next - off - FDT_TAGSIZE);

				top = name ? fdt_node_kind(name) : FN_OTHER;
				if (s->found[top])
					top = FN_OTHER;		/* not the first of its name */
				s->found[top] = true;
				want = node_wants[top].want;
				nwant = node_wants[top].n;
			} else if (depth == 2 && top == FN_CPUS) {
				s->ncpus++;
			} else if (depth == 2 && top == FN_RESERVED) {
				region.val = NULL;
				want = &region;
				nwant = 1;
			}
			break;
		case FDT_PROP:
			if (want && take_prop(fdt, off, want, nwant))
				return -1;
			break;
		case FDT_END_NODE:
			want = NULL;
			if (depth == 2 && top == FN_RESERVED) {
				if (s->nr_reserved == ARRAY_SIZE(bp->reserved) ||
				    prop_reg(&region, &bp->reserved[s->nr_reserved].start,
					     &bp->reserved[s->nr_reserved].size))
					s->bad_reserved = true;
				else
					s->nr_reserved++;
			}
			if (depth-- < 0)
				return -1;
			break;
		case FDT_NOP:
			break;
		default:	/* FDT_END: the last tag, or next < 0 for a bad block */
			return next < 0 || depth != -1 ? -1 : 0;
		}
	}
}

/*
 * /memory: RAM from 0, and above the hole below 4 GiB when there is more.
 * The direct map maps it with 2 MiB pages, so every range is 2 MiB-aligned.
 */
static int parse_memory(const struct fdt_want *reg, struct boot_params *bp)
{
	const fdt64_t *p = reg->val;
	int len = reg->len;
	uint64_t end = 0;

	if (!p || !len || len % (2 * sizeof(*p)) || len / (2 * sizeof(*p)) > ARRAY_SIZE(bp->memory))
		return -1;
	bp->nr_memory = len / (2 * sizeof(*p));
	bp->ram_bytes = 0;
	for (unsigned int i = 0; i < bp->nr_memory; i++) {
		uint64_t start = fdt64_ld(&p[2 * i]), size = fdt64_ld(&p[2 * i + 1]);

		if ((i ? start < end : start != 0) || !size || (start | size) & ~PMD_MASK ||
		    start + size < start)
			return -1;
		bp->memory[i].start = start;
		bp->memory[i].size = size;
		bp->ram_bytes += size;
		end = start + size;
	}
	return 0;
}

/* /chosen: the workload and the VMM's words to the kernel. */
static int parse_chosen(const struct fdt_want *w, struct boot_params *bp)
{
	const fdt32_t *p32;
	const char *s;
	uint32_t v;
	int len;

	s = w[CH_WORKLOAD].val;
	len = w[CH_WORKLOAD].len;
	if (!s || len < 1 || (size_t)len > sizeof(bp->workload) || s[len - 1])
		return -5;
	memcpy(bp->workload, s, len);

	s = w[CH_BOOTARGS].val;
	len = w[CH_BOOTARGS].len;
	bp->cmdline[0] = '\0';
	if (s && (len < 1 || (size_t)len > sizeof(bp->cmdline) || s[len - 1]))
		return -11;
	if (s)
		memcpy(bp->cmdline, s, len);

	s = w[CH_KERNEL_SYNC].val;
	len = w[CH_KERNEL_SYNC].len;
	bp->kernel_sync = 0;
#define PW_SYNC_PARSE(name, id, str)				\
	if (s && len == sizeof(str) && !memcmp(s, str, len))	\
		bp->kernel_sync = id;
	PW_KERNEL_SYNC_MODES(PW_SYNC_PARSE)
#undef PW_SYNC_PARSE
	if (!bp->kernel_sync)
		return -9;

	/* Fault injection, armed when the workload starts (kernel/main.c). */
	bp->inject_seed = w[CH_INJECT_SEED].val && w[CH_INJECT_SEED].len == sizeof(fdt64_t) ?
			  fdt64_ld(w[CH_INJECT_SEED].val) : 0;
	bp->fail_nth = 0;
	prop_u32(&w[CH_FAIL_NTH], &bp->fail_nth);
	p32 = w[CH_INJECT].val;
	len = w[CH_INJECT].len;
	if (p32 && (len % (PW_INJECT_CELLS * 4) || len / (PW_INJECT_CELLS * 4) > PW_INJECT_MAX_SPECS))
		return -10;
	bp->nr_inject = p32 ? len / (PW_INJECT_CELLS * 4) : 0;
	for (unsigned int i = 0; i < bp->nr_inject * PW_INJECT_CELLS; i++)
		bp->inject[i / PW_INJECT_CELLS][i % PW_INJECT_CELLS] = fdt32_ld(&p32[i]);

	/* The VMM's word and CR4 (bp->paging_levels, read first) must agree. */
	if (prop_u32(&w[CH_PAGING_LEVELS], &v) || v != bp->paging_levels)
		return -12;

	bp->split_ptlock_cpus = 4;	/* CONFIG_SPLIT_PTLOCK_CPUS default */
	if (!prop_u32(&w[CH_SPLIT_PTLOCK_CPUS], &v))
		bp->split_ptlock_cpus = v;
	return 0;
}

/* /channel: the per-CPU rings and the doorbell, for bp->ncpus CPUs. */
static int parse_channel(const struct fdt_want *w, struct boot_params *bp)
{
	uint64_t size;
	uint32_t v;

	if (prop_reg(&w[CHAN_REG], &bp->chan_base, &size) ||
	    prop_u32(&w[RING_CAPACITY], &bp->chan_capacity) ||
	    prop_u32(&w[RING_THRESHOLD], &bp->chan_threshold) || prop_u32(&w[DOORBELL_PORT], &v))
		return -6;
	bp->doorbell_port = v;
	if (prop_u32(&w[RING_STRIDE], &v))
		return -6;
	bp->chan_stride = v;
	if (bp->chan_stride * bp->ncpus > size)
		return -7;
	return 0;
}

/*
 * What the walk finds, static rather than on the stack: the boot CPU reads
 * the tree once, and a small frame keeps the profiler's unwind past
 * libfdt (frameless) from taking a stale word in it for a frame.
 */
static struct fdt_scan boot_scan = {
	.chosen = {
		[CH_BOOTARGS] = { .name = PW_FDT_BOOTARGS },
		[CH_WORKLOAD] = { .name = PW_FDT_WORKLOAD },
		[CH_KERNEL_SYNC] = { .name = PW_FDT_KERNEL_SYNC },
		[CH_PAGING_LEVELS] = { .name = PW_FDT_PAGING_LEVELS },
		[CH_SPLIT_PTLOCK_CPUS] = { .name = PW_FDT_SPLIT_PTLOCK_CPUS },
		[CH_INJECT] = { .name = PW_FDT_INJECT },
		[CH_FAIL_NTH] = { .name = PW_FDT_FAIL_NTH },
		[CH_INJECT_SEED] = { .name = PW_FDT_INJECT_SEED },
	},
	.memory = { .name = "reg" },
	.channel = {
		[CHAN_REG] = { .name = "reg" },
		[RING_STRIDE] = { .name = PW_FDT_RING_STRIDE },
		[RING_CAPACITY] = { .name = PW_FDT_RING_CAPACITY },
		[RING_THRESHOLD] = { .name = PW_FDT_RING_THRESHOLD },
		[DOORBELL_PORT] = { .name = PW_FDT_DOORBELL_PORT },
	},
};

int parse_boot_fdt(uint64_t fdt_pa, struct boot_params *bp)
{
	const void *fdt = __va(fdt_pa);
	struct fdt_scan *s = &boot_scan;
	int err;

	if (fdt_check_header(fdt) || fdt_version(fdt) < 0x10 || fdt_scan(fdt, s, bp))
		return -1;
	if (!s->found[FN_MEMORY] || parse_memory(&s->memory, bp))
		return -2;
	if (!s->found[FN_CPUS])
		return -3;
	bp->ncpus = s->ncpus;
	if (!s->found[FN_CHOSEN])
		return -4;
	err = parse_chosen(s->chosen, bp);
	if (!err && (!s->found[FN_RESERVED] || s->bad_reserved))
		err = -8;
	bp->nr_reserved = s->nr_reserved;
	if (!err && !s->found[FN_CHANNEL])
		err = -6;
	return err ?: parse_channel(s->channel, bp);
}
