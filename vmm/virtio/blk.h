/* virtio-blk (virtio 1.2 §5.2) on a disk image. */
#ifndef WEBKVM_VMM_VIRTIO_BLK_H
#define WEBKVM_VMM_VIRTIO_BLK_H

#include "vmm/disk/disk.h"
#include "vmm/virtio/virtio.h"

#define VIRTIO_BLK_CONFIG_LEN 60

/* Served requests, for statistics; read by other threads. */
struct virtio_blk_stats {
	_Atomic uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, flush_reqs;
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct virtio_blk_stats stats;
	struct disk *disk;                 /* the caller's: it outlives the device (resets) */
	char serial[DISK_SERIAL_MAX + 1];
	uint8_t config[VIRTIO_BLK_CONFIG_LEN];
	struct virtq_chain chain;          /* the request being served */
	struct iovec data[VIRTQ_MAX_SEGS]; /* its data buffers */
};

/*
 * disk stays the caller's, to close after virtio_blk_destroy. nqueues
 * request queues, 1 to VIRTIO_MAX_QUEUES (one per vCPU suits Linux).
 */
int virtio_blk_init(struct virtio_blk *blk, struct disk *disk, const char *serial,
		    unsigned int nqueues, struct pci *pci, struct irq_routing *routing,
		    const struct guest_mem *mem, int vm_fd);
void virtio_blk_destroy(struct virtio_blk *blk);

#endif
