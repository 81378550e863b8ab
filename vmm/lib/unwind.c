/*
 * The guest's ring-0 call stack, unwound from the host as Linux's frame
 * unwinder does (arch/x86/kernel/unwind_frame.c): through the %rbp chain
 * the guest's -fno-omit-frame-pointer builds, the stack read through the
 * host walker under the vCPU's CR3.  The leaf may not have its frame yet
 * (at its first instructions, after its epilogue, or in libfdt.a, built
 * without frame pointers): its caller is then the first return address on
 * the stack.  common_exception's return address has the exception's
 * pt_regs above it, where the unwind goes on in the interrupted context,
 * as Linux's does through its entry frames; from ring 3 the stack ends.
 * An i386 guest (vm->levels 2 or 3) the same with 4-byte words, %ebp,
 * i386's pt_regs and 8-byte IDT gates.
 */
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/*
 * struct pt_regs (guest/include/ptrace.h): the words the unwinder reads,
 * and where the frame starts above common_exception's return address.
 * x86-64 passes it in %rdi; i386 pushes it for do_trap(), one word, and
 * pushes no SP and SS from ring 0: the interrupted stack starts where
 * they would be (regs_stack_pointer()).
 */
struct regs_layout {
	unsigned int bp, ip, cs, sp, above;
	bool sp_pushed;
};

static const struct regs_layout regs_64 = { .bp = 4, .ip = 17, .cs = 18, .sp = 20, .sp_pushed = true };
static const struct regs_layout regs_32 = { .bp = 5, .ip = 13, .cs = 14, .sp = 16, .above = 1 };

#define SCAN_WORDS	64	/* how far up the stack a frameless leaf's return address may be */

/* Code bytes from the loaded image, whatever CR3 says: segments as elf_load() placed them. */
static bool image_read(const struct vm *vm, uint64_t va, void *buf, size_t len)
{
	for (unsigned int i = 0; i < vm->img.nseg; i++) {
		uint64_t off = va - vm->img.seg[i].vaddr;

		if (off < vm->img.seg[i].memsz && len <= vm->img.seg[i].memsz - off)
			return !vm_read_phys(vm, vm->img.seg[i].paddr + off, buf, len);
	}
	return false;
}

/* Stack words through the walker, the last page's translation kept for one unwind. */
struct reader {
	const struct vm *vm;
	struct vm_paging pg;
	uint64_t page, phys;		/* phys == 1: none yet */
	unsigned int word;
};

static bool read_word(struct reader *r, uint64_t va, uint64_t *v)
{
	struct vm_walk w;

	*v = 0;
	if (va & (r->word - 1))
		return false;
	if (r->phys == 1 || (va & ~0xfffULL) != r->page) {
		if (vm_walk(r->vm, &r->pg, va, &w) != VMM_OK || !w.present)
			return false;
		r->page = va & ~0xfffULL;
		r->phys = w.phys & ~0xfffULL;
	}
	return !vm_read_phys(r->vm, r->phys | (va & 0xfff), v, r->word);	/* little-endian: zero-extended */
}

static struct reader reader_at(const struct unwinder *u, const struct kvm_sregs *s)
{
	return (struct reader){ .vm = u->vm, .phys = 1, .word = u->word,
				.pg = { .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer } };
}

/* The instruction before ret is a call: e8 rel32, or ff /2 in its usual forms. */
static bool after_call(const struct vm *vm, uint64_t ret)
{
	uint8_t b[7];

	if (!image_read(vm, ret - 7, b, sizeof(b)))
		return false;
	/* b[7 - n] is the byte n before ret. */
	return b[2] == 0xe8 ||					/* call rel32 */
	       (b[5] == 0xff && ((b[6] & 0xf8) == 0xd0 ||		/* call *%reg */
				 ((b[6] & 0xf8) == 0x10 && (b[6] & 7) != 4 && (b[6] & 7) != 5))) ||
	       (b[4] == 0xff && (b[5] & 0xf8) == 0x50 && (b[5] & 7) != 4) ||	/* *disp8(%reg) */
	       (b[3] == 0xff && b[4] == 0x54) ||				/* *disp8(sib) */
	       (b[1] == 0xff && (b[2] == 0x15 || ((b[2] & 0xf8) == 0x90 && (b[2] & 7) != 4))) ||
	       (b[0] == 0xff && (b[1] == 0x14 || b[1] == 0x94));	/* *disp32(sib) */
}

static uint32_t sym_or_unknown(const struct unwinder *u, uint64_t addr)
{
	long i = symbol_index(&u->vm->img, addr);

	return i < 0 ? u->vm->img.nsyms : (uint32_t)i;
}

/* A return address: code in a symbol of the image, right after a call. */
static bool is_retaddr(const struct unwinder *u, uint64_t v)
{
	return symbol_index(&u->vm->img, v - 1) >= 0 && after_call(u->vm, v);
}

/* What a symbol's code says about its frame, looked at once. */
static enum frame_kind kind_of(struct unwinder *u, uint32_t sym)
{
	static const uint8_t prologue_64[] = { 0x55, 0x48, 0x89, 0xe5 };	/* push %rbp; mov %rsp,%rbp */
	static const uint8_t prologue_32[] = { 0x55, 0x89, 0xe5 };		/* push %ebp; mov %esp,%ebp */
	const uint8_t *prologue = u->word == 4 ? prologue_32 : prologue_64;
	const size_t plen = u->word == 4 ? sizeof(prologue_32) : sizeof(prologue_64);
	const struct symbol *s = &u->vm->img.syms[sym];
	uint8_t code[4096];
	size_t len = s->size < sizeof(code) ? s->size : sizeof(code);

	if (u->kind[sym] != FRAME_UNKNOWN)
		return u->kind[sym];
	u->kind[sym] = FRAME_ASM;
	if (!s->size || !image_read(u->vm, s->addr, code, len))
		return FRAME_ASM;
	u->kind[sym] = FRAME_NONE;
	for (size_t i = 0; i + plen <= len; i++)
		if (!memcmp(code + i, prologue, plen)) {
			u->kind[sym] = FRAME_POINTER;
			u->prologue[sym] = i;
			break;
		}
	return u->kind[sym];
}

int unwind_init(struct unwinder *u, const struct vm *vm)
{
	*u = (struct unwinder){ .vm = vm, .entry = -1, .word = PW_PAGING_32(vm->levels) ? 4 : 8 };
	u->kind = calloc(vm->img.nsyms + 1, 1);
	u->prologue = calloc(vm->img.nsyms + 1, sizeof(*u->prologue));
	if (!u->kind || !u->prologue) {
		unwind_free(u);
		return -1;
	}
	for (size_t i = 0; i < vm->img.nsyms; i++)
		if (!strcmp(vm->img.syms[i].name, "common_exception"))
			u->entry = i;
	return 0;
}

void unwind_free(struct unwinder *u)
{
	free(u->kind);
	free(u->prologue);
	u->kind = NULL;
	u->prologue = NULL;
}

bool unwind_is_rep(const struct unwinder *u, uint64_t va)
{
	uint8_t b[4];
	unsigned int i = 0;

	if (!image_read(u->vm, va, b, sizeof(b)))
		return false;
	if (b[0] != 0xf3 && b[0] != 0xf2)
		return false;
	i = 1 + (u->word == 8 && (b[1] & 0xf0) == 0x40);	/* REX (inc/dec on i386) */
	/* movs, cmps, stos, lods, scas; ins and outs */
	return (b[i] >= 0xa4 && b[i] <= 0xa7) || (b[i] >= 0xaa && b[i] <= 0xaf) ||
	       (b[i] >= 0x6c && b[i] <= 0x6f);
}

/* iretq (REX.W iret), or i386's iret: where its frame returns to, and whether to ring 3. */
bool unwind_iret(const struct unwinder *u, const struct kvm_regs *r, const struct kvm_sregs *s,
		 uint64_t *to, bool *to_ring3)
{
	struct reader rd = reader_at(u, s);
	uint8_t b[2];
	uint64_t cs;

	if (!image_read(u->vm, r->rip, b, sizeof(b)))
		return false;
	if (u->word == 8 ? b[0] != 0x48 || b[1] != 0xcf : b[0] != 0xcf)
		return false;
	if (!read_word(&rd, r->rsp, to) || !read_word(&rd, r->rsp + u->word, &cs))
		return false;
	*to_ring3 = (cs & 3) == 3;
	return true;
}

/*
 * Gate v's handler, if the IDT has the gate and it is present: offset 15:0
 * in the first word, 31:16 in bits 63:48 of the 8 bytes, 63:32 next
 * (x86-64's 16-byte gates; i386's are the first 8 bytes alone).
 */
static bool gate_handler(const struct unwinder *u, struct reader *rd, const struct kvm_sregs *s,
			 unsigned int v, uint64_t *handler)
{
	const unsigned int size = 2 * u->word;
	uint64_t gate = s->idt.base + size * v, lo = 0, hi = 0, w;

	if (size * v + size - 1 > s->idt.limit)
		return false;
	if (u->word == 8) {
		if (!read_word(rd, gate, &lo) || !read_word(rd, gate + 8, &hi))
			return false;
	} else {
		if (!read_word(rd, gate, &lo) || !read_word(rd, gate + 4, &w))
			return false;
		lo |= w << 32;
	}
	*handler = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
	return lo & (1ULL << 47);	/* P */
}

bool unwind_at_gate(const struct unwinder *u, const struct kvm_sregs *s, uint64_t rip)
{
	struct reader rd = reader_at(u, s);
	uint64_t h;

	for (unsigned int v = 0; 2 * u->word * v < s->idt.limit; v++)
		if (gate_handler(u, &rd, s, v, &h) && h == rip)
			return true;
	return false;
}

unsigned int unwind_gates(const struct unwinder *u, const struct kvm_sregs *s, const unsigned int *vectors,
			  unsigned int n, uint64_t *handlers)
{
	struct reader rd = reader_at(u, s);
	unsigned int found = 0;

	for (unsigned int i = 0; i < n; i++)
		found += gate_handler(u, &rd, s, vectors[i], &handlers[found]);
	return found;
}

/*
 * Has the leaf, at rip, its own frame in %rbp?  Not up to and including
 * its push %rbp (shrink-wrapped paths run before the prologue), nor once
 * [rsp] is a return address again (after pop %rbp or leave, at ret or a
 * tail call's jmp).
 */
static bool leaf_has_frame(struct unwinder *u, struct reader *r, uint32_t sym, uint64_t rip, uint64_t rsp)
{
	uint64_t top;

	if (rip - u->vm->img.syms[sym].addr <= u->prologue[sym] + 1)
		return false;
	return !read_word(r, rsp, &top) || !is_retaddr(u, top);
}

/* The first return address at or above rsp: where a frameless function's caller resumes. */
static bool scan_retaddr(struct unwinder *u, struct reader *r, uint64_t rsp, uint64_t *slot)
{
	uint64_t v;

	for (unsigned int i = 0; i < SCAN_WORDS; i++)
		if (read_word(r, rsp + r->word * i, &v) && is_retaddr(u, v)) {
			*slot = rsp + r->word * i;
			return true;
		}
	return false;
}

/*
 * A caller reached past a frameless function: its frame is %rbp unless
 * that function used %rbp as a register, then the first saved-%rbp and
 * return-address pair above rsp.
 */
static uint64_t caller_frame(struct unwinder *u, struct reader *r, uint64_t rsp, uint64_t rbp)
{
	const unsigned int w = r->word;
	uint64_t v, up;

	if (rbp >= rsp && rbp - rsp < w * SCAN_WORDS * 4 && read_word(r, rbp + w, &v) && is_retaddr(u, v))
		return rbp;
	for (unsigned int i = 0; i < 4 * SCAN_WORDS; i++) {
		uint64_t a = rsp + w * i;

		if (read_word(r, a + w, &v) && is_retaddr(u, v) && read_word(r, a, &up) && (!up || up > a))
			return a;
	}
	return rbp;
}

unsigned int unwind_stack(struct unwinder *u, const struct kvm_regs *regs, const struct kvm_sregs *s,
			  uint32_t *ids)
{
	const struct regs_layout *pt = u->word == 4 ? &regs_32 : &regs_64;
	struct reader r = reader_at(u, s);
	const unsigned int w = u->word;
	uint64_t rip = regs->rip, rsp = regs->rsp, rbp = regs->rbp, slot, v;
	bool leaf = true, frameless_below = false;
	unsigned int n = 0;

	while (n < UNWIND_MAX_DEPTH) {
		/* A return address may be the byte after a noreturn call at a function's end. */
		uint32_t sym = sym_or_unknown(u, leaf ? rip : rip - 1);
		enum frame_kind k;

		ids[n++] = sym;
		if (sym == u->vm->img.nsyms)
			break;
		k = kind_of(u, sym);
		if (k == FRAME_ASM) {
			uint64_t regs_at = rsp + w * pt->above, ip, cs, sp, bp;

			if (leaf || (long)sym != u->entry || !read_word(&r, regs_at + w * pt->ip, &ip) ||
			    !read_word(&r, regs_at + w * pt->cs, &cs) || (cs & 3) ||
			    !read_word(&r, regs_at + w * pt->bp, &bp))
				break;
			sp = regs_at + w * pt->sp;
			if (pt->sp_pushed && !read_word(&r, sp, &sp))
				break;
			/* The interrupted kernel context, on its own stack: a leaf again. */
			rip = ip, rsp = sp, rbp = bp;
			leaf = true;
			frameless_below = false;
			continue;
		}
		if (k == FRAME_POINTER && frameless_below)
			rbp = caller_frame(u, &r, rsp, rbp);
		if (k == FRAME_POINTER && (!leaf || leaf_has_frame(u, &r, sym, rip, rsp))) {
			uint64_t up;

			if (rbp < rsp || !read_word(&r, rbp, &up))
				break;
			slot = rbp + w;
			rbp = up;
		} else if (!scan_retaddr(u, &r, rsp, &slot)) {
			break;
		}
		if (!read_word(&r, slot, &v) || !is_retaddr(u, v))
			break;
		frameless_below = k != FRAME_POINTER;
		rip = v;
		rsp = slot + w;
		leaf = false;
	}
	return n;
}
