/* One interrupt line into the in-kernel irqchip (PIC + IOAPIC). */
#ifndef WEBKVM_VMM_IRQ_H
#define WEBKVM_VMM_IRQ_H

#include <linux/kvm.h>
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

#endif
