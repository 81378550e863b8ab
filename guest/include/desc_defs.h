/* The operand of lgdt and lidt (arch/x86/include/asm/desc_defs.h), both modes. */
#ifndef GUEST_DESC_DEFS_H
#define GUEST_DESC_DEFS_H

struct desc_ptr {
	unsigned short size;
	unsigned long address;
} __attribute__((packed));

#endif
