/*
 * The paging mode, decided once at boot as arch/x86/kernel/head64.c
 * decides it: by CR4.LA57, which whoever started the CPU in long mode set
 * (here the VMM), and with it everything that moves between 4- and 5-level
 * paging.  Linux's values before check_la57_support() are the 4-level ones.
 */
#include "asm.h"
#include "pgtable.h"

bool __pgtable_l5_enabled;
unsigned int pgdir_shift = 39;
unsigned int ptrs_per_p4d = 1;
unsigned long page_offset_base = PW_PAGE_OFFSET_L4;
unsigned long vmalloc_base = PW_VMALLOC_START_L4;

/* check_la57_support(): before anything uses __va(), on the boot CPU. */
bool check_la57_support(void)
{
	if (!(read_cr4() & X86_CR4_LA57))
		return false;
	__pgtable_l5_enabled = true;
	pgdir_shift = 48;
	ptrs_per_p4d = 512;
	page_offset_base = PW_PAGE_OFFSET_L5;
	vmalloc_base = PW_VMALLOC_START_L5;
	return true;
}
