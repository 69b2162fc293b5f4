/*
 * virtio-blk.
 *
 * NOTES
 * - §5.2.6.4: the device must not assume how the driver splits a request
 *   into buffers, so the header, data and status byte are found by byte
 *   offsets across the whole chain.
 * - A request the driver framed wrongly (no room for a header or status
 *   byte) breaks the queue rules: the transport asks for a reset. A
 *   request that is well framed but wrong (past the end of the disk, a
 *   write to a read-only disk, a length that is not whole sectors) gets
 *   VIRTIO_BLK_S_IOERR, and an unknown type VIRTIO_BLK_S_UNSUPP.
 * - Requests run one after the other on the device's I/O thread, in the
 *   order the driver queued them; a flush therefore covers every write
 *   completed before it, on any queue.
 * - One request queue per vCPU (VIRTIO_BLK_F_MQ), as QEMU does: Linux
 *   then submits and completes a request on the same CPU, with the
 *   queue's interrupt bound to it, rather than sending an IPI from the
 *   CPU that took the interrupt to the one that waits.
 * - 1024 entries per queue, and so 1022 data segments per request (the
 *   chain, indirect table included, must fit the queue, §2.7.5.3.1): a
 *   1 MiB read of scattered 4 KiB pages is one request. With QEMU's 256,
 *   Linux splits it at 254 pages into 1016 KiB and 8 KiB, and a device
 *   that serves requests in turn waits for the second one separately.
 */
#include "vmm/virtio/blk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define BLK_QUEUE_SIZE 1024
#define SECTOR 512ULL
#define PCI_CLASS_STORAGE_SCSI 0x010000

/* Feature bits (§5.2.3) */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (§5.2.6) */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_UNMAP 1

#define HDR_LEN 16
#define SEG_MAX (BLK_QUEUE_SIZE - 2)
#define DISCARD_SEG_MAX 32
#define DISCARD_SECTORS_MAX (UINT32_MAX / SECTOR) /* 4 GiB less a sector per segment */

static bool range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t size = blk->disk->size;

	return sector <= size / SECTOR && bytes <= size - sector * SECTOR;
}

static uint8_t blk_rw(struct virtio_blk *blk, struct virtq_chain *c, uint64_t sector, bool write,
		      uint32_t *ret_written)
{
	size_t skip = write ? HDR_LEN : 0;
	size_t len = write ? c->out_len - HDR_LEN : c->in_len - 1;
	const struct iovec *iov = write ? c->iov : c->iov + c->nout;
	unsigned int n = write ? c->nout : c->nin;
	int niov, r;

	if (len % SECTOR || !range_ok(blk, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (write && blk->disk->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (len == 0)
		return VIRTIO_BLK_S_OK;
	niov = iov_slice(iov, n, skip, len, blk->data, VIRTQ_MAX_SEGS);
	if (niov < 0)
		return VIRTIO_BLK_S_IOERR;
	r = write ? blk->disk->ops->pwritev(blk->disk, blk->data, niov, sector * SECTOR)
		  : blk->disk->ops->preadv(blk->disk, blk->data, niov, sector * SECTOR);
	if (r < 0) {
		log_debug("virtio-blk: %s of %zu bytes at sector %llu failed: %s",
			  write ? "write" : "read", len, (unsigned long long)sector, strerror(-r));
		return VIRTIO_BLK_S_IOERR;
	}
	if (write) {
		blk->stats.wr_reqs++;
		blk->stats.wr_bytes += len;
	} else {
		*ret_written = len;
		blk->stats.rd_reqs++;
		blk->stats.rd_bytes += len;
	}
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: a list of {sector, num_sectors, flags} segments (§5.2.6). */
static uint8_t blk_ranges(struct virtio_blk *blk, struct virtq_chain *c, uint32_t type)
{
	size_t len = c->out_len - HDR_LEN;
	unsigned int nseg = len / 16;

	if (blk->disk->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (len % 16 || nseg == 0 || nseg > DISCARD_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	for (unsigned int i = 0; i < nseg; i++) {
		uint8_t seg[16];
		uint64_t sector;
		uint32_t count, flags;
		int r;

		iov_to_buf(c->iov, c->nout, HDR_LEN + 16 * i, seg, sizeof(seg));
		sector = get_le64(seg);
		count = get_le32(seg + 8);
		flags = get_le32(seg + 12);
		/* §5.2.6.2: unmap means something only for write-zeroes; other flags are reserved. */
		if (flags & ~VIRTIO_BLK_WZ_UNMAP ||
		    (type == VIRTIO_BLK_T_DISCARD && (flags & VIRTIO_BLK_WZ_UNMAP)))
			return VIRTIO_BLK_S_UNSUPP;
		if (count > DISCARD_SECTORS_MAX || !range_ok(blk, sector, count * SECTOR))
			return VIRTIO_BLK_S_IOERR;
		if (type == VIRTIO_BLK_T_DISCARD)
			r = blk->disk->ops->discard(blk->disk, sector * SECTOR, count * SECTOR);
		else
			r = blk->disk->ops->write_zeroes(blk->disk, sector * SECTOR, count * SECTOR,
							 flags & VIRTIO_BLK_WZ_UNMAP);
		if (r < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Serve one request; its status byte and the bytes written go back through ret_written. */
static uint8_t blk_request(struct virtio_blk *blk, struct virtq_chain *c, uint32_t *ret_written)
{
	uint8_t hdr[HDR_LEN];
	uint32_t type;
	uint64_t sector;

	iov_to_buf(c->iov, c->nout, 0, hdr, sizeof(hdr));
	type = get_le32(hdr);
	sector = get_le64(hdr + 8);
	*ret_written = 0;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return blk_rw(blk, c, sector, false, ret_written);
	case VIRTIO_BLK_T_OUT:
		return blk_rw(blk, c, sector, true, ret_written);
	case VIRTIO_BLK_T_FLUSH:
		blk->stats.flush_reqs++;
		return blk->disk->ops->flush(blk->disk) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[DISK_SERIAL_MAX] = { 0 };

		/* §5.2.6: 20 bytes, not NUL-terminated when the serial fills them. */
		memcpy(id, blk->serial, strnlen(blk->serial, DISK_SERIAL_MAX));
		*ret_written = buf_to_iov(c->iov + c->nout, c->nin, 0, id,
					  MIN(sizeof(id), c->in_len - 1));
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return blk_ranges(blk, c, type);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static int blk_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_blk *blk = vdev->opaque;
	struct virtq *vq = &vdev->vq[q];
	struct virtq_chain *c = &blk->chain;
	bool pushed = false;
	int r;

	while ((r = virtq_pop(vq, c)) > 0) {
		uint32_t written;
		uint8_t status;

		/* A header to read and a status byte to write are the least a request has. */
		if (c->out_len < HDR_LEN || c->in_len < 1) {
			r = -EINVAL;
			break;
		}
		status = blk_request(blk, c, &written);
		buf_to_iov(c->iov + c->nout, c->nin, c->in_len - 1, &status, 1);
		virtq_push(vq, c->head, written + 1);
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_queue(vdev, q);
	return r < 0 ? -EINVAL : 0;
}

static const struct virtio_dev_ops blk_ops = {
	.queue_notify = blk_queue_notify,
};

static void blk_build_config(struct virtio_blk *blk, unsigned int nqueues)
{
	uint8_t *c = blk->config;

	memset(c, 0, sizeof(blk->config));
	put_le64(c + 0, blk->disk->size / SECTOR); /* capacity */
	put_le32(c + 12, SEG_MAX);
	put_le32(c + 20, SECTOR);                  /* blk_size */
	put_le16(c + 34, nqueues);                 /* num_queues */
	put_le32(c + 36, DISCARD_SECTORS_MAX);     /* max_discard_sectors */
	put_le32(c + 40, DISCARD_SEG_MAX);
	put_le32(c + 44, 1);                       /* discard_sector_alignment */
	put_le32(c + 48, DISCARD_SECTORS_MAX);     /* max_write_zeroes_sectors */
	put_le32(c + 52, DISCARD_SEG_MAX);
	c[56] = 1;                                 /* write_zeroes_may_unmap */
}

int virtio_blk_init(struct virtio_blk *blk, struct disk *disk, const char *serial,
		    unsigned int nqueues, struct pci *pci, struct irq_routing *routing,
		    const struct guest_mem *mem, int vm_fd)
{
	uint64_t features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_MQ);

	blk->disk = disk;
	snprintf(blk->serial, sizeof(blk->serial), "%s", serial ? serial : "");
	if (disk->readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	else
		features |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	if (nqueues == 0 || nqueues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	blk_build_config(blk, nqueues);
	return virtio_dev_init(&blk->vdev, &blk_ops, blk, VIRTIO_ID_BLOCK, PCI_CLASS_STORAGE_SCSI,
			       features, nqueues, BLK_QUEUE_SIZE, blk->config, sizeof(blk->config), pci,
			       routing, mem, vm_fd);
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	virtio_dev_destroy(&blk->vdev);
	blk->disk = NULL; /* the caller's, which outlives this device */
}
