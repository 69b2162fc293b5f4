/* Port writes that KVM queues instead of exiting (KVM_CAP_COALESCED_PIO). */
#ifndef WEBKVM_VMM_COALESCED_H
#define WEBKVM_VMM_COALESCED_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#include "vmm/bus.h"

struct coalesced {
	struct kvm_coalesced_mmio_ring *ring; /* in a vCPU's kvm_run mapping; NULL: not in use */
	unsigned int max;                     /* entries in the ring */
	pthread_mutex_t lock;                 /* one vCPU applies entries at a time */
	struct bus *pio;
};

/*
 * Find the ring in run, a vCPU's mapping of mmap_size bytes, when KVM
 * offers coalesced port I/O; without it c stays unused and every write
 * exits as usual. 0 or -errno.
 */
int coalesced_init(struct coalesced *c, int kvm_fd, struct kvm_run *run, size_t mmap_size,
		   struct bus *pio);
/* Queue writes to [port, port + len) from now on; nothing when unused. 0 or -errno. */
int coalesced_add_pio(struct coalesced *c, int vm_fd, uint16_t port, uint32_t len);
/* Apply the queued writes to the bus, in order. */
void coalesced_flush(struct coalesced *c);
void coalesced_destroy(struct coalesced *c);

#endif
