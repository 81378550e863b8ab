/*
 * i386: 64-bit division, which GCC calls out of line (libgcc's names; the
 * guest links no libgcc).  A divisor that fits 32 bits takes do_div()'s
 * two divl (arch/x86/include/asm/div64.h): the high word, then the
 * remainder and the low word, which cannot overflow since that remainder
 * is below the divisor; a wider one, shift and subtract, as Linux's
 * div64_u64() fallback.  Built only into the i386 guest.
 */
#include <stdint.h>

uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem) __asm__("__udivmoddi4");
uint64_t udiv64(uint64_t n, uint64_t d) __asm__("__udivdi3");
uint64_t umod64(uint64_t n, uint64_t d) __asm__("__umoddi3");

uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (!(d >> 32)) {
		uint32_t d32 = d, hi = n >> 32, lo, r32;

		asm("divl %4" : "=a"(lo), "=d"(r32) : "a"((uint32_t)n), "d"(hi % d32), "rm"(d32));
		q = (uint64_t)(hi / d32) << 32 | lo;
		r = r32;
	} else {
		for (int i = 63; i >= 0; i--) {
			r = (r << 1) | ((n >> i) & 1);
			if (r >= d) {
				r -= d;
				q |= 1ULL << i;
			}
		}
	}
	if (rem)
		*rem = r;
	return q;
}

uint64_t udiv64(uint64_t n, uint64_t d)
{
	return udivmod64(n, d, 0);
}

uint64_t umod64(uint64_t n, uint64_t d)
{
	uint64_t r;

	udivmod64(n, d, &r);
	return r;
}
