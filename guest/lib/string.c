/* Freestanding C library pieces for the guest and for Debian's libfdt.a. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * memchr() and strlen() scan with repne scasb, as arch/x86/lib/string_32.c
 * does: one instruction where a host emulates ring 0 one at a time.
 */
void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	bool found;

	if (!n)
		return NULL;
	asm volatile("repne scasb" : "+D"(p), "+c"(n), "=@ccz"(found) : "a"(c) : "memory");
	return found ? (void *)(p - 1) : NULL;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;

	asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *s, int c, size_t n)
{
	void *ret = s;

	asm volatile("rep stosb" : "+D"(s), "+c"(n) : "a"(c) : "memory");
	return ret;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlen(const char *s)
{
	size_t n = SIZE_MAX;

	asm volatile("repne scasb" : "+D"(s), "+c"(n) : "a"(0) : "memory");
	return SIZE_MAX - n - 1;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

int strcmp(const char *a, const char *b)
{
	for (; *a && *a == *b; a++, b++)
		;
	return (unsigned char)*a - (unsigned char)*b;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;
	int d;

	while (*s == ' ' || *s == '\t')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    digit_value(s[2]) < 16) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = *s == '0' ? 8 : 10;
	}
	for (; (d = digit_value(*s)) < base; s++)
		v = v * base + d;
	if (end)
		*end = (char *)s;
	return v;
}
