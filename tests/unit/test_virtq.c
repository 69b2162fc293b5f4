/* The virtqueue walker against well-formed and hostile descriptor tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/unit/unit.h"
#include "vmm/virtio/queue.h"

#define QSIZE 8
#define RAM (1 * MiB)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define INDIRECT 0x4000
#define BUF 0x10000

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct ring {
	struct guest_mem mem;
	struct virtq vq;
	struct virtq_chain *chain;
	uint16_t avail_idx;
};

static void ring_init(struct ring *r)
{
	memset(r, 0, sizeof(*r));
	if (mem_init(&r->mem, 16 * MiB) < 0)
		abort();
	r->chain = calloc(1, sizeof(*r->chain));
	virtq_reset(&r->vq, QSIZE);
	r->vq.desc_gpa = DESC;
	r->vq.avail_gpa = AVAIL;
	r->vq.used_gpa = USED;
}

static void ring_fini(struct ring *r)
{
	free(r->chain);
	mem_destroy(&r->mem);
}

static void set_desc(struct ring *r, uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t *d = mem_ptr(&r->mem, table + 16 * i, 16);

	put_le64(d, addr);
	put_le32(d + 8, len);
	put_le16(d + 12, flags);
	put_le16(d + 14, next);
}

/* Offer head to the device. */
static void offer(struct ring *r, uint16_t head)
{
	uint8_t *a = mem_ptr(&r->mem, AVAIL, 4 + 2 * QSIZE);

	put_le16(a + 4 + 2 * (r->avail_idx % QSIZE), head);
	put_le16(a + 2, ++r->avail_idx);
}

static void virtq_accepts_a_well_formed_chain(int *failed)
{
	struct ring r;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 0); /* nothing offered */
	set_desc(&r, DESC, 0, BUF, 16, F_NEXT, 3);
	set_desc(&r, DESC, 3, BUF + 512, 4096, F_NEXT | F_WRITE, 5);
	set_desc(&r, DESC, 5, BUF + 8192, 1, F_WRITE, 0);
	offer(&r, 0);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(r.chain->head, 0);
	CHECK_EQ(r.chain->nout, 1);
	CHECK_EQ(r.chain->nin, 2);
	CHECK_EQ(r.chain->out_len, 16);
	CHECK_EQ(r.chain->in_len, 4097);
	CHECK(r.chain->iov[1].iov_base == mem_ptr(&r.mem, BUF + 512, 1));
	virtq_push(&r.vq, r.chain->head, 4097);
	CHECK_EQ(get_le16((uint8_t *)mem_ptr(&r.mem, USED + 2, 2)), 1);
	CHECK_EQ(get_le32((uint8_t *)mem_ptr(&r.mem, USED + 4, 4)), 0);
	CHECK_EQ(get_le32((uint8_t *)mem_ptr(&r.mem, USED + 8, 4)), 4097);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 0);
	ring_fini(&r);
}

static void virtq_accepts_an_indirect_table(int *failed)
{
	struct ring r;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	for (unsigned int i = 0; i < 20; i++) /* longer than the ring itself: allowed */
		set_desc(&r, INDIRECT, i, BUF + 512 * i, 512, (i < 19 ? F_NEXT : 0) | (i >= 10 ? F_WRITE : 0),
			 i + 1);
	set_desc(&r, DESC, 2, INDIRECT, 20 * 16, F_INDIRECT, 0);
	offer(&r, 2);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(r.chain->nout, 10);
	CHECK_EQ(r.chain->nin, 10);
	ring_fini(&r);
}

/* Each case breaks one rule; virtq_pop must refuse it, and touch nothing outside RAM. */
static void virtq_refuses_hostile_chains(int *failed)
{
	static const struct {
		const char *what;
		int setup;
	} cases[] = {
		{ "a loop of two", 0 },
		{ "next past the table", 1 },
		{ "a buffer past the end of RAM", 2 },
		{ "a buffer whose end wraps around", 3 },
		{ "readable after writable", 4 },
		{ "nested indirect", 5 },
		{ "indirect with next", 6 },
		{ "indirect length not a multiple of 16", 7 },
		{ "a loop inside an indirect table", 8 },
		{ "an indirect table outside RAM", 9 },
		{ "a head past the ring", 10 },
		{ "an avail index far ahead", 11 },
		{ "a self loop", 12 },
	};

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct ring r;
		uint16_t head = 0;

		ring_init(&r);
		CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
		switch (cases[c].setup) {
		case 0:
			set_desc(&r, DESC, 0, BUF, 16, F_NEXT, 1);
			set_desc(&r, DESC, 1, BUF, 16, F_NEXT, 0);
			break;
		case 1:
			set_desc(&r, DESC, 0, BUF, 16, F_NEXT, QSIZE);
			break;
		case 2:
			set_desc(&r, DESC, 0, 16 * MiB - 8, 16, 0, 0);
			break;
		case 3:
			set_desc(&r, DESC, 0, UINT64_MAX - 7, 16, 0, 0);
			break;
		case 4:
			set_desc(&r, DESC, 0, BUF, 16, F_NEXT | F_WRITE, 1);
			set_desc(&r, DESC, 1, BUF, 16, 0, 0);
			break;
		case 5:
			set_desc(&r, INDIRECT, 0, INDIRECT, 16, F_INDIRECT, 0);
			set_desc(&r, DESC, 0, INDIRECT, 16, F_INDIRECT, 0);
			break;
		case 6:
			set_desc(&r, INDIRECT, 0, BUF, 16, 0, 0);
			set_desc(&r, DESC, 0, INDIRECT, 16, F_INDIRECT | F_NEXT, 1);
			set_desc(&r, DESC, 1, BUF, 16, 0, 0);
			break;
		case 7:
			set_desc(&r, DESC, 0, INDIRECT, 20, F_INDIRECT, 0);
			break;
		case 8:
			set_desc(&r, INDIRECT, 0, BUF, 16, F_NEXT, 1);
			set_desc(&r, INDIRECT, 1, BUF, 16, F_NEXT, 0);
			set_desc(&r, DESC, 0, INDIRECT, 32, F_INDIRECT, 0);
			break;
		case 9:
			set_desc(&r, DESC, 0, 32 * MiB, 32, F_INDIRECT, 0);
			break;
		case 10:
			head = QSIZE;
			break;
		case 11:
			r.avail_idx = QSIZE + 1;
			break;
		case 12:
			set_desc(&r, DESC, 0, BUF, 16, F_NEXT, 0);
			break;
		}
		offer(&r, head);
		if (virtq_pop(&r.vq, r.chain) != -EINVAL) {
			fprintf(stderr, "    accepted: %s\n", cases[c].what);
			*failed = 1;
		}
		ring_fini(&r);
	}
}

static void virtq_enable_refuses_bad_rings(int *failed)
{
	struct ring r;

	ring_init(&r);
	r.vq.desc_gpa = DESC + 8; /* 16-byte alignment */
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.desc_gpa = DESC;
	r.vq.used_gpa = 16 * MiB - 8; /* past RAM */
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.used_gpa = USED;
	r.vq.size = 6; /* not a power of two */
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.size = QSIZE;
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	ring_fini(&r);
}

static void virtq_event_idx_suppresses_interrupts(int *failed)
{
	struct ring r;
	uint8_t *used_event;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	r.vq.event_idx = true;
	used_event = mem_ptr(&r.mem, AVAIL + 4 + 2 * QSIZE, 2);
	set_desc(&r, DESC, 0, BUF, 16, 0, 0);
	for (int i = 0; i < 3; i++) {
		offer(&r, 0);
		CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
		virtq_push(&r.vq, 0, 0);
	}
	/* The driver wants an interrupt once used passes 1 (after the second). */
	put_le16(used_event, 1);
	CHECK(virtq_should_notify(&r.vq));
	offer(&r, 0);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	virtq_push(&r.vq, 0, 0);
	CHECK(!virtq_should_notify(&r.vq)); /* used_event 1 already passed */
	/* The device published where it wants the next kick: avail_event. */
	CHECK_EQ(get_le16((uint8_t *)mem_ptr(&r.mem, USED + 4 + 8 * QSIZE, 2)), 4);
	ring_fini(&r);
}

const struct unit_test virtq_tests[] = {
	{ "virtq_accepts_a_well_formed_chain", virtq_accepts_a_well_formed_chain },
	{ "virtq_accepts_an_indirect_table", virtq_accepts_an_indirect_table },
	{ "virtq_refuses_hostile_chains", virtq_refuses_hostile_chains },
	{ "virtq_enable_refuses_bad_rings", virtq_enable_refuses_bad_rings },
	{ "virtq_event_idx_suppresses_interrupts", virtq_event_idx_suppresses_interrupts },
	{ 0 },
};
