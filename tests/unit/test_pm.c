#include <string.h>
#include <time.h>

#include "common/util.h"
#include "tests/unit/unit.h"
#include "vmm/hw/pm.h"

struct fixture {
	struct pm pm;
	int poweroffs;
};

static void on_poweroff(void *opaque)
{
	((struct fixture *)opaque)->poweroffs++;
}

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	pm_init(&f->pm, (struct irq_line){ .vm_fd = -1, .gsi = 9 }, on_poweroff, f);
}

static uint32_t rd(struct fixture *f, uint16_t off, unsigned int len)
{
	uint8_t b[4] = { 0 };

	pm_io(&f->pm, off, false, b, len);
	return get_le32(b);
}

static void wr16(struct fixture *f, uint16_t off, uint16_t v)
{
	uint8_t b[2];

	put_le16(b, v);
	pm_io(&f->pm, off, true, b, 2);
}

static void pm_power_button_raises_sci_when_enabled(int *failed)
{
	struct fixture f;

	setup(&f);
	pm_power_button(&f.pm);
	CHECK_EQ(rd(&f, 0, 2) & 0x0100, 0x0100);
	CHECK(!f.pm.sci_level);
	wr16(&f, 2, 0x0100); /* PWRBTN_EN */
	CHECK(f.pm.sci_level);
	wr16(&f, 0, 0x0100); /* write 1 to clear */
	CHECK_EQ(rd(&f, 0, 2) & 0x0100, 0);
	CHECK(!f.pm.sci_level);
	pm_destroy(&f.pm);
}

static void pm_status_write_of_zero_clears_nothing(int *failed)
{
	struct fixture f;

	setup(&f);
	pm_power_button(&f.pm);
	wr16(&f, 0, 0x0000);
	CHECK_EQ(rd(&f, 0, 2) & 0x0100, 0x0100);
	pm_destroy(&f.pm);
}

static void pm_s5_powers_off(int *failed)
{
	struct fixture f;

	setup(&f);
	wr16(&f, 4, PM_SLP_TYP_S5 << 10); /* type first, as ACPICA does */
	CHECK_EQ(f.poweroffs, 0);
	wr16(&f, 4, PM_SLP_TYP_S5 << 10 | 0x2000);
	CHECK_EQ(f.poweroffs, 1);
	CHECK_EQ(rd(&f, 4, 2) & 0x2000, 0); /* SLP_EN reads as 0 */
	pm_destroy(&f.pm);
}

static void pm_other_sleep_states_do_not_power_off(int *failed)
{
	struct fixture f;

	setup(&f);
	wr16(&f, 4, 3 << 10 | 0x2000);
	CHECK_EQ(f.poweroffs, 0);
	pm_destroy(&f.pm);
}

static void pm_always_in_acpi_mode(int *failed)
{
	struct fixture f;

	setup(&f);
	CHECK_EQ(rd(&f, 4, 2) & 0x0001, 1); /* SCI_EN */
	pm_destroy(&f.pm);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * The ticks between two reads are at least what the time between them
 * (measured inside the reads: around the sleep) is worth, and at most
 * what the time measured around the reads is worth: a timer at any
 * other rate falls outside, however long the machine stops this thread.
 */
static void pm_timer_runs_at_3_58_mhz(int *failed)
{
	struct fixture f;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	double t0, t1, t2, t3;
	uint32_t a, b, ticks;

	setup(&f);
	t0 = now_s();
	a = rd(&f, 8, 4);
	t1 = now_s();
	nanosleep(&ts, NULL);
	t2 = now_s();
	b = rd(&f, 8, 4);
	t3 = now_s();
	ticks = b - a; /* the timer is 32 bits wide (the FADT says so) */
	CHECK(ticks + 2 >= (t2 - t1) * 3579545 * 0.999);
	CHECK(ticks <= (t3 - t0) * 3579545 * 1.001 + 2);
	pm_destroy(&f.pm);
}

const struct unit_test pm_tests[] = {
	{ "pm_power_button_raises_sci_when_enabled", pm_power_button_raises_sci_when_enabled },
	{ "pm_status_write_of_zero_clears_nothing", pm_status_write_of_zero_clears_nothing },
	{ "pm_s5_powers_off", pm_s5_powers_off },
	{ "pm_other_sleep_states_do_not_power_off", pm_other_sleep_states_do_not_power_off },
	{ "pm_always_in_acpi_mode", pm_always_in_acpi_mode },
	{ "pm_timer_runs_at_3_58_mhz", pm_timer_runs_at_3_58_mhz },
	{ NULL, NULL },
};
