/*
 * Coalesced port writes.
 *
 * NOTES
 * - A write to a registered port range does not leave KVM: it is appended
 *   to a ring that user space shares with KVM (a page of every vCPU's
 *   kvm_run mapping, the same page for all) and the guest runs on. The PCI
 *   configuration address port is one: a guest probing config space
 *   writes it before every access to the data port, and that access exits
 *   as before.
 * - Every port or MMIO exit, on any vCPU, first applies what the ring
 *   holds, in order, so no device sees an access before the writes that
 *   came before it. The lock keeps two vCPUs from applying the same
 *   entries twice.
 * - When the ring is full KVM lets the write exit instead; it is handled
 *   after the ring is applied, so the order still holds.
 * - KVM owns the producer index, and only ever adds entries inside the
 *   registered ranges; an entry's length is still checked before its data
 *   is copied.
 */
#include "vmm/coalesced.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int coalesced_init(struct coalesced *c, int kvm_fd, struct kvm_run *run, size_t mmap_size,
		   struct bus *pio)
{
	long page = sysconf(_SC_PAGESIZE);
	int offset;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->pio = pio;
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return 0;
	offset = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (offset <= 0 || page <= 0 || (size_t)(offset + 1) * page > mmap_size)
		return 0;
	c->ring = (struct kvm_coalesced_mmio_ring *)((uint8_t *)run + (size_t)offset * page);
	c->max = (page - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio);
	return 0;
}

int coalesced_add_pio(struct coalesced *c, int vm_fd, uint16_t port, uint32_t len)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = port, .size = len, .pio = 1 };

	if (!c->ring)
		return 0;
	return ioctl(vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0 ? -errno : 0;
}

void coalesced_flush(struct coalesced *c)
{
	struct kvm_coalesced_mmio_ring *ring = c->ring;

	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_RELAXED) ==
			     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		uint32_t first = ring->first, last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
		struct kvm_coalesced_mmio *e;
		uint8_t data[8];

		if (first == last || first >= c->max || last >= c->max)
			break;
		e = &ring->coalesced_mmio[first];
		if (e->pio && e->len > 0 && e->len <= sizeof(data) && e->phys_addr <= UINT16_MAX) {
			memcpy(data, e->data, e->len);
			bus_pio(c->pio, e->phys_addr, true, data, e->len);
		}
		__atomic_store_n(&ring->first, (first + 1) % c->max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
}

void coalesced_destroy(struct coalesced *c)
{
	c->ring = NULL;
	pthread_mutex_destroy(&c->lock);
}
