/* Only what libfdt.a needs from <stdlib.h> (lib/string.c). */
#ifndef GUEST_STDLIB_H
#define GUEST_STDLIB_H

unsigned long strtoul(const char *s, char **end, int base);

#endif
