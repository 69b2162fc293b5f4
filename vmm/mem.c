#include "vmm/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common/util.h"
#include "vmm/x86/layout.h"

static int map_region(struct mem_region *r, uint64_t gpa, uint64_t size)
{
	void *p;

	/*
	 * MAP_NORESERVE: the guest touches what it uses, and only that counts
	 * against the host. The kernel may still refuse a size it can never give.
	 */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, size, MADV_MERGEABLE);
	r->gpa = gpa;
	r->size = size;
	r->host = p;
	return 0;
}

int mem_init(struct guest_mem *mem, uint64_t size)
{
	int r;

	memset(mem, 0, sizeof(*mem));
	mem->total = size;
	mem->low_end = MIN(size, LAYOUT_MMIO_HOLE);
	r = map_region(&mem->regions[0], 0, mem->low_end);
	if (r < 0)
		return r;
	mem->nregions = 1;
	if (size > LAYOUT_MMIO_HOLE) {
		r = map_region(&mem->regions[1], LAYOUT_HIGH_RAM, size - LAYOUT_MMIO_HOLE);
		if (r < 0) {
			mem_destroy(mem);
			return r;
		}
		mem->nregions = 2;
	}
	return 0;
}

void mem_destroy(struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->nregions; i++)
		munmap(mem->regions[i].host, mem->regions[i].size);
	mem->nregions = 0;
}

void *mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}
