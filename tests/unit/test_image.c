/*
 * vmm/disk/image.c, what vmmd uses to describe and resize pool volumes:
 * the qcow2 header fields it reads (the backing file's name above all,
 * which the host-file policy follows) are refused when out of range, a
 * qcow2 volume only grows, a file made raw stays raw whatever is written
 * into it, and a stream (an upload) arrives as it was sent, of exactly
 * the size said, with long runs of zeros as holes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "vmm/disk/image.h"

static void put_be32(int fd, off_t at, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	if (pwrite(fd, b, 4, at) != 4)
		abort();
}

static void put_be64(int fd, off_t at, uint64_t v)
{
	put_be32(fd, at, v >> 32);
	put_be32(fd, at + 4, (uint32_t)v);
}

/* A fresh 1 MiB qcow2 (64 KiB clusters) in a temporary file; its open fd in *fd. */
static void fresh_qcow2(char path[64], int *fd)
{
	char err[256];

	strcpy(path, "/tmp/webkvm-unit-image-XXXXXX");
	*fd = mkstemp(path);
	if (*fd < 0)
		abort();
	close(*fd);
	unlink(path);
	if (image_create_qcow2(path, 1 << 20, NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "    %s\n", err);
		abort();
	}
	*fd = open(path, O_RDWR);
	if (*fd < 0 || ftruncate(*fd, 256 << 10) < 0)
		abort();
}

/* The backing name at boff, blen bytes long, made of letters (no NUL) in the file. */
static int probe_with_backing(uint64_t boff, uint32_t blen, struct image_info *info)
{
	char path[64], err[256];
	char *name = malloc(blen);
	int fd, r;

	fresh_qcow2(path, &fd);
	if (boff + blen > (256 << 10) && ftruncate(fd, boff + blen + 4096) < 0)
		abort();
	memset(name, 'a', blen);
	/* (the fields image_probe reads end at 48, but for header_len at 100) */
	if (boff >= 48 && pwrite(fd, name, blen, boff) != (ssize_t)blen)
		abort();
	put_be64(fd, 8, boff);
	put_be32(fd, 16, blen);
	close(fd);
	free(name);
	r = image_probe(path, info, err, sizeof(err));
	unlink(path);
	return r;
}

static void image_probe_reads_a_backing_name_in_range(int *failed)
{
	struct image_info info;

	CHECK_EQ(probe_with_backing(512, 4095, &info), 0);
	CHECK_EQ(strlen(info.backing), 4095);
	CHECK_EQ(probe_with_backing(65536 - 8, 8, &info), 0);
	CHECK(info.qcow2);
	CHECK_EQ(info.capacity, 1 << 20);
}

static void image_probe_refuses_backing_names_out_of_range(int *failed)
{
	struct image_info info;

	/* as long as its buffer: no room for the NUL */
	CHECK(probe_with_backing(512, sizeof(info.backing), &info) < 0);
	/* past the header cluster, though inside the file: past what the probe read, too */
	CHECK(probe_with_backing(70000, 4, &info) < 0);
	CHECK(probe_with_backing(3 << 20, 4, &info) < 0);
	/* running past the header cluster's end */
	CHECK(probe_with_backing(65536 - 4, 8, &info) < 0);
	/* over the header's own fields (the refcount table's offset, made letters) */
	CHECK(probe_with_backing(48, 8, &info) < 0);
	CHECK(probe_with_backing(512, 0, &info) < 0);
}

/*
 * Extensions end at the backing name, as in vmm's qcow2 driver: a backing
 * format "raw" that only a parser reading past the name would see (the
 * name's last bytes are the extension's type, the bytes after it its
 * length and "raw") is not taken.
 */
static void image_probe_reads_no_extension_past_the_backing_name(int *failed)
{
	static const uint8_t unknown_ext[8] = { 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0 };
	static const uint8_t name[4] = { 0xe2, 0x79, 0x2a, 0xca };
	static const uint8_t rest[8] = { 0, 0, 0, 3, 'r', 'a', 'w', 0 };
	struct image_info info;
	char path[64], err[256];
	int fd;
	uint32_t hl;
	uint8_t b[4];

	fresh_qcow2(path, &fd);
	if (pread(fd, b, 4, 100) != 4)
		abort();
	hl = (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	if (pwrite(fd, unknown_ext, 8, hl) != 8 || pwrite(fd, name, 4, hl + 8) != 4 ||
	    pwrite(fd, rest, 8, hl + 12) != 8)
		abort();
	put_be64(fd, 8, hl + 8);
	put_be32(fd, 16, 4);
	close(fd);
	CHECK_EQ(image_probe(path, &info, err, sizeof(err)), 0);
	CHECK_EQ(strlen(info.backing), 4);
	CHECK_EQ(strlen(info.backing_format), 0);
	unlink(path);
}

static void image_resize_only_grows_a_qcow2(int *failed)
{
	struct image_info info;
	char path[64], err[256];
	int fd;

	fresh_qcow2(path, &fd);
	close(fd);
	CHECK(image_resize(path, 512 << 10, err, sizeof(err)) < 0);
	CHECK(image_resize(path, (1 << 20) - 512, err, sizeof(err)) < 0);
	CHECK_EQ(image_probe(path, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.capacity, 1 << 20);
	CHECK_EQ(image_resize(path, 8 << 20, err, sizeof(err)), 0);
	CHECK_EQ(image_probe(path, &info, err, sizeof(err)), 0);
	CHECK_EQ(info.capacity, 8 << 20);
	unlink(path);
}

/* A name for a new file under /tmp, not made. */
static void tmp_name(char path[64])
{
	int fd;

	strcpy(path, "/tmp/webkvm-unit-image-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	unlink(path);
}

/*
 * A raw disk's first bytes are its guest's: a qcow2 header written there
 * leaves a file made raw (and its copies) raw, 1 MiB, with no backing
 * file; a file made elsewhere is what its header says until image_mark
 * fixes that, once.
 */
static void image_probe_keeps_a_file_made_raw_raw(int *failed)
{
	struct image_info info;
	char qcow2[64], raw[64], copy[64], other[64], err[256];
	uint8_t *h = malloc(64 << 10);
	int fd, in, out;

	fresh_qcow2(qcow2, &fd);
	if (!h || pread(fd, h, 64 << 10, 0) != 64 << 10)
		abort();
	close(fd);
	CHECK_EQ(image_probe(qcow2, &info, err, sizeof(err)), 0);
	CHECK(info.qcow2 && info.marked);

	tmp_name(raw);
	CHECK_EQ(image_create_raw(raw, 1 << 20, err, sizeof(err)), 0);
	fd = open(raw, O_WRONLY);
	if (fd < 0 || pwrite(fd, h, 64 << 10, 0) != 64 << 10)
		abort();
	close(fd);
	CHECK_EQ(image_probe(raw, &info, err, sizeof(err)), 0);
	CHECK(!info.qcow2 && info.marked);
	CHECK_EQ(info.capacity, 1 << 20);
	CHECK_EQ(info.backing[0], '\0');

	tmp_name(copy);
	CHECK_EQ(image_probe(raw, &info, err, sizeof(err)), 0);
	CHECK_EQ(image_copy_open(raw, copy, info.qcow2, &in, &out, err, sizeof(err)), 0);
	CHECK_EQ(image_copy_fd(in, out), 0);
	close(in);
	close(out);
	CHECK_EQ(image_probe(copy, &info, err, sizeof(err)), 0);
	CHECK(!info.qcow2 && info.marked);

	tmp_name(other);
	fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || pwrite(fd, h, 64 << 10, 0) != 64 << 10 || ftruncate(fd, 256 << 10) < 0)
		abort();
	close(fd);
	CHECK_EQ(image_probe(other, &info, err, sizeof(err)), 0);
	CHECK(info.qcow2 && !info.marked);
	CHECK_EQ(image_mark(other, false), 0);
	CHECK_EQ(image_mark(other, true), -EEXIST);
	CHECK_EQ(image_probe(other, &info, err, sizeof(err)), 0);
	CHECK(!info.qcow2 && info.marked);
	CHECK_EQ(info.capacity, 256 << 10);
	unlink(qcow2);
	unlink(raw);
	unlink(copy);
	unlink(other);
	free(h);
}

/* What a client sends: written into a pipe in uneven pieces. */
struct stream_feed {
	int fd;
	const unsigned char *data;
	size_t len;
};

static void *feed_stream(void *arg)
{
	struct stream_feed *f = arg;
	size_t done = 0, piece = 1;

	while (done < f->len) {
		size_t n = piece < f->len - done ? piece : f->len - done;
		ssize_t w = write(f->fd, f->data + done, n);

		if (w <= 0)
			break;
		done += (size_t)w;
		piece = piece * 7 % 300007 + 1; /* 1 byte to about 300 KiB */
	}
	close(f->fd);
	return NULL;
}

/* image_copy_stream of len bytes of data, saying size; its result. */
static int copy_stream(const unsigned char *data, size_t len, uint64_t size, const char *path)
{
	struct stream_feed f = { .data = data, .len = len };
	pthread_t thread;
	int p[2], out, r;

	if (pipe(p) < 0)
		return -errno;
	out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	f.fd = p[1];
	pthread_create(&thread, NULL, feed_stream, &f);
	r = image_copy_stream(p[0], out, size);
	close(p[0]); /* a feeder still writing hears EPIPE */
	pthread_join(thread, NULL);
	close(out);
	return r;
}

static bool file_is(const char *path, const unsigned char *data, size_t len)
{
	unsigned char *buf = malloc(len + 1);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len + 1);
	bool same = n == (ssize_t)len && memcmp(buf, data, len) == 0;

	if (fd >= 0)
		close(fd);
	free(buf);
	return same;
}

/*
 * Three chunks and an odd tail: data, 1 MiB of zeros (a hole), data with
 * short gaps of zeros (written), and zeros to the end (the file's size
 * all the same).
 */
static void image_copy_stream_writes_what_came_with_long_zeros_as_holes(int *failed)
{
	size_t len = (9 << 20) + 3;
	unsigned char *data = calloc(1, len);
	char path[] = "/tmp/webkvm-unit-stream-XXXXXX";
	struct stat st;
	int fd = mkstemp(path);

	close(fd);
	for (size_t i = 0; i < (8 << 20); i++) {
		bool hole = i >= (2 << 20) && i < (3 << 20);
		bool gap = i >= (5 << 20) && i % 16384 >= 12288; /* 4 KiB of every 16 */

		if (!hole && !gap)
			data[i] = (unsigned char)(i * 2654435761u >> 13) | 1;
	}
	CHECK_EQ(copy_stream(data, len, len, path), 0);
	CHECK(file_is(path, data, len));
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_size, len);
	/* the MiB of zeros and the last MiB and 3 bytes are holes; the short
	 * gaps are not, but for the one that ends the second chunk (a file
	 * system may round up to its own block) */
	CHECK(st.st_blocks * 512 <= (7 << 20) + (64 << 10));
	CHECK(st.st_blocks * 512 >= (7 << 20) - (4 << 10));
	free(data);
	unlink(path);
}

static void image_copy_stream_takes_exactly_the_size_said(int *failed)
{
	size_t len = (4 << 20) + 5;
	unsigned char *data = malloc(len);
	char path[] = "/tmp/webkvm-unit-stream-XXXXXX";
	int fd = mkstemp(path);

	close(fd);
	memset(data, 0x5a, len);
	CHECK_EQ(copy_stream(data, len - 1, len, path), -EPIPE);
	CHECK_EQ(copy_stream(data, len, len - 1, path), -EPIPE);
	CHECK_EQ(copy_stream(data, len, len, path), 0);
	CHECK(file_is(path, data, len));
	free(data);
	unlink(path);
}

const struct unit_test image_tests[] = {
	{ "image_probe_reads_a_backing_name_in_range", image_probe_reads_a_backing_name_in_range },
	{ "image_probe_refuses_backing_names_out_of_range",
	  image_probe_refuses_backing_names_out_of_range },
	{ "image_probe_reads_no_extension_past_the_backing_name",
	  image_probe_reads_no_extension_past_the_backing_name },
	{ "image_resize_only_grows_a_qcow2", image_resize_only_grows_a_qcow2 },
	{ "image_probe_keeps_a_file_made_raw_raw", image_probe_keeps_a_file_made_raw_raw },
	{ "image_copy_stream_writes_what_came_with_long_zeros_as_holes",
	  image_copy_stream_writes_what_came_with_long_zeros_as_holes },
	{ "image_copy_stream_takes_exactly_the_size_said", image_copy_stream_takes_exactly_the_size_said },
	{ NULL, NULL },
};
