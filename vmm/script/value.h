/* Values in scripts: numbers with K/M/G, and the names of each field kind's values. */
#ifndef VMM_SCRIPT_VALUE_H
#define VMM_SCRIPT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pagewalk/fields.h>

/* A value and the kind that says how to read and show it. */
struct val {
	uint64_t v;
	enum pw_field_kind kind;
};

/* "42", "0x400000", "4M", "2G": false if `word` is not a number. */
bool value_number(const char *word, uint64_t *out);

/*
 * A name of one of kind's values: prot "rw", "rx", "none"; access "r",
 * "w", "x"; bool "user", "kernel", "true", "false"; ptl "mm", "pmd",
 * "pte"; and the names libvmm gives ops, outcomes, levels, map kinds,
 * sync modes and sites.  Errno names ("ENOMEM") for any kind.
 */
bool value_named(enum pw_field_kind kind, const char *word, uint64_t *out);

/* Is kind one whose values have names, so that a word is one of them before a bound name? */
bool kind_has_names(enum pw_field_kind kind);

/* v as kind shows it: "rw", "segv_accerr", "-12 (ENOMEM)", "0x400000", "3". */
void value_format(struct val v, char *buf, size_t len);

/* The names kind's values go by, for help and completion; NULL past the last. */
const char *value_name_at(enum pw_field_kind kind, unsigned int i);

#endif
