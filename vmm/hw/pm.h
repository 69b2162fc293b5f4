/*
 * ACPI fixed hardware: the PM1a event and control blocks, the PM timer,
 * and the fixed-feature power button, raising the SCI.
 */
#ifndef WEBKVM_VMM_HW_PM_H
#define WEBKVM_VMM_HW_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vmm/irq.h"

/* The SLP_TYP value that the DSDT's \_S5 object tells the guest to use. */
#define PM_SLP_TYP_S5 5

struct pm {
	pthread_mutex_t lock;
	struct irq_line sci;
	bool sci_level;
	uint16_t pm1_sts;
	uint16_t pm1_en;
	uint16_t pm1_cnt;
	struct timespec start; /* the PM timer counts from here */
	void (*poweroff)(void *opaque); /* the guest entered S5 */
	void *poweroff_opaque;
};

void pm_init(struct pm *pm, struct irq_line sci, void (*poweroff)(void *), void *opaque);
void pm_destroy(struct pm *pm);
void pm_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len);
/* Press the power button: the guest's OS decides what to do. */
void pm_power_button(struct pm *pm);

#endif
