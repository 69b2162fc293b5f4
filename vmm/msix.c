/*
 * MSI-X delivery.
 *
 * NOTES
 * - Each vector owns a KVM MSI route and an irqfd, so a device thread
 *   interrupts the guest with one eventfd write. Routes are updated
 *   lazily, when a vector that changed is next sent: drivers write an
 *   entry a dword at a time, and each route change costs a table upload.
 * - A masked vector (entry mask, function mask, or MSI-X off) is held as
 *   a pending bit and sent when it is unmasked, as §6.8.2.9 requires.
 */
#include "vmm/msix.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/util.h"

#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_CTRL_MASKBIT 1

int msix_init(struct msix *m, struct pci_device *dev, struct irq_routing *routing, int vm_fd,
	      unsigned int nvec, unsigned int bar, uint32_t table_off, uint32_t pba_off)
{
	int r;

	memset(m, 0, sizeof(*m));
	for (unsigned int i = 0; i < MSIX_MAX_VECTORS; i++)
		m->vec[i].fd = -1;
	if (nvec == 0 || nvec > MSIX_MAX_VECTORS)
		return -EINVAL;
	m->dev = dev;
	m->routing = routing;
	m->vm_fd = vm_fd;
	m->nvec = nvec;
	pthread_mutex_init(&m->lock, NULL);
	m->cap = pci_device_add_cap(dev, PCI_CAP_ID_MSIX, 12);
	if (!m->cap)
		return -ENOSPC;
	put_le16(dev->cfg + m->cap + 2, nvec - 1);
	put_le16(dev->wmask + m->cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	put_le32(dev->cfg + m->cap + 4, table_off | bar);
	put_le32(dev->cfg + m->cap + 8, pba_off | bar);
	for (unsigned int i = 0; i < nvec; i++) {
		struct kvm_irqfd irqfd = { 0 };

		/* §6.8.2.9: every vector starts masked. */
		put_le32(m->table + i * MSIX_ENTRY_SIZE + 12, MSIX_ENTRY_CTRL_MASKBIT);
		if ((r = irq_routing_alloc_msi(routing, &m->vec[i].gsi)) < 0)
			return r;
		m->vec[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->vec[i].fd < 0)
			return -errno;
		m->vec[i].route_stale = true;
		irqfd.fd = m->vec[i].fd;
		irqfd.gsi = m->vec[i].gsi;
		if (ioctl(vm_fd, KVM_IRQFD, &irqfd) < 0)
			return -errno;
	}
	return 0;
}

void msix_destroy(struct msix *m)
{
	if (!m->nvec)
		return;
	for (unsigned int i = 0; i < m->nvec; i++) {
		if (m->vec[i].fd < 0)
			continue;
		struct kvm_irqfd irqfd = { .fd = m->vec[i].fd, .gsi = m->vec[i].gsi,
					   .flags = KVM_IRQFD_FLAG_DEASSIGN };

		ioctl(m->vm_fd, KVM_IRQFD, &irqfd);
		close(m->vec[i].fd);
		m->vec[i].fd = -1;
	}
	pthread_mutex_destroy(&m->lock);
	m->nvec = 0;
}

/* Called with the lock held. */
static bool msix_masked(struct msix *m, unsigned int v)
{
	return !(m->ctrl & MSIX_CTRL_ENABLE) || (m->ctrl & MSIX_CTRL_MASKALL) ||
	       (get_le32(m->table + v * MSIX_ENTRY_SIZE + 12) & MSIX_ENTRY_CTRL_MASKBIT);
}

/* Called with the lock held, for an unmasked vector. */
static void msix_send(struct msix *m, unsigned int v)
{
	struct msix_vector *vec = &m->vec[v];
	uint64_t one = 1;

	if (vec->route_stale) {
		const uint8_t *e = m->table + v * MSIX_ENTRY_SIZE;

		if (irq_routing_set_msi(m->routing, vec->gsi, get_le64(e), get_le32(e + 8)) < 0)
			return; /* KVM refused the address: the message is lost, as on a bad bus */
		vec->route_stale = false;
	}
	if (write(vec->fd, &one, sizeof(one)) < 0) {
		/* the counter only saturates; the interrupt is already due */
	}
}

/* Send whatever became unmasked. Called with the lock held. */
static void msix_flush_pending(struct msix *m)
{
	for (unsigned int v = 0; v < m->nvec; v++) {
		if ((m->pending & (1ULL << v)) && !msix_masked(m, v)) {
			m->pending &= ~(1ULL << v);
			msix_send(m, v);
		}
	}
}

void msix_notify(struct msix *m, uint16_t vector)
{
	if (vector >= m->nvec)
		return;
	pthread_mutex_lock(&m->lock);
	if (msix_masked(m, vector))
		m->pending |= 1ULL << vector;
	else
		msix_send(m, vector);
	pthread_mutex_unlock(&m->lock);
}

void msix_table_io(struct msix *m, uint64_t offset, bool is_write, uint8_t *data, unsigned int len)
{
	uint64_t size = (uint64_t)m->nvec * MSIX_ENTRY_SIZE;

	if (offset >= size || len > size - offset) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	if (!is_write) {
		memcpy(data, m->table + offset, len);
	} else {
		for (uint64_t i = offset; i < offset + len; i++) {
			unsigned int field = i % MSIX_ENTRY_SIZE;

			if (field < 12) {
				m->table[i] = data[i - offset];
				m->vec[i / MSIX_ENTRY_SIZE].route_stale = true;
			} else if (field == 12) {
				/* Only the mask bit of Vector Control is writable. */
				m->table[i] = (m->table[i] & ~MSIX_ENTRY_CTRL_MASKBIT) |
					      (data[i - offset] & MSIX_ENTRY_CTRL_MASKBIT);
			}
		}
		msix_flush_pending(m);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_io(struct msix *m, uint64_t offset, bool is_write, uint8_t *data, unsigned int len)
{
	uint8_t pba[8];

	if (is_write)
		return; /* read-only */
	pthread_mutex_lock(&m->lock);
	put_le64(pba, m->pending);
	pthread_mutex_unlock(&m->lock);
	for (unsigned int i = 0; i < len; i++)
		data[i] = offset + i < sizeof(pba) ? pba[offset + i] : 0;
}

void msix_cfg_written(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	m->ctrl = get_le16(m->dev->cfg + m->cap + 2);
	msix_flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}
