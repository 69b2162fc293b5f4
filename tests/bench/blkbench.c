/*
 * blkbench: block device throughput inside a guest, with O_DIRECT so the
 * guest's page cache does not answer for the disk.
 *
 *   blkbench seqread DEV SECONDS    1 MiB reads, sequential, wrapping
 *   blkbench seqwrite DEV MIB       1 MiB writes, then fdatasync
 *   blkbench randread DEV SECONDS   4 KiB reads at random aligned offsets
 *
 * Prints one line: "BLK <test> <figure> <unit>". Built static for the
 * inner guest's initramfs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t size, done = 0, n = 0, x = 88172645463325252ULL;
	double t0, t;
	void *buf;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: blkbench seqread|seqwrite|randread DEV N\n");
		return 2;
	}
	fd = open(argv[2], (strcmp(argv[1], "seqwrite") ? O_RDONLY : O_WRONLY) | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || posix_memalign(&buf, 4096, 1 << 20)) {
		perror(argv[2]);
		return 1;
	}
	memset(buf, 0xa5, 1 << 20);
	t0 = now();
	if (!strcmp(argv[1], "seqwrite")) {
		uint64_t total = strtoull(argv[3], NULL, 10) << 20;

		for (done = 0; done < total && done + (1 << 20) <= size; done += 1 << 20)
			if (pwrite(fd, buf, 1 << 20, done) != 1 << 20) {
				perror("pwrite");
				return 1;
			}
		fdatasync(fd);
		t = now() - t0;
		printf("BLK seqwrite %.1f MB/s\n", done / t / 1e6);
		return 0;
	}
	while ((t = now() - t0) < atof(argv[3])) {
		if (!strcmp(argv[1], "seqread")) {
			uint64_t off = done % (size & ~((1ULL << 20) - 1));

			if (pread(fd, buf, 1 << 20, off) != 1 << 20) {
				perror("pread");
				return 1;
			}
			done += 1 << 20;
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			if (pread(fd, buf, 4096, (x % (size / 4096)) * 4096) != 4096) {
				perror("pread");
				return 1;
			}
			n++;
		}
	}
	if (!strcmp(argv[1], "seqread"))
		printf("BLK seqread %.1f MB/s\n", done / t / 1e6);
	else
		printf("BLK randread %.0f IOPS\n", n / t);
	return 0;
}
