/* MC146818 CMOS real-time clock and its 128 bytes of CMOS memory. */
#ifndef WEBKVM_VMM_HW_RTC_H
#define WEBKVM_VMM_HW_RTC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;      /* selected register (port 0x70, bit 7 is the NMI mask) */
	uint8_t cmos[128];  /* registers A-D and the rest of CMOS memory */
	time_t offset;      /* guest time minus host UTC time, set when the guest sets the clock */
	struct tm set_time; /* time registers being written while SET is on */
};

void rtc_init(struct rtc *r);
void rtc_destroy(struct rtc *r);
void rtc_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len);

#endif
