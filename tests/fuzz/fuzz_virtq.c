/*
 * libFuzzer harness: the virtqueue walker on guest memory the input fills,
 * as a hostile guest would. Every chain it accepts must lie in RAM.
 * tests/fuzz/run seeds it with valid queues (see seed_virtq there).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtio/queue.h"

#define RAM_SIZE (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain chain;
	struct guest_mem mem = { .nregions = 1 };
	struct virtq vq;
	uint8_t *ram;

	if (size < 2)
		return 0;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 0;
	mem.regions[0] = (struct mem_region){ .gpa = 0, .size = RAM_SIZE, .host = ram };
	mem.total = mem.low_end = RAM_SIZE;
	/*
	 * The first two bytes pick the queue size; the rest is guest memory.
	 * The rings come first and packed, so a short input already holds an
	 * avail index and descriptors: the avail ring at 0, the descriptor
	 * table at the next 16-byte boundary, the used ring after it.
	 */
	unsigned int n = 1u << (data[0] % 9);

	virtq_reset(&vq, n);
	vq.event_idx = data[1] & 1;
	memcpy(ram, data + 2, size - 2 < RAM_SIZE ? size - 2 : RAM_SIZE);
	vq.avail_gpa = 0;
	vq.desc_gpa = (6 + 2 * n + 15) & ~15u;
	vq.used_gpa = vq.desc_gpa + 16 * n;
	if (virtq_enable(&vq, &mem) == 0) {
		for (int i = 0; i < 64 && virtq_pop(&vq, &chain) > 0; i++) {
			for (unsigned int k = 0; k < chain.nout + chain.nin; k++) {
				uint8_t *p = chain.iov[k].iov_base;

				if (p < ram || p + chain.iov[k].iov_len > ram + RAM_SIZE)
					abort();
				if (k >= chain.nout)
					memset(p, 0xee, chain.iov[k].iov_len);
			}
			virtq_push(&vq, chain.head, chain.in_len);
			virtq_should_notify(&vq);
		}
	}
	free(ram);
	return 0;
}
