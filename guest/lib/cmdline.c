/* The kernel command line (/chosen bootargs), as arch/x86/lib/cmdline.c reads it. */
#include "kernel.h"
#include "string.h"

/*
 * cmdline_find_option(): the value of the last `option=value` word (the
 * one that wins, as each early_param() is handled in turn), or NULL.
 * Linux copies the value into a buffer; here it is returned in place,
 * ending at the next blank or the end of the line.
 */
const char *cmdline_find_option(const char *cmdline, const char *option)
{
	size_t n = strlen(option);
	const char *found = NULL;

	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && !memcmp(p, option, n) && p[n] == '=')
			found = p + n + 1;
	return found;
}

/* kstrtobool() of lib/kstrtox.c, for option values: 1/y/Y/on true, 0/n/N/off false. */
int kstrtobool(const char *s, bool *res)
{
	if (!s)
		return -PW_EINVAL;
	switch (s[0]) {
	case '1': case 'y': case 'Y':
		*res = true;
		return 0;
	case '0': case 'n': case 'N':
		*res = false;
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*res = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*res = false;
			return 0;
		}
		break;
	}
	return -PW_EINVAL;
}
