/* Numbers as people read them on a page. */
#ifndef WEBKVM_FCGI_FORMAT_H
#define WEBKVM_FCGI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* "512 MiB", "1.5 GiB", "2 TiB". */
void format_kib(char *buf, size_t len, int64_t kib);
/* s %-encoded for a query string: all but unreserved characters (RFC 3986). */
int url_encode(struct buf *out, const char *s);

#endif
