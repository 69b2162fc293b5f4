/* virtio-rng (virtio 1.2 §5.4): entropy from the host's getrandom(). */
#ifndef WEBKVM_VMM_VIRTIO_RNG_H
#define WEBKVM_VMM_VIRTIO_RNG_H

#include "vmm/virtio/virtio.h"

struct virtio_rng {
	struct virtio_dev vdev;
	struct virtq_chain chain;
};

int virtio_rng_init(struct virtio_rng *rng, struct pci *pci, struct irq_routing *routing,
		    const struct guest_mem *mem, int vm_fd);
void virtio_rng_destroy(struct virtio_rng *rng);

#endif
