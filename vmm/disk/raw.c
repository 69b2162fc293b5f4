/*
 * Raw images: the file is the disk.
 *
 * NOTES
 * - With cache=none the file is opened O_DIRECT. Guest buffers are
 *   usually sector-aligned and go straight through; when one is not, the
 *   request goes through an aligned bounce buffer instead of failing.
 * - discard punches a hole; write-zeroes uses FALLOC_FL_ZERO_RANGE (or a
 *   hole when unmap is allowed), and falls back to writing zeroes where
 *   the file system cannot.
 */
#include "vmm/disk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/iov.h"
#include "common/util.h"

#define RAW_BOUNCE_MAX (1024 * 1024)
/* Bounce buffers are page-aligned, which satisfies every file system's O_DIRECT. */
#define RAW_DIRECT_ALIGN 4096

struct raw {
	struct disk disk;
	int fd;
};

/* Whole transfer or -errno; a read past the end of the file reads zeroes. */
static int raw_rw(int fd, const struct iovec *iov, int iovcnt, uint64_t offset, bool write)
{
	struct iovec local[64];
	int n;

	while (iovcnt > 0) {
		ssize_t done;

		n = MIN(iovcnt, (int)ARRAY_SIZE(local));
		memcpy(local, iov, n * sizeof(*iov));
		done = write ? pwritev(fd, local, n, offset) : preadv(fd, local, n, offset);
		if (done < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (done == 0) {
			if (write)
				return -EIO;
			for (int i = 0; i < n; i++) /* end of file */
				memset(local[i].iov_base, 0, local[i].iov_len);
			done = 0;
			for (int i = 0; i < n; i++)
				done += local[i].iov_len;
		}
		offset += done;
		while (iovcnt > 0 && (size_t)done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0 && done) {
			/* A short transfer ended inside this segment: go on from there. */
			struct iovec rest = { (uint8_t *)iov->iov_base + done, iov->iov_len - done };
			int r = raw_rw(fd, &rest, 1, offset, write);

			if (r < 0)
				return r;
			offset += rest.iov_len;
			iov++;
			iovcnt--;
		}
	}
	return 0;
}

static bool iov_aligned(const struct iovec *iov, int iovcnt, uint64_t offset, unsigned int align)
{
	if (offset % align)
		return false;
	for (int i = 0; i < iovcnt; i++)
		if ((uintptr_t)iov[i].iov_base % align || iov[i].iov_len % align)
			return false;
	return true;
}

/*
 * O_DIRECT with buffers it cannot take: copy through an aligned buffer, in
 * pieces. Offsets and lengths are whole sectors, as virtio-blk sends them.
 */
static int raw_bounce(struct raw *raw, const struct iovec *iov, int iovcnt, uint64_t offset,
		      bool write)
{
	size_t total = iov_length(iov, iovcnt), done = 0;
	uint8_t *buf;
	int r = 0;

	if (offset % 512 || total % 512)
		return -EINVAL;
	if (posix_memalign((void **)&buf, RAW_DIRECT_ALIGN, RAW_BOUNCE_MAX))
		return -ENOMEM;
	while (done < total && r == 0) {
		struct iovec b = { buf, MIN(total - done, (size_t)RAW_BOUNCE_MAX) };

		if (write) {
			iov_to_buf(iov, iovcnt, done, buf, b.iov_len);
			r = raw_rw(raw->fd, &b, 1, offset + done, true);
		} else {
			r = raw_rw(raw->fd, &b, 1, offset + done, false);
			if (r == 0)
				buf_to_iov(iov, iovcnt, done, buf, b.iov_len);
		}
		done += b.iov_len;
	}
	free(buf);
	return r;
}

static int raw_io(struct disk *disk, const struct iovec *iov, int iovcnt, uint64_t offset,
		  bool write)
{
	struct raw *raw = (struct raw *)disk;

	int r;

	if (!disk->direct)
		return raw_rw(raw->fd, iov, iovcnt, offset, write);
	/* Try as it is; some file systems want more alignment than 512 bytes of memory. */
	r = iov_aligned(iov, iovcnt, offset, disk->align) ? raw_rw(raw->fd, iov, iovcnt, offset, write)
							   : -EINVAL;
	if (r == -EINVAL)
		r = raw_bounce(raw, iov, iovcnt, offset, write);
	return r;
}

static int raw_preadv(struct disk *disk, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	return raw_io(disk, iov, iovcnt, offset, false);
}

static int raw_pwritev(struct disk *disk, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	return raw_io(disk, iov, iovcnt, offset, true);
}

static int raw_flush(struct disk *disk)
{
	return fdatasync(((struct raw *)disk)->fd) < 0 ? -errno : 0;
}

static int raw_discard(struct disk *disk, uint64_t offset, uint64_t len)
{
	struct raw *raw = (struct raw *)disk;

	if (fallocate(raw->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len) < 0 &&
	    errno != EOPNOTSUPP)
		return -errno;
	return 0; /* discard is a hint: not supporting it is fine */
}

static int raw_write_zeroes(struct disk *disk, uint64_t offset, uint64_t len, bool unmap)
{
	struct raw *raw = (struct raw *)disk;
	int mode = unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;
	static const uint8_t zero[65536] __attribute__((aligned(RAW_DIRECT_ALIGN)));

	if (fallocate(raw->fd, mode, offset, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return -errno;
	while (len) {
		struct iovec v = { (void *)zero, MIN(len, sizeof(zero)) };
		int r = raw_io(disk, &v, 1, offset, true);

		if (r < 0)
			return r;
		offset += v.iov_len;
		len -= v.iov_len;
	}
	return 0;
}

static void raw_close(struct disk *disk)
{
	struct raw *raw = (struct raw *)disk;

	close(raw->fd);
	free(raw);
}

static const struct disk_ops raw_ops = {
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.close = raw_close,
};

int raw_open(int fd, bool readonly, bool direct, struct disk **ret_disk)
{
	struct raw *raw;
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	size = st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	raw = calloc(1, sizeof(*raw));
	if (!raw) {
		close(fd);
		return -ENOMEM;
	}
	raw->fd = fd;
	raw->disk.ops = &raw_ops;
	raw->disk.size = size;
	raw->disk.readonly = readonly;
	raw->disk.direct = direct;
	raw->disk.align = direct ? 512 : 1;
	*ret_disk = &raw->disk;
	return 0;
}
