/*
 * virtio-net.
 *
 * NOTES
 * - Queue 0 receives, queue 1 transmits; no control queue: the tap takes
 *   every frame the bridge gives it, so there is nothing to filter.
 * - Both directions run on the device's I/O thread, which waits on the
 *   tap as well as on the kicks. It reads the tap only while the driver
 *   has buffers for a whole frame: with mergeable buffers (§5.1.6.3.1)
 *   that is rx_max bytes over as many requests as it takes, otherwise one
 *   request. When the buffers run out it stops reading and asks for a kick,
 *   so frames wait in the tap's queue rather than being lost here.
 * - A frame lands straight in the guest's buffers (readv) and leaves
 *   straight from them (writev). The requests of one merged frame are
 *   published to the driver together, after num_buffers is set.
 * - The guest's header goes to the tap as it is: the kernel checks it
 *   and refuses a bad one, and that frame is dropped and counted. A
 *   request too short for a header breaks the queue rules: the device
 *   then waits for a reset.
 * - Offloads follow the driver's features: VIRTIO_NET_F_GUEST_* become
 *   TUNSETOFFLOAD flags once the driver is ready, so the tap never hands
 *   the guest a frame its driver cannot take.
 * - With the link down, frames the guest sends are dropped (counted) and
 *   the tap is not read, as with a cable pulled.
 */
#include "vmm/virtio/net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "common/iov.h"
#include "common/log.h"
#include "common/util.h"
#include "vmm/net/tap.h"

#define PCI_CLASS_NETWORK_ETHERNET 0x020000

#define RXQ 0
#define TXQ 1

/* Feature bits (§5.1.3) */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1
#define CFG_STATUS 6
#define CFG_MAX_PAIRS 8

#define HDR_NUM_BUFFERS 10
/* The longest frame with GSO: a 64 KiB IP packet behind an Ethernet and a VLAN header. */
#define GSO_FRAME_MAX (14 + 4 + 65535)
/* Frames handled per wakeup in each direction, so neither starves the other. */
#define BUDGET 256

static bool feature(const struct virtio_net *net, unsigned int bit)
{
	return virtio_dev_has_feature(&net->vdev, bit);
}

/* Whether the I/O thread should read the tap. Device lock held. */
static void rx_want(struct virtio_net *net, bool want)
{
	short ev = net->vdev.io_events;

	ev = want ? (ev | POLLIN) : (ev & ~POLLIN);
	__atomic_store_n(&net->vdev.io_events, ev, __ATOMIC_RELAXED);
}

static void tx_wait_writable(struct virtio_net *net, bool wait)
{
	short ev = net->vdev.io_events;

	ev = wait ? (ev | POLLOUT) : (ev & ~POLLOUT);
	__atomic_store_n(&net->vdev.io_events, ev, __ATOMIC_RELAXED);
}

/*
 * Take requests until they hold a whole frame. The count taken, 0 when the
 * driver has not given enough (none are kept), -EINVAL when it broke the rules.
 */
static int rx_take_buffers(struct virtio_net *net, struct virtq *vq, unsigned int *ret_niov,
			   size_t *ret_cap)
{
	unsigned int n = 0, niov = 0;
	size_t cap = 0;
	int r;

	while (n < VIRTIO_NET_QUEUE_SIZE && (r = virtq_pop(vq, &net->chain)) > 0) {
		struct virtq_chain *c = &net->chain;

		/* §5.1.6.3.1: every receive buffer holds at least a header. */
		if (c->in_len < TAP_VNET_HDR_LEN) {
			virtq_unpop(vq, n + 1);
			return -EINVAL;
		}
		if (niov + c->nin > VIRTQ_MAX_SEGS) {
			virtq_unpop(vq, 1);
			break;
		}
		memcpy(net->rx_iov + niov, c->iov + c->nout, c->nin * sizeof(struct iovec));
		niov += c->nin;
		net->rx_head[n] = c->head;
		net->rx_len[n] = c->in_len > UINT32_MAX ? UINT32_MAX : c->in_len;
		cap += c->in_len;
		n++;
		if (!net->mergeable || cap >= net->rx_max)
			break;
	}
	if (r < 0) {
		virtq_unpop(vq, n);
		return -EINVAL;
	}
	if (n == 0 || (net->mergeable && cap < net->rx_max && n < VIRTIO_NET_QUEUE_SIZE &&
		       niov < VIRTQ_MAX_SEGS)) {
		virtq_unpop(vq, n);
		return 0;
	}
	*ret_niov = niov;
	*ret_cap = cap;
	return n;
}

/* Receive frames from the tap until it is empty or the buffers run out. */
static int rx_run(struct virtio_net *net)
{
	struct virtio_dev *vdev = &net->vdev;
	struct virtq *vq = &vdev->vq[RXQ];
	unsigned int done = 0;
	bool pushed = false;

	if (!net->link_up || net->rx_failed || !virtio_dev_queue_live(vdev, RXQ)) {
		rx_want(net, false);
		return 0;
	}
	rx_want(net, true);
	while (done < BUDGET) {
		unsigned int niov, used = 0;
		size_t cap, left;
		ssize_t len;
		uint8_t nb[2];
		int n = rx_take_buffers(net, vq, &niov, &cap);

		if (n < 0)
			return n;
		if (n == 0) {
			/* Wait for the driver's kick, unless buffers came meanwhile. */
			if (virtq_want_kick(vq))
				rx_want(net, false);
			break;
		}
		/* The tap cuts a frame short to fit: one byte more tells that it did. */
		net->rx_iov[niov] = (struct iovec){ .iov_base = &net->rx_sink, .iov_len = 1 };
		len = readv(net->tap_fd, net->rx_iov, niov + 1);
		if (len < 0) {
			virtq_unpop(vq, n);
			if (errno != EAGAIN && errno != EINTR) {
				log_warn("virtio-net: reading the tap failed: %s; the NIC receives no more",
					 strerror(errno));
				net->rx_failed = true;
				rx_want(net, false);
			}
			break;
		}
		done++;
		if ((size_t)len > cap || len < TAP_VNET_HDR_LEN) {
			/* Longer than the buffers: drop it, keep them for the next. */
			virtq_unpop(vq, n);
			net->stats.rx_dropped++;
			continue;
		}
		for (left = len; left && used < (unsigned int)n; used++) {
			uint32_t part = MIN(left, net->rx_len[used]);

			virtq_fill(vq, used, net->rx_head[used], part);
			left -= part;
		}
		virtq_unpop(vq, n - used);
		put_le16(nb, used);
		buf_to_iov(net->rx_iov, niov, HDR_NUM_BUFFERS, nb, sizeof(nb));
		virtq_flush(vq, used);
		pushed = true;
		net->stats.rx_packets++;
		net->stats.rx_bytes += len - TAP_VNET_HDR_LEN;
	}
	if (pushed)
		virtio_dev_notify_queue(vdev, RXQ);
	return 0;
}

/* Send what the driver queued until the queue is empty or the tap is full. */
static int tx_run(struct virtio_net *net)
{
	struct virtio_dev *vdev = &net->vdev;
	struct virtq *vq = &vdev->vq[TXQ];
	struct virtq_chain *c = &net->chain;
	unsigned int done = 0;
	bool pushed = false;
	int r = 0;

	if (!virtio_dev_queue_live(vdev, TXQ))
		return 0;
again:
	while (done < BUDGET && (r = virtq_pop(vq, c)) > 0) {
		/* §5.1.6.2: each frame the driver sends starts with a header. */
		if (c->out_len < TAP_VNET_HDR_LEN) {
			r = -EINVAL;
			break;
		}
		if (net->link_up && writev(net->tap_fd, c->iov, c->nout) < 0) {
			if (errno == EAGAIN) {
				/* The tap's queue is full: send this one when it has room. */
				virtq_unpop(vq, 1);
				tx_wait_writable(net, true);
				break;
			}
			/* A header the kernel refused, a frame too long, the tap down. */
			net->stats.tx_dropped++;
		} else if (net->link_up) {
			net->stats.tx_packets++;
			net->stats.tx_bytes += c->out_len - TAP_VNET_HDR_LEN;
		} else {
			net->stats.tx_dropped++;
		}
		virtq_push(vq, c->head, 0);
		pushed = true;
		done++;
	}
	/* Drained: ask for a kick at the next frame, unless one came meanwhile. */
	if (r == 0 && done < BUDGET && !(vdev->io_events & POLLOUT) && !virtq_want_kick(vq))
		goto again;
	if (pushed)
		virtio_dev_notify_queue(vdev, TXQ);
	if (done == BUDGET) {
		/* More may wait: come back after a round of receiving. */
		uint64_t one = 1;

		if (write(vdev->kick_fd[TXQ], &one, sizeof(one)) < 0) {
			/* saturated: the thread is due to run anyway */
		}
	}
	return r < 0 ? -EINVAL : 0;
}

static int net_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_net *net = vdev->opaque;

	return q == RXQ ? rx_run(net) : tx_run(net);
}

static int net_io_ready(struct virtio_dev *vdev, short revents, unsigned int *ret_q)
{
	struct virtio_net *net = vdev->opaque;
	int r = 0;

	if (revents & POLLOUT) {
		tx_wait_writable(net, false);
		*ret_q = TXQ;
		r = tx_run(net);
	}
	if (r == 0 && (revents & (POLLIN | POLLERR | POLLHUP))) {
		*ret_q = RXQ;
		r = rx_run(net);
	}
	return r;
}

static void net_driver_ok(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->opaque;
	unsigned int offload = 0;

	if (feature(net, VIRTIO_NET_F_GUEST_CSUM)) {
		offload |= TUN_F_CSUM;
		if (feature(net, VIRTIO_NET_F_GUEST_TSO4))
			offload |= TUN_F_TSO4;
		if (feature(net, VIRTIO_NET_F_GUEST_TSO6))
			offload |= TUN_F_TSO6;
		if ((offload & (TUN_F_TSO4 | TUN_F_TSO6)) && feature(net, VIRTIO_NET_F_GUEST_ECN))
			offload |= TUN_F_TSO_ECN;
	}
	if (tap_set_offload(net->tap_fd, offload) < 0) {
		log_warn("virtio-net: the tap refuses offloads %#x: %s; using none", offload,
			 strerror(errno));
		offload = 0;
		tap_set_offload(net->tap_fd, 0);
	}
	net->mergeable = feature(net, VIRTIO_NET_F_MRG_RXBUF);
	/*
	 * What merged buffers must hold before a read: the largest frame. Even
	 * without GSO the tap's MTU may be far above 1500, so take no chances.
	 */
	net->rx_max = TAP_VNET_HDR_LEN + GSO_FRAME_MAX;
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->opaque;

	__atomic_store_n(&vdev->io_events, 0, __ATOMIC_RELAXED);
	net->mergeable = false;
}

static const struct virtio_dev_ops net_ops = {
	.queue_notify = net_queue_notify,
	.reset = net_reset,
	.driver_ok = net_driver_ok,
	.io_ready = net_io_ready,
};

int virtio_net_init(struct virtio_net *net, int tap_fd, const uint8_t mac[6], struct pci *pci,
		    struct irq_routing *routing, const struct guest_mem *mem, int vm_fd)
{
	uint64_t features = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
			    (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
			    (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN) |
			    (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
			    (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    (1ULL << VIRTIO_NET_F_STATUS);
	int r;

	net->tap_fd = tap_fd;
	net->link_up = true;
	memcpy(net->config, mac, 6);
	put_le16(net->config + CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	put_le16(net->config + CFG_MAX_PAIRS, 1);
	r = virtio_dev_init(&net->vdev, &net_ops, net, VIRTIO_ID_NET, PCI_CLASS_NETWORK_ETHERNET,
			    features, 2, VIRTIO_NET_QUEUE_SIZE, net->config, sizeof(net->config),
			    pci, routing, mem, vm_fd);
	net->vdev.io_fd = tap_fd;
	/* A guest sending a stream queues frames while we send: one kick per batch. */
	net->vdev.vq[TXQ].kick_when_drained = true;
	return r;
}

void virtio_net_set_link(struct virtio_net *net, bool up)
{
	uint64_t one = 1;

	pthread_mutex_lock(&net->vdev.lock);
	if (net->link_up != up) {
		net->link_up = up;
		put_le16(net->config + CFG_STATUS, up ? VIRTIO_NET_S_LINK_UP : 0);
		virtio_dev_config_changed(&net->vdev);
	}
	pthread_mutex_unlock(&net->vdev.lock);
	/* Wake the I/O thread: it starts or stops reading the tap. */
	if (write(net->vdev.kick_fd[RXQ], &one, sizeof(one)) < 0) {
		/* saturated: it runs anyway */
	}
}

void virtio_net_destroy(struct virtio_net *net)
{
	virtio_dev_destroy(&net->vdev);
	net->tap_fd = -1; /* the caller's, which outlives this device */
}
