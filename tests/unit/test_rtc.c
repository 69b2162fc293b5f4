#include <string.h>
#include <time.h>

#include "tests/unit/unit.h"
#include "vmm/hw/rtc.h"

static uint8_t rd(struct rtc *r, uint8_t reg)
{
	uint8_t v;

	rtc_io(r, 0, true, &reg, 1);
	rtc_io(r, 1, false, &v, 1);
	return v;
}

static void wr(struct rtc *r, uint8_t reg, uint8_t v)
{
	rtc_io(r, 0, true, &reg, 1);
	rtc_io(r, 1, true, &v, 1);
}

static unsigned int bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0xf); }

static void rtc_reads_host_utc_in_bcd(int *failed)
{
	struct rtc r;
	struct tm tm;
	time_t now = time(NULL);

	rtc_init(&r);
	gmtime_r(&now, &tm);
	CHECK_EQ(rd(&r, 0x0b), 0x02); /* 24-hour, BCD */
	CHECK_EQ(rd(&r, 0x0d), 0x80); /* valid RAM and time */
	CHECK_EQ(bcd(rd(&r, 0x09)), tm.tm_year % 100);
	CHECK_EQ(bcd(rd(&r, 0x32)), (tm.tm_year + 1900) / 100);
	CHECK_EQ(bcd(rd(&r, 0x08)), tm.tm_mon + 1);
	CHECK_EQ(bcd(rd(&r, 0x07)), tm.tm_mday);
	rtc_destroy(&r);
}

static void rtc_binary_mode(int *failed)
{
	struct rtc r;
	struct tm tm;
	time_t now = time(NULL);

	rtc_init(&r);
	gmtime_r(&now, &tm);
	wr(&r, 0x0b, 0x06);
	CHECK_EQ(rd(&r, 0x09), tm.tm_year % 100);
	CHECK_EQ(rd(&r, 0x08), tm.tm_mon + 1);
	rtc_destroy(&r);
}

static void rtc_guest_sets_the_clock(int *failed)
{
	struct rtc r;

	rtc_init(&r);
	wr(&r, 0x0b, 0x82); /* SET */
	wr(&r, 0x32, 0x19);
	wr(&r, 0x09, 0x99);
	wr(&r, 0x08, 0x12);
	wr(&r, 0x07, 0x31);
	wr(&r, 0x04, 0x23);
	wr(&r, 0x02, 0x59);
	wr(&r, 0x00, 0x30);
	wr(&r, 0x0b, 0x02); /* run */
	CHECK_EQ(rd(&r, 0x32), 0x19);
	CHECK_EQ(rd(&r, 0x09), 0x99);
	CHECK_EQ(rd(&r, 0x08), 0x12);
	CHECK_EQ(rd(&r, 0x07), 0x31);
	CHECK_EQ(rd(&r, 0x04), 0x23);
	CHECK_EQ(rd(&r, 0x02), 0x59);
	rtc_destroy(&r);
}

static void rtc_12_hour_mode(int *failed)
{
	struct rtc r;
	uint8_t h;

	rtc_init(&r);
	wr(&r, 0x0b, 0x80); /* SET, 12-hour, BCD */
	wr(&r, 0x04, 0x81); /* 1 PM */
	wr(&r, 0x0b, 0x00);
	h = rd(&r, 0x04);
	CHECK_EQ(h, 0x81);
	wr(&r, 0x0b, 0x02);
	CHECK_EQ(rd(&r, 0x04), 0x13);
	rtc_destroy(&r);
}

static void rtc_cmos_memory_reads_back(int *failed)
{
	struct rtc r;

	rtc_init(&r);
	wr(&r, 0x40, 0xa5);
	wr(&r, 0x7f, 0x5a);
	CHECK_EQ(rd(&r, 0x40), 0xa5);
	CHECK_EQ(rd(&r, 0x7f), 0x5a);
	/* bit 7 of the index port is the NMI mask, not part of the index */
	CHECK_EQ(rd(&r, 0xc0), 0xa5);
	rtc_destroy(&r);
}

const struct unit_test rtc_tests[] = {
	{ "rtc_reads_host_utc_in_bcd", rtc_reads_host_utc_in_bcd },
	{ "rtc_binary_mode", rtc_binary_mode },
	{ "rtc_guest_sets_the_clock", rtc_guest_sets_the_clock },
	{ "rtc_12_hour_mode", rtc_12_hour_mode },
	{ "rtc_cmos_memory_reads_back", rtc_cmos_memory_reads_back },
	{ NULL, NULL },
};
