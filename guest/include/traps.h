/* Shared by the trap handlers of arch/. */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "ptrace.h"

struct exception_table_entry {
	unsigned long insn;	/* a kernel instruction that may fault */
	unsigned long fixup;	/* where it resumes if it does */
};

/* An address in assembly, as Linux's _ASM_PTR. */
#ifdef CONFIG_X86_32
#define _ASM_PTR	" .long "
#else
#define _ASM_PTR	" .quad "
#endif

#include <pagewalk/events.h>

#define X86_TRAP_DE	0
#define X86_TRAP_BP	3
#define X86_TRAP_UD	6
#define X86_TRAP_GP	13
#define X86_TRAP_PF	14

extern uint64_t nr_faults[PW_FAULT_OUTCOME_MAX];

/*
 * A handler installed for one exception vector on this CPU runs before
 * the kernel's own and returns true if it took the exception, as
 * kvm-unit-tests' handle_exception() and the KVM selftests'
 * vm_install_exception_handler() let a test do.  Returns the one it
 * replaces; NULL removes.
 */
typedef bool (*exception_handler_t)(struct pt_regs *regs);
exception_handler_t set_exception_handler(unsigned int vector, exception_handler_t fn);

const struct exception_table_entry *search_exception_tables(uint64_t ip);
__attribute__((noreturn)) void die(struct pt_regs *regs, uint64_t cr2);
void exc_page_fault(struct pt_regs *regs);

static inline int user_mode(const struct pt_regs *regs)
{
	return regs->cs & 3;
}

#endif
