/* File-descriptor helpers: whole reads and writes, bounded file loading. */
#ifndef WEBKVM_COMMON_FD_H
#define WEBKVM_COMMON_FD_H

#include <stddef.h>
#include <sys/types.h>

/* Write all of buf, retrying on EINTR and short writes. 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/*
 * Read the whole file at path, refusing files larger than max_size with
 * -EFBIG. On success *ret_buf is malloc'ed and *ret_len is its length.
 */
int read_file(const char *path, size_t max_size, void **ret_buf, size_t *ret_len);

int fd_set_nonblock(int fd, int on);

/*
 * Replace the file at path with buf, all or nothing: a temporary file
 * beside it, fsync, rename, and fsync of the folder. 0 or -errno.
 */
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned int mode);

#endif
