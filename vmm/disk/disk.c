/* Opening disk images: options, format checks, backing chains. */
#include "vmm/disk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/image_mark.h"

#define QCOW2_MAGIC "QFI\xfb"

int disk_open_file(const char *path, bool readonly, bool direct)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct ? O_DIRECT : 0));

	return fd < 0 ? -errno : fd;
}

static bool looks_like_qcow2(int fd)
{
	char magic[4];

	return pread(fd, magic, sizeof(magic), 0) == sizeof(magic) && !memcmp(magic, QCOW2_MAGIC, 4);
}

static int open_format(int fd, const char *path, enum disk_format format, bool readonly,
		       bool direct, const struct disk_chain *chain, struct disk **ret_disk,
		       char *err, size_t errlen)
{
	int r;

	if (format == DISK_FORMAT_QCOW2)
		return qcow2_open(fd, path, readonly, direct, chain, ret_disk, err, errlen);
	r = raw_open(fd, readonly, direct, ret_disk);
	if (r < 0)
		return error_set(err, errlen, r, "cannot use disk image %s: %s", path, strerror(-r));
	return 0;
}

int disk_open(const struct disk_options *opts, struct disk **ret_disk, char *err, size_t errlen)
{
	bool direct = opts->cache == DISK_CACHE_NONE;
	struct disk_chain chain = { .depth = 0 };
	enum disk_format format = opts->format;
	struct stat st;
	int fd;

	fd = disk_open_file(opts->path, opts->readonly, direct);
	if (fd == -EINVAL && direct)
		return error_set(err, errlen, fd,
			    "cannot open disk image %s with cache=none: its file system does not "
			    "support O_DIRECT", opts->path);
	if (fd < 0)
		return error_set(err, errlen, fd, "cannot open disk image %s: %s", opts->path,
			    strerror(-fd));
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		return error_set(err, errlen, -EINVAL,
			    "cannot use disk image %s: not a regular file or block device", opts->path);
	}
	if (format == DISK_FORMAT_PROBE) {
		if (looks_like_qcow2(fd)) {
			close(fd);
			return error_set(err, errlen, -EINVAL,
				    "disk image %s looks like qcow2: say format=qcow2 (or format=raw "
				    "to use it as raw)", opts->path);
		}
		format = DISK_FORMAT_RAW;
	}
	chain.dev = st.st_dev;
	chain.ino = st.st_ino;
	return open_format(fd, opts->path, format, opts->readonly, direct, &chain, ret_disk, err,
			   errlen);
}

int disk_open_backing(const char *path, enum disk_format format, const struct disk_chain *up,
		      struct disk **ret_disk, char *err, size_t errlen)
{
	struct disk_chain chain = { .depth = up->depth + 1, .up = up };
	struct stat st;
	int fd, mark;

	if (chain.depth > DISK_MAX_BACKING_DEPTH)
		return error_set(err, errlen, -ELOOP,
			    "backing chain is deeper than %d images at %s", DISK_MAX_BACKING_DEPTH, path);
	fd = disk_open_file(path, true, false);
	if (fd < 0)
		return error_set(err, errlen, fd, "cannot open backing file %s: %s", path,
			    strerror(-fd));
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		return error_set(err, errlen, -EINVAL,
			    "backing file %s is not a regular file or block device", path);
	}
	for (const struct disk_chain *c = up; c; c = c->up) {
		if (c->dev == (uint64_t)st.st_dev && c->ino == (uint64_t)st.st_ino) {
			close(fd);
			return error_set(err, errlen, -ELOOP,
				    "backing chain loops: %s is already in the chain", path);
		}
	}
	chain.dev = st.st_dev;
	chain.ino = st.st_ino;
	/*
	 * A file made raw is raw: its first bytes are its guest's, and a
	 * qcow2 header there would name a backing file of the guest's choice.
	 * Without a mark or a backing format, qemu probes; so do we.
	 */
	mark = image_mark_get(fd);
	if (mark == 0 && format == DISK_FORMAT_QCOW2) {
		close(fd);
		return error_set(err, errlen, -EPERM,
			    "backing file %s was made as a raw image; it is not read as a qcow2", path);
	}
	if (format == DISK_FORMAT_PROBE)
		format = mark >= 0 ? (mark ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW)
		       : looks_like_qcow2(fd) ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
	return open_format(fd, path, format, true, false, &chain, ret_disk, err, errlen);
}

void disk_close(struct disk *disk)
{
	if (disk)
		disk->ops->close(disk);
}

static int parse_serial(const char *s, size_t n, struct disk_options *o, char *err, size_t errlen)
{
	if (n == 0 || n > DISK_SERIAL_MAX)
		return error_set(err, errlen, -EINVAL, "a disk serial must have 1 to %d characters",
			    DISK_SERIAL_MAX);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return error_set(err, errlen, -EINVAL,
				    "a disk serial may hold only printable ASCII without spaces");
	memcpy(o->serial, s, n);
	o->serial[n] = '\0';
	return 0;
}

int disk_parse_options(const char *spec, struct disk_options *ret_opts, char *err, size_t errlen)
{
	struct disk_options o = { .format = DISK_FORMAT_PROBE, .cache = DISK_CACHE_WRITEBACK };
	const char *p = strchr(spec, ',');
	static const char *const formats[] = { "raw", "qcow2" };
	size_t n;

	if (p == spec || *spec == '\0')
		return error_set(err, errlen, -EINVAL, "--disk needs a file name first");
	n = p ? (size_t)(p - spec) : strlen(spec);
	if (n >= sizeof(o.path))
		return error_set(err, errlen, -ENAMETOOLONG, "--disk file name is too long");
	memcpy(o.path, spec, n);
	o.path[n] = '\0';
	while (p) {
		const char *item = p + 1, *end = strchr(item, ',');

		n = end ? (size_t)(end - item) : strlen(item);

		if (n == 8 && !strncmp(item, "readonly", 8)) {
			o.readonly = true;
		} else if (n > 7 && !strncmp(item, "format=", 7)) {
			if (n - 7 == 3 && !strncmp(item + 7, formats[0], 3))
				o.format = DISK_FORMAT_RAW;
			else if (n - 7 == 5 && !strncmp(item + 7, formats[1], 5))
				o.format = DISK_FORMAT_QCOW2;
			else
				return error_set(err, errlen, -EINVAL,
					    "unknown disk format '%.*s' (raw or qcow2)", (int)(n - 7),
					    item + 7);
		} else if (n == 10 && !strncmp(item, "cache=none", 10)) {
			o.cache = DISK_CACHE_NONE;
		} else if (n == 15 && !strncmp(item, "cache=writeback", 15)) {
			o.cache = DISK_CACHE_WRITEBACK;
		} else if (n > 7 && !strncmp(item, "serial=", 7)) {
			if (parse_serial(item + 7, n - 7, &o, err, errlen) < 0)
				return -EINVAL;
		} else {
			return error_set(err, errlen, -EINVAL, "unknown --disk option '%.*s'", (int)n,
				    item);
		}
		p = end;
	}
	*ret_opts = o;
	return 0;
}
