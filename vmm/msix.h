/*
 * MSI-X (PCI 3.0 §6.8.2) for a PCI device: the capability, the vector
 * table and pending bits in a BAR, and delivery through irqfds on KVM MSI
 * routes.
 */
#ifndef WEBKVM_VMM_MSIX_H
#define WEBKVM_VMM_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/irq.h"
#include "vmm/pci.h"

#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE 16
#define MSIX_NO_VECTOR 0xffff

struct msix_vector {
	unsigned int gsi;   /* its KVM MSI route */
	int fd;             /* irqfd bound to gsi */
	bool route_stale;   /* the table entry changed since the route was set */
};

struct msix {
	struct pci_device *dev;
	struct irq_routing *routing;
	int vm_fd;
	unsigned int cap;                /* config offset of the capability */
	unsigned int nvec;
	pthread_mutex_t lock;            /* table, pending bits, delivery */
	uint8_t table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
	uint64_t pending;
	uint16_t ctrl;                   /* Message Control, copied from config space */
	struct msix_vector vec[MSIX_MAX_VECTORS];
};

/*
 * Add the capability to dev (table at table_off, pending bits at pba_off,
 * both in BAR bar) and an irqfd per vector. 0 or -errno.
 */
int msix_init(struct msix *m, struct pci_device *dev, struct irq_routing *routing, int vm_fd,
	      unsigned int nvec, unsigned int bar, uint32_t table_off, uint32_t pba_off);
void msix_destroy(struct msix *m);

/* BAR accesses to the table and the pending bits; offsets from their start. */
void msix_table_io(struct msix *m, uint64_t offset, bool is_write, uint8_t *data, unsigned int len);
void msix_pba_io(struct msix *m, uint64_t offset, bool is_write, uint8_t *data, unsigned int len);
/*
 * After a config write (under the PCI lock): the enable or function mask
 * bits may have changed.
 */
void msix_cfg_written(struct msix *m);
/* Send vector, or mark it pending while it is masked. Safe from any thread. */
void msix_notify(struct msix *m, uint16_t vector);

#endif
