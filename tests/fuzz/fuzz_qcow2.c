/*
 * libFuzzer harness: an arbitrary file opened as qcow2, then read from and
 * written to. Opening must fail cleanly or give a disk whose reads and
 * writes fail cleanly; nothing may crash, leak or allocate without bound.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/disk/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_chain chain = { .depth = 0 };
	static uint8_t buf[65536];
	struct disk *disk;
	char path[64], err[512];
	int fd;

	fd = memfd_create("fuzz-qcow2", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (qcow2_open(fd, path, false, false, &chain, &disk, err, sizeof(err)) < 0)
		return 0; /* qcow2_open owns fd */
	/* A few reads and writes where the metadata points, bounded in size. */
	for (uint64_t off = 0; off < disk->size && off < 4 * 65536; off += 65536 - 512) {
		struct iovec v = { buf, 4096 };

		if (off + v.iov_len > disk->size)
			break;
		disk->ops->preadv(disk, &v, 1, off);
		memset(buf, 0x5a, 512);
		v.iov_len = 512;
		disk->ops->pwritev(disk, &v, 1, off + 1024);
	}
	if (disk->size >= 65536)
		disk->ops->write_zeroes(disk, 0, 65536, true);
	disk_close(disk);
	return 0;
}
