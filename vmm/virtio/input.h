/*
 * virtio-input (virtio 1.2 §5.8) as a tablet: an absolute pointer, so the
 * pointer in a viewer lines up with the guest's.
 */
#ifndef WEBKVM_VMM_VIRTIO_INPUT_H
#define WEBKVM_VMM_VIRTIO_INPUT_H

#include <stdbool.h>

#include "vmm/virtio/virtio.h"

#define VIRTIO_INPUT_ABS_MAX 32767
#define VIRTIO_INPUT_CONFIG_SIZE 136

struct virtio_input {
	struct virtio_dev vdev;
	uint8_t config[VIRTIO_INPUT_CONFIG_SIZE];
	struct virtq_chain chain;
	unsigned int buttons;        /* as last sent */
};

int virtio_input_tablet_init(struct virtio_input *in, struct pci *pci,
			     struct irq_routing *routing, const struct guest_mem *mem, int vm_fd);
void virtio_input_destroy(struct virtio_input *in);

/* The guest's driver is running, so pointer events are better sent here. */
bool virtio_input_ready(struct virtio_input *in);
/*
 * A pointer event: x and y in 0..VIRTIO_INPUT_ABS_MAX, buttons bit 0 left,
 * 1 right, 2 middle; wheel in notches (positive: away from the user).
 * Dropped when the driver has no buffers for it, as a real device would.
 */
void virtio_input_tablet_event(struct virtio_input *in, unsigned int x, unsigned int y,
			       unsigned int buttons, int wheel);

#endif
