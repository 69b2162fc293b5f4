/* virtio-net (virtio 1.2 §5.1) on a tap device. */
#ifndef WEBKVM_VMM_VIRTIO_NET_H
#define WEBKVM_VMM_VIRTIO_NET_H

#include <stdatomic.h>

#include "vmm/virtio/virtio.h"

#define VIRTIO_NET_CONFIG_LEN 10
#define VIRTIO_NET_QUEUE_SIZE 256

/* Frames moved, for statistics; read by other threads. */
struct virtio_net_stats {
	_Atomic uint64_t rx_bytes, rx_packets, rx_dropped;
	_Atomic uint64_t tx_bytes, tx_packets, tx_dropped;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct virtio_net_stats stats;
	int tap_fd;                        /* the caller's: it outlives the device (resets) */
	bool link_up;
	bool mergeable;                    /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool rx_failed;                    /* the tap failed a read: receive no more */
	size_t rx_max;                     /* the largest frame the tap may hand us, header included */
	uint8_t config[VIRTIO_NET_CONFIG_LEN];
	struct virtq_chain chain;          /* the request being taken */
	/* A frame being received: the buffers of up to a whole queue of requests. */
	struct iovec rx_iov[VIRTQ_MAX_SEGS + 1]; /* and one byte past them */
	uint8_t rx_sink;                   /* that byte: a frame that reaches it was too long */
	uint16_t rx_head[VIRTIO_NET_QUEUE_SIZE];
	uint32_t rx_len[VIRTIO_NET_QUEUE_SIZE];
};

/* tap_fd (from tap_open) stays the caller's, to close after virtio_net_destroy. */
int virtio_net_init(struct virtio_net *net, int tap_fd, const uint8_t mac[6], struct pci *pci,
		    struct irq_routing *routing, const struct guest_mem *mem, int vm_fd);
/* Link up or down, as a cable plugged or pulled; any thread. */
void virtio_net_set_link(struct virtio_net *net, bool up);
void virtio_net_destroy(struct virtio_net *net);

#endif
