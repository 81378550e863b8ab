/* i386's GDT layout (arch/x86/include/asm/segment.h, CONFIG_X86_32), for C and assembly. */
#ifndef GUEST_SEGMENT_32_H
#define GUEST_SEGMENT_32_H

#define GDT_ENTRY_KERNEL_CS		12
#define GDT_ENTRY_KERNEL_DS		13
#define GDT_ENTRY_DEFAULT_USER_CS	14
#define GDT_ENTRY_DEFAULT_USER_DS	15
#define GDT_ENTRY_TSS			16
#define GDT_ENTRY_PERCPU		27
#define GDT_ENTRY_STACK_CANARY		28
#define GDT_ENTRIES			32

#define __KERNEL_CS		(GDT_ENTRY_KERNEL_CS * 8)		/* 0x60, as the VMM boots it */
#define __KERNEL_DS		(GDT_ENTRY_KERNEL_DS * 8)		/* 0x68 */
#define __USER_CS		(GDT_ENTRY_DEFAULT_USER_CS * 8 + 3)	/* 0x73 */
#define __USER_DS		(GDT_ENTRY_DEFAULT_USER_DS * 8 + 3)	/* 0x7b */
#define __TSS_SEL		(GDT_ENTRY_TSS * 8)
#define __KERNEL_PERCPU		(GDT_ENTRY_PERCPU * 8)
#define __KERNEL_STACK_CANARY	(GDT_ENTRY_STACK_CANARY * 8)

#endif
