#include <stdio.h>

#include "fcgi/format.h"

void format_kib(char *buf, size_t len, int64_t kib)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)kib;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (v == (double)(int64_t)v)
		snprintf(buf, len, "%lld %s", (long long)v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

int url_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(out, (char)c);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_append(out, esc, 3);
		}
	}
	return out->error;
}
