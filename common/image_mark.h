/*
 * The format an image file was made as, kept with the file: an extended
 * attribute of the trusted namespace, which only root sets and which no
 * guest reaches through a disk. The guest of a raw disk writes the file's
 * first bytes, so a qcow2 header there (naming another volume as its
 * backing file) must not make the file a qcow2 to whatever reads it next:
 * vmmd's pools (vmm/disk/image.c) and vmm's backing files
 * (vmm/disk/disk.c) take the mark over the header.
 */
#ifndef WEBKVM_COMMON_IMAGE_MARK_H
#define WEBKVM_COMMON_IMAGE_MARK_H

#include <stdbool.h>

#define IMAGE_MARK_XATTR "trusted.webkvm.format"

/* fd's mark: 1 qcow2, 0 raw, or -errno (-ENODATA: none, or not one of ours). */
int image_mark_get(int fd);
/* flags: 0 to set it, XATTR_CREATE only where there is none (-EEXIST). 0 or -errno. */
int image_mark_set(int fd, bool qcow2, int flags);

#endif
