/*
 * PCI bus 0 and its host bridge.
 *
 * NOTES
 * - There is no firmware, so pci_add_device does its job: every BAR gets
 *   an address in the 32-bit MMIO window (which the DSDT's PCI0 _CRS
 *   describes) before the guest starts. Guests may move BARs; decoding
 *   follows the BAR registers and the command register's memory bit.
 * - Devices have no INTx pin: virtio devices interrupt through MSI-X.
 * - Config writes go through a write mask, so read-only registers and
 *   the low bits of BARs (their size) stay as the device set them.
 * - One lock covers config space and BAR dispatch; BAR callbacks run
 *   under it and may take their device's own lock, never the reverse.
 */
#include "vmm/pci.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "vmm/x86/layout.h"

#define CONF1_ENABLE 0x80000000u

/* Red Hat's ID for a generic PCIe host bridge, which no guest quirk matches. */
#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008
#define CLASS_HOST_BRIDGE 0x060000

static void cfg_set_wmask16(struct pci_device *dev, unsigned int off, uint16_t mask)
{
	put_le16(dev->wmask + off, mask);
}

void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, void *opaque,
		     uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
		     uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->opaque = opaque;
	put_le16(dev->cfg + PCI_VENDOR_ID, vendor);
	put_le16(dev->cfg + PCI_DEVICE_ID, device);
	dev->cfg[PCI_REVISION_ID] = revision;
	dev->cfg[PCI_CLASS_PROG] = class_code & 0xff;
	put_le16(dev->cfg + PCI_CLASS_PROG + 1, class_code >> 8);
	put_le16(dev->cfg + PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	put_le16(dev->cfg + PCI_SUBSYSTEM_ID, subsys_id);
	cfg_set_wmask16(dev, PCI_COMMAND,
			PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	dev->cap_next = PCI_CAP_START;
}

void pci_device_add_bar(struct pci_device *dev, unsigned int bar, uint32_t size)
{
	dev->bar_size[bar] = size;
	/* Memory, 32-bit, not prefetchable: type bits all zero. */
	put_le32(dev->wmask + PCI_BAR0 + 4 * bar, ~(size - 1));
}

unsigned int pci_device_add_cap(struct pci_device *dev, uint8_t id, unsigned int len)
{
	unsigned int off = dev->cap_next;

	if (len < 2 || off + len > 0x100)
		return 0;
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	if (dev->cap_last)
		dev->cfg[dev->cap_last + 1] = off;
	else
		dev->cfg[PCI_CAPABILITY_LIST] = off;
	put_le16(dev->cfg + PCI_STATUS, get_le16(dev->cfg + PCI_STATUS) | PCI_STATUS_CAP_LIST);
	dev->cap_last = off;
	dev->cap_next = ALIGN_UP(off + len, 4);
	return off;
}

void pci_init(struct pci *pci)
{
	memset(pci, 0, sizeof(*pci));
	pthread_mutex_init(&pci->lock, NULL);
	pci->mmio_next = LAYOUT_PCI_MMIO;
	pci_device_init(&pci->host_bridge, NULL, NULL, HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
			CLASS_HOST_BRIDGE, 0, HOST_BRIDGE_VENDOR, 0x1100);
	pci->slots[0] = &pci->host_bridge;
}

void pci_destroy(struct pci *pci)
{
	pthread_mutex_destroy(&pci->lock);
}

int pci_add_device(struct pci *pci, struct pci_device *dev)
{
	unsigned int slot;

	for (slot = 0; slot < PCI_SLOTS && pci->slots[slot]; slot++)
		;
	if (slot == PCI_SLOTS)
		return -ENOSPC;
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		uint64_t addr;

		if (!dev->bar_size[bar])
			continue;
		addr = ALIGN_UP(pci->mmio_next, dev->bar_size[bar]);
		if (addr + dev->bar_size[bar] > LAYOUT_PCI_MMIO_END)
			return -ENOSPC;
		put_le32(dev->cfg + PCI_BAR0 + 4 * bar, (uint32_t)addr);
		pci->mmio_next = addr + dev->bar_size[bar];
	}
	pci->slots[slot] = dev;
	return 0;
}

/* Re-derive where each BAR decodes after a write to the command register or a BAR. */
static void pci_update_bars(struct pci_device *dev)
{
	bool mem_on = get_le16(dev->cfg + PCI_COMMAND) & PCI_COMMAND_MEMORY;

	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		uint64_t addr;

		if (!dev->bar_size[bar])
			continue;
		addr = get_le32(dev->cfg + PCI_BAR0 + 4 * bar) & ~0xfu;
		/* A BAR being sized (all ones) or left at 0 decodes nowhere. */
		if (!mem_on || addr == 0 || addr == (uint32_t)~(dev->bar_size[bar] - 1))
			addr = 0;
		if (addr == dev->bar_addr[bar])
			continue;
		dev->bar_addr[bar] = addr;
		if (dev->ops && dev->ops->bar_map)
			dev->ops->bar_map(dev, bar, addr);
	}
}

static void pci_cfg_access(struct pci_device *dev, unsigned int off, bool is_write,
			   uint8_t *data, unsigned int len)
{
	if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		if (off + len > PCI_CAP_START && dev->ops && dev->ops->cfg_read)
			dev->ops->cfg_read(dev, off, len);
		memcpy(data, dev->cfg + off, len);
		return;
	}
	for (unsigned int i = 0; i < len; i++)
		dev->cfg[off + i] = (dev->cfg[off + i] & ~dev->wmask[off + i]) |
				    (data[i] & dev->wmask[off + i]);
	if (off < PCI_BAR0 + 4 * PCI_NUM_BARS && off + len > PCI_COMMAND)
		pci_update_bars(dev);
	if (off + len > PCI_CAP_START && dev->ops && dev->ops->cfg_write)
		dev->ops->cfg_write(dev, off, len);
}

/* bus 0 only; function 0 only. */
static struct pci_device *pci_lookup(struct pci *pci, unsigned int bus, unsigned int slot,
				     unsigned int fn)
{
	if (bus != 0 || fn != 0 || slot >= PCI_SLOTS)
		return NULL;
	return pci->slots[slot];
}

void pci_conf1_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len)
{
	struct pci *pci = opaque;
	struct pci_device *dev;
	uint32_t a;

	pthread_mutex_lock(&pci->lock);
	if (offset < 4) {
		/* Only whole-dword accesses reach the address register, as on a PC. */
		if (offset == 0 && len == 4) {
			if (is_write)
				pci->conf1_address = get_le32(data);
			else
				put_le32(data, pci->conf1_address);
		} else if (!is_write) {
			memset(data, 0xff, len);
		}
		goto out;
	}
	a = pci->conf1_address;
	dev = (a & CONF1_ENABLE) ? pci_lookup(pci, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 7)
				 : NULL;
	if (!dev || (offset - 4) + len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
		goto out;
	}
	pci_cfg_access(dev, (a & 0xfc) + (offset - 4), is_write, data, len);
out:
	pthread_mutex_unlock(&pci->lock);
}

bool pci_mmio(struct pci *pci, uint64_t gpa, bool is_write, uint8_t *data, unsigned int len)
{
	bool handled = false;

	pthread_mutex_lock(&pci->lock);
	if (gpa >= LAYOUT_PCI_ECAM && gpa < LAYOUT_PCI_ECAM + LAYOUT_PCI_ECAM_SIZE) {
		uint64_t off = gpa - LAYOUT_PCI_ECAM;
		struct pci_device *dev = pci_lookup(pci, off >> 20, (off >> 15) & 0x1f, (off >> 12) & 7);
		unsigned int reg = off & 0xfff;

		/* Accesses must not cross a dword (PCIe 6.0 §7.2.2). */
		if (dev && (reg & 3) + len <= 4)
			pci_cfg_access(dev, reg, is_write, data, len);
		else if (!is_write)
			memset(data, 0xff, len);
		handled = true;
		goto out;
	}
	for (unsigned int s = 0; s < PCI_SLOTS && !handled; s++) {
		struct pci_device *dev = pci->slots[s];

		if (!dev)
			continue;
		for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
			uint64_t base = dev->bar_addr[bar];

			if (!base || gpa < base || gpa + len > base + dev->bar_size[bar])
				continue;
			if (dev->ops && dev->ops->bar_io)
				dev->ops->bar_io(dev, bar, gpa - base, is_write, data, len);
			else if (!is_write)
				memset(data, 0xff, len);
			handled = true;
			break;
		}
	}
out:
	pthread_mutex_unlock(&pci->lock);
	return handled;
}
