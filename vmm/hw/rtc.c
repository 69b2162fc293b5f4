/*
 * MC146818 RTC.
 *
 * NOTES
 * - The clock is the host's UTC time (what a Linux guest expects from a
 *   server's hardware clock) plus an offset that the guest sets by writing
 *   the time registers with SET on in register B.
 * - UIP in register A is on for the last 244 us of every second, as on the
 *   chip, so a guest that waits for it to clear reads a consistent time.
 * - Periodic, alarm and update-ended interrupts are not generated.
 */
#include "vmm/hw/rtc.h"

#include <string.h>

enum {
	RTC_SECONDS = 0x00, RTC_MINUTES = 0x02, RTC_HOURS = 0x04, RTC_DAY_OF_WEEK = 0x06,
	RTC_DAY_OF_MONTH = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,
};

#define REG_A_UIP 0x80
#define REG_B_SET 0x80
#define REG_B_DM_BINARY 0x04
#define REG_B_24H 0x02
#define REG_D_VRT 0x80

static uint8_t to_bcd(unsigned int v) { return (v / 10) << 4 | (v % 10); }
static unsigned int from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0x0f); }

static uint8_t encode(const struct rtc *r, unsigned int v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM_BINARY) ? v : to_bcd(v);
}

static unsigned int decode(const struct rtc *r, uint8_t v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM_BINARY) ? v : from_bcd(v);
}

static void guest_now(const struct rtc *r, struct tm *tm, long *ret_nsec)
{
	struct timespec ts;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec + r->offset;
	gmtime_r(&t, tm);
	if (ret_nsec)
		*ret_nsec = ts.tv_nsec;
}

static uint8_t encode_hour(const struct rtc *r, int hour)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return encode(r, hour);
	/* 12-hour mode: 12, 1..11, with bit 7 for PM */
	return encode(r, hour % 12 ? hour % 12 : 12) | (hour >= 12 ? 0x80 : 0);
}

static int decode_hour(const struct rtc *r, uint8_t v)
{
	int hour;

	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return decode(r, v);
	hour = decode(r, v & 0x7f) % 12;
	return (v & 0x80) ? hour + 12 : hour;
}

static uint8_t rtc_read(struct rtc *r, uint8_t reg)
{
	struct tm tm;
	long nsec;
	uint8_t v;

	/* While the guest is setting the clock, it reads back what it wrote. */
	if (r->cmos[RTC_REG_B] & REG_B_SET)
		tm = r->set_time, nsec = 0;
	else
		guest_now(r, &tm, &nsec);

	switch (reg) {
	case RTC_SECONDS: return encode(r, tm.tm_sec);
	case RTC_MINUTES: return encode(r, tm.tm_min);
	case RTC_HOURS: return encode_hour(r, tm.tm_hour);
	case RTC_DAY_OF_WEEK: return encode(r, tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH: return encode(r, tm.tm_mday);
	case RTC_MONTH: return encode(r, tm.tm_mon + 1);
	case RTC_YEAR: return encode(r, tm.tm_year % 100);
	case RTC_CENTURY: return encode(r, (tm.tm_year + 1900) / 100);
	case RTC_REG_A:
		v = r->cmos[RTC_REG_A] & ~REG_A_UIP;
		if (!(r->cmos[RTC_REG_B] & REG_B_SET) && nsec >= 1000000000L - 244000L)
			v |= REG_A_UIP;
		return v;
	case RTC_REG_C:
		v = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0; /* flags clear on read */
		return v;
	default:
		return r->cmos[reg];
	}
}

static bool is_time_reg(uint8_t reg)
{
	return reg <= RTC_YEAR || reg == RTC_CENTURY;
}

static void apply_set_time(struct rtc *r)
{
	struct tm tm = r->set_time;
	time_t t = timegm(&tm);

	if (t != (time_t)-1)
		r->offset = t - time(NULL);
}

static void rtc_write(struct rtc *r, uint8_t reg, uint8_t v)
{
	bool setting = r->cmos[RTC_REG_B] & REG_B_SET;

	/* Outside SET, a write to one field changes the running clock at once. */
	if (is_time_reg(reg) && !setting)
		guest_now(r, &r->set_time, NULL);

	switch (reg) {
	case RTC_SECONDS: r->set_time.tm_sec = decode(r, v) % 60; break;
	case RTC_MINUTES: r->set_time.tm_min = decode(r, v) % 60; break;
	case RTC_HOURS: r->set_time.tm_hour = decode_hour(r, v) % 24; break;
	case RTC_DAY_OF_WEEK: break; /* derived from the date */
	case RTC_DAY_OF_MONTH: r->set_time.tm_mday = decode(r, v); break;
	case RTC_MONTH: r->set_time.tm_mon = (int)decode(r, v) - 1; break;
	case RTC_YEAR:
		r->set_time.tm_year = ((r->set_time.tm_year + 1900) / 100) * 100 +
				      (int)decode(r, v) % 100 - 1900;
		break;
	case RTC_CENTURY:
		r->set_time.tm_year = (int)decode(r, v) * 100 + (r->set_time.tm_year + 1900) % 100 - 1900;
		break;
	case RTC_REG_A:
		r->cmos[RTC_REG_A] = v & ~REG_A_UIP;
		break;
	case RTC_REG_B:
		if ((v & REG_B_SET) && !setting)
			guest_now(r, &r->set_time, NULL); /* freeze, fields change one by one */
		else if (!(v & REG_B_SET) && setting)
			apply_set_time(r);
		r->cmos[RTC_REG_B] = v;
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		r->cmos[reg] = v;
		break;
	}
	if (is_time_reg(reg) && !setting)
		apply_set_time(r);
}

void rtc_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		if (is_write)
			r->index = data[0] & 0x7f;
		else
			data[0] = 0xff; /* the index port is write-only */
	} else if (is_write) {
		rtc_write(r, r->index, data[0]);
	} else {
		data[0] = rtc_read(r, r->index);
	}
	if (!is_write && len > 1)
		memset(data + 1, 0xff, len - 1);
	pthread_mutex_unlock(&r->lock);
}

void rtc_init(struct rtc *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = REG_B_24H;
	r->cmos[RTC_REG_D] = REG_D_VRT;
}

void rtc_destroy(struct rtc *r)
{
	pthread_mutex_destroy(&r->lock);
}
