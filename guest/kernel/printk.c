/* printk over the channel, with the subset of vsnprintf the guest uses. */
#include "kernel.h"

struct outbuf {
	char *buf;
	size_t size, len;
};

static void put(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

/* n bytes, as many as fit before the terminating NUL. */
static void put_str(struct outbuf *o, const char *s, size_t n)
{
	if (o->len + 1 < o->size)
		memcpy(o->buf + o->len, s, o->len + n < o->size ? n : o->size - 1 - o->len);
	o->len += n;
}

static void put_number(struct outbuf *o, uint64_t v, unsigned int base, int neg,
		       int width, char pad, const char *prefix)
{
	char tmp[24];
	int n = 0, plen = strlen(prefix) + neg;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (pad == '0') {
		if (neg)
			put(o, '-');
		for (const char *p = prefix; *p; p++)
			put(o, *p);
	}
	for (; width > n + plen; width--)
		put(o, pad);
	if (pad != '0') {
		if (neg)
			put(o, '-');
		for (const char *p = prefix; *p; p++)
			put(o, *p);
	}
	while (n)
		put(o, tmp[--n]);
}

/* %[#][0][width][l|ll|z](d|i|u|x|p|s|c|%) */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int alt = 0, width = 0, nl = 0;
		unsigned int argsz = sizeof(int);
		char pad = ' ';
		uint64_t v;

		if (*fmt != '%') {
			const char *lit = fmt;

			while (fmt[1] && fmt[1] != '%')
				fmt++;
			put_str(&o, lit, fmt + 1 - lit);
			continue;
		}
		fmt++;
		if (*fmt == '#') {
			alt = 1;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		/* The argument's size, as format(printf) checked it: long and size_t are 4 bytes on i386. */
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			argsz = *fmt == 'z' ? sizeof(size_t) : ++nl == 1 ? sizeof(long) : sizeof(long long);
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t s = argsz == 8 ? va_arg(ap, int64_t) : va_arg(ap, int);

			put_number(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, width, pad, "");
			break;
		}
		case 'u':
		case 'x':
			v = argsz == 8 ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			put_number(&o, v, *fmt == 'u' ? 10 : 16, 0, width, pad,
				   alt && *fmt == 'x' ? "0x" : "");
			break;
		case 'p':
			put_number(&o, (uintptr_t)va_arg(ap, void *), 16, 0, width, pad, "0x");
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (s)
				put_str(&o, s, strlen(s));
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			return -1;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void vprintk(const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	emit_text(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

__attribute__((noreturn)) void panic(const char *fmt, ...)
{
	va_list ap;

	printk("Kernel panic - not syncing: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	pw_exit(PW_GUEST_EXIT_PANIC);
}
