/*
 * mm_structs and their VMAs: fixed, private, anonymous mappings only
 * (mm/mmap.c, mm/vma.c, mm/mprotect.c).  VMAs sit on a sorted list instead
 * of a maple tree and are not merged; for page-table teardown that changes
 * nothing, since munmap's floor and ceiling come from the neighbours.  It
 * shows at fork: copy_page_range() copies a VMA's PTEs only if it has an
 * anon_vma, which a merged Linux VMA may have where an unmerged part here
 * has none, so a zero-page PTE there is faulted in again by the child.
 */
#include "asm.h"
#include "kernel.h"
#include "mm.h"

static struct kmem_cache vma_cachep, mm_cachep;
static unsigned int next_mm_id = 1;	/* 0 is init_mm */
static pteval_t supported_pte_mask = ~_PAGE_NX;	/* __supported_pte_mask: NX only with EFER.NXE */

void mmap_init(void)
{
	kmem_cache_init(&vma_cachep, "vm_area_struct", sizeof(struct vm_area_struct));
	kmem_cache_init(&mm_cachep, "mm_struct", sizeof(struct mm_struct));
	if (rdmsr(MSR_EFER) & EFER_NXE)
		supported_pte_mask = ~(pteval_t)0;
}

/* protection_map[] of arch/x86/mm/pgprot.c for private mappings: no RW until written. */
pgprot_t vm_get_page_prot(unsigned long vm_flags)
{
	const pgprot_t base = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;

	if (!(vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		return _PAGE_PROTNONE | _PAGE_ACCESSED;	/* PAGE_NONE */
	if (vm_flags & VM_EXEC)
		return base;				/* PAGE_READONLY_EXEC, PAGE_COPY_EXEC */
	return (base | _PAGE_NX) & supported_pte_mask;	/* PAGE_READONLY, PAGE_COPY */
}

struct mm_struct *mm_alloc(void)
{
	struct mm_struct *mm = kmem_cache_alloc(&mm_cachep);

	if (!mm)
		return NULL;
	mm->id = __atomic_fetch_add(&next_mm_id, 1, __ATOMIC_RELAXED);
	mm->mm_users = 1;
	rwlock_init(&mm->mmap_lock);
	spin_lock_init(&mm->page_table_lock);
	mm->pgd = pgd_alloc(mm);
	if (!mm->pgd) {
		kmem_cache_free(&mm_cachep, mm);
		return NULL;
	}
	return mm;
}

/* find_vma(): the first VMA ending above addr. */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	for (struct vm_area_struct *v = mm->mmap; v; v = v->vm_next)
		if (addr < v->vm_end)
			return v;
	return NULL;
}

static void link_vma(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev = NULL, *next = mm->mmap;

	while (next && next->vm_start < vma->vm_start) {
		prev = next;
		next = next->vm_next;
	}
	vma->vm_prev = prev;
	vma->vm_next = next;
	if (prev)
		prev->vm_next = vma;
	else
		mm->mmap = vma;
	if (next)
		next->vm_prev = vma;
}

static long new_vma(struct mm_struct *mm, unsigned long start, unsigned long end,
		    unsigned long flags, uint64_t pfn)
{
	struct vm_area_struct *vma = kmem_cache_alloc(&vma_cachep);

	if (!vma)
		return -PW_ENOMEM;
	vma->vm_start = start;
	vma->vm_end = end;
	vma->vm_flags = flags;
	vma->vm_page_prot = vm_get_page_prot(flags);
	vma->special_pfn = pfn;
	vma->vm_mm = mm;
	link_vma(mm, vma);
	return start;
}

static bool range_ok(unsigned long addr, unsigned long len)
{
	return !(addr & ~PAGE_MASK) && len && len <= TASK_SIZE_MAX && addr <= TASK_SIZE_MAX - len;
}

/*
 * do_mmap(MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS), with
 * __get_unmapped_area()'s checks for a fixed address: a range that does
 * not fit below TASK_SIZE is -ENOMEM, and only then is a misaligned
 * address -EINVAL.
 */
long do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len, unsigned long prot)
{
	struct vm_area_struct *vma;
	long ret;

	if (!len || (prot & ~(unsigned long)(PW_PROT_READ | PW_PROT_WRITE | PW_PROT_EXEC)))
		return -PW_EINVAL;
	len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	if (!len || len > TASK_SIZE_MAX || addr > TASK_SIZE_MAX - len)	/* !len: it wrapped */
		return -PW_ENOMEM;
	if (addr & ~PAGE_MASK)
		return -PW_EINVAL;
	write_lock(&mm->mmap_lock);
	vma = find_vma(mm, addr);
	if (vma && vma->vm_start < addr + len)
		ret = -PW_EEXIST;
	else	/* PROT_* and VM_READ/WRITE/EXEC share their values, as in Linux. */
		ret = new_vma(mm, addr, addr + len, prot, 0);
	write_unlock(&mm->mmap_lock);
	return ret;
}

long install_special_mapping(struct mm_struct *mm, unsigned long addr, uint64_t pfn)
{
	long ret;

	write_lock(&mm->mmap_lock);
	ret = new_vma(mm, addr, addr + PAGE_SIZE, VM_READ | VM_EXEC | VM_SPECIAL, pfn);
	write_unlock(&mm->mmap_lock);
	return ret;
}

/*
 * split_vma(): vma keeps [vm_start, addr), a new VMA takes [addr, vm_end).
 * Linux's vm_area_dup() copies the whole VMA, anon_vma included, and
 * anon_vma_clone() links the copy to it: both parts keep their private
 * pages for fork's copy_page_range() and for rmap.
 */
static int split_vma(struct vm_area_struct *vma, unsigned long addr)
{
	long err = new_vma(vma->vm_mm, addr, vma->vm_end, vma->vm_flags, vma->special_pfn);

	if (IS_ERR_VALUE(err))
		return err;
	vma->vm_next->anon_vma = vma->anon_vma;	/* the new VMA, linked right after */
	vma->vm_end = addr;
	return 0;
}

/* The VMAs exactly covering [start, end) after splitting, or NULL if none intersect. */
static struct vm_area_struct *isolate_range(struct mm_struct *mm, unsigned long start,
					    unsigned long end, struct vm_area_struct **last,
					    long *err)
{
	struct vm_area_struct *vma = find_vma(mm, start), *v;

	*err = 0;
	if (!vma || vma->vm_start >= end)
		return NULL;
	if (vma->vm_start < start) {
		*err = split_vma(vma, start);
		if (*err)
			return NULL;
		vma = vma->vm_next;
	}
	for (v = vma; v->vm_next && v->vm_next->vm_start < end; v = v->vm_next)
		;
	if (v->vm_end > end) {
		*err = split_vma(v, end);
		if (*err)
			return NULL;
	}
	*last = v;
	return vma;
}

/* do_vmi_munmap() -> unmap_region(): zap, then free tables between the neighbours. */
static long __do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	struct vm_area_struct *vma, *last, *prev, *next;
	struct mmu_gather tlb;
	unsigned long end;
	long err;

	len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	if (!range_ok(start, len))
		return -PW_EINVAL;
	end = start + len;
	vma = isolate_range(mm, start, end, &last, &err);
	if (!vma)
		return err;

	/* Detach [vma, last] from the mm. */
	prev = vma->vm_prev;
	next = last->vm_next;
	if (prev)
		prev->vm_next = next;
	else
		mm->mmap = next;
	if (next)
		next->vm_prev = prev;
	vma->vm_prev = NULL;
	last->vm_next = NULL;

	tlb_gather_mmu(&tlb, mm);
	unmap_vmas(&tlb, vma, start, end);
	free_pgtables(&tlb, vma, prev ? prev->vm_end : FIRST_USER_ADDRESS,
		      next ? next->vm_start : USER_PGTABLES_CEILING);
	tlb_finish_mmu(&tlb);

	while (vma) {
		struct vm_area_struct *n = vma->vm_next;

		kmem_cache_free(&vma_cachep, vma);
		vma = n;
	}
	return 0;
}

long do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	long ret;

	write_lock(&mm->mmap_lock);
	ret = __do_munmap(mm, start, len);
	write_unlock(&mm->mmap_lock);
	return ret;
}

/*
 * mprotect_fixup(): split [start, end) off *pvma, then give it the new
 * protection; a VMA whose flags would not change is left whole, as Linux
 * leaves it (newflags == oldflags), so that no split changes what fork
 * copies of it.
 */
static int mprotect_fixup(struct vm_area_struct **pvma, unsigned long start, unsigned long end,
			  unsigned long prot)
{
	struct vm_area_struct *vma = *pvma;
	int err;

	if ((vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) == prot)
		return 0;
	if (start != vma->vm_start) {
		err = split_vma(vma, start);
		if (err)
			return err;
		vma = vma->vm_next;
	}
	if (end != vma->vm_end) {
		err = split_vma(vma, end);
		if (err)
			return err;
	}
	vma->vm_flags = (vma->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | prot;
	vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
	/* vma_wants_manual_pte_write_upgrade(): private, so VM_WRITE alone */
	change_protection(vma, vma->vm_start, vma->vm_end,
			  vma->vm_flags & VM_WRITE ? MM_CP_TRY_CHANGE_WRITABLE : 0);
	*pvma = vma;
	return 0;
}

/*
 * do_mprotect_pkey(): VMA by VMA from the one holding start; a hole stops
 * it with -ENOMEM after the VMAs before it have changed, as in Linux.
 * Where Linux's VM_MAY* check would stop it with -EACCES, the guest stops
 * at the trampoline (VM_SPECIAL) with -EINVAL.
 */
static long __do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
			  unsigned long prot)
{
	struct vm_area_struct *vma;
	unsigned long end, tmp;
	long err;

	/*
	 * Linux's checks in its order: a misaligned start, then an empty
	 * range is done, a range that wraps is -ENOMEM, then the prot bits;
	 * a range past TASK_SIZE finds no VMA below, -ENOMEM.
	 */
	if (start & ~PAGE_MASK)
		return -PW_EINVAL;
	if (!len)
		return 0;
	len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	end = start + len;
	if (end <= start)
		return -PW_ENOMEM;
	if (prot & ~(unsigned long)(PW_PROT_READ | PW_PROT_WRITE | PW_PROT_EXEC))
		return -PW_EINVAL;
	vma = find_vma(mm, start);
	if (!vma || vma->vm_start > start)
		return -PW_ENOMEM;
	for (tmp = vma->vm_start; vma && vma->vm_start < end; vma = vma->vm_next) {
		if (vma->vm_start != tmp)
			return -PW_ENOMEM;
		if (vma->vm_flags & VM_SPECIAL)
			return -PW_EINVAL;
		err = mprotect_fixup(&vma, vma->vm_start > start ? vma->vm_start : start,
				     vma->vm_end < end ? vma->vm_end : end, prot);
		if (err)
			return err;
		tmp = vma->vm_end;
	}
	return tmp < end ? -PW_ENOMEM : 0;
}

long do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len, unsigned long prot)
{
	long ret;

	write_lock(&mm->mmap_lock);
	ret = __do_mprotect(mm, start, len, prot);
	write_unlock(&mm->mmap_lock);
	return ret;
}

/*
 * dup_mm() -> dup_mmap(): a new mm with copies of every VMA and, through
 * copy_page_range(), of the populated tables of those with private pages.
 */
struct mm_struct *dup_mm(struct mm_struct *oldmm)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return NULL;
	write_lock(&oldmm->mmap_lock);
	for (struct vm_area_struct *v = oldmm->mmap; v; v = v->vm_next) {
		struct vm_area_struct *tmp;

		if (IS_ERR_VALUE(new_vma(mm, v->vm_start, v->vm_end, v->vm_flags, v->special_pfn)))
			goto fail;
		tmp = find_vma(mm, v->vm_start);
		tmp->anon_vma = v->anon_vma;	/* anon_vma_fork() */
		if (copy_page_range(tmp, v))
			goto fail;
	}
	/* The parent's PTEs lost their write bit: no CPU may keep a writable TLB entry. */
	flush_tlb_mm_range(oldmm, 0, TASK_SIZE_MAX);
	write_unlock(&oldmm->mmap_lock);
	return mm;
fail:
	write_unlock(&oldmm->mmap_lock);
	mmput(mm);
	return NULL;
}

void mmget(struct mm_struct *mm)
{
	__atomic_add_fetch(&mm->mm_users, 1, __ATOMIC_RELAXED);
}

/*
 * mmput(): the last user runs exit_mmap() then __mmdrop(): every VMA,
 * every table, then the pgd and the mm.  No CPU has it loaded any more.
 */
void mmput(struct mm_struct *mm)
{
	struct mmu_gather tlb;
	struct vm_area_struct *vma;

	if (__atomic_sub_fetch(&mm->mm_users, 1, __ATOMIC_ACQ_REL))
		return;
	if (current_mm == mm)
		switch_mm(&init_mm);
	/*
	 * exit_mmap() as current Linux (6.x): unmap_vmas() under
	 * mmap_read_lock, then free_pgtables() and the VMAs under
	 * mmap_write_lock.  No one else can take it here (the last user is
	 * gone), so no test can tell the difference.
	 */
	read_lock(&mm->mmap_lock);
	vma = mm->mmap;
	tlb_gather_mmu(&tlb, mm);
	unmap_vmas(&tlb, vma, 0, ~0UL);
	read_unlock(&mm->mmap_lock);
	write_lock(&mm->mmap_lock);
	free_pgtables(&tlb, vma, FIRST_USER_ADDRESS, USER_PGTABLES_CEILING);
	tlb_finish_mmu(&tlb);
	mm->mmap = NULL;
	while (vma) {
		struct vm_area_struct *n = vma->vm_next;

		kmem_cache_free(&vma_cachep, vma);
		vma = n;
	}
	write_unlock(&mm->mmap_lock);
	pgd_free(mm, mm->pgd);	/* __mmdrop(): mm_free_pgd(), then check_mm() (PAE frees PMDs here) */
	if (mm->pgtables_bytes || mm->nr_anon)
		printk("BUG: mm %u freed with pgtables_bytes %ld, %lu anon pages\n", mm->id,
		       (long)mm->pgtables_bytes, (unsigned long)mm->nr_anon);
	kmem_cache_free(&mm_cachep, mm);
}
