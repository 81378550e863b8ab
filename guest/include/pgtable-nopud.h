/* The pud folded into the p4d (include/asm-generic/pgtable-nopud.h). */
#ifndef GUEST_PGTABLE_NOPUD_H
#define GUEST_PGTABLE_NOPUD_H

#include "pgtable-nop4d.h"

#define PUD_SHIFT	P4D_SHIFT
#define PTRS_PER_PUD	1
#define __PAGETABLE_PUD_FOLDED 1
__PGTABLE_FOLD(p4d, pud)

#endif
