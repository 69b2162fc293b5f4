/*
 * Disk images behind virtio-blk: raw files and qcow2 (raw.c, qcow2.c).
 * Offsets and lengths are in bytes; callers keep requests inside the
 * disk's size. Functions return 0 or -errno.
 */
#ifndef WEBKVM_VMM_DISK_DISK_H
#define WEBKVM_VMM_DISK_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_SERIAL_MAX 20 /* virtio-blk's GET_ID length */
#define DISK_MAX_BACKING_DEPTH 16

enum disk_format { DISK_FORMAT_PROBE, DISK_FORMAT_RAW, DISK_FORMAT_QCOW2 };
enum disk_cache { DISK_CACHE_WRITEBACK, DISK_CACHE_NONE };

struct disk_options {
	char path[4096];
	enum disk_format format;  /* PROBE: refuse to guess, see disk_open */
	bool readonly;
	enum disk_cache cache;
	char serial[DISK_SERIAL_MAX + 1];
};

struct disk;

struct disk_ops {
	int (*preadv)(struct disk *disk, const struct iovec *iov, int iovcnt, uint64_t offset);
	int (*pwritev)(struct disk *disk, const struct iovec *iov, int iovcnt, uint64_t offset);
	/* Make every completed write durable. */
	int (*flush)(struct disk *disk);
	/* Let the image forget a range; reads of it may return anything after. */
	int (*discard)(struct disk *disk, uint64_t offset, uint64_t len);
	/* Make a range read as zeroes, freeing its space where unmap allows. */
	int (*write_zeroes)(struct disk *disk, uint64_t offset, uint64_t len, bool unmap);
	void (*close)(struct disk *disk);
};

struct disk {
	const struct disk_ops *ops;
	uint64_t size;            /* virtual size in bytes */
	bool readonly;
	bool direct;              /* opened with O_DIRECT */
	unsigned int align;       /* buffer and offset alignment O_DIRECT needs, else 1 */
};

/*
 * Open an image as the options say. The format must be given, except
 * that a file which does not look like qcow2 may be opened as raw: a
 * guest that writes a qcow2 header into a raw disk must not make the next
 * start read its backing file from the host. err gets one sentence.
 */
int disk_open(const struct disk_options *opts, struct disk **ret_disk, char *err, size_t errlen);
void disk_close(struct disk *disk);

/* Parse "FILE[,format=raw|qcow2][,readonly][,cache=none|writeback][,serial=S]". */
int disk_parse_options(const char *spec, struct disk_options *ret_opts, char *err, size_t errlen);

/* Open path read-only with O_CLOEXEC (and O_DIRECT when asked); -errno. */
int disk_open_file(const char *path, bool readonly, bool direct);

/* The images opened so far on the way down a backing chain, to catch loops. */
struct disk_chain {
	uint64_t dev, ino;
	unsigned int depth;       /* 0 for the image the user named */
	const struct disk_chain *up;
};

/* Backends (raw.c, qcow2.c). They own fd from the call on. */
int raw_open(int fd, bool readonly, bool direct, struct disk **ret_disk);
int qcow2_open(int fd, const char *path, bool readonly, bool direct,
	       const struct disk_chain *chain, struct disk **ret_disk, char *err, size_t errlen);
/* Open the image a qcow2 backing file entry names, read-only, below chain. */
int disk_open_backing(const char *path, enum disk_format format, const struct disk_chain *chain,
		      struct disk **ret_disk, char *err, size_t errlen);

#endif
