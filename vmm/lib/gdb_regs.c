/*
 * The vCPU's registers as gdb sees them: one table gives both the target
 * description (gdb's own features/i386/64bit-core.xml, 64bit-sse.xml and
 * 64bit-segments.xml, register for register, plus the control registers)
 * and the order and size of each register in `g`, `G`, `p` and `P`.
 */
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "gdb.h"

/* The KVM state a register lives in. */
enum src { GPR, EFLAGS, SEL, ST, FPU32, XMM, MXCSR, BASE, CR };

/* The FPU's 32-bit registers. */
enum { FCTRL, FSTAT, FTAG, FISEG, FIOFF, FOSEG, FOOFF, FOP };

struct reg {
	const char *name;
	unsigned int bits;
	const char *type;
	const char *group;
	unsigned int feature;		/* index into features[] */
	enum src src;
	size_t off;			/* GPR, SEL, BASE, CR: offset in kvm_regs or kvm_sregs; else an index */
};

static const struct feature {
	const char *name;
	const char *types;
} features[] = {
	{ "org.gnu.gdb.i386.core",
	  "<flags id=\"i386_eflags\" size=\"4\">"
	  "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
	  "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
	  "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
	  "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
	  "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
	  "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
	  "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
	  "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
	  "<field name=\"ID\" start=\"21\" end=\"21\"/></flags>" },
	{ "org.gnu.gdb.i386.sse",
	  "<vector id=\"v8bf16\" type=\"bfloat16\" count=\"8\"/>"
	  "<vector id=\"v8h\" type=\"ieee_half\" count=\"8\"/>"
	  "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	  "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	  "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	  "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	  "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	  "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	  "<union id=\"vec128\"><field name=\"v8_bfloat16\" type=\"v8bf16\"/>"
	  "<field name=\"v8_half\" type=\"v8h\"/><field name=\"v4_float\" type=\"v4f\"/>"
	  "<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
	  "<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
	  "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>"
	  "<flags id=\"i386_mxcsr\" size=\"4\">"
	  "<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
	  "<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>"
	  "<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>"
	  "<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
	  "<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>"
	  "<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>"
	  "<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/>"
	  "</flags>" },
	{ "org.gnu.gdb.i386.segments", "" },
	/* gdb has no feature for them; QEMU adds them to its core feature, with these flags. */
	{ "org.pagewalk.x86.sys",
	  "<flags id=\"x64_cr0\" size=\"8\">"
	  "<field name=\"PG\" start=\"31\" end=\"31\"/><field name=\"CD\" start=\"30\" end=\"30\"/>"
	  "<field name=\"NW\" start=\"29\" end=\"29\"/><field name=\"AM\" start=\"18\" end=\"18\"/>"
	  "<field name=\"WP\" start=\"16\" end=\"16\"/><field name=\"NE\" start=\"5\" end=\"5\"/>"
	  "<field name=\"ET\" start=\"4\" end=\"4\"/><field name=\"TS\" start=\"3\" end=\"3\"/>"
	  "<field name=\"EM\" start=\"2\" end=\"2\"/><field name=\"MP\" start=\"1\" end=\"1\"/>"
	  "<field name=\"PE\" start=\"0\" end=\"0\"/></flags>"
	  "<flags id=\"x64_cr4\" size=\"8\">"
	  "<field name=\"PKE\" start=\"22\" end=\"22\"/><field name=\"SMAP\" start=\"21\" end=\"21\"/>"
	  "<field name=\"SMEP\" start=\"20\" end=\"20\"/><field name=\"OSXSAVE\" start=\"18\" end=\"18\"/>"
	  "<field name=\"PCIDE\" start=\"17\" end=\"17\"/><field name=\"FSGSBASE\" start=\"16\" end=\"16\"/>"
	  "<field name=\"LA57\" start=\"12\" end=\"12\"/><field name=\"UMIP\" start=\"11\" end=\"11\"/>"
	  "<field name=\"OSXMMEXCPT\" start=\"10\" end=\"10\"/><field name=\"OSFXSR\" start=\"9\" end=\"9\"/>"
	  "<field name=\"PCE\" start=\"8\" end=\"8\"/><field name=\"PGE\" start=\"7\" end=\"7\"/>"
	  "<field name=\"MCE\" start=\"6\" end=\"6\"/><field name=\"PAE\" start=\"5\" end=\"5\"/>"
	  "<field name=\"PSE\" start=\"4\" end=\"4\"/><field name=\"DE\" start=\"3\" end=\"3\"/>"
	  "<field name=\"TSD\" start=\"2\" end=\"2\"/><field name=\"PVI\" start=\"1\" end=\"1\"/>"
	  "<field name=\"VME\" start=\"0\" end=\"0\"/></flags>"
	  "<flags id=\"x64_efer\" size=\"8\">"
	  "<field name=\"TCE\" start=\"15\" end=\"15\"/><field name=\"FFXSR\" start=\"14\" end=\"14\"/>"
	  "<field name=\"SVME\" start=\"12\" end=\"12\"/><field name=\"NXE\" start=\"11\" end=\"11\"/>"
	  "<field name=\"LMA\" start=\"10\" end=\"10\"/><field name=\"LME\" start=\"8\" end=\"8\"/>"
	  "<field name=\"SCE\" start=\"0\" end=\"0\"/></flags>" },
};

#define G(n, t)		{ #n, 64, t, NULL, 0, GPR, offsetof(struct kvm_regs, n) }
#define S(n)		{ #n, 32, "int32", NULL, 0, SEL, offsetof(struct kvm_sregs, n) }
#define STn(i)		{ "st" #i, 80, "i387_ext", NULL, 0, ST, i }
#define F(n, i)		{ #n, 32, "int", "float", 0, FPU32, i }
#define X(i)		{ "xmm" #i, 128, "vec128", NULL, 1, XMM, i }
#define CRn(n, t)	{ #n, 64, t, NULL, 3, CR, offsetof(struct kvm_sregs, n) }

static const struct reg regs[] = {
	G(rax, "int64"), G(rbx, "int64"), G(rcx, "int64"), G(rdx, "int64"),
	G(rsi, "int64"), G(rdi, "int64"), G(rbp, "data_ptr"), G(rsp, "data_ptr"),
	G(r8, "int64"), G(r9, "int64"), G(r10, "int64"), G(r11, "int64"),
	G(r12, "int64"), G(r13, "int64"), G(r14, "int64"), G(r15, "int64"),
	G(rip, "code_ptr"),
	{ "eflags", 32, "i386_eflags", NULL, 0, EFLAGS, 0 },
	S(cs), S(ss), S(ds), S(es), S(fs), S(gs),
	STn(0), STn(1), STn(2), STn(3), STn(4), STn(5), STn(6), STn(7),
	F(fctrl, FCTRL), F(fstat, FSTAT), F(ftag, FTAG), F(fiseg, FISEG),
	F(fioff, FIOFF), F(foseg, FOSEG), F(fooff, FOOFF), F(fop, FOP),
	X(0), X(1), X(2), X(3), X(4), X(5), X(6), X(7),
	X(8), X(9), X(10), X(11), X(12), X(13), X(14), X(15),
	{ "mxcsr", 32, "i386_mxcsr", "vector", 1, MXCSR, 0 },
	{ "fs_base", 64, "int", NULL, 2, BASE, offsetof(struct kvm_sregs, fs.base) },
	{ "gs_base", 64, "int", NULL, 2, BASE, offsetof(struct kvm_sregs, gs.base) },
	CRn(cr0, "x64_cr0"), CRn(cr2, "int64"), CRn(cr3, "int64"), CRn(cr4, "x64_cr4"),
	CRn(cr8, "int64"), CRn(efer, "x64_efer"),
};

#define NREGS	(sizeof(regs) / sizeof(regs[0]))

static char xml[16384];

static void build_xml(void)
{
	size_t n = snprintf(xml, sizeof(xml), "<?xml version=\"1.0\"?>"
			    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\"><target>"
			    "<architecture>i386:x86-64</architecture>");

	for (unsigned int f = 0; f < sizeof(features) / sizeof(features[0]); f++) {
		n += snprintf(xml + n, sizeof(xml) - n, "<feature name=\"%s\">%s",
			      features[f].name, features[f].types);
		for (unsigned int i = 0; i < NREGS; i++)
			if (regs[i].feature == f)
				n += snprintf(xml + n, sizeof(xml) - n,
					      "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"%s%s%s/>",
					      regs[i].name, regs[i].bits, regs[i].type, i,
					      regs[i].group ? " group=\"" : "", regs[i].group ? regs[i].group : "",
					      regs[i].group ? "\"" : "");
		n += snprintf(xml + n, sizeof(xml) - n, "</feature>");
	}
	snprintf(xml + n, sizeof(xml) - n, "</target>");
}

const char *gdb_target_xml(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, build_xml);
	return xml;
}

struct state {
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
};

/*
 * The full x87 tag word from FXSAVE's abridged one (a bit per physical
 * register: empty or not), classifying each non-empty register as Linux's
 * twd_fxsr_to_i387() does: 0 valid, 1 zero, 2 special, 3 empty.
 */
static uint32_t full_tag(const struct kvm_fpu *f)
{
	unsigned int top = (f->fsw >> 11) & 7;
	uint32_t tag = 0;

	for (unsigned int i = 0; i < 8; i++) {
		const uint8_t *st = f->fpr[(i - top) & 7];
		uint16_t exp;
		uint64_t mant;
		uint32_t t;

		memcpy(&mant, st, 8);
		memcpy(&exp, st + 8, 2);
		exp &= 0x7fff;
		if (!(f->ftwx & (1u << i)))
			t = 3;
		else if (exp == 0x7fff)
			t = 2;
		else if (exp == 0)
			t = mant ? 2 : 1;
		else
			t = mant >> 63 ? 0 : 2;
		tag |= t << (2 * i);
	}
	return tag;
}

static uint8_t abridged_tag(uint32_t tag)
{
	uint8_t t = 0;

	for (unsigned int i = 0; i < 8; i++)
		if (((tag >> (2 * i)) & 3) != 3)
			t |= 1u << i;
	return t;
}

static uint32_t *fpu32(struct kvm_fpu *f, size_t i, uint32_t *tmp)
{
	switch (i) {
	case FCTRL: *tmp = f->fcw; break;
	case FSTAT: *tmp = f->fsw; break;
	case FTAG: *tmp = full_tag(f); break;
	case FISEG: *tmp = f->last_ip >> 32; break;	/* FXSAVE64: FIP's upper half, as gdb's amd64 fxsave */
	case FIOFF: *tmp = (uint32_t)f->last_ip; break;
	case FOSEG: *tmp = f->last_dp >> 32; break;
	case FOOFF: *tmp = (uint32_t)f->last_dp; break;
	default: *tmp = f->last_opcode; break;
	}
	return tmp;
}

static void set_fpu32(struct kvm_fpu *f, size_t i, uint32_t v)
{
	switch (i) {
	case FCTRL: f->fcw = v; break;
	case FSTAT: f->fsw = v; break;
	case FTAG: f->ftwx = abridged_tag(v); break;
	case FISEG: f->last_ip = (f->last_ip & 0xffffffffULL) | (uint64_t)v << 32; break;
	case FIOFF: f->last_ip = (f->last_ip & ~0xffffffffULL) | v; break;
	case FOSEG: f->last_dp = (f->last_dp & 0xffffffffULL) | (uint64_t)v << 32; break;
	case FOOFF: f->last_dp = (f->last_dp & ~0xffffffffULL) | v; break;
	default: f->last_opcode = v; break;
	}
}

/* Where register i's bytes are in st (little-endian, bits / 8 of them). */
static void *reg_bytes(struct state *st, const struct reg *r, uint32_t *tmp)
{
	switch (r->src) {
	case GPR: return (uint8_t *)&st->r + r->off;
	case EFLAGS: *tmp = st->r.rflags; return tmp;
	case SEL: *tmp = ((struct kvm_segment *)((uint8_t *)&st->s + r->off))->selector; return tmp;
	case ST: return st->f.fpr[r->off];
	case FPU32: return fpu32(&st->f, r->off, tmp);
	case XMM: return st->f.xmm[r->off];
	case MXCSR: return &st->f.mxcsr;
	case BASE: case CR: return (uint8_t *)&st->s + r->off;
	}
	return NULL;
}

static int get_state(struct vcpu *v, struct state *st)
{
	return ioctl(v->fd, KVM_GET_REGS, &st->r) || ioctl(v->fd, KVM_GET_SREGS, &st->s) ||
	       ioctl(v->fd, KVM_GET_FPU, &st->f) ? -1 : 0;
}

size_t gdb_regs_read(struct vcpu *v, int regno, char *hex, size_t len)
{
	struct state st;
	size_t n = 0;

	if ((regno >= 0 && (size_t)regno >= NREGS) || get_state(v, &st))
		return 0;
	for (unsigned int i = 0; i < NREGS; i++) {
		uint32_t tmp;
		const uint8_t *p;

		if (regno >= 0 && i != (unsigned int)regno)
			continue;
		p = reg_bytes(&st, &regs[i], &tmp);
		for (unsigned int b = 0; b < regs[i].bits / 8 && n + 3 <= len; b++)
			n += snprintf(hex + n, len - n, "%02x", p[b]);
	}
	return n;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = b;
	}
	return 0;
}

/*
 * A selector cannot change alone: the segment's cached descriptor would
 * then disagree with it.  A write of the same value (G writes them all
 * back) is accepted, any other refused.
 */
int gdb_regs_write(struct vcpu *v, int regno, const char *hex)
{
	struct state st;
	bool fpu = false, sregs = false;

	if ((regno >= 0 && (size_t)regno >= NREGS) || get_state(v, &st))
		return -1;
	for (unsigned int i = 0; i < NREGS; i++) {
		const struct reg *r = &regs[i];
		uint8_t val[16] = { 0 };
		uint32_t tmp, v32;

		if (regno >= 0 && i != (unsigned int)regno)
			continue;
		if (strlen(hex) < r->bits / 4 || unhex(hex, val, r->bits / 8))
			return -1;
		hex += r->bits / 4;
		memcpy(&v32, val, 4);
		switch (r->src) {
		case EFLAGS:
			st.r.rflags = v32;
			break;
		case SEL:
			if (*(uint32_t *)reg_bytes(&st, r, &tmp) != v32)
				return -1;
			break;
		case FPU32:
			set_fpu32(&st.f, r->off, v32);
			fpu = true;
			break;
		default:
			memcpy(reg_bytes(&st, r, &tmp), val, r->bits / 8);
			fpu |= r->src == ST || r->src == XMM || r->src == MXCSR;
			sregs |= r->src == BASE || r->src == CR;
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_REGS, &st.r) || (sregs && ioctl(v->fd, KVM_SET_SREGS, &st.s)) ||
	    (fpu && ioctl(v->fd, KVM_SET_FPU, &st.f)))
		return -1;
	return 0;
}
