#include "common/iov.h"

#include <stdint.h>
#include <string.h>

#include "common/util.h"

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		take = MIN(iov[i].iov_len - skip, len - done);
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, take);
		done += take;
		skip = 0;
	}
	return done;
}

size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		take = MIN(iov[i].iov_len - skip, len - done);
		memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)buf + done, take);
		done += take;
		skip = 0;
	}
	return done;
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
