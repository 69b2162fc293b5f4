#include "vmm/irq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PIC_GSIS 16

void irq_routing_init(struct irq_routing *rt, int vm_fd)
{
	memset(rt, 0, sizeof(*rt));
	rt->vm_fd = vm_fd;
	pthread_mutex_init(&rt->lock, NULL);
}

void irq_routing_destroy(struct irq_routing *rt)
{
	pthread_mutex_destroy(&rt->lock);
}

/* Called with the lock held. */
static int irq_routing_commit(struct irq_routing *rt)
{
	unsigned int max = PIC_GSIS + IRQ_ISA_GSIS + rt->nmsi, n = 0;
	struct kvm_irq_routing *table;
	int r = 0;

	table = calloc(1, sizeof(*table) + max * sizeof(table->entries[0]));
	if (!table)
		return -ENOMEM;
	/* KVM's default: GSI 0-15 on both PICs, 0-23 on the IOAPIC. */
	for (unsigned int gsi = 0; gsi < PIC_GSIS; gsi++) {
		table->entries[n].gsi = gsi;
		table->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		table->entries[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							      : KVM_IRQCHIP_PIC_SLAVE;
		table->entries[n].u.irqchip.pin = gsi % 8;
		n++;
	}
	for (unsigned int gsi = 0; gsi < IRQ_ISA_GSIS; gsi++) {
		table->entries[n].gsi = gsi;
		table->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		table->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		table->entries[n].u.irqchip.pin = gsi;
		n++;
	}
	for (unsigned int i = 0; i < rt->nmsi; i++) {
		table->entries[n].gsi = IRQ_ISA_GSIS + i;
		table->entries[n].type = KVM_IRQ_ROUTING_MSI;
		table->entries[n].u.msi.address_lo = (uint32_t)rt->msi[i].address;
		table->entries[n].u.msi.address_hi = (uint32_t)(rt->msi[i].address >> 32);
		table->entries[n].u.msi.data = rt->msi[i].data;
		n++;
	}
	table->nr = n;
	if (ioctl(rt->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		r = -errno;
	free(table);
	return r;
}

int irq_routing_alloc_msi(struct irq_routing *rt, unsigned int *ret_gsi)
{
	int r = 0;

	pthread_mutex_lock(&rt->lock);
	if (rt->nmsi == IRQ_MAX_MSI) {
		r = -ENOSPC;
	} else {
		rt->msi[rt->nmsi].address = 0;
		rt->msi[rt->nmsi].data = 0;
		*ret_gsi = IRQ_ISA_GSIS + rt->nmsi++;
	}
	pthread_mutex_unlock(&rt->lock);
	return r;
}

int irq_routing_set_msi(struct irq_routing *rt, unsigned int gsi, uint64_t address, uint32_t data)
{
	unsigned int i = gsi - IRQ_ISA_GSIS;
	int r = 0;

	if (gsi < IRQ_ISA_GSIS || i >= IRQ_MAX_MSI)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	if (i >= rt->nmsi) {
		r = -EINVAL;
	} else if (rt->msi[i].address != address || rt->msi[i].data != data) {
		rt->msi[i].address = address;
		rt->msi[i].data = data;
		r = irq_routing_commit(rt);
	}
	pthread_mutex_unlock(&rt->lock);
	return r;
}
