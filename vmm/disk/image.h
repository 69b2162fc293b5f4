/*
 * Image files as a storage pool sees them: what a file is (format, virtual
 * size, backing file), and making, copying and resizing raw and qcow2
 * images that qemu-img accepts. Functions return 0 or -errno, with one
 * sentence in err.
 */
#ifndef WEBKVM_VMM_DISK_IMAGE_H
#define WEBKVM_VMM_DISK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_SIZE (1ULL << 50) /* 1 PiB */

struct image_info {
	bool qcow2;              /* else raw */
	uint64_t capacity;       /* virtual size in bytes */
	uint64_t allocation;     /* bytes the file takes on the host */
	char backing[4096];      /* qcow2: the backing file's name, or "" */
	char backing_format[16]; /* qcow2: its format when the image says */
	bool external_data;      /* qcow2: its data is in another file (incompatible feature bit 2) */
	char data_file[4096];    /* qcow2: that file's name when the header says, or "" */
	bool marked;             /* the format is the file's mark (image_mark), not its header's */
};

/* What path is; a file marked raw is raw whatever its first bytes say. */
int image_probe(const char *path, struct image_info *info, char *err, size_t errlen);
/*
 * Mark path as the format its header says now, where it has no mark yet
 * (first sight; files made here are marked as they are made): 0, -EEXIST
 * when it has one, or -errno (-EOPNOTSUPP: the file system keeps none).
 */
int image_mark(const char *path, bool qcow2);
/* Mark path as what its header says now, whatever its mark was (an upload, once whole). */
int image_mark_as_header(const char *path);

/* A new file (never an existing one): sparse raw, or qcow2 v3 with 64 KiB clusters. */
int image_create_raw(const char *path, uint64_t size, char *err, size_t errlen);
/* backing (or NULL) is stored as given; backing_format is "raw" or "qcow2". */
int image_create_qcow2(const char *path, uint64_t size, const char *backing,
		       const char *backing_format, char *err, size_t errlen);

/*
 * The two ends of a copy: src opened (a regular file, not a symbolic link)
 * and the new file dst made, marked as the format src is (its VM's or
 * pool's word for it, qcow2). 0, or -errno with err and nothing left open.
 */
int image_copy_open(const char *src, const char *dst, bool qcow2, int *in, int *out, char *err,
		    size_t errlen);
/* A new, empty file (never an existing one): fd, or -errno with err. */
int image_create_file(const char *path, char *err, size_t errlen);
/* Copy all of in into out (holes kept for a regular in), fsync. 0 or -errno. */
int image_copy_fd(int in, int out);

/*
 * Copy exactly size bytes of a stream (a pipe, a socket) into out, runs of
 * zeros as holes, fsync. 0, -EPIPE when the stream ended before size
 * bytes (or had more), or -errno.
 */
int image_copy_stream(int in, int out, uint64_t size);
/* Grow an image's virtual size (never shrink). */
int image_resize(const char *path, uint64_t size, char *err, size_t errlen);

#endif
