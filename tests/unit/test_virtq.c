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
#define INDIRECT 0x4000 /* room for VIRTQ_MAX_SEGS + 1 descriptors */
#define INDIRECT2 0x9000
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
		{ "a loop of empty descriptors", 13 },
		{ "a loop of empty descriptors inside an indirect table", 14 },
		{ "more buffers than VIRTQ_MAX_SEGS", 15 },
		{ "an indirect table longer than VIRTQ_MAX_SEGS", 16 },
		{ "an indirect table whose end is past RAM", 17 },
		{ "readable after writable inside an indirect table", 18 },
		{ "next past the end of an indirect table", 19 },
		{ "an empty indirect table", 20 },
		{ "a buffer one byte past the end of RAM", 21 },
		{ "an avail index that went backwards", 22 },
	};

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct ring r;
		uint16_t head = 0;
		bool offered = false;

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
		case 5: /* the inner table is well formed: only the nesting is wrong */
			set_desc(&r, INDIRECT2, 0, BUF, 16, 0, 0);
			set_desc(&r, INDIRECT, 0, INDIRECT2, 16, F_INDIRECT, 0);
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
		case 13: /* no buffer fills the iovec: only the length bound stops it */
			set_desc(&r, DESC, 0, BUF, 0, F_NEXT, 1);
			set_desc(&r, DESC, 1, BUF, 0, F_NEXT, 0);
			break;
		case 14:
			set_desc(&r, INDIRECT, 0, BUF, 0, F_NEXT, 1);
			set_desc(&r, INDIRECT, 1, BUF, 0, F_NEXT, 0);
			set_desc(&r, DESC, 0, INDIRECT, 32, F_INDIRECT, 0);
			break;
		case 15: /* one direct buffer, then a full indirect table */
			set_desc(&r, DESC, 0, BUF, 16, F_NEXT, 1);
			for (unsigned int i = 0; i < VIRTQ_MAX_SEGS; i++)
				set_desc(&r, INDIRECT, i, BUF, 16, i + 1 < VIRTQ_MAX_SEGS ? F_NEXT : 0, i + 1);
			set_desc(&r, DESC, 1, INDIRECT, 16 * VIRTQ_MAX_SEGS, F_INDIRECT, 0);
			break;
		case 16: /* its one buffer is fine: only the table's size is wrong */
			set_desc(&r, INDIRECT, 0, BUF, 16, 0, 0);
			set_desc(&r, DESC, 0, INDIRECT, 16 * (VIRTQ_MAX_SEGS + 1), F_INDIRECT, 0);
			break;
		case 17: /* entry 0 of the ring is a good buffer: never read instead */
			set_desc(&r, DESC, 0, BUF, 16, 0, 0);
			set_desc(&r, DESC, 1, 16 * MiB - 16, 32, F_INDIRECT, 0);
			head = 1;
			break;
		case 18:
			set_desc(&r, INDIRECT, 0, BUF, 16, F_NEXT | F_WRITE, 1);
			set_desc(&r, INDIRECT, 1, BUF, 16, 0, 0);
			set_desc(&r, DESC, 0, INDIRECT, 32, F_INDIRECT, 0);
			break;
		case 19: /* entry 2 lies in RAM, but outside the table's length */
			set_desc(&r, INDIRECT, 0, BUF, 16, F_NEXT, 2);
			set_desc(&r, INDIRECT, 2, BUF, 16, 0, 0);
			set_desc(&r, DESC, 0, INDIRECT, 32, F_INDIRECT, 0);
			break;
		case 20:
			set_desc(&r, DESC, 0, INDIRECT, 0, F_INDIRECT, 0);
			break;
		case 21:
			set_desc(&r, DESC, 0, 16 * MiB - 16, 17, 0, 0);
			break;
		case 22: /* two taken, then the driver's index goes back to one */
			set_desc(&r, DESC, 0, BUF, 16, 0, 0);
			offer(&r, 0);
			offer(&r, 0);
			CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
			CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
			put_le16((uint8_t *)mem_ptr(&r.mem, AVAIL + 2, 2), 1);
			offered = true;
			break;
		}
		if (!offered)
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
	r.vq.size = 0;
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.size = QSIZE;
	r.vq.avail_gpa = AVAIL + 1; /* 2-byte alignment */
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.avail_gpa = AVAIL;
	r.vq.used_gpa = USED + 2; /* 4-byte alignment */
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	/* Each ring ends at the end of RAM: fine; one step further: refused. */
	r.vq.used_gpa = 16 * MiB - 72; /* 6 + 8 * QSIZE bytes, rounded up to 4 */
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	r.vq.used_gpa = 16 * MiB - 68;
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.used_gpa = USED;
	r.vq.avail_gpa = 16 * MiB - (6 + 2 * QSIZE);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	r.vq.avail_gpa += 2;
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.avail_gpa = AVAIL;
	r.vq.desc_gpa = 16 * MiB - 16 * QSIZE;
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	r.vq.desc_gpa += 16;
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), -EINVAL);
	r.vq.desc_gpa = DESC;
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	ring_fini(&r);
}

/* The limits themselves are allowed: a chain as long as the ring, a full ring. */
static void virtq_accepts_a_chain_as_long_as_the_ring(int *failed)
{
	struct ring r;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(&r, DESC, i, BUF + 16 * i, 16, i + 1 < QSIZE ? F_NEXT : 0, i + 1);
	offer(&r, 0);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(r.chain->nout, QSIZE);
	CHECK_EQ(r.chain->out_len, 16 * QSIZE);
	ring_fini(&r);
}

static void virtq_accepts_an_indirect_table_of_max_segs(int *failed)
{
	struct ring r;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	for (unsigned int i = 0; i < VIRTQ_MAX_SEGS; i++)
		set_desc(&r, INDIRECT, i, BUF + i, 1, (i + 1 < VIRTQ_MAX_SEGS ? F_NEXT : 0) | F_WRITE, i + 1);
	set_desc(&r, DESC, 0, INDIRECT, 16 * VIRTQ_MAX_SEGS, F_INDIRECT, 0);
	offer(&r, 0);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(r.chain->nin, VIRTQ_MAX_SEGS);
	CHECK_EQ(r.chain->in_len, VIRTQ_MAX_SEGS);
	CHECK(r.chain->iov[VIRTQ_MAX_SEGS - 1].iov_base == mem_ptr(&r.mem, BUF + VIRTQ_MAX_SEGS - 1, 1));
	ring_fini(&r);
}

static void virtq_takes_a_full_ring_in_order(int *failed)
{
	struct ring r;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	for (unsigned int i = 0; i < QSIZE; i++) {
		set_desc(&r, DESC, i, BUF + 16 * i, 16, 0, 0);
		offer(&r, QSIZE - 1 - i);
	}
	for (unsigned int i = 0; i < QSIZE; i++) {
		CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
		CHECK_EQ(r.chain->head, QSIZE - 1 - i);
	}
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 0);
	ring_fini(&r);
}

/* Both indices wrap at 2^16; the ring positions wrap at its size. */
static void virtq_indices_wrap(int *failed)
{
	struct ring r;
	int bad = 0;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(&r, DESC, i, BUF, 16, 0, 0);
	for (unsigned int n = 0; n < 65536 + 2 * QSIZE; n++) {
		offer(&r, n % QSIZE);
		bad |= virtq_pop(&r.vq, r.chain) != 1 || r.chain->head != n % QSIZE;
		virtq_push(&r.vq, r.chain->head, n & 0xff);
	}
	CHECK(!bad);
	CHECK_EQ(get_le16((uint8_t *)mem_ptr(&r.mem, USED + 2, 2)), 2 * QSIZE);
	CHECK_EQ(r.vq.last_avail, 2 * QSIZE);
	ring_fini(&r);
}

/* A ring with n requests taken and returned; interrupts asked for or not. */
static void ring_push_n(struct ring *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		virtq_push(&r->vq, 0, 0);
}

static void set_used_event(struct ring *r, uint16_t v)
{
	put_le16((uint8_t *)mem_ptr(&r->mem, AVAIL + 4 + 2 * QSIZE, 2), v);
}

static void virtq_without_event_idx_follows_no_interrupt(int *failed)
{
	struct ring r;
	uint8_t *flags, *avail_event;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	flags = mem_ptr(&r.mem, AVAIL, 2);
	avail_event = mem_ptr(&r.mem, USED + 4 + 8 * QSIZE, 2);
	put_le16(avail_event, 0xabcd);
	set_used_event(&r, 0); /* meaningless without the feature */
	set_desc(&r, DESC, 0, BUF, 16, 0, 0);
	offer(&r, 0);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(get_le16(avail_event), 0xabcd); /* not written without the feature */
	virtq_push(&r.vq, 0, 0);
	CHECK(virtq_should_notify(&r.vq));
	put_le16(flags, 1); /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	virtq_push(&r.vq, 0, 0);
	CHECK(!virtq_should_notify(&r.vq));
	CHECK(!virtq_should_notify(&r.vq));
	put_le16(flags, 2); /* another bit: still wanted */
	virtq_push(&r.vq, 0, 0);
	CHECK(virtq_should_notify(&r.vq));
	ring_fini(&r);
}

/*
 * §2.7.10: with VIRTIO_F_EVENT_IDX the device interrupts when the used
 * index moves past used_event, that is when used_event lies in
 * [old, new) for the index old at the last interrupt and new now.
 */
static void virtq_event_idx_notifies_when_used_passes_used_event(int *failed)
{
	static const struct {
		uint16_t old;      /* used index at the last interrupt */
		uint16_t pushed;   /* entries returned since */
		uint16_t event;    /* the driver's used_event */
		bool notify;
	} cases[] = {
		{ 1, 1, 1, true },
		{ 1, 1, 0, false },      /* passed before the last interrupt */
		{ 1, 1, 2, false },      /* not reached yet */
		{ 1, 3, 1, true },
		{ 1, 3, 3, true },
		{ 1, 3, 4, false },
		{ 1, 3, 0, false },
		{ 1, 0, 1, false },      /* nothing new */
		{ 1, 0, 0, false },
		{ 0xfffe, 3, 0xfffe, true },  /* across the wrap: now 1 */
		{ 0xfffe, 3, 0xffff, true },
		{ 0xfffe, 3, 0, true },
		{ 0xfffe, 3, 1, false },
		{ 0xfffe, 3, 0xfffd, false },
		{ 0xfffe, 3, 0x7fff, false },
	};

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct ring r;

		ring_init(&r);
		CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
		r.vq.event_idx = true;
		ring_push_n(&r, cases[c].old);
		set_used_event(&r, cases[c].old + 0x8000); /* far away: the first is sent anyway */
		if (!virtq_should_notify(&r.vq)) {
			fprintf(stderr, "    case %zu: no first interrupt\n", c);
			*failed = 1;
		}
		ring_push_n(&r, cases[c].pushed);
		set_used_event(&r, cases[c].event);
		if (virtq_should_notify(&r.vq) != cases[c].notify) {
			fprintf(stderr, "    case %zu: old %u, %u pushed, used_event %u: expected %s\n", c,
				cases[c].old, cases[c].pushed, cases[c].event,
				cases[c].notify ? "an interrupt" : "none");
			*failed = 1;
		}
		/* and once sent, not again for the same entries */
		if (virtq_should_notify(&r.vq)) {
			fprintf(stderr, "    case %zu: a second interrupt for nothing new\n", c);
			*failed = 1;
		}
		ring_fini(&r);
	}
}

/* avail_event: the device asks for a kick at the request after the last it took. */
static void virtq_event_idx_publishes_avail_event(int *failed)
{
	struct ring r;
	uint8_t *avail_event;

	ring_init(&r);
	CHECK_EQ(virtq_enable(&r.vq, &r.mem), 0);
	r.vq.event_idx = true;
	avail_event = mem_ptr(&r.mem, USED + 4 + 8 * QSIZE, 2);
	set_desc(&r, DESC, 0, BUF, 16, 0, 0);
	set_desc(&r, DESC, 1, BUF, 32, 0, 0);
	for (int i = 0; i < 3; i++) {
		offer(&r, 0);
		CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
		CHECK_EQ(get_le16(avail_event), i + 1);
	}
	offer(&r, 1);
	offer(&r, 0);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(get_le16(avail_event), 5);
	virtq_unpop(&r.vq, 2); /* given back: asks again from the first of them */
	CHECK_EQ(get_le16(avail_event), 3);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(r.chain->head, 1);
	CHECK_EQ(r.chain->out_len, 32);

	/* Kicks only when drained: taking requests leaves it where it was. */
	r.vq.kick_when_drained = true;
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 1);
	CHECK_EQ(get_le16(avail_event), 4);
	CHECK_EQ(virtq_pop(&r.vq, r.chain), 0);
	CHECK(virtq_want_kick(&r.vq)); /* nothing came meanwhile: wait for the kick */
	CHECK_EQ(get_le16(avail_event), 5);
	ring_fini(&r);
}

const struct unit_test virtq_tests[] = {
	{ "virtq_accepts_a_well_formed_chain", virtq_accepts_a_well_formed_chain },
	{ "virtq_accepts_an_indirect_table", virtq_accepts_an_indirect_table },
	{ "virtq_refuses_hostile_chains", virtq_refuses_hostile_chains },
	{ "virtq_enable_refuses_bad_rings", virtq_enable_refuses_bad_rings },
	{ "virtq_accepts_a_chain_as_long_as_the_ring", virtq_accepts_a_chain_as_long_as_the_ring },
	{ "virtq_accepts_an_indirect_table_of_max_segs", virtq_accepts_an_indirect_table_of_max_segs },
	{ "virtq_takes_a_full_ring_in_order", virtq_takes_a_full_ring_in_order },
	{ "virtq_indices_wrap", virtq_indices_wrap },
	{ "virtq_without_event_idx_follows_no_interrupt", virtq_without_event_idx_follows_no_interrupt },
	{ "virtq_event_idx_notifies_when_used_passes_used_event",
	  virtq_event_idx_notifies_when_used_passes_used_event },
	{ "virtq_event_idx_publishes_avail_event", virtq_event_idx_publishes_avail_event },
	{ 0 },
};
