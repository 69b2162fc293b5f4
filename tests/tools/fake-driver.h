/*
 * A guest's virtio driver played from the host, for the device tests in
 * tests/tools: it reaches the real PCI, MSI-X and virtio code of vmm
 * through config cycles and BAR accesses, on a KVM VM without vCPUs.
 * Queue q's rings live at ring + q * 0x4000 (descriptors, avail at
 * +0x1000, used at +0x2000).
 */
#ifndef WEBKVM_TESTS_TOOLS_FAKE_DRIVER_H
#define WEBKVM_TESTS_TOOLS_FAKE_DRIVER_H

#include <stdint.h>
#include <unistd.h>

#include "vmm/mem.h"
#include "vmm/pci.h"

#define DRV_STATUS_OFF 20
#define DRV_DEVICE_CFG 0x2000
#define DRV_QUEUE_STRIDE 0x4000

struct drv {
	struct pci *pci;
	struct guest_mem *mem;
	unsigned int slot;
	uint64_t bar;
	uint64_t ring;
	uint16_t qsize;
	uint16_t avail_idx[8];
	uint16_t used_seen[8];
};

void die(const char *what) __attribute__((noreturn));

void drv_attach(struct drv *d, struct pci *pci, struct guest_mem *mem, unsigned int slot,
		uint64_t ring);
uint64_t mmio_read(struct drv *d, uint64_t off, unsigned int len);
void mmio_write(struct drv *d, uint64_t off, unsigned int len, uint64_t v);
/*
 * Reset, accept features (VERSION_1 is added), set up nqueues queues of
 * qsize entries, DRIVER_OK.
 */
void drv_init_features(struct drv *d, uint64_t features, unsigned int nqueues, uint16_t qsize);
/* VERSION_1 only, one queue of 8 entries. */
void drv_init(struct drv *d);
void desc_q(struct drv *d, unsigned int q, unsigned int i, uint64_t addr, uint32_t len,
	    uint16_t flags, uint16_t next);
void desc(struct drv *d, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
	  uint16_t next);
/* Put head on queue q's avail ring; kick when notify. */
void offer_q(struct drv *d, unsigned int q, uint16_t head, int notify);
void offer(struct drv *d, uint16_t head);
uint16_t used_idx_q(struct drv *d, unsigned int q);
uint16_t used_idx(struct drv *d);
/* Used entry number n (counting from 0 since the queue was set up). */
void used_elem(struct drv *d, unsigned int q, uint16_t n, uint32_t *ret_id, uint32_t *ret_len);

/* Wait up to 5 s for cond. */
#define WAIT_FOR(cond)                                                              \
	({                                                                          \
		int ok_ = 0;                                                        \
		for (int i_ = 0; i_ < 500 && !(ok_ = (cond)); i_++)                 \
			usleep(10000);                                              \
		ok_;                                                                \
	})

#endif
