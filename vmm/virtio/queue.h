/*
 * Split virtqueues (virtio 1.2 §2.7) as the device side sees them: every
 * descriptor, index and address comes from the guest and is checked.
 */
#ifndef WEBKVM_VMM_VIRTIO_QUEUE_H
#define WEBKVM_VMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/iov.h"
#include "vmm/mem.h"

#define VIRTQ_MAX_SIZE 32768   /* §2.7: the largest split queue */
#define VIRTQ_MAX_SEGS 1024    /* buffers in one chain, indirect ones included */

struct virtq {
	uint16_t size;             /* as the driver set it */
	bool ready;                /* enabled and its rings checked */
	bool event_idx;            /* VIRTIO_F_EVENT_IDX negotiated */
	/*
	 * The device asks for kicks only once it has drained the queue
	 * (virtq_want_kick), not after each request it takes: a driver that
	 * queues while the device works does not kick for each request.
	 */
	bool kick_when_drained;
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, valid while ready. */
	uint8_t *desc, *avail, *used;
	uint16_t last_avail;       /* next avail entry to take */
	uint16_t used_idx;         /* next used entry to fill */
	uint16_t signalled_used;   /* used_idx at the last interrupt */
	bool signalled_valid;
	const struct guest_mem *mem;
};

/* One request: device-readable buffers first (nout), then writable (nin). */
struct virtq_chain {
	uint16_t head;
	unsigned int nout, nin;
	size_t out_len, in_len;    /* bytes in each part */
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/* Check the rings the driver set up lie in RAM and are aligned; -EINVAL if not. */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem);
void virtq_reset(struct virtq *vq, uint16_t max_size);
/*
 * Take the next request: 1 with *chain filled, 0 when there is none, and
 * -EINVAL when the driver broke the rules (the device must then ask for a
 * reset and touch the queue no more).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);
/* Return a request with len bytes written into its writable buffers. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/* Give back the last n requests taken, untouched: they are taken again later. */
void virtq_unpop(struct virtq *vq, unsigned int n);
/*
 * Return several requests that the driver must see together (the buffers
 * of one merged packet): fill entry k of the batch, then flush n at once.
 */
void virtq_fill(struct virtq *vq, unsigned int k, uint16_t head, uint32_t len);
void virtq_flush(struct virtq *vq, unsigned int n);
/*
 * The device ran out of requests and waits for more: ask the driver to
 * kick at its next one. true when none came meanwhile (wait for the
 * kick); false when one did (take it now).
 */
bool virtq_want_kick(struct virtq *vq);
/* Whether the driver wants an interrupt for what was pushed since the last one. */
bool virtq_should_notify(struct virtq *vq);

#endif
