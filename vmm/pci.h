/*
 * PCI bus 0 with a host bridge: configuration mechanism #1 (ports
 * 0xcf8/0xcfc), ECAM in MMIO (described by the MCFG table), and the
 * memory BARs of its devices.
 */
#ifndef WEBKVM_VMM_PCI_H
#define WEBKVM_VMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_SLOTS 32
#define PCI_CFG_SIZE 4096
#define PCI_NUM_BARS 6

/* Standard configuration header (PCI 3.0 §6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_CAP_START 0x40
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_device;

struct pci_device_ops {
	/* An access inside memory BAR bar; offset is from the BAR's start. */
	void (*bar_io)(struct pci_device *dev, unsigned int bar, uint64_t offset, bool is_write,
		       uint8_t *data, unsigned int len);
	/* The guest moved a BAR or turned its decoding on or off (addr 0: off). */
	void (*bar_map)(struct pci_device *dev, unsigned int bar, uint64_t addr);
	/* Before a read and after a write of [off, off+len) in the capabilities. */
	void (*cfg_read)(struct pci_device *dev, unsigned int off, unsigned int len);
	void (*cfg_write)(struct pci_device *dev, unsigned int off, unsigned int len);
};

struct pci_device {
	const struct pci_device_ops *ops;
	void *opaque;
	uint8_t cfg[PCI_CFG_SIZE];    /* configuration space as the guest reads it */
	uint8_t wmask[PCI_CFG_SIZE];  /* bits the guest may change */
	uint32_t bar_size[PCI_NUM_BARS]; /* 32-bit memory BARs; 0 = none */
	uint64_t bar_addr[PCI_NUM_BARS]; /* where each decodes now, 0 = nowhere */
	unsigned int cap_next;        /* offset of the next capability to add */
	unsigned int cap_last;        /* offset of the last one added, 0 = none */
};

struct pci {
	pthread_mutex_t lock;          /* config space, BAR decoding, and BAR I/O */
	uint32_t conf1_address;        /* the 0xcf8 register */
	struct pci_device host_bridge;
	struct pci_device *slots[PCI_SLOTS];
	uint64_t mmio_next;            /* where the next BAR goes */
};

void pci_init(struct pci *pci);
void pci_destroy(struct pci *pci);

void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, void *opaque,
		     uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
		     uint16_t subsys_vendor, uint16_t subsys_id);
/* A 32-bit non-prefetchable memory BAR of size bytes (a power of two, >= 4 KiB). */
void pci_device_add_bar(struct pci_device *dev, unsigned int bar, uint32_t size);
/* Append a capability of len bytes (id and next filled in); its offset, or 0 if full. */
unsigned int pci_device_add_cap(struct pci_device *dev, uint8_t id, unsigned int len);

/* Give the device a slot and its BARs addresses, as firmware would. 0 or -ENOSPC. */
int pci_add_device(struct pci *pci, struct pci_device *dev);

/* Ports 0xcf8-0xcff (a bus_io_fn). */
void pci_conf1_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len);
/* An MMIO exit: ECAM or a device's BAR. false when nothing decodes gpa. */
bool pci_mmio(struct pci *pci, uint64_t gpa, bool is_write, uint8_t *data, unsigned int len);

#endif
