/* libfdt_env.h includes <limits.h> and uses nothing of it: the guest has
 * no libc, and the host's (x86-64 only here) has no i386 half. */
#ifndef GUEST_LIMITS_H
#define GUEST_LIMITS_H
#endif
