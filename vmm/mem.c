#include "vmm/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common/util.h"
#include "vmm/x86/layout.h"

#define HUGE_PAGE (2 * MiB)

/*
 * Guest RAM is mapped 2 MiB-aligned and marked for transparent huge pages:
 * KVM maps a guest's 2 MiB page with one large page only where the host
 * address and the guest address agree modulo 2 MiB, and with large pages
 * the guest touches its memory in far fewer faults and TLB misses.
 */
static int map_region(struct mem_region *r, uint64_t gpa, uint64_t size)
{
	uint8_t *p, *aligned;
	size_t head;

	/*
	 * MAP_NORESERVE: the guest touches what it uses, and only that counts
	 * against the host. The kernel may still refuse a size it can never give.
	 */
	p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	aligned = (uint8_t *)ALIGN_UP((uintptr_t)p, HUGE_PAGE);
	head = aligned - p;
	if (head)
		munmap(p, head);
	munmap(aligned + size, HUGE_PAGE - head);
	madvise(aligned, size, MADV_HUGEPAGE);
	madvise(aligned, size, MADV_MERGEABLE);
	r->gpa = gpa;
	r->size = size;
	r->host = aligned;
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
