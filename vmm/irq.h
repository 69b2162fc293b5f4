/*
 * Interrupts into the in-kernel irqchip: ISA lines (PIC + IOAPIC) driven
 * by level, and MSI routes that devices fire through irqfds.
 */
#ifndef WEBKVM_VMM_IRQ_H
#define WEBKVM_VMM_IRQ_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>

struct irq_line {
	int vm_fd;
	unsigned int gsi;
};

/*
 * Drive the line to a level. Edge-triggered ISA lines see an interrupt on
 * each 0 -> 1 change; level-triggered ones (the ACPI SCI) stay asserted
 * until the device drops them.
 */
static inline void irq_line_set(const struct irq_line *line, int level)
{
	struct kvm_irq_level irq = { .irq = line->gsi, .level = level };

	ioctl(line->vm_fd, KVM_IRQ_LINE, &irq);
}

#define IRQ_ISA_GSIS 24    /* IOAPIC pins; GSIs above are MSI routes */
#define IRQ_MAX_MSI 512

/*
 * KVM's GSI routing table. Setting it replaces KVM's default one, so it
 * always carries the PIC and IOAPIC routes of the ISA lines as well.
 */
struct irq_routing {
	int vm_fd;
	pthread_mutex_t lock;
	unsigned int nmsi;                     /* MSI GSIs handed out */
	struct { uint64_t address; uint32_t data; } msi[IRQ_MAX_MSI];
};

void irq_routing_init(struct irq_routing *rt, int vm_fd);
void irq_routing_destroy(struct irq_routing *rt);
/* A new MSI GSI (masked: address 0 until set); -ENOSPC when none is left. */
int irq_routing_alloc_msi(struct irq_routing *rt, unsigned int *ret_gsi);
/* Point an MSI GSI at address/data and tell KVM. 0 or -errno. */
int irq_routing_set_msi(struct irq_routing *rt, unsigned int gsi, uint64_t address, uint32_t data);

#endif
