#include "common/iov.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"

/* Copy len bytes between buf and the list from byte skip on, either way. */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip, uint8_t *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		uint8_t *seg = iov[i].iov_base;
		size_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		take = MIN(iov[i].iov_len - skip, len - done);
		if (to_iov)
			memcpy(seg + skip, buf + done, take);
		else
			memcpy(buf + done, seg + skip, take);
		done += take;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip, const void *buf, size_t len)
{
	/* buf is only read on this path. */
	return iov_copy(iov, n, skip, (uint8_t *)buf, len, true);
}

int iov_slice(const struct iovec *iov, unsigned int n, size_t skip, size_t len,
	      struct iovec *out, unsigned int max)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		if (k == max)
			return -1;
		take = MIN(iov[i].iov_len - skip, len);
		out[k++] = (struct iovec){ .iov_base = (uint8_t *)iov[i].iov_base + skip,
					   .iov_len = take };
		len -= take;
		skip = 0;
	}
	return len ? -1 : (int)k;
}

size_t iov_length(const struct iovec *iov, unsigned int n)
{
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}
