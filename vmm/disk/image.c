/*
 * Image files for storage pools.
 *
 * NOTES
 * - qcow2 images are made as QEMU's docs/interop/qcow2.txt describes
 *   version 3: cluster 0 holds the header, its extensions (the backing
 *   format) and the backing file name; cluster 1 the refcount table;
 *   cluster 2 its first refcount block (16-bit refcounts); then the L1
 *   table, all of it zero. Every cluster in use has refcount 1.
 * - The L1 table gets whole clusters, so a later resize within what those
 *   clusters cover only rewrites two header fields. Growing past them
 *   (4 TiB for a new image) would move the table; that is refused.
 * - Probing reads only the header cluster, with every field checked, so a
 *   hostile file in a pool can only make probing fail.
 * - A file's format is kept with it as it was made (common/image_mark.h):
 *   a mark of raw wins over any header, which a raw disk's guest writes.
 *   Files made here are marked as they are made, copies as the caller
 *   says their source is; others get their mark at first sight
 *   (image_mark, from vmmd's pool_settle_format: what the VMs'
 *   definitions say, else the header then). On a file system without
 *   extended attributes the header alone decides.
 */
#include "vmm/disk/image.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/image_mark.h"
#include "common/util.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_CLUSTER_BITS 16
#define QCOW2_V3_HEADER_LEN 104
#define EXT_END 0
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_DATA_FILE 0x44415441u

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, v);
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	memset((char *)buf + done, 0, len - done); /* past the end reads as zero */
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

struct qcow2_header {
	uint32_t version, cluster_bits, l1_size, header_len;
	uint64_t size, l1_offset;
};

/* Check and read a qcow2 header cluster (h, hlen bytes, file_size). */
static int parse_header(const uint8_t *h, size_t hlen, uint64_t file_size, struct qcow2_header *q,
			struct image_info *info, char *err, size_t errlen)
{
	uint64_t boff;
	uint32_t blen;
	size_t ext, end;

	q->version = be32(h + 4);
	q->cluster_bits = be32(h + 20);
	q->size = be64(h + 24);
	q->l1_size = be32(h + 36);
	q->l1_offset = be64(h + 40);
	if (q->version != 2 && q->version != 3)
		return error_set(err, errlen, -EINVAL, "qcow2 version %u is not 2 or 3", q->version);
	if (q->cluster_bits < 9 || q->cluster_bits > 21)
		return error_set(err, errlen, -EINVAL, "qcow2 cluster_bits %u is out of range",
				 q->cluster_bits);
	if (q->size > IMAGE_MAX_SIZE)
		return error_set(err, errlen, -EINVAL, "the qcow2 size is absurd");
	q->header_len = q->version == 3 ? be32(h + 100) : 72;
	if (q->header_len < 72 || q->header_len > hlen)
		return error_set(err, errlen, -EINVAL, "the qcow2 header length is out of range");
	info->capacity = q->size;
	info->external_data = q->version == 3 && (be64(h + 72) & (1u << 2));
	boff = be64(h + 8);
	blen = be32(h + 16);
	if (boff) {
		if (blen == 0 || blen >= sizeof(info->backing) || boff < q->header_len || boff > hlen ||
		    blen > hlen - boff || boff + blen > file_size)
			return error_set(err, errlen, -EINVAL, "the qcow2 backing file name is out of range");
		memcpy(info->backing, h + boff, blen);
		info->backing[blen] = '\0';
		if (strlen(info->backing) != blen)
			return error_set(err, errlen, -EINVAL, "the qcow2 backing file name holds a NUL");
	}
	/*
	 * header extensions, up to the end marker or the backing name, where
	 * vmm's qcow2 driver stops too: what one sees past the name, the
	 * other must not
	 */
	end = boff ? boff : hlen;
	for (ext = q->header_len; ext + 8 <= end;) {
		uint32_t type = be32(h + ext), len = be32(h + ext + 4);

		if (type == EXT_END)
			break;
		if (len > end - ext - 8)
			return error_set(err, errlen, -EINVAL, "a qcow2 header extension is out of range");
		if (type == EXT_BACKING_FORMAT && len < sizeof(info->backing_format)) {
			memcpy(info->backing_format, h + ext + 8, len);
			info->backing_format[len] = '\0';
		}
		if (type == EXT_DATA_FILE) {
			size_t n = len < sizeof(info->data_file) - 1 ? len : sizeof(info->data_file) - 1;

			memcpy(info->data_file, h + ext + 8, n);
			info->data_file[n] = '\0';
		}
		ext += 8 + ((len + 7) & ~7u);
	}
	return 0;
}

int image_mark(const char *path, bool qcow2)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = S_ISREG(st.st_mode) ? image_mark_set(fd, qcow2, XATTR_CREATE) : -EINVAL;
	close(fd);
	return r;
}

int image_mark_as_header(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;
	uint8_t magic[4];

	if (fd < 0)
		return -errno;
	r = pread_all(fd, magic, sizeof(magic), 0);
	r = image_mark_set(fd, r == 0 && be32(magic) == QCOW2_MAGIC, 0);
	close(fd);
	return r;
}

int image_probe(const char *path, struct image_info *info, char *err, size_t errlen)
{
	uint8_t *h;
	struct stat st;
	struct qcow2_header q;
	int fd, r, mark;

	memset(info, 0, sizeof(*info));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_set(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, errlen, -EINVAL, "%s is not a regular file", path);
	}
	info->allocation = (uint64_t)st.st_blocks * 512;
	info->capacity = st.st_size;
	h = malloc(1u << 21);
	if (!h) {
		close(fd);
		return error_set(err, errlen, -ENOMEM, "out of memory");
	}
	r = pread_all(fd, h, 4096, 0);
	if (r == 0 && st.st_size >= 72 && be32(h) == QCOW2_MAGIC) {
		uint32_t bits = be32(h + 20);
		size_t hlen = bits >= 9 && bits <= 21 ? (size_t)1 << bits : 4096;

		info->qcow2 = true;
		r = pread_all(fd, h, hlen, 0);
		if (r == 0)
			r = parse_header(h, hlen, st.st_size, &q, info, err, errlen);
		else
			error_set(err, errlen, r, "cannot read %s: %s", path, strerror(-r));
	} else if (r < 0) {
		error_set(err, errlen, r, "cannot read %s: %s", path, strerror(-r));
	}
	/* the mark wins over the header, which a raw disk's guest writes */
	mark = image_mark_get(fd);
	if (mark >= 0 && (r == 0 || info->qcow2)) {
		info->marked = true;
		if (!mark && info->qcow2) {
			*info = (struct image_info){ .allocation = info->allocation,
						     .capacity = st.st_size, .marked = true };
			r = 0;
		} else if (mark && !info->qcow2) {
			info->qcow2 = true; /* not one any more: its VM's vmm will say so */
		}
	}
	free(h);
	close(fd);
	return r;
}

int image_create_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return error_set(err, errlen, -errno, "cannot create %s: %s", path, strerror(errno));
	return fd;
}

int image_create_raw(const char *path, uint64_t size, char *err, size_t errlen)
{
	int fd, r = 0;

	if (size > IMAGE_MAX_SIZE)
		return error_set(err, errlen, -EINVAL, "a size of %llu bytes is too large",
				 (unsigned long long)size);
	fd = image_create_file(path, err, errlen);
	if (fd < 0)
		return fd;
	(void)image_mark_set(fd, false, 0);
	if (ftruncate(fd, size) < 0 || fsync(fd) < 0)
		r = error_set(err, errlen, -errno, "cannot size %s: %s", path, strerror(errno));
	close(fd);
	if (r < 0)
		unlink(path);
	return r;
}

int image_create_qcow2(const char *path, uint64_t size, const char *backing,
		       const char *backing_format, char *err, size_t errlen)
{
	const uint64_t cs = 1ULL << QCOW2_CLUSTER_BITS;
	const uint64_t per_l2 = cs / 8;
	uint64_t l1_size = (size + cs * per_l2 - 1) / (cs * per_l2);
	uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs, nclusters;
	size_t blen = backing ? strlen(backing) : 0, flen = backing_format ? strlen(backing_format) : 0;
	uint8_t *buf;
	size_t off;
	int fd, r;

	if (size > IMAGE_MAX_SIZE)
		return error_set(err, errlen, -EINVAL, "a size of %llu bytes is too large",
				 (unsigned long long)size);
	if (l1_clusters == 0)
		l1_clusters = 1;
	if (blen > 1023 || flen > 15)
		return error_set(err, errlen, -EINVAL, "the backing file name is too long");
	nclusters = 3 + l1_clusters;
	buf = calloc(nclusters, cs);
	if (!buf)
		return error_set(err, errlen, -ENOMEM, "out of memory");

	/* cluster 0: the header */
	put_be32(buf, QCOW2_MAGIC);
	put_be32(buf + 4, 3);
	put_be32(buf + 20, QCOW2_CLUSTER_BITS);
	put_be64(buf + 24, size);
	put_be32(buf + 36, l1_size);
	put_be64(buf + 40, 3 * cs);        /* L1 table */
	put_be64(buf + 48, 1 * cs);        /* refcount table */
	put_be32(buf + 56, 1);             /* refcount table clusters */
	put_be32(buf + 96, 4);             /* refcount_order: 16 bits */
	put_be32(buf + 100, QCOW2_V3_HEADER_LEN);
	off = QCOW2_V3_HEADER_LEN;
	if (backing && flen) {
		put_be32(buf + off, EXT_BACKING_FORMAT);
		put_be32(buf + off + 4, flen);
		memcpy(buf + off + 8, backing_format, flen);
		off += 8 + ((flen + 7) & ~7u);
	}
	off += 8; /* end of extensions: type 0, length 0 */
	if (backing) {
		put_be64(buf + 8, off);
		put_be32(buf + 16, blen);
		memcpy(buf + off, backing, blen);
	}
	/* cluster 1: the refcount table, pointing at cluster 2 */
	put_be64(buf + cs, 2 * cs);
	/* cluster 2: refcount 1 for every cluster of the image so far */
	for (uint64_t i = 0; i < nclusters; i++) {
		buf[2 * cs + i * 2] = 0;
		buf[2 * cs + i * 2 + 1] = 1;
	}
	fd = image_create_file(path, err, errlen);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	(void)image_mark_set(fd, true, 0);
	r = pwrite_all(fd, buf, nclusters * cs, 0);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	free(buf);
	if (r < 0) {
		unlink(path);
		return error_set(err, errlen, r, "cannot write %s: %s", path, strerror(-r));
	}
	return 0;
}

/* Copy all of in (from its start) into out, keeping holes where in has them. 0 or -errno. */
/* Up to len bytes at off from in to the same place in out, through memory: the count, or -1 with errno. */
static ssize_t copy_by_hand(int in, int out, off_t off, off_t len)
{
	static const size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	ssize_t n;

	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	n = pread(in, buf, len < (off_t)chunk ? (size_t)len : chunk, off);
	if (n > 0) {
		int r = pwrite_all(out, buf, (size_t)n, off);

		if (r < 0) {
			errno = -r;
			n = -1;
		}
	}
	free(buf);
	return n;
}

int image_copy_fd(int in, int out)
{
	struct stat st;
	off_t data = 0, hole;
	bool in_kernel = true;
	char *buf;
	int r = 0;

	if (fstat(in, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		/* a pipe or a device: a plain copy */
		buf = malloc(1 << 20);
		if (!buf)
			return -ENOMEM;
		for (;;) {
			ssize_t n = read(in, buf, 1 << 20);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? -errno : 0;
				break;
			}
			r = write_all(out, buf, n);
			if (r < 0)
				break;
		}
		free(buf);
		return r == 0 && fsync(out) < 0 ? -errno : r;
	}
	/* each data extent; holes stay holes */
	while (r == 0 && (data = lseek(in, data, SEEK_DATA)) >= 0) {
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0) {
			r = -errno;
			break;
		}
		while (data < hole) {
			loff_t a = data, b = data;
			ssize_t n = in_kernel ? copy_file_range(in, &a, out, &b, hole - data, 0)
					      : copy_by_hand(in, out, data, hole - data);

			if (n < 0 && errno == EINTR)
				continue;
			/* another file system (older kernels) or one that cannot: by hand */
			if (n < 0 && in_kernel && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
						   errno == ENOSYS)) {
				in_kernel = false;
				continue;
			}
			if (n <= 0) {
				r = n < 0 ? -errno : -EIO;
				break;
			}
			data += n;
		}
	}
	if (r == 0 && data < 0 && errno != ENXIO)
		r = -errno;
	if (r == 0 && (ftruncate(out, st.st_size) < 0 || fsync(out) < 0))
		r = -errno;
	return r;
}

static bool all_zero(const char *buf, size_t n)
{
	return n == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0);
}

/* O_DIRECT on or off for fd: 0 or -errno (EINVAL: the file system has none) */
static int direct_writes(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	return fcntl(fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0 ? -errno : 0;
}

/*
 * Whether fd's file system is a local one on a block device whose direct
 * writes are well known (ext4, XFS, btrfs). Elsewhere (NFS, FUSE, 9p,
 * tmpfs) a direct write may be refused late, be slower than the cache's,
 * or land in memory anyway.
 */
static bool direct_writes_suit(int fd)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0)
		return false;
	switch ((unsigned long)fs.f_type) {
	case EXT4_SUPER_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

/*
 * A stream's writer: a thread of its own that writes one chunk while the
 * stream's next is read into the other buffer, so the disk's latency and
 * the reads overlap. Chunks go to the disk past the page cache where the
 * file system is one that suits (O_DIRECT): an upload of many GiB then
 * neither pushes the running guests' cached data out nor costs a copy
 * into the cache and a flush after. Writes start at whole blocks from
 * aligned buffers; a last one that is no whole block, or a file system
 * that will not take a direct write, goes through the cache. Runs of
 * zeros are left holes (see stream_write_chunk): a sparse image stays
 * sparse. Where no thread can be made, the reading thread writes too.
 */
#define STREAM_CHUNK ((size_t)4 << 20) /* fewer, larger direct writes: measured faster than 1 or 8 MiB */
#define STREAM_BLOCK ((size_t)4096)    /* what a direct write aligns to */
#define STREAM_HOLE_MIN ((size_t)64 << 10) /* the least run of zeros left a hole between data */

struct stream_writer {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	char *buf[2];
	size_t len[2];
	uint64_t off[2];
	bool full[2]; /* handed to the writer, not yet written */
	bool end;     /* no more chunks come */
	bool direct;
	int out, err;
};

static int stream_write_run(struct stream_writer *w, const char *buf, size_t len, uint64_t off)
{
	int r = 0;

	if (w->direct && len % STREAM_BLOCK) {
		w->direct = false;
		r = direct_writes(w->out, false);
	}
	if (r == 0)
		r = pwrite_all(w->out, buf, len, (off_t)off);
	/* the device wants another alignment, or will not after all: the
	 * cache's way from here */
	if ((r == -EINVAL || r == -EOPNOTSUPP) && w->direct) {
		w->direct = false;
		r = direct_writes(w->out, false);
		if (r == 0)
			r = pwrite_all(w->out, buf, len, (off_t)off);
	}
	return r;
}

static bool block_zero(const char *buf, size_t len, size_t pos)
{
	return all_zero(buf + pos, MIN(STREAM_BLOCK, len - pos));
}

/*
 * A chunk's data, each run in one write, with the holes left unwritten:
 * runs of zero blocks of STREAM_HOLE_MIN or more, and the zeros a chunk
 * ends with. Shorter runs of zeros between data are written with it, so
 * that a file with zeros here and there (an image's bitmaps, its inode
 * tables) is neither a write per block nor an extent per block.
 */
static int stream_write_chunk(struct stream_writer *w, const char *buf, size_t len, uint64_t off)
{
	size_t pos = 0;

	while (pos < len) {
		size_t start, end;

		while (pos < len && block_zero(buf, len, pos))
			pos += MIN(STREAM_BLOCK, len - pos);
		start = end = pos;
		while (pos < len) {
			size_t z = pos;

			if (!block_zero(buf, len, pos)) {
				pos += MIN(STREAM_BLOCK, len - pos);
				end = pos;
				continue;
			}
			while (z < len && z - pos < STREAM_HOLE_MIN && block_zero(buf, len, z))
				z += MIN(STREAM_BLOCK, len - z);
			if (z >= len || z - pos >= STREAM_HOLE_MIN)
				break;
			pos = z; /* a few zero blocks, then data: all of it one run */
		}
		if (end > start) {
			int r = stream_write_run(w, buf + start, end - start, off + start);

			if (r < 0)
				return r;
		}
		pos = end;
	}
	return 0;
}

static void *stream_writer_run(void *arg)
{
	struct stream_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (int i = 0;; i ^= 1) {
		int r;

		while (!w->full[i] && !w->end)
			pthread_cond_wait(&w->changed, &w->lock);
		if (!w->full[i])
			break;
		pthread_mutex_unlock(&w->lock);
		r = stream_write_chunk(w, w->buf[i], w->len[i], w->off[i]);
		pthread_mutex_lock(&w->lock);
		w->full[i] = false;
		if (r < 0) {
			w->err = r;
			w->end = true;
		}
		pthread_cond_broadcast(&w->changed);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* len bytes of in (fewer only at its end): 0, or -EPIPE for an early end */
static int read_chunk(int in, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(in, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

int image_copy_stream(int in, int out, uint64_t size)
{
	struct stream_writer w = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.changed = PTHREAD_COND_INITIALIZER,
		.out = out,
	};
	uint64_t done = 0;
	pthread_t thread;
	bool started;
	char extra;
	int r = 0, i = 0;

	w.direct = direct_writes_suit(out) && direct_writes(out, true) == 0;
	if (posix_memalign((void **)&w.buf[0], STREAM_BLOCK, STREAM_CHUNK) ||
	    posix_memalign((void **)&w.buf[1], STREAM_BLOCK, STREAM_CHUNK)) {
		free(w.buf[0]);
		return -ENOMEM;
	}
	started = pthread_create(&thread, NULL, stream_writer_run, &w) == 0;
	while (r == 0 && done < size) {
		size_t want = size - done < STREAM_CHUNK ? (size_t)(size - done) : STREAM_CHUNK;

		/* the buffer's last chunk written, or the writer failed */
		pthread_mutex_lock(&w.lock);
		while (w.full[i] && !w.err)
			pthread_cond_wait(&w.changed, &w.lock);
		r = w.err;
		pthread_mutex_unlock(&w.lock);
		if (r == 0)
			r = read_chunk(in, w.buf[i], want);
		if (r < 0)
			break;
		if (!started) {
			r = stream_write_chunk(&w, w.buf[i], want, done);
			done += want;
			continue;
		}
		pthread_mutex_lock(&w.lock);
		w.len[i] = want;
		w.off[i] = done;
		w.full[i] = true;
		pthread_cond_broadcast(&w.changed);
		pthread_mutex_unlock(&w.lock);
		done += want;
		i ^= 1;
	}
	if (started) {
		pthread_mutex_lock(&w.lock);
		w.end = true;
		pthread_cond_broadcast(&w.changed);
		pthread_mutex_unlock(&w.lock);
		pthread_join(thread, NULL);
		if (r == 0)
			r = w.err;
	}
	free(w.buf[0]);
	free(w.buf[1]);
	/* more than was said is no upload of that size either */
	if (r == 0 && read(in, &extra, 1) > 0)
		r = -EPIPE;
	if (r == 0 && (ftruncate(out, (off_t)size) < 0 || fsync(out) < 0))
		r = -errno;
	return r;
}

int image_copy_open(const char *src, const char *dst, bool qcow2, int *in, int *out, char *err,
		    size_t errlen)
{
	struct stat st;

	*in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*in < 0)
		return error_set(err, errlen, -errno, "cannot open %s: %s", src, strerror(errno));
	if (fstat(*in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(*in);
		return error_set(err, errlen, -EINVAL, "%s is not a regular file", src);
	}
	*out = image_create_file(dst, err, errlen);
	if (*out < 0) {
		int r = *out;

		close(*in);
		return r;
	}
	/* the copy is what its source is */
	(void)image_mark_set(*out, qcow2, 0);
	return 0;
}

static int resize_qcow2(int fd, const char *path, uint64_t size, uint64_t file_size, char *err,
			size_t errlen)
{
	struct image_info info;
	struct qcow2_header q;
	uint8_t *h;
	uint64_t cs, per_l2, need, have, l1_bytes;
	int r;

	h = malloc(1u << 21);
	if (!h)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	r = pread_all(fd, h, 4096, 0);
	if (r == 0) {
		uint32_t bits = be32(h + 20);
		size_t hlen = bits >= 9 && bits <= 21 ? (size_t)1 << bits : 4096;

		r = pread_all(fd, h, hlen, 0);
		if (r == 0)
			r = parse_header(h, hlen, file_size, &q, &info, err, errlen);
	}
	if (r < 0)
		goto out;
	cs = 1ULL << q.cluster_bits;
	per_l2 = cs / 8;
	if (size < q.size) {
		r = error_set(err, errlen, -EINVAL, "%s is %llu bytes; it can only grow", path,
			      (unsigned long long)q.size);
		goto out;
	}
	need = (size + cs * per_l2 - 1) / (cs * per_l2);
	l1_bytes = (uint64_t)q.l1_size * 8;
	have = (l1_bytes + cs - 1) / cs * cs / 8; /* entries in the L1 table's clusters */
	if (need > have || q.l1_offset % cs) {
		r = error_set(err, errlen, -EINVAL,
			      "%s cannot grow to %llu bytes in place (its L1 table would move)", path,
			      (unsigned long long)size);
		goto out;
	}
	/* the entries it gains must be unused (zero) */
	if (need > q.l1_size) {
		size_t n = (need - q.l1_size) * 8;
		uint8_t *z = calloc(1, n), *cur = malloc(n);

		r = z && cur ? pread_all(fd, cur, n, q.l1_offset + l1_bytes) : -ENOMEM;
		if (r == 0 && memcmp(z, cur, n) != 0)
			r = error_set(err, errlen, -EINVAL,
				      "%s has data after its L1 table; it cannot grow in place", path);
		else if (r < 0)
			error_set(err, errlen, r, "cannot read %s: %s", path, strerror(-r));
		free(z);
		free(cur);
		if (r < 0)
			goto out;
	}
	put_be64(h + 24, size);
	put_be32(h + 36, need > q.l1_size ? need : q.l1_size);
	r = pwrite_all(fd, h + 24, 16, 24);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		error_set(err, errlen, r, "cannot write %s: %s", path, strerror(-r));
out:
	free(h);
	return r;
}

int image_resize(const char *path, uint64_t size, char *err, size_t errlen)
{
	struct image_info info;
	struct stat st;
	int fd, r;

	if (size > IMAGE_MAX_SIZE)
		return error_set(err, errlen, -EINVAL, "a size of %llu bytes is too large",
				 (unsigned long long)size);
	r = image_probe(path, &info, err, errlen);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_set(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = error_set(err, errlen, -errno, "cannot stat %s: %s", path, strerror(errno));
	} else if (info.qcow2) {
		r = resize_qcow2(fd, path, size, st.st_size, err, errlen);
	} else if (size < (uint64_t)st.st_size) {
		r = error_set(err, errlen, -EINVAL, "%s is %llu bytes; it can only grow", path,
			      (unsigned long long)st.st_size);
	} else if (ftruncate(fd, size) < 0 || fsync(fd) < 0) {
		r = error_set(err, errlen, -errno, "cannot resize %s: %s", path, strerror(errno));
	}
	close(fd);
	return r;
}
