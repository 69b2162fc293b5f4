/*
 * virtio-rng: one queue of writable buffers, each filled from getrandom()
 * (the host's kernel CSPRNG, never blocking once it is seeded).
 */
#include "vmm/virtio/rng.h"

#include <errno.h>
#include <sys/random.h>

#define RNG_QUEUE_SIZE 64
#define RNG_MAX_PER_REQUEST 65536 /* enough for any driver, bounded for a hostile one */
#define PCI_CLASS_OTHER 0x00ff00

static int rng_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_rng *rng = vdev->opaque;
	struct virtq *vq = &vdev->vq[q];
	bool pushed = false;
	int r;

	while ((r = virtq_pop(vq, &rng->chain)) > 0) {
		struct virtq_chain *c = &rng->chain;
		size_t left = RNG_MAX_PER_REQUEST, written = 0;

		for (unsigned int i = c->nout; i < c->nout + c->nin && left; i++) {
			size_t want = c->iov[i].iov_len < left ? c->iov[i].iov_len : left;
			ssize_t n = getrandom(c->iov[i].iov_base, want, 0);

			if (n <= 0)
				break;
			written += n;
			left -= n;
			if ((size_t)n < want)
				break;
		}
		virtq_push(vq, c->head, written);
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_queue(vdev, q);
	return r < 0 ? -EINVAL : 0;
}

static const struct virtio_dev_ops rng_ops = {
	.queue_notify = rng_queue_notify,
};

int virtio_rng_init(struct virtio_rng *rng, struct pci *pci, struct irq_routing *routing,
		    const struct guest_mem *mem, int vm_fd)
{
	return virtio_dev_init(&rng->vdev, &rng_ops, rng, VIRTIO_ID_RNG, PCI_CLASS_OTHER, 0, 1,
			       RNG_QUEUE_SIZE, NULL, 0, pci, routing, mem, vm_fd);
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	virtio_dev_destroy(&rng->vdev);
}
