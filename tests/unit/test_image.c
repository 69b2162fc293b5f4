/*
 * vmm/disk/image.c, what vmmd uses to describe and resize pool volumes:
 * the qcow2 header fields it reads (the backing file's name above all,
 * which the host-file policy follows) are refused when out of range, and
 * a qcow2 volume only grows.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

const struct unit_test image_tests[] = {
	{ "image_probe_reads_a_backing_name_in_range", image_probe_reads_a_backing_name_in_range },
	{ "image_probe_refuses_backing_names_out_of_range",
	  image_probe_refuses_backing_names_out_of_range },
	{ "image_resize_only_grows_a_qcow2", image_resize_only_grows_a_qcow2 },
	{ NULL, NULL },
};
