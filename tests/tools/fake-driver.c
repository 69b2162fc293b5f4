#include "tests/tools/fake-driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void die(const char *what)
{
	fprintf(stderr, "%s\n", what);
	exit(1);
}

static uint32_t cfg_read(struct drv *d, unsigned int reg)
{
	uint8_t addr[4], data[4];

	put_le32(addr, 0x80000000u | d->slot << 11 | reg);
	pci_conf1_io(d->pci, 0, true, addr, 4);
	pci_conf1_io(d->pci, 4, false, data, 4);
	return get_le32(data);
}

static void cfg_write(struct drv *d, unsigned int reg, uint32_t v)
{
	uint8_t addr[4], data[4];

	put_le32(addr, 0x80000000u | d->slot << 11 | reg);
	pci_conf1_io(d->pci, 0, true, addr, 4);
	put_le32(data, v);
	pci_conf1_io(d->pci, 4, true, data, 4);
}

uint64_t mmio_read(struct drv *d, uint64_t off, unsigned int len)
{
	uint8_t data[8] = { 0 };

	if (!pci_mmio(d->pci, d->bar + off, false, data, len))
		die("a BAR read went nowhere");
	return get_le64(data);
}

void mmio_write(struct drv *d, uint64_t off, unsigned int len, uint64_t v)
{
	uint8_t data[8];

	put_le64(data, v);
	if (!pci_mmio(d->pci, d->bar + off, true, data, len))
		die("a BAR write went nowhere");
}

void drv_attach(struct drv *d, struct pci *pci, struct guest_mem *mem, unsigned int slot,
		uint64_t ring)
{
	memset(d, 0, sizeof(*d));
	d->pci = pci;
	d->mem = mem;
	d->slot = slot;
	d->ring = ring;
	cfg_write(d, 4, 0x6); /* memory decoding, bus master */
	d->bar = cfg_read(d, 0x10) & ~0xfULL;
	if ((cfg_read(d, 0) & 0xffff) != 0x1af4)
		die("no virtio device in the slot");
}

void drv_init_features(struct drv *d, uint64_t features, unsigned int nqueues, uint16_t qsize)
{
	features |= 1ULL << 32; /* VIRTIO_F_VERSION_1 */
	mmio_write(d, DRV_STATUS_OFF, 1, 0);
	if (mmio_read(d, DRV_STATUS_OFF, 1) != 0)
		die("status did not read 0 after reset");
	mmio_write(d, DRV_STATUS_OFF, 1, 1 | 2);
	mmio_write(d, 8, 4, 0); /* driver_feature_select: low word */
	mmio_write(d, 12, 4, (uint32_t)features);
	mmio_write(d, 8, 4, 1);
	mmio_write(d, 12, 4, features >> 32);
	mmio_write(d, DRV_STATUS_OFF, 1, 1 | 2 | 8);
	if (!(mmio_read(d, DRV_STATUS_OFF, 1) & 8))
		die("FEATURES_OK was refused");
	d->qsize = qsize;
	for (unsigned int q = 0; q < nqueues; q++) {
		uint64_t base = d->ring + q * DRV_QUEUE_STRIDE;

		mmio_write(d, 22, 2, q);
		mmio_write(d, 24, 2, qsize);
		memset(mem_ptr(d->mem, base, 0x3000), 0, 0x3000);
		mmio_write(d, 32, 8, base);
		mmio_write(d, 40, 8, base + 0x1000);
		mmio_write(d, 48, 8, base + 0x2000);
		mmio_write(d, 28, 2, 1);
		d->avail_idx[q] = 0;
		d->used_seen[q] = 0;
	}
	mmio_write(d, DRV_STATUS_OFF, 1, 1 | 2 | 8 | 4);
}

void drv_init(struct drv *d)
{
	drv_init_features(d, 0, 1, 8);
}

void desc_q(struct drv *d, unsigned int q, unsigned int i, uint64_t addr, uint32_t len,
	    uint16_t flags, uint16_t next)
{
	uint8_t *p = mem_ptr(d->mem, d->ring + q * DRV_QUEUE_STRIDE + 16 * i, 16);

	put_le64(p, addr);
	put_le32(p + 8, len);
	put_le16(p + 12, flags);
	put_le16(p + 14, next);
}

void desc(struct drv *d, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
	  uint16_t next)
{
	desc_q(d, 0, i, addr, len, flags, next);
}

void offer_q(struct drv *d, unsigned int q, uint16_t head, int notify)
{
	uint8_t *a = mem_ptr(d->mem, d->ring + q * DRV_QUEUE_STRIDE + 0x1000, 4 + 2 * d->qsize);

	put_le16(a + 4 + 2 * (d->avail_idx[q] % d->qsize), head);
	__atomic_store_n((uint16_t *)(a + 2), ++d->avail_idx[q], __ATOMIC_RELEASE);
	if (notify)
		mmio_write(d, 0x3000 + 4 * q, 2, q);
}

void offer(struct drv *d, uint16_t head)
{
	offer_q(d, 0, head, 1);
}

uint16_t used_idx_q(struct drv *d, unsigned int q)
{
	return __atomic_load_n(
		(uint16_t *)mem_ptr(d->mem, d->ring + q * DRV_QUEUE_STRIDE + 0x2002, 2),
		__ATOMIC_ACQUIRE);
}

uint16_t used_idx(struct drv *d)
{
	return used_idx_q(d, 0);
}

void used_elem(struct drv *d, unsigned int q, uint16_t n, uint32_t *ret_id, uint32_t *ret_len)
{
	uint8_t *e = mem_ptr(d->mem, d->ring + q * DRV_QUEUE_STRIDE + 0x2004 + 8 * (n % d->qsize),
			     8);

	*ret_id = get_le32(e);
	*ret_len = get_le32(e + 4);
}
