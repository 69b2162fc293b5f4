/* Scatter-gather lists: copying to and from flat buffers, and slicing. */
#ifndef WEBKVM_COMMON_IOV_H
#define WEBKVM_COMMON_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Copy between an iovec list (from byte offset skip) and a flat buffer; bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len);
size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip, const void *buf, size_t len);
/*
 * The part [skip, skip+len) of an iovec list, as a new list in out (at most
 * max entries); the number of entries, or -1 if the range does not fit.
 */
int iov_slice(const struct iovec *iov, unsigned int n, size_t skip, size_t len,
	      struct iovec *out, unsigned int max);
size_t iov_length(const struct iovec *iov, unsigned int n);

#endif
