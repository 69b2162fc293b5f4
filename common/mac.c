#include "common/mac.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		unsigned int v = 0;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		for (int k = 0; k < 2; k++)
			v = v << 4 | (isdigit((unsigned char)p[k]) ? p[k] - '0'
								   : (tolower((unsigned char)p[k]) - 'a' + 10));
		m[i] = v;
	}
	if (m[0] & 1)
		return -EINVAL; /* multicast */
	memcpy(mac, m, 6);
	return 0;
}

void mac_format(const uint8_t mac[6], char out[MAC_STRLEN])
{
	snprintf(out, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

void mac_random(uint8_t mac[6])
{
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	if (getrandom(mac + 3, 3, 0) != 3) {
		/* cannot fail for 3 bytes once the pool is seeded; keep a fixed suffix otherwise */
		mac[3] = 0x12;
		mac[4] = 0x34;
		mac[5] = 0x56;
	}
}
