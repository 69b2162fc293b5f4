/*
 * disk-io: drive vmm's disk layer (vmm/disk) from the shell, so tests can
 * hold it against qemu-img and qemu-io on the same files.
 *
 *   disk-io DISK-SPEC COMMAND...
 *
 * DISK-SPEC is what vmm's --disk takes. Commands, run in order:
 *   read OFF LEN          write the bytes read to stdout
 *   write OFF LEN BYTE    write LEN bytes of BYTE (0-255)
 *   copy OFF FILE         write FILE's contents at OFF
 *   discard OFF LEN | zero OFF LEN | zero-unmap OFF LEN | flush
 *   size                  print the virtual size
 *   segments N            the reads and writes after it go in N pieces of one
 *                         request (an iovec of N entries), as a guest's
 *                         scattered buffers do (1 to 1024; default 1)
 *   series OFF COUNT STRIDE LEN EVERY
 *                         COUNT writes of LEN bytes, write i at OFF + i * STRIDE
 *                         of byte i % 255 + 1; after each EVERY of them (0:
 *                         never) a flush, then the number written so far on
 *                         a line of stdout, so that a test can kill it while
 *                         it writes and know what was flushed
 * Offsets and lengths take a K, M or G suffix. Exit 1 with one message
 * on the first failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fd.h"
#include "vmm/disk/disk.h"

static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'K': v <<= 10; end++; break;
	case 'M': v <<= 20; end++; break;
	case 'G': v <<= 30; end++; break;
	}
	if (*end || !*s)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "disk-io: %s: %s\n", what, strerror(-r));
	return 1;
}

/* The series command: argv[0..4] are OFF COUNT STRIDE LEN EVERY. */
static int series(struct disk *disk, char **argv)
{
	uint64_t off, count, stride, len, every;
	uint8_t *buf;
	int r = 0;

	if (parse_size(argv[0], &off) < 0 || parse_size(argv[1], &count) < 0 ||
	    parse_size(argv[2], &stride) < 0 || parse_size(argv[3], &len) < 0 ||
	    parse_size(argv[4], &every) < 0)
		return -EINVAL;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < count && r == 0; i++) {
		struct iovec v = { buf, len };
		char line[32];

		memset(buf, (int)(i % 255 + 1), len);
		r = disk->ops->pwritev(disk, &v, 1, off + i * stride);
		if (r < 0 || !every || (i + 1) % every)
			continue;
		r = disk->ops->flush(disk);
		snprintf(line, sizeof(line), "%llu\n", (unsigned long long)(i + 1));
		if (r == 0 && write_all(1, line, strlen(line)) < 0)
			r = -EIO;
	}
	free(buf);
	return r;
}

/* Run the commands from argv[i] on: 0, or the exit status. */
static int run(struct disk *disk, int argc, char **argv, int i)
{
	int nsegs = 1, r;

	while (i < argc) {
		const char *cmd = argv[i++];
		uint64_t off = 0, len = 0;

		if (!strcmp(cmd, "flush")) {
			if ((r = disk->ops->flush(disk)) < 0)
				return fail("flush", r);
			continue;
		}
		if (!strcmp(cmd, "size")) {
			printf("%llu\n", (unsigned long long)disk->size);
			continue;
		}
		if (!strcmp(cmd, "segments")) {
			nsegs = i < argc ? atoi(argv[i++]) : 0;
			if (nsegs < 1 || nsegs > 1024) {
				fprintf(stderr, "disk-io: segments takes 1 to 1024\n");
				return 2;
			}
			continue;
		}
		if (!strcmp(cmd, "series")) {
			if (i + 5 > argc) {
				fprintf(stderr, "disk-io: bad arguments to series\n");
				return 2;
			}
			if ((r = series(disk, argv + i)) < 0)
				return fail("series", r);
			i += 5;
			continue;
		}
		if (i + 1 >= argc + (strcmp(cmd, "copy") == 0) || parse_size(argv[i], &off) < 0) {
			fprintf(stderr, "disk-io: bad arguments to %s\n", cmd);
			return 2;
		}
		i++;
		if (!strcmp(cmd, "copy")) {
			void *data;
			size_t n;

			if ((r = read_file(argv[i++], 1 << 30, &data, &n)) < 0)
				return fail("copy", r);
			struct iovec v = { data, n };
			r = disk->ops->pwritev(disk, &v, 1, off);
			free(data);
			if (r < 0)
				return fail("copy", r);
			continue;
		}
		if (parse_size(argv[i++], &len) < 0) {
			fprintf(stderr, "disk-io: bad length for %s\n", cmd);
			return 2;
		}
		if (!strcmp(cmd, "read") || !strcmp(cmd, "write")) {
			int n = len >= (uint64_t)nsegs ? nsegs : 1;
			struct iovec *segs;
			uint8_t *mem, *buf;

			if (!strcmp(cmd, "write") && i >= argc)
				return 2;
			/*
			 * 16 bytes into what malloc gives, as a guest's buffers
			 * may lie: never aligned for O_DIRECT, whatever the
			 * allocator (AddressSanitizer's aligns large blocks).
			 */
			mem = malloc(len + 16);
			buf = mem ? mem + 16 : NULL;
			segs = calloc(n, sizeof(*segs));
			if (!buf || !segs) {
				free(mem);
				free(segs);
				return fail(cmd, -ENOMEM);
			}
			/* n pieces in order, the last one taking what is left */
			for (int k = 0; k < n; k++)
				segs[k] = (struct iovec){ buf + k * (len / n),
							  k == n - 1 ? len - k * (len / n) : len / n };
			if (!strcmp(cmd, "write")) {
				memset(buf, (int)strtoul(argv[i++], NULL, 0), len);
				r = disk->ops->pwritev(disk, segs, n, off);
			} else {
				r = disk->ops->preadv(disk, segs, n, off);
				if (r == 0 && write_all(1, buf, len) < 0)
					r = -EIO;
			}
			free(segs);
			free(mem);
			if (r < 0)
				return fail(cmd, r);
		} else if (!strcmp(cmd, "discard")) {
			if ((r = disk->ops->discard(disk, off, len)) < 0)
				return fail(cmd, r);
		} else if (!strcmp(cmd, "zero") || !strcmp(cmd, "zero-unmap")) {
			if ((r = disk->ops->write_zeroes(disk, off, len, !strcmp(cmd, "zero-unmap"))) < 0)
				return fail(cmd, r);
		} else {
			fprintf(stderr, "disk-io: unknown command %s\n", cmd);
			return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct disk_options opts;
	struct disk *disk;
	char err[512];
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: disk-io DISK-SPEC COMMAND...\n");
		return 2;
	}
	if (disk_parse_options(argv[1], &opts, err, sizeof(err)) < 0 ||
	    disk_open(&opts, &disk, err, sizeof(err)) < 0) {
		fprintf(stderr, "disk-io: %s\n", err);
		return 1;
	}
	status = run(disk, argc, argv, 2);
	fflush(stdout);
	disk_close(disk);
	return status;
}
