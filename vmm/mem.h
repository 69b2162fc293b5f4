/* Guest RAM: host mappings of the guest's physical memory and bounds-checked access. */
#ifndef WEBKVM_VMM_MEM_H
#define WEBKVM_VMM_MEM_H

#include <stddef.h>
#include <stdint.h>

#define MEM_MAX_REGIONS 2

struct mem_region {
	uint64_t gpa;  /* guest physical start */
	uint64_t size; /* bytes */
	uint8_t *host; /* host mapping */
};

struct guest_mem {
	struct mem_region regions[MEM_MAX_REGIONS];
	unsigned int nregions;
	uint64_t total;    /* bytes of RAM */
	uint64_t low_end;  /* end of RAM below the MMIO hole */
};

/* Map size bytes of RAM, split around the MMIO hole. 0 or -errno. */
int mem_init(struct guest_mem *mem, uint64_t size);
void mem_destroy(struct guest_mem *mem);

/*
 * Host pointer for [gpa, gpa+len) if it lies inside one RAM region, else
 * NULL. Every access on behalf of a guest goes through this check.
 */
void *mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

#endif
