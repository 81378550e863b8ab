/*
 * A minimal kmem_cache: objects carved from single pages, a page returned to
 * the page allocator as soon as its last object is freed, so that "every
 * page is back" after a workload holds for slab pages too.  One partial
 * page at a time and one lock per cache keep it simple.
 */
#include "kernel.h"
#include "mm.h"

void kmem_cache_init(struct kmem_cache *c, const char *name, uint32_t size)
{
	*c = (struct kmem_cache){ .name = name, .size = (size + 15) & ~15U };
	spin_lock_init(&c->lock);
}

static struct page *new_slab(struct kmem_cache *c)
{
	struct page *page = alloc_page(PG_slab);
	char *base;

	if (!page)
		return NULL;
	page->slab_cache = c;
	base = page_address(page);
	for (uint32_t off = 0; off + c->size <= PAGE_SIZE; off += c->size) {
		*(void **)(base + off) = page->freelist;
		page->freelist = base + off;
	}
	return page;
}

void *kmem_cache_alloc(struct kmem_cache *c)
{
	struct page *page;
	void *obj;

	spin_lock(&c->lock);
	page = c->partial;
	if (!page || !page->freelist) {
		page = new_slab(c);
		if (!page) {
			spin_unlock(&c->lock);
			return NULL;
		}
		c->partial = page;
	}
	obj = page->freelist;
	page->freelist = *(void **)obj;
	page->inuse++;
	c->objects++;
	spin_unlock(&c->lock);
	memset(obj, 0, c->size);
	return obj;
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	struct page *page = virt_to_page(obj);

	if (!(page->flags & PG_slab) || page->slab_cache != c)
		panic("kmem_cache_free: %p is not from cache %s", obj, c->name);
	spin_lock(&c->lock);
	*(void **)obj = page->freelist;
	page->freelist = obj;
	page->inuse--;
	c->objects--;
	if (page->inuse) {
		spin_unlock(&c->lock);
		return;
	}
	if (c->partial == page)
		c->partial = NULL;
	spin_unlock(&c->lock);
	__free_page(page);
}
