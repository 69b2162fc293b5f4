/*
 * ACPI PM registers (ACPI 6.5 §4.8, fixed hardware).
 *
 * NOTES
 * - Port layout (see x86/layout.h): PM1a_EVT_BLK is PM1_STS (2 bytes) then
 *   PM1_EN (2 bytes); PM1a_CNT_BLK is 2 bytes; PM_TMR_BLK is 4 bytes.
 * - There is no SMI command port, so the machine is always in ACPI mode and
 *   SCI_EN reads as 1.
 * - The SCI is level-triggered: it is asserted while an enabled status bit
 *   is set; the guest clears status bits by writing 1 to them (§4.8.3.1).
 * - The PM timer runs at 3.579545 MHz and is 32 bits wide (TMR_VAL_EXT).
 */
#include "vmm/hw/pm.h"

#include <string.h>

#include "common/util.h"

#define PM1_TMR_STS 0x0001
#define PM1_PWRBTN_STS 0x0100
#define PM1_WAK_STS 0x8000
#define PM1_STS_MASK (PM1_TMR_STS | PM1_PWRBTN_STS | PM1_WAK_STS)
#define PM1_EN_MASK (PM1_TMR_STS | PM1_PWRBTN_STS)

#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7 << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN 0x2000

#define PM_TIMER_HZ 3579545ULL

static void pm_update_sci(struct pm *pm)
{
	bool level = (pm->pm1_sts & pm->pm1_en & PM1_EN_MASK) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->sci, level);
	}
}

static uint32_t pm_timer(const struct pm *pm)
{
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)(now.tv_sec - pm->start.tv_sec) * 1000000000ULL +
	     (uint64_t)(now.tv_nsec - pm->start.tv_nsec);
	/* Split to avoid overflow: whole seconds, then the remainder. */
	return (uint32_t)((ns / 1000000000ULL) * PM_TIMER_HZ +
			  (ns % 1000000000ULL) * PM_TIMER_HZ / 1000000000ULL);
}

/* The 16-bit register at byte offset off (0 sts, 2 en, 4 cnt) as it reads. */
static uint16_t reg_read(struct pm *pm, unsigned int off)
{
	switch (off) {
	case 0: return pm->pm1_sts;
	case 2: return pm->pm1_en;
	case 4: return pm->pm1_cnt | PM1_CNT_SCI_EN;
	}
	return 0;
}

static void reg_write(struct pm *pm, unsigned int off, uint16_t v, uint16_t mask)
{
	switch (off) {
	case 0:
		pm->pm1_sts &= ~(v & mask & PM1_STS_MASK);
		break;
	case 2:
		pm->pm1_en = (pm->pm1_en & ~mask) | (v & mask & PM1_EN_MASK);
		break;
	case 4:
		v = (pm->pm1_cnt & ~mask) | (v & mask);
		if ((v & PM1_CNT_SLP_EN) &&
		    ((v & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT) == PM_SLP_TYP_S5 &&
		    pm->poweroff)
			pm->poweroff(pm->poweroff_opaque);
		/* SLP_EN is write-only and always reads 0. */
		pm->pm1_cnt = v & ~PM1_CNT_SLP_EN;
		break;
	}
}

void pm_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len)
{
	struct pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	if (offset >= 8) {
		/* the PM timer: read-only */
		if (!is_write) {
			uint8_t t[4];

			put_le32(t, pm_timer(pm));
			for (unsigned int i = 0; i < len; i++)
				data[i] = offset - 8 + i < 4 ? t[offset - 8 + i] : 0xff;
		}
	} else if (offset >= 6) {
		if (!is_write)
			memset(data, 0xff, len);
	} else {
		/* PM1 registers, any access width at any byte offset */
		for (unsigned int i = 0; i < len; i++) {
			unsigned int byte = offset + i, reg = byte & ~1u, shift = (byte & 1) * 8;

			if (reg > 4) {
				if (!is_write)
					data[i] = 0xff;
				continue;
			}
			if (is_write)
				reg_write(pm, reg, (uint16_t)data[i] << shift, 0xffu << shift);
			else
				data[i] = reg_read(pm, reg) >> shift;
		}
		pm_update_sci(pm);
	}
	pthread_mutex_unlock(&pm->lock);
}

void pm_power_button(struct pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts |= PM1_PWRBTN_STS;
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void pm_init(struct pm *pm, struct irq_line sci, void (*poweroff)(void *), void *opaque)
{
	memset(pm, 0, sizeof(*pm));
	pthread_mutex_init(&pm->lock, NULL);
	pm->sci = sci;
	pm->poweroff = poweroff;
	pm->poweroff_opaque = opaque;
	clock_gettime(CLOCK_MONOTONIC, &pm->start);
}

void pm_destroy(struct pm *pm)
{
	pthread_mutex_destroy(&pm->lock);
}
