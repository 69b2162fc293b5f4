/*
 * The modern virtio PCI transport (virtio 1.2 §4.1).
 *
 * NOTES
 * - BAR 0 holds every structure, each on its own 4 KiB page: common
 *   config, ISR, device config, notify registers (one dword per queue,
 *   notify_off_multiplier 4), the MSI-X table and its pending bits.
 * - Notify registers are KVM ioeventfds, so a kick costs the vCPU no exit
 *   to user space; the device's I/O thread waits on them. A write that
 *   still exits (another width, or before registration) is turned into
 *   the same eventfd write.
 * - The device lock is held while the I/O thread serves a queue and while
 *   a vCPU touches the device's registers, so a reset never races a
 *   request in flight.
 * - A driver that breaks the queue rules gets DEVICE_NEEDS_RESET and a
 *   config interrupt (§2.1.2); its queues are left alone until it resets
 *   the device. Nothing else in the VM notices.
 * - The I/O thread is named after its device (for top -H) and runs as
 *   SCHED_BATCH: woken by a kick, it takes an idle host CPU at once, as
 *   before, but it does not preempt a vCPU that is running. On a host with
 *   more vCPUs than CPUs, preempting the vCPU that just kicked would stop
 *   the guest in the middle of queuing a burst and serve it one request at
 *   a time, an interrupt each; waiting until that vCPU halts or its slice
 *   ends serves the whole burst with one. With one host CPU for a guest of
 *   two, that halved the interrupts per MiB a TCP sender takes and doubled
 *   its throughput.
 */
#include "vmm/virtio/virtio.h"

#include <errno.h>
#include <sched.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* §4.1.2.1: 0x1040 + device ID */
#define VIRTIO_PCI_SUBSYS_ID 0x1100

#define BAR_SIZE 0x8000
#define OFF_COMMON 0x0000
#define OFF_ISR 0x1000
#define OFF_DEVICE 0x2000
#define OFF_NOTIFY 0x3000
#define OFF_MSIX_TABLE 0x4000
#define OFF_MSIX_PBA 0x5000
#define COMMON_LEN 0x40
#define NOTIFY_MULTIPLIER 4

/* virtio_pci_cap.cfg_type (§4.1.4) */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5

/* struct virtio_pci_common_cfg (§4.1.4.3) */
#define CC_DFSELECT 0
#define CC_DF 4
#define CC_GFSELECT 8
#define CC_GF 12
#define CC_MSIX 16
#define CC_NUMQ 18
#define CC_STATUS 20
#define CC_CFGGEN 21
#define CC_Q_SELECT 22
#define CC_Q_SIZE 24
#define CC_Q_MSIX 26
#define CC_Q_ENABLE 28
#define CC_Q_NOFF 30
#define CC_Q_DESCLO 32
#define CC_Q_DESCHI 36
#define CC_Q_AVAILLO 40
#define CC_Q_AVAILHI 44
#define CC_Q_USEDLO 48
#define CC_Q_USEDHI 52

#define ISR_QUEUE 1
#define ISR_CONFIG 2

static const char *virtio_name(const struct virtio_dev *vdev)
{
	switch (get_le16(vdev->pci.cfg + PCI_DEVICE_ID) - VIRTIO_PCI_DEVICE_BASE) {
	case VIRTIO_ID_NET: return "virtio-net";
	case VIRTIO_ID_BLOCK: return "virtio-blk";
	case VIRTIO_ID_RNG: return "virtio-rng";
	case VIRTIO_ID_INPUT: return "virtio-input";
	default: return "virtio";
	}
}

bool virtio_dev_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->driver_features & (1ULL << bit);
}

/* Device lock held. */
static void virtio_config_interrupt(struct virtio_dev *vdev)
{
	vdev->isr |= ISR_CONFIG;
	if (vdev->config_vector != MSIX_NO_VECTOR)
		msix_notify(&vdev->msix, vdev->config_vector);
}

void virtio_dev_config_changed(struct virtio_dev *vdev)
{
	vdev->config_generation++;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_config_interrupt(vdev);
}

/* Device lock held. */
static void virtio_needs_reset(struct virtio_dev *vdev, unsigned int q)
{
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn("%s: the guest's driver broke the rules of queue %u; the device waits for a reset",
		 virtio_name(vdev), q);
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_config_interrupt(vdev);
}

bool virtio_dev_queue_live(const struct virtio_dev *vdev, unsigned int q)
{
	return (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vdev->status & VIRTIO_STATUS_NEEDS_RESET) && q < vdev->nqueues && vdev->vq[q].ready;
}

void virtio_dev_queue_broken(struct virtio_dev *vdev, unsigned int q)
{
	virtio_needs_reset(vdev, q);
}

void virtio_dev_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	struct virtq *vq = &vdev->vq[q];

	if (!virtq_should_notify(vq))
		return;
	vdev->isr |= ISR_QUEUE;
	if (vq->msix_vector != MSIX_NO_VECTOR)
		msix_notify(&vdev->msix, vq->msix_vector);
}

/* Device lock held. */
static void virtio_reset(struct virtio_dev *vdev)
{
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	vdev->driver_features = 0;
	vdev->device_feature_select = vdev->driver_feature_select = 0;
	vdev->config_vector = MSIX_NO_VECTOR;
	vdev->status = 0;
	vdev->isr = 0;
	vdev->queue_select = 0;
	for (unsigned int q = 0; q < vdev->nqueues; q++) {
		bool drained = vdev->vq[q].kick_when_drained; /* the device's choice, not the driver's */

		virtq_reset(&vdev->vq[q], vdev->queue_max_size);
		vdev->vq[q].kick_when_drained = drained;
	}
}

static void common_read_all(struct virtio_dev *vdev, uint8_t *c)
{
	struct virtq *vq = vdev->queue_select < vdev->nqueues ? &vdev->vq[vdev->queue_select] : NULL;

	memset(c, 0, COMMON_LEN);
	put_le32(c + CC_DFSELECT, vdev->device_feature_select);
	if (vdev->device_feature_select < 2)
		put_le32(c + CC_DF, vdev->device_features >> (32 * vdev->device_feature_select));
	put_le32(c + CC_GFSELECT, vdev->driver_feature_select);
	if (vdev->driver_feature_select < 2)
		put_le32(c + CC_GF, vdev->driver_features >> (32 * vdev->driver_feature_select));
	put_le16(c + CC_MSIX, vdev->config_vector);
	put_le16(c + CC_NUMQ, vdev->nqueues);
	c[CC_STATUS] = vdev->status;
	c[CC_CFGGEN] = vdev->config_generation;
	put_le16(c + CC_Q_SELECT, vdev->queue_select);
	if (vq) {
		put_le16(c + CC_Q_SIZE, vq->size);
		put_le16(c + CC_Q_MSIX, vq->msix_vector);
		put_le16(c + CC_Q_ENABLE, vq->ready);
		put_le16(c + CC_Q_NOFF, vdev->queue_select);
		put_le64(c + CC_Q_DESCLO, vq->desc_gpa);
		put_le64(c + CC_Q_AVAILLO, vq->avail_gpa);
		put_le64(c + CC_Q_USEDLO, vq->used_gpa);
	}
}

static bool touches(unsigned int off, unsigned int len, unsigned int field, unsigned int size)
{
	return off < field + size && field < off + len;
}

static uint16_t valid_vector(const struct virtio_dev *vdev, uint16_t v)
{
	/* §4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
	return v < vdev->msix.nvec ? v : MSIX_NO_VECTOR;
}

static void kick(struct virtio_dev *vdev, unsigned int q)
{
	uint64_t one = 1;

	if (q < vdev->nqueues && write(vdev->kick_fd[q], &one, sizeof(one)) < 0) {
		/* saturated: the I/O thread is due to run anyway */
	}
}

static void status_write(struct virtio_dev *vdev, uint8_t status)
{
	uint8_t old = vdev->status;

	if (status == 0) {
		virtio_reset(vdev);
		return;
	}
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* §2.2.2: accept only features we offered, and only the modern interface. */
		if ((vdev->driver_features & ~vdev->device_features) ||
		    !virtio_dev_has_feature(vdev, VIRTIO_F_VERSION_1))
			status &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	vdev->status = status | (old & VIRTIO_STATUS_NEEDS_RESET);
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (vdev->ops->driver_ok)
			vdev->ops->driver_ok(vdev);
		/* Requests queued before DRIVER_OK are served now. */
		for (unsigned int q = 0; q < vdev->nqueues; q++)
			kick(vdev, q);
	}
}

static void common_write(struct virtio_dev *vdev, unsigned int off, const uint8_t *data,
			 unsigned int len)
{
	struct virtq *vq = vdev->queue_select < vdev->nqueues ? &vdev->vq[vdev->queue_select] : NULL;
	bool setup = vq && !vq->ready;
	uint8_t c[COMMON_LEN];

	common_read_all(vdev, c);
	memcpy(c + off, data, len);

	if (touches(off, len, CC_DFSELECT, 4))
		vdev->device_feature_select = get_le32(c + CC_DFSELECT);
	if (touches(off, len, CC_GFSELECT, 4))
		vdev->driver_feature_select = get_le32(c + CC_GFSELECT);
	if (touches(off, len, CC_GF, 4) && vdev->driver_feature_select < 2 &&
	    !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		unsigned int shift = 32 * vdev->driver_feature_select;

		vdev->driver_features = (vdev->driver_features & ~(0xffffffffULL << shift)) |
					((uint64_t)get_le32(c + CC_GF) << shift);
	}
	if (touches(off, len, CC_MSIX, 2))
		vdev->config_vector = valid_vector(vdev, get_le16(c + CC_MSIX));
	if (touches(off, len, CC_Q_SELECT, 2))
		vdev->queue_select = get_le16(c + CC_Q_SELECT);
	if (touches(off, len, CC_Q_SIZE, 2) && setup) {
		uint16_t size = get_le16(c + CC_Q_SIZE);

		if (size && size <= vdev->queue_max_size)
			vq->size = size;
	}
	if (touches(off, len, CC_Q_MSIX, 2) && vq)
		vq->msix_vector = valid_vector(vdev, get_le16(c + CC_Q_MSIX));
	if (setup) {
		if (touches(off, len, CC_Q_DESCLO, 8))
			vq->desc_gpa = get_le64(c + CC_Q_DESCLO);
		if (touches(off, len, CC_Q_AVAILLO, 8))
			vq->avail_gpa = get_le64(c + CC_Q_AVAILLO);
		if (touches(off, len, CC_Q_USEDLO, 8))
			vq->used_gpa = get_le64(c + CC_Q_USEDLO);
		if (touches(off, len, CC_Q_ENABLE, 2) && get_le16(c + CC_Q_ENABLE) == 1) {
			vq->event_idx = virtio_dev_has_feature(vdev, VIRTIO_F_EVENT_IDX);
			if (virtq_enable(vq, vdev->mem) < 0)
				virtio_needs_reset(vdev, vdev->queue_select);
		}
	}
	if (touches(off, len, CC_STATUS, 1))
		status_write(vdev, c[CC_STATUS]);
}

static void bar_access(struct virtio_dev *vdev, uint64_t off, bool is_write, uint8_t *data,
		       unsigned int len)
{
	if (off >= OFF_MSIX_TABLE && off < OFF_MSIX_PBA) {
		msix_table_io(&vdev->msix, off - OFF_MSIX_TABLE, is_write, data, len);
		return;
	}
	if (off >= OFF_MSIX_PBA) {
		msix_pba_io(&vdev->msix, off - OFF_MSIX_PBA, is_write, data, len);
		return;
	}
	if (off >= OFF_NOTIFY) {
		if (is_write)
			kick(vdev, (off - OFF_NOTIFY) / NOTIFY_MULTIPLIER);
		else
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	if (off < OFF_COMMON + COMMON_LEN && off + len <= COMMON_LEN) {
		if (is_write) {
			common_write(vdev, off, data, len);
		} else {
			uint8_t c[COMMON_LEN];

			common_read_all(vdev, c);
			memcpy(data, c + off, len);
		}
	} else if (off == OFF_ISR) {
		if (!is_write) {
			/* §4.1.4.5: reading the ISR status clears it. */
			memset(data, 0, len);
			data[0] = vdev->isr;
			vdev->isr = 0;
		}
	} else if (off >= OFF_DEVICE && off - OFF_DEVICE + len <= vdev->config_len) {
		if (!is_write)
			memcpy(data, vdev->config + off - OFF_DEVICE, len);
		else if (vdev->ops->config_write)
			vdev->ops->config_write(vdev, off - OFF_DEVICE, data, len);
	} else if (!is_write) {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void virtio_bar_io(struct pci_device *dev, unsigned int bar, uint64_t offset, bool is_write,
			  uint8_t *data, unsigned int len)
{
	if (bar == 0)
		bar_access(dev->opaque, offset, is_write, data, len);
	else if (!is_write)
		memset(data, 0xff, len);
}

static void ioeventfd_set(struct virtio_dev *vdev, unsigned int q, uint64_t addr, bool assign)
{
	struct kvm_ioeventfd ev = {
		.addr = addr, .len = 2, .fd = vdev->kick_fd[q],
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(vdev->vm_fd, KVM_IOEVENTFD, &ev) < 0 && assign)
		log_warn("%s: cannot register queue %u's notify register with KVM: %s",
			 virtio_name(vdev), q, strerror(errno));
}

/* Follow BAR 0 with the notify ioeventfds (PCI lock held). */
static void virtio_bar_map(struct pci_device *dev, unsigned int bar, uint64_t addr)
{
	struct virtio_dev *vdev = dev->opaque;

	if (bar != 0)
		return;
	pthread_mutex_lock(&vdev->lock);
	vdev->bar_addr = addr;
	for (unsigned int q = 0; q < vdev->nqueues; q++) {
		uint64_t want = addr ? addr + OFF_NOTIFY + q * NOTIFY_MULTIPLIER : 0;

		if (want == vdev->kick_addr[q])
			continue;
		if (vdev->kick_addr[q])
			ioeventfd_set(vdev, q, vdev->kick_addr[q], false);
		if (want)
			ioeventfd_set(vdev, q, want, true);
		vdev->kick_addr[q] = want;
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* The VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9): BAR access through config space. */
static unsigned int pci_cfg_cap(const struct virtio_dev *vdev)
{
	return vdev->pci.cap_last; /* added last, see virtio_dev_init */
}

static bool pci_cfg_window(struct virtio_dev *vdev, unsigned int off, unsigned int len,
			   uint64_t *ret_off, unsigned int *ret_len)
{
	unsigned int cap = pci_cfg_cap(vdev);
	uint32_t wlen = get_le32(vdev->pci.cfg + cap + 12);

	if (!touches(off, len, cap + 16, 4))
		return false;
	if (vdev->pci.cfg[cap + 4] != 0 || (wlen != 1 && wlen != 2 && wlen != 4))
		return false;
	*ret_off = get_le32(vdev->pci.cfg + cap + 8);
	*ret_len = wlen;
	return *ret_off < BAR_SIZE && *ret_off + wlen <= BAR_SIZE;
}

static void virtio_cfg_read(struct pci_device *dev, unsigned int off, unsigned int len)
{
	struct virtio_dev *vdev = dev->opaque;
	uint64_t boff;
	unsigned int blen;

	if (pci_cfg_window(vdev, off, len, &boff, &blen)) {
		memset(dev->cfg + pci_cfg_cap(vdev) + 16, 0, 4);
		bar_access(vdev, boff, false, dev->cfg + pci_cfg_cap(vdev) + 16, blen);
	}
}

static void virtio_cfg_write(struct pci_device *dev, unsigned int off, unsigned int len)
{
	struct virtio_dev *vdev = dev->opaque;
	uint64_t boff;
	unsigned int blen;

	if (touches(off, len, vdev->msix.cap, 12))
		msix_cfg_written(&vdev->msix);
	if (pci_cfg_window(vdev, off, len, &boff, &blen))
		bar_access(vdev, boff, true, dev->cfg + pci_cfg_cap(vdev) + 16, blen);
}

static const struct pci_device_ops virtio_pci_ops = {
	.bar_io = virtio_bar_io,
	.bar_map = virtio_bar_map,
	.cfg_read = virtio_cfg_read,
	.cfg_write = virtio_cfg_write,
};

static int add_virtio_cap(struct pci_device *dev, uint8_t type, uint32_t offset, uint32_t length,
			  unsigned int extra)
{
	unsigned int cap = pci_device_add_cap(dev, PCI_CAP_ID_VNDR, 16 + extra);

	if (!cap)
		return -ENOSPC;
	dev->cfg[cap + 2] = 16 + extra; /* cap_len */
	dev->cfg[cap + 3] = type;
	dev->cfg[cap + 4] = 0;          /* BAR 0 */
	put_le32(dev->cfg + cap + 8, offset);
	put_le32(dev->cfg + cap + 12, length);
	if (type == CAP_NOTIFY)
		put_le32(dev->cfg + cap + 16, NOTIFY_MULTIPLIER);
	if (type == CAP_PCI_CFG) {
		/* bar, offset, length and the data window are the driver's to set. */
		dev->wmask[cap + 4] = 0xff;
		put_le32(dev->wmask + cap + 8, 0xffffffff);
		put_le32(dev->wmask + cap + 12, 0xffffffff);
		put_le32(dev->wmask + cap + 16, 0xffffffff);
	}
	return 0;
}

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops, void *opaque,
		    uint16_t device_id, uint32_t class_code, uint64_t device_features,
		    unsigned int nqueues, uint16_t queue_max_size, uint8_t *config,
		    unsigned int config_len, struct pci *pci, struct irq_routing *routing,
		    const struct guest_mem *mem, int vm_fd)
{
	struct pci_device *dev = &vdev->pci;
	int r;

	memset(vdev, 0, sizeof(*vdev));
	vdev->stop_fd = -1;
	vdev->io_fd = -1;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vdev->kick_fd[q] = -1;
	if (nqueues == 0 || nqueues > VIRTIO_MAX_QUEUES || config_len > 0x1000)
		return -EINVAL;
	vdev->ops = ops;
	vdev->opaque = opaque;
	vdev->mem = mem;
	vdev->vm_fd = vm_fd;
	vdev->device_features = device_features | (1ULL << VIRTIO_F_VERSION_1) |
				(1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX);
	vdev->nqueues = nqueues;
	vdev->queue_max_size = queue_max_size;
	vdev->config = config;
	vdev->config_len = config_len;
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->ready = true;

	pci_device_init(dev, &virtio_pci_ops, vdev, VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_DEVICE_BASE + device_id, class_code, 1, VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_SUBSYS_ID);
	pci_device_add_bar(dev, 0, BAR_SIZE);
	/* One vector per queue and one for config changes. */
	r = msix_init(&vdev->msix, dev, routing, vm_fd, nqueues + 1, 0, OFF_MSIX_TABLE,
		      OFF_MSIX_PBA);
	if (r < 0)
		return r;
	if ((r = add_virtio_cap(dev, CAP_COMMON, OFF_COMMON, COMMON_LEN, 0)) < 0 ||
	    (r = add_virtio_cap(dev, CAP_NOTIFY, OFF_NOTIFY, nqueues * NOTIFY_MULTIPLIER, 4)) < 0 ||
	    (r = add_virtio_cap(dev, CAP_ISR, OFF_ISR, 1, 0)) < 0 ||
	    /* A device without config (rng) has no device cap: drivers refuse an empty one. */
	    (config_len && (r = add_virtio_cap(dev, CAP_DEVICE, OFF_DEVICE, config_len, 0)) < 0) ||
	    (r = add_virtio_cap(dev, CAP_PCI_CFG, 0, 0, 4)) < 0)
		return r;
	for (unsigned int q = 0; q < nqueues; q++) {
		vdev->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->kick_fd[q] < 0)
			return -errno;
	}
	vdev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->stop_fd < 0)
		return -errno;
	virtio_reset(vdev);
	return pci_add_device(pci, dev);
}

static void *virtio_io_thread(void *arg)
{
	struct virtio_dev *vdev = arg;
	struct pollfd pfd[VIRTIO_MAX_QUEUES + 2];
	struct sched_param batch = { .sched_priority = 0 };
	unsigned int n = vdev->nqueues;

	pthread_setname_np(pthread_self(), virtio_name(vdev));
	if (sched_setscheduler(0, SCHED_BATCH, &batch) < 0)
		log_warn("%s: the I/O thread keeps the normal policy: %s", virtio_name(vdev),
			 strerror(errno));

	for (unsigned int q = 0; q < n; q++)
		pfd[q] = (struct pollfd){ .fd = vdev->kick_fd[q], .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = vdev->stop_fd, .events = POLLIN };
	pfd[n + 1] = (struct pollfd){ .fd = vdev->io_fd };
	for (;;) {
		/* Only this thread and device resets (which clear it) change io_events. */
		pfd[n + 1].events = __atomic_load_n(&vdev->io_events, __ATOMIC_RELAXED);
		if (poll(pfd, vdev->io_fd >= 0 ? n + 2 : n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("%s: the I/O thread cannot wait: %s", virtio_name(vdev), strerror(errno));
			return NULL;
		}
		if (pfd[n].revents)
			return NULL;
		for (unsigned int q = 0; q < n; q++) {
			uint64_t v;

			if (!pfd[q].revents || read(vdev->kick_fd[q], &v, sizeof(v)) < 0)
				continue;
			pthread_mutex_lock(&vdev->lock);
			if (virtio_dev_queue_live(vdev, q) && vdev->ops->queue_notify(vdev, q) < 0)
				virtio_needs_reset(vdev, q);
			pthread_mutex_unlock(&vdev->lock);
		}
		if (vdev->io_fd >= 0 && pfd[n + 1].revents) {
			unsigned int q = 0;

			pthread_mutex_lock(&vdev->lock);
			if (vdev->ops->io_ready(vdev, pfd[n + 1].revents, &q) < 0)
				virtio_needs_reset(vdev, q);
			pthread_mutex_unlock(&vdev->lock);
		}
	}
}

int virtio_dev_start(struct virtio_dev *vdev)
{
	int r = thread_start(&vdev->thread, virtio_io_thread, vdev);

	if (r < 0)
		return r;
	vdev->thread_started = true;
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *vdev)
{
	uint64_t one = 1;

	if (vdev->thread_started) {
		if (write(vdev->stop_fd, &one, sizeof(one)) < 0) {
			/* cannot fail on a fresh eventfd */
		}
		pthread_join(vdev->thread, NULL);
		vdev->thread_started = false;
	}
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vdev->kick_fd[q] < 0)
			continue;
		if (vdev->kick_addr[q])
			ioeventfd_set(vdev, q, vdev->kick_addr[q], false);
		close(vdev->kick_fd[q]);
		vdev->kick_fd[q] = -1;
	}
	if (vdev->stop_fd >= 0)
		close(vdev->stop_fd);
	vdev->stop_fd = -1;
	msix_destroy(&vdev->msix);
	if (vdev->ready)
		pthread_mutex_destroy(&vdev->lock);
	vdev->ready = false;
}
