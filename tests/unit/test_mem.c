/* Guest RAM mappings and thread stacks. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/thread.h"
#include "common/util.h"
#include "tests/unit/unit.h"
#include "vmm/mem.h"
#include "vmm/x86/layout.h"

/* The VmFlags line of the mapping that holds p, from /proc/self/smaps. */
static int vm_flags(const void *p, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' '))
			found = start <= (uintptr_t)p && (uintptr_t)p < end;
		else if (found && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, len, "%s", line);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static void guest_ram_is_2mib_aligned_and_asks_for_huge_pages(int *failed)
{
	struct guest_mem mem;
	char flags[512];

	/* Past the MMIO hole: two regions. */
	CHECK_EQ(mem_init(&mem, LAYOUT_MMIO_HOLE + 6 * MiB), 0);
	CHECK_EQ(mem.nregions, 2);
	for (unsigned int i = 0; i < mem.nregions; i++) {
		CHECK_EQ((uintptr_t)mem.regions[i].host % (2 * MiB), 0);
		CHECK_EQ(vm_flags(mem.regions[i].host, flags, sizeof(flags)), 0);
		CHECK(strstr(flags, " hg") != NULL); /* MADV_HUGEPAGE */
	}
	/* The whole size is usable, and nothing past it is ours. */
	memset(mem.regions[1].host, 1, mem.regions[1].size);
	CHECK(mem_ptr(&mem, LAYOUT_HIGH_RAM + 6 * MiB - 1, 1) != NULL);
	CHECK(mem_ptr(&mem, LAYOUT_HIGH_RAM + 6 * MiB, 1) == NULL);
	mem_destroy(&mem);
}

static void *stack_size_of_self(void *arg)
{
	pthread_attr_t attr;

	*(size_t *)arg = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstacksize(&attr, (size_t *)arg);
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

/* Stacks smaller than a huge page: THP can never back one with 2 MiB. */
static void threads_get_stacks_smaller_than_a_huge_page(int *failed)
{
	pthread_t t;
	size_t size = 0;

	CHECK_EQ(thread_start(&t, stack_size_of_self, &size), 0);
	pthread_join(t, NULL);
	CHECK(size >= 256 * KiB);
	CHECK(size < 2 * MiB);
}

const struct unit_test mem_tests[] = {
	{ "threads_get_stacks_smaller_than_a_huge_page", threads_get_stacks_smaller_than_a_huge_page },
	{ "guest_ram_is_2mib_aligned_and_asks_for_huge_pages",
	  guest_ram_is_2mib_aligned_and_asks_for_huge_pages },
	{ NULL, NULL },
};
