/* Shared by the trap handlers of arch/. */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H

#include <stdint.h>

#include "ptrace.h"

struct exception_table_entry {
	uint64_t insn;		/* a kernel instruction that may fault */
	uint64_t fixup;		/* where it resumes if it does */
};

#include <pagewalk/channel.h>

extern uint64_t nr_faults[PW_FAULT_OUTCOME_MAX];

const struct exception_table_entry *search_exception_tables(uint64_t ip);
__attribute__((noreturn)) void die(struct pt_regs *regs, uint64_t cr2);
void exc_page_fault(struct pt_regs *regs);

static inline int user_mode(const struct pt_regs *regs)
{
	return regs->cs & 3;
}

#endif
