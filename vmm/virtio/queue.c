/*
 * The device side of split virtqueues.
 *
 * NOTES
 * - The guest can change its rings while we read them, so every
 *   descriptor is copied once and only the copy is used.
 * - A chain longer than its table loops (§2.7.5.3.2: a device may treat
 *   that as an error), and so does a next index past the table, a nested
 *   indirect table, INDIRECT with NEXT, a readable buffer after a
 *   writable one, or a buffer outside RAM. Each makes virtq_pop fail, and
 *   the transport then sets DEVICE_NEEDS_RESET.
 * - Memory order: the avail index is read with acquire semantics before
 *   the entries it covers; used entries are written before the used index
 *   is released; a full fence separates the used index from reading the
 *   driver's event index or flags (§2.7.7, §2.7.10).
 */
#include "vmm/virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "common/util.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_DESC_SIZE 16

void virtq_reset(struct virtq *vq, uint16_t max_size)
{
	memset(vq, 0, sizeof(*vq));
	vq->size = max_size;
	vq->msix_vector = 0xffff;
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem)
{
	uint64_t n = vq->size;

	/* §2.7: split queue sizes are powers of two. */
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	/* §2.7 table 2.x: descriptor table 16-, avail 2-, used 4-byte aligned. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	vq->desc = mem_ptr(mem, vq->desc_gpa, n * VIRTQ_DESC_SIZE);
	vq->avail = mem_ptr(mem, vq->avail_gpa, 6 + 2 * n);
	vq->used = mem_ptr(mem, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EINVAL;
	vq->mem = mem;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->ready = true;
	return 0;
}

static uint16_t load16_acquire(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static void store16_release(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static struct desc read_desc(const uint8_t *table, unsigned int i)
{
	uint8_t raw[VIRTQ_DESC_SIZE];
	struct desc d;

	memcpy(raw, table + (size_t)i * VIRTQ_DESC_SIZE, sizeof(raw));
	d.addr = get_le64(raw);
	d.len = get_le32(raw + 8);
	d.flags = get_le16(raw + 12);
	d.next = get_le16(raw + 14);
	return d;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	const uint8_t *table = vq->desc;
	unsigned int table_len = vq->size, count = 0, i;
	bool indirect = false;
	uint16_t avail_idx;

	if (!vq->ready)
		return 0;
	avail_idx = load16_acquire(vq->avail + 2);
	if (avail_idx == vq->last_avail)
		return 0;
	/* The driver cannot have more requests outstanding than the ring holds. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return -EINVAL;
	i = get_le16(vq->avail + 4 + 2 * (vq->last_avail % vq->size));
	if (i >= vq->size)
		return -EINVAL;
	chain->head = i;
	chain->nout = chain->nin = 0;
	chain->out_len = chain->in_len = 0;

	for (;;) {
		struct desc d;

		if (++count > table_len)
			return -EINVAL; /* a loop */
		d = read_desc(table, i);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* §2.7.5.3.1: not nested, not chained, a whole number of descriptors. */
			if (indirect || (d.flags & VIRTQ_DESC_F_NEXT) || d.len == 0 ||
			    d.len % VIRTQ_DESC_SIZE || d.len / VIRTQ_DESC_SIZE > VIRTQ_MAX_SEGS)
				return -EINVAL;
			table = mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return -EINVAL;
			table_len = d.len / VIRTQ_DESC_SIZE;
			indirect = true;
			count = 0;
			i = 0;
			continue;
		}
		if (d.len) {
			void *p = mem_ptr(vq->mem, d.addr, d.len);

			if (!p || chain->nout + chain->nin == VIRTQ_MAX_SEGS)
				return -EINVAL;
			if (d.flags & VIRTQ_DESC_F_WRITE) {
				chain->nin++;
				chain->in_len += d.len;
			} else {
				/* §2.7.4.2: readable buffers come before writable ones. */
				if (chain->nin)
					return -EINVAL;
				chain->nout++;
				chain->out_len += d.len;
			}
			chain->iov[chain->nout + chain->nin - 1] =
				(struct iovec){ .iov_base = p, .iov_len = d.len };
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		i = d.next;
		if (i >= table_len)
			return -EINVAL;
	}
	vq->last_avail++;
	if (vq->event_idx && !vq->kick_when_drained) /* avail_event: kick us only for requests past this one */
		store16_release(vq->used + 4 + 8 * vq->size, vq->last_avail);
	return 1;
}

void virtq_unpop(struct virtq *vq, unsigned int n)
{
	vq->last_avail -= n;
	if (vq->event_idx)
		store16_release(vq->used + 4 + 8 * vq->size, vq->last_avail);
}

void virtq_fill(struct virtq *vq, unsigned int k, uint16_t head, uint32_t len)
{
	uint8_t *e = vq->used + 4 + 8 * ((uint16_t)(vq->used_idx + k) % vq->size);

	put_le32(e, head);
	put_le32(e + 4, len);
}

void virtq_flush(struct virtq *vq, unsigned int n)
{
	vq->used_idx += n;
	store16_release(vq->used + 2, vq->used_idx);
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	virtq_fill(vq, 0, head, len);
	virtq_flush(vq, 1);
}

bool virtq_want_kick(struct virtq *vq)
{
	uint16_t avail_idx;

	if (!vq->ready)
		return false;
	avail_idx = load16_acquire(vq->avail + 2);
	if (vq->event_idx)
		store16_release(vq->used + 4 + 8 * vq->size, avail_idx);
	/* The driver reads avail_event after publishing its index: look again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16_acquire(vq->avail + 2) == avail_idx;
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(load16_acquire(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	/* §2.7.10: interrupt when used_event lies in (old, now]. */
	event = load16_acquire(vq->avail + 4 + 2 * vq->size);
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}
