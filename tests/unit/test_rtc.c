#include <stdlib.h>
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

/* The RTC's time (BCD, 24-hour) as seconds since the epoch. */
static time_t rtc_time(struct rtc *r)
{
	struct tm tm = { 0 };

	tm.tm_year = bcd(rd(r, 0x32)) * 100 + bcd(rd(r, 0x09)) - 1900;
	tm.tm_mon = bcd(rd(r, 0x08)) - 1;
	tm.tm_mday = bcd(rd(r, 0x07));
	tm.tm_hour = bcd(rd(r, 0x04));
	tm.tm_min = bcd(rd(r, 0x02));
	tm.tm_sec = bcd(rd(r, 0x00));
	return timegm(&tm);
}

static time_t host_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static void rtc_reads_host_utc_in_bcd(int *failed)
{
	struct rtc r;
	struct tm tm;
	time_t before = 0, t = 0, after = 0;

	/* UTC whatever the host's zone: give the process one that is not */
	const char *tz = getenv("TZ");
	char *saved = tz ? strdup(tz) : NULL;

	setenv("TZ", "WKT-5:30", 1);
	tzset();
	rtc_init(&r);
	CHECK_EQ(rd(&r, 0x0b), 0x02); /* 24-hour, BCD */
	CHECK_EQ(rd(&r, 0x0d), 0x80); /* valid RAM and time */
	/*
	 * The whole time, to the second: it lies between the host's time
	 * before and after. The fields are read one by one, so a read that
	 * spans a second boundary may mix two times: read again then.
	 */
	for (int tries = 0; tries < 5; tries++) {
		before = host_now();
		t = rtc_time(&r);
		after = host_now();
		if (before == after)
			break;
	}
	CHECK(before <= t && t <= after);
	if (t < before || t > after)
		fprintf(stderr, "    host %lld..%lld, RTC %lld\n", (long long)before, (long long)after,
			(long long)t);
	gmtime_r(&t, &tm);
	CHECK_EQ(bcd(rd(&r, 0x06)), tm.tm_wday + 1); /* day of week, Sunday = 1 */
	rtc_destroy(&r);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* Spin until the host clock's nanoseconds within the second reach ns; that second. */
static time_t wait_for_ns(long ns)
{
	struct timespec ts, nap = { 0, 0 };

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_nsec >= ns)
		nap.tv_nsec = 1000000000L - ts.tv_nsec + ns;
	else
		nap.tv_nsec = ns - ts.tv_nsec;
	/* sleep to a millisecond before, then spin */
	nap.tv_nsec -= 1000000L;
	if (nap.tv_nsec >= 1000000000L) {
		nap.tv_sec = 1;
		nap.tv_nsec -= 1000000000L;
	}
	if (nap.tv_nsec > 0 || nap.tv_sec)
		nanosleep(&nap, NULL);
	do
		clock_gettime(CLOCK_REALTIME, &ts);
	while (ts.tv_nsec < ns);
	return ts.tv_sec;
}

/* Whether the host clock is still in second sec, at no earlier than from_ns. */
static bool still_in(time_t sec, long from_ns, long to_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec == sec && ts.tv_nsec >= from_ns && ts.tv_nsec < to_ns;
}

#define UIP_FROM (1000000000L - 244000L)

/*
 * UIP (register A bit 7) is on in the last 244 us of each second and off
 * otherwise; off while the guest sets the clock; never from a write. The
 * reads are timed against the host clock, and done again when the test
 * was preempted out of the window it aimed at.
 */
static void rtc_update_in_progress_bit(int *failed)
{
	struct rtc r;
	bool seen_on = false, seen_off = false;

	rtc_init(&r);
	wr(&r, 0x0a, 0xa6); /* the guest cannot set it */
	for (int tries = 0; tries < 20 && !seen_on; tries++) {
		time_t sec = wait_for_ns(UIP_FROM + 40000L);
		uint8_t a = rd(&r, 0x0a), a_set;

		wr(&r, 0x0b, 0x82); /* SET: the clock stands still */
		a_set = rd(&r, 0x0a);
		wr(&r, 0x0b, 0x02);
		if (!still_in(sec, UIP_FROM, 1000000000L))
			continue;
		CHECK_EQ(a, 0xa6);
		CHECK_EQ(a_set, 0x26);
		seen_on = true;
	}
	CHECK(seen_on);
	for (int tries = 0; tries < 20 && !seen_off; tries++) {
		/* just before the window, and in the middle of the second */
		time_t sec = wait_for_ns(UIP_FROM - 60000L);
		uint8_t a = rd(&r, 0x0a), b;

		if (!still_in(sec, 0, UIP_FROM))
			continue;
		sec = wait_for_ns(500000000L);
		b = rd(&r, 0x0a);
		if (!still_in(sec, 0, UIP_FROM))
			continue;
		CHECK_EQ(a, 0x26);
		CHECK_EQ(b, 0x26);
		seen_off = true;
	}
	CHECK(seen_off);
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
	/* noon is 12 PM and midnight 12 AM (minutes at 0: no hour ends meanwhile) */
	wr(&r, 0x0b, 0x80);
	wr(&r, 0x02, 0x00);
	wr(&r, 0x00, 0x00);
	wr(&r, 0x04, 0x92);
	wr(&r, 0x0b, 0x02);
	CHECK_EQ(rd(&r, 0x04), 0x12);
	wr(&r, 0x0b, 0x80);
	wr(&r, 0x04, 0x12);
	wr(&r, 0x0b, 0x02);
	CHECK_EQ(rd(&r, 0x04), 0x00);
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
	{ "rtc_update_in_progress_bit", rtc_update_in_progress_bit },
	{ "rtc_binary_mode", rtc_binary_mode },
	{ "rtc_guest_sets_the_clock", rtc_guest_sets_the_clock },
	{ "rtc_12_hour_mode", rtc_12_hour_mode },
	{ "rtc_cmos_memory_reads_back", rtc_cmos_memory_reads_back },
	{ NULL, NULL },
};
