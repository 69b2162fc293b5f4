/*
 * qcow2 images, versions 2 and 3, as QEMU's docs/interop/qcow2.txt
 * describes them.
 *
 * NOTES
 * - Everything in the header is checked at open against the file and
 *   against fixed limits (cluster_bits 9..21, an L1 table of at most
 *   32 MiB, a refcount table of at most 8 MiB, no overlap with the header
 *   or each other), so a hostile image is refused before anything is
 *   allocated from its numbers.
 * - Metadata is written through at once, in an order that keeps the image
 *   consistent if vmm dies between two writes: a cluster's refcount is
 *   raised before anything points to it, data lands before the L2 entry
 *   that maps it, and an old cluster's refcount drops only after nothing
 *   points to it any more. A crash can leak clusters (qemu-img check -r
 *   leaks reclaims them), never corrupt the image. The dirty bit and
 *   lazy refcounts are not used.
 * - Data clusters go through a raw backend on the same file (with its
 *   O_DIRECT handling for cache=none); metadata uses a second, buffered
 *   descriptor, because O_DIRECT cannot write 8 bytes.
 * - Reads of unallocated clusters go to the backing file (or read as
 *   zeroes past its end); writes to them copy the rest of the cluster up
 *   first. Compressed clusters (deflate) are read, and rewritten as normal
 *   clusters when the guest writes to them.
 * - Not supported, refused at open with a message: encryption, external
 *   data files, zstd compression, extended L2 entries, and writing to
 *   images with internal snapshots or a dirty or corrupt bit.
 */
#include "vmm/disk/disk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/error.h"
#include "common/iov.h"
#include "common/util.h"

#define QCOW2_MAGIC 0x514649fbu
#define MIN_CLUSTER_BITS 9
#define MAX_CLUSTER_BITS 21
#define MAX_L1_BYTES (32 * MiB)
#define MAX_REFTABLE_BYTES (8 * MiB)
#define MAX_BACKING_NAME 1023
#define V2_HEADER_LEN 72
#define V3_HEADER_LEN 104

#define INCOMPAT_DIRTY (1ULL << 0)
#define INCOMPAT_CORRUPT (1ULL << 1)
#define INCOMPAT_DATA_FILE (1ULL << 2)
#define INCOMPAT_COMPRESSION (1ULL << 3)
#define INCOMPAT_EXTL2 (1ULL << 4)

#define EXT_END 0
#define EXT_BACKING_FORMAT 0xe2792acau

#define L1E_OFFSET_MASK 0x00fffffffffffe00ULL
#define L1E_RESERVED 0x7f000000000001ffULL  /* bits 0-8 and 56-62 */
#define L2E_OFFSET_MASK 0x00fffffffffffe00ULL
#define L2E_RESERVED 0x3f000000000001feULL  /* bits 1-8 and 56-61 of a standard entry */
#define QCOW_OFLAG_COPIED (1ULL << 63)
#define QCOW_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW_OFLAG_ZERO 1ULL

#define L2_CACHE_SIZE 16
#define RB_CACHE_SIZE 8

struct table_cache {
	uint64_t offset[L2_CACHE_SIZE]; /* host offset of the cached table, 0 = empty */
	uint64_t used[L2_CACHE_SIZE];   /* LRU stamp */
	uint8_t *data[L2_CACHE_SIZE];
	unsigned int n;
	uint64_t clock;
};

struct qcow2 {
	struct disk disk;
	struct disk *file;        /* data clusters (raw backend on the image) */
	int fd;                   /* metadata, buffered */
	struct disk *backing;     /* or NULL */
	uint32_t version;
	unsigned int cluster_bits;
	uint64_t cluster_size;
	unsigned int l2_bits;     /* log2 of entries per L2 table */
	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t *l1;             /* host byte order */
	uint64_t reftable_offset;
	uint64_t reftable_entries;
	uint64_t *reftable;       /* host byte order */
	unsigned int refcount_bits;
	uint64_t refs_per_block;
	uint64_t file_end;        /* first byte after the last cluster in use or in the file */
	uint64_t free_hint;       /* no free cluster below this index */
	struct table_cache l2_cache, rb_cache;
	uint8_t *cow;             /* one cluster for copy-up */
	uint8_t *zbuf;            /* compressed input */
	uint8_t *zcluster;        /* last decompressed cluster */
	uint64_t zcluster_l2e;    /* the L2 entry it came from, 0 = none */
};

/* qcow2 is big-endian; buffers may be unaligned. */
static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			memset(buf, 0, len); /* past the end of the file: zeroes */
			return 0;
		}
		buf = (uint8_t *)buf + n;
		len -= n;
		off += n;
	}
	return 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (const uint8_t *)buf + n;
		len -= n;
		off += n;
	}
	return 0;
}

/* ---- table caches (L2 tables and refcount blocks) ---- */

static void cache_free(struct table_cache *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		free(c->data[i]);
	c->n = 0;
}

/* The cached copy of the table at offset, read in if need be. */
static int cache_get(struct qcow2 *q, struct table_cache *c, unsigned int max, uint64_t offset,
		     uint8_t **ret)
{
	unsigned int victim = 0;
	int r;

	for (unsigned int i = 0; i < c->n; i++) {
		if (c->offset[i] == offset) {
			c->used[i] = ++c->clock;
			*ret = c->data[i];
			return 0;
		}
		if (c->used[i] < c->used[victim])
			victim = i;
	}
	if (c->n < max) {
		victim = c->n;
		c->data[victim] = malloc(q->cluster_size);
		if (!c->data[victim])
			return -ENOMEM;
		c->n++;
	}
	r = pread_full(q->fd, c->data[victim], q->cluster_size, offset);
	if (r < 0) {
		c->offset[victim] = 0;
		return r;
	}
	c->offset[victim] = offset;
	c->used[victim] = ++c->clock;
	*ret = c->data[victim];
	return 0;
}

/* A table was just written as zeroes at offset: make the cache agree. */
static void cache_forget(struct table_cache *c, uint64_t offset)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->offset[i] == offset)
			c->offset[i] = 0;
}

/* ---- refcounts ---- */

static uint64_t rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t i)
{
	unsigned int bits = q->refcount_bits;

	if (bits < 8) {
		unsigned int per = 8 / bits;

		return (rb[i / per] >> ((i % per) * bits)) & ((1u << bits) - 1);
	}
	uint64_t v = 0;

	for (unsigned int k = 0; k < bits / 8; k++)
		v = (v << 8) | rb[i * (bits / 8) + k];
	return v;
}

/* Set entry i; the byte range that changed goes to ret_off/ret_len. */
static void rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t i, uint64_t v, size_t *ret_off,
		   size_t *ret_len)
{
	unsigned int bits = q->refcount_bits;

	if (bits < 8) {
		unsigned int per = 8 / bits, shift = (i % per) * bits;
		uint8_t mask = ((1u << bits) - 1) << shift;

		rb[i / per] = (rb[i / per] & ~mask) | ((v << shift) & mask);
		*ret_off = i / per;
		*ret_len = 1;
		return;
	}
	for (unsigned int k = bits / 8; k-- > 0; v >>= 8)
		rb[i * (bits / 8) + k] = v & 0xff;
	*ret_off = i * (bits / 8);
	*ret_len = bits / 8;
}

static uint64_t refcount_max(const struct qcow2 *q)
{
	return q->refcount_bits == 64 ? UINT64_MAX : (1ULL << q->refcount_bits) - 1;
}

static int get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *ret)
{
	uint64_t ti = cluster / q->refs_per_block, rb_off;
	uint8_t *rb;
	int r;

	if (ti >= q->reftable_entries || !(rb_off = q->reftable[ti] & L1E_OFFSET_MASK)) {
		*ret = 0;
		return 0;
	}
	r = cache_get(q, &q->rb_cache, RB_CACHE_SIZE, rb_off, &rb);
	if (r < 0)
		return r;
	*ret = rb_get(q, rb, cluster % q->refs_per_block);
	return 0;
}

static int set_refcount(struct qcow2 *q, uint64_t cluster, uint64_t value);

/* Host clusters are appended at the end of the file. */
static uint64_t append_cluster(struct qcow2 *q)
{
	uint64_t c = q->file_end >> q->cluster_bits;

	q->file_end += q->cluster_size;
	return c;
}

/*
 * Grow the refcount table so that it covers cluster `need`: a new, larger
 * table and the refcount blocks for everything past the old table's reach
 * go at the end of the file, fully written before the header points to
 * them; the old table is freed last.
 */
static int grow_reftable(struct qcow2 *q, uint64_t need)
{
	uint64_t old_entries = q->reftable_entries, old_off = q->reftable_offset;
	uint64_t old_clusters = DIV_ROUND_UP(old_entries * 8, q->cluster_size);
	uint64_t covered = old_entries * q->refs_per_block; /* clusters the old table reaches */
	uint64_t entries = old_entries, start, n_tab, n_rb, first, *table;
	uint8_t *buf, hdr[12];
	int r;

	start = MAX(q->file_end, covered << q->cluster_bits) >> q->cluster_bits;
	do
		entries *= 2;
	while (entries * q->refs_per_block <= need + 2 * (entries / 8));
	if (entries * 8 > MAX_REFTABLE_BYTES)
		return -EFBIG;
	n_tab = DIV_ROUND_UP(entries * 8, q->cluster_size);
	/* Blocks for [covered, start + n_rb + n_tab): find n_rb by iterating. */
	n_rb = 1;
	while (DIV_ROUND_UP(start + n_rb + n_tab - covered, q->refs_per_block) > n_rb)
		n_rb++;
	first = covered / q->refs_per_block; /* table index of the first new block */
	if (first + n_rb > entries)
		return -EFBIG;

	buf = calloc(1, q->cluster_size);
	table = calloc(entries, sizeof(*table));
	if (!buf || !table) {
		free(buf);
		free(table);
		return -ENOMEM;
	}
	memcpy(table, q->reftable, old_entries * sizeof(*table));
	for (uint64_t b = 0; b < n_rb; b++) {
		uint64_t lo = (first + b) * q->refs_per_block, off = (start + b) << q->cluster_bits;

		memset(buf, 0, q->cluster_size);
		for (uint64_t c = start; c < start + n_rb + n_tab; c++) {
			size_t o, l;

			if (c >= lo && c < lo + q->refs_per_block)
				rb_set(q, buf, c - lo, 1, &o, &l);
		}
		if ((r = pwrite_full(q->fd, buf, q->cluster_size, off)) < 0)
			goto out;
		cache_forget(&q->rb_cache, off);
		table[first + b] = off;
	}
	for (uint64_t i = 0; i < entries; i++)
		table[i] = htobe64(table[i]);
	r = pwrite_full(q->fd, table, entries * 8, (start + n_rb) << q->cluster_bits);
	for (uint64_t i = 0; i < entries; i++)
		table[i] = be64toh(table[i]);
	if (r < 0 || (r = -(fdatasync(q->fd) < 0 ? errno : 0)) < 0)
		goto out;
	put_be64(hdr, (start + n_rb) << q->cluster_bits);
	put_be32(hdr + 8, n_tab);
	if ((r = pwrite_full(q->fd, hdr, sizeof(hdr), 48)) < 0)
		goto out;
	free(q->reftable);
	q->reftable = table;
	table = NULL;
	q->reftable_entries = entries;
	q->reftable_offset = (start + n_rb) << q->cluster_bits;
	q->file_end = (start + n_rb + n_tab) << q->cluster_bits;
	for (uint64_t c = 0; c < old_clusters; c++)
		if ((r = set_refcount(q, (old_off >> q->cluster_bits) + c, 0)) < 0)
			break;
out:
	free(buf);
	free(table);
	return r;
}

/* A new, empty refcount block for reftable index ti. */
static int alloc_refblock(struct qcow2 *q, uint64_t ti)
{
	uint64_t c = append_cluster(q), off = c << q->cluster_bits;
	uint8_t *buf, raw[8];
	int r;

	buf = calloc(1, q->cluster_size);
	if (!buf)
		return -ENOMEM;
	if (c / q->refs_per_block == ti) {
		/* The block lies in its own range: it counts itself. */
		size_t o, l;

		rb_set(q, buf, c % q->refs_per_block, 1, &o, &l);
		r = pwrite_full(q->fd, buf, q->cluster_size, off);
	} else {
		r = pwrite_full(q->fd, buf, q->cluster_size, off);
		if (r == 0)
			r = set_refcount(q, c, 1);
	}
	free(buf);
	if (r < 0)
		return r;
	cache_forget(&q->rb_cache, off);
	put_be64(raw, off);
	r = pwrite_full(q->fd, raw, 8, q->reftable_offset + ti * 8);
	if (r == 0)
		q->reftable[ti] = off;
	return r;
}

/*
 * Set the refcount of n clusters from `cluster` on: each refcount block
 * they fall in is written once, with the bytes that changed.
 */
static int set_refcount_range(struct qcow2 *q, uint64_t cluster, uint64_t n, uint64_t value)
{
	if (value > refcount_max(q))
		return -EOVERFLOW;
	while (n > 0) {
		uint64_t ti = cluster / q->refs_per_block, first = cluster % q->refs_per_block;
		uint64_t count = MIN(n, q->refs_per_block - first);
		size_t lo = SIZE_MAX, hi = 0, o, l;
		uint8_t *rb;
		int r;

		if (ti >= q->reftable_entries && (r = grow_reftable(q, cluster)) < 0)
			return r;
		if (!(q->reftable[ti] & L1E_OFFSET_MASK)) {
			if (value == 0)
				goto next;
			if ((r = alloc_refblock(q, ti)) < 0)
				return r;
		}
		r = cache_get(q, &q->rb_cache, RB_CACHE_SIZE, q->reftable[ti] & L1E_OFFSET_MASK, &rb);
		if (r < 0)
			return r;
		for (uint64_t i = first; i < first + count; i++) {
			rb_set(q, rb, i, value, &o, &l);
			lo = MIN(lo, o);
			hi = MAX(hi, o + l);
		}
		r = pwrite_full(q->fd, rb + lo, hi - lo, (q->reftable[ti] & L1E_OFFSET_MASK) + lo);
		if (r < 0)
			return r;
		if (value == 0 && cluster < q->free_hint)
			q->free_hint = cluster;
next:
		cluster += count;
		n -= count;
	}
	return 0;
}

static int set_refcount(struct qcow2 *q, uint64_t cluster, uint64_t value)
{
	return set_refcount_range(q, cluster, 1, value);
}

/*
 * Up to `want` free host clusters in a row, with their refcounts already
 * 1: the first free run at or after the hint (clusters past the end of the
 * file are free), its start in *ret_off and its length in *ret_n.
 */
static int alloc_run(struct qcow2 *q, uint64_t want, uint64_t *ret_off, uint64_t *ret_n)
{
	uint64_t end = q->file_end >> q->cluster_bits, c, n, rc = 1;
	int r;

	for (c = q->free_hint; c < end; c++) {
		if ((r = get_refcount(q, c, &rc)) < 0)
			return r;
		if (rc == 0)
			break;
	}
	for (n = 1; n < want && c + n < end; n++) {
		if ((r = get_refcount(q, c + n, &rc)) < 0)
			return r;
		if (rc != 0)
			break;
	}
	if (c + n >= end) {
		/* The run reaches the end of the file: take it whole from there. */
		n = want;
		q->file_end = (c + n) << q->cluster_bits;
	}
	q->free_hint = c + n;
	/* A refcount block or table appended now goes after the run. */
	if ((r = set_refcount_range(q, c, n, 1)) < 0)
		return r;
	*ret_off = c << q->cluster_bits;
	*ret_n = n;
	return 0;
}

/* A free host cluster, with its refcount already 1. */
static int alloc_cluster(struct qcow2 *q, uint64_t *ret_off)
{
	uint64_t n;

	return alloc_run(q, 1, ret_off, &n);
}

static int unref_range(struct qcow2 *q, uint64_t off, uint64_t len)
{
	for (uint64_t c = off >> q->cluster_bits; c <= (off + len - 1) >> q->cluster_bits; c++) {
		uint64_t rc;
		int r = get_refcount(q, c, &rc);

		if (r < 0)
			return r;
		if (rc && (r = set_refcount(q, c, rc - 1)) < 0)
			return r;
	}
	return 0;
}

/* ---- cluster mapping ---- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Whether [off, off+len) of the file may hold an L2 table or guest data:
 * past the header cluster, inside the file (or what it has grown to), and
 * clear of the L1 and refcount tables. An entry that points elsewhere is
 * corrupt: following it could write guest data over the image's own
 * metadata, or let a discard free it.
 */
static bool host_range_ok(const struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t l1_len = ALIGN_UP((uint64_t)q->l1_size * 8, q->cluster_size);
	uint64_t rt_len = ALIGN_UP(q->reftable_entries * 8, q->cluster_size);

	return off >= q->cluster_size && len <= q->file_end && off <= q->file_end - len &&
	       !overlaps(off, len, q->l1_offset, l1_len) &&
	       !overlaps(off, len, q->reftable_offset, rt_len);
}

/* Compressed descriptor (spec: "Compressed Clusters Descriptor"). */
static void compressed_range(const struct qcow2 *q, uint64_t l2e, uint64_t *ret_off,
			     uint64_t *ret_len)
{
	unsigned int x = 62 - (q->cluster_bits - 8);
	uint64_t off = l2e & ((1ULL << x) - 1);
	uint64_t sectors = ((l2e & ~QCOW_OFLAG_COMPRESSED) >> x) + 1;

	/* At most 2^(cluster_bits - 8) sectors: two clusters, the size of zbuf. */
	*ret_off = off;
	*ret_len = sectors * 512 - (off & 511);
}

/* 0 if an L2 entry may be followed, -EIO if it is corrupt. */
static int check_l2e(const struct qcow2 *q, uint64_t l2e)
{
	uint64_t off, len;

	if (l2e & QCOW_OFLAG_COMPRESSED) {
		compressed_range(q, l2e, &off, &len);
		return host_range_ok(q, off, len) ? 0 : -EIO;
	}
	if (l2e & L2E_RESERVED)
		return -EIO;
	off = l2e & L2E_OFFSET_MASK;
	if (off && ((off & (q->cluster_size - 1)) || !host_range_ok(q, off, q->cluster_size)))
		return -EIO;
	return 0;
}

/* The L2 entry for guest offset; with alloc, an L2 table is made if missing. */
static int l2_lookup(struct qcow2 *q, uint64_t guest, bool alloc, uint8_t **ret_table,
		     unsigned int *ret_index)
{
	uint64_t l1i = guest >> (q->cluster_bits + q->l2_bits), l2_off;
	int r;

	if (l1i >= q->l1_size || (q->l1[l1i] & L1E_RESERVED))
		return -EIO;
	l2_off = q->l1[l1i] & L1E_OFFSET_MASK;
	*ret_index = (guest >> q->cluster_bits) & ((1u << q->l2_bits) - 1);
	if (!l2_off) {
		uint8_t raw[8];

		if (!alloc) {
			*ret_table = NULL;
			return 0;
		}
		if ((r = alloc_cluster(q, &l2_off)) < 0)
			return r;
		memset(q->cow, 0, q->cluster_size);
		if ((r = pwrite_full(q->fd, q->cow, q->cluster_size, l2_off)) < 0)
			return r;
		cache_forget(&q->l2_cache, l2_off);
		put_be64(raw, l2_off | QCOW_OFLAG_COPIED);
		if ((r = pwrite_full(q->fd, raw, 8, q->l1_offset + l1i * 8)) < 0)
			return r;
		q->l1[l1i] = l2_off | QCOW_OFLAG_COPIED;
	} else if (alloc && !(q->l1[l1i] & QCOW_OFLAG_COPIED)) {
		return -EIO; /* shared L2 tables come with snapshots, refused at open */
	}
	if ((l2_off & (q->cluster_size - 1)) || !host_range_ok(q, l2_off, q->cluster_size))
		return -EIO;
	return cache_get(q, &q->l2_cache, L2_CACHE_SIZE, l2_off, ret_table);
}

static uint64_t l2_get(const uint8_t *table, unsigned int i)
{
	return be64_at(table + 8 * i);
}

static int l2_set(struct qcow2 *q, uint8_t *table, unsigned int i, uint64_t guest, uint64_t v)
{
	uint64_t l2_off = q->l1[guest >> (q->cluster_bits + q->l2_bits)] & L1E_OFFSET_MASK;

	put_be64(table + 8 * i, v);
	return pwrite_full(q->fd, table + 8 * i, 8, l2_off + 8 * i);
}

/* Read [in, in+len) of one guest cluster whose L2 entry is l2e into iov. */
static int read_cluster_part(struct qcow2 *q, uint64_t guest, uint64_t l2e, const struct iovec *iov,
			     int iovcnt)
{
	uint64_t in = guest & (q->cluster_size - 1);
	size_t len = iov_length(iov, iovcnt);
	int r;

	if ((r = check_l2e(q, l2e)) < 0)
		return r;
	if (l2e & QCOW_OFLAG_COMPRESSED) {
		uint64_t off, clen;
		z_stream z = { 0 };

		if (q->zcluster_l2e != l2e) {
			compressed_range(q, l2e, &off, &clen);
			if ((r = pread_full(q->fd, q->zbuf, clen, off)) < 0)
				return r;
			if (inflateInit2(&z, -12) != Z_OK)
				return -ENOMEM;
			z.next_in = q->zbuf;
			z.avail_in = clen;
			z.next_out = q->zcluster;
			z.avail_out = q->cluster_size;
			r = inflate(&z, Z_FINISH);
			inflateEnd(&z);
			/* The data may end before the last sector does: a full cluster is what counts. */
			if ((r != Z_STREAM_END && r != Z_BUF_ERROR) || z.avail_out != 0) {
				q->zcluster_l2e = 0;
				return -EIO;
			}
			q->zcluster_l2e = l2e;
		}
		buf_to_iov(iov, iovcnt, 0, q->zcluster + in, len);
		return 0;
	}
	if (q->version >= 3 && (l2e & QCOW_OFLAG_ZERO)) {
		for (int i = 0; i < iovcnt; i++)
			memset(iov[i].iov_base, 0, iov[i].iov_len);
		return 0;
	}
	if (l2e & L2E_OFFSET_MASK)
		return q->file->ops->preadv(q->file, iov, iovcnt, (l2e & L2E_OFFSET_MASK) + in);
	/* Unallocated: the backing file, or zeroes. */
	if (q->backing && guest < q->backing->size) {
		size_t from_backing = MIN((uint64_t)len, q->backing->size - guest);
		struct iovec part[64];
		int n = iov_slice(iov, iovcnt, 0, from_backing, part, ARRAY_SIZE(part));

		if (n < 0)
			return -EIO;
		if ((r = q->backing->ops->preadv(q->backing, part, n, guest)) < 0)
			return r;
		if (from_backing < len) {
			uint8_t zero[512] = { 0 };

			for (size_t done = from_backing; done < len; done += sizeof(zero))
				buf_to_iov(iov, iovcnt, done, zero, MIN(sizeof(zero), len - done));
		}
		return 0;
	}
	for (int i = 0; i < iovcnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
	return 0;
}

#define QCOW2_MAX_IOV 1024

/*
 * How much of the next `left` bytes one host I/O can serve, starting with
 * the `len` bytes in the cluster of L2 entry `idx`, which lies at `host`:
 * the run grows while the following entries of the same table map the
 * following host clusters, uncompressed, not zero, sound (check_l2e), and
 * with every flag of `need` set (QCOW_OFLAG_COPIED for a write in place).
 */
static size_t host_run(const struct qcow2 *q, const uint8_t *table, unsigned int idx,
		       uint64_t host, size_t len, size_t left, uint64_t need)
{
	const uint64_t mask = L2E_OFFSET_MASK | QCOW_OFLAG_COMPRESSED | QCOW_OFLAG_ZERO | need;
	uint64_t next = host + q->cluster_size;

	while (len < left && idx + 1 < (1u << q->l2_bits) &&
	       (l2_get(table, idx + 1) & mask) == (next | need) &&
	       check_l2e(q, l2_get(table, idx + 1)) == 0) {
		idx++;
		next += q->cluster_size;
		len += MIN(left - len, q->cluster_size);
	}
	return len;
}

static int qcow2_preadv(struct disk *disk, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	struct qcow2 *q = (struct qcow2 *)disk;
	size_t total = iov_length(iov, iovcnt), done = 0;
	struct iovec part[QCOW2_MAX_IOV];

	while (done < total) {
		uint64_t guest = offset + done, l2e = 0;
		size_t len = MIN(total - done, q->cluster_size - (guest & (q->cluster_size - 1)));
		unsigned int idx;
		uint8_t *table;
		int n, r;

		if ((r = l2_lookup(q, guest, false, &table, &idx)) < 0)
			return r;
		if (table)
			l2e = l2_get(table, idx);
		if (table && !(l2e & (QCOW_OFLAG_COMPRESSED | QCOW_OFLAG_ZERO)) &&
		    (l2e & L2E_OFFSET_MASK))
			len = host_run(q, table, idx, l2e & L2E_OFFSET_MASK, len, total - done, 0);
		n = iov_slice(iov, iovcnt, done, len, part, ARRAY_SIZE(part));
		if (n < 0)
			return -EIO;
		if ((r = read_cluster_part(q, guest, l2e, part, n)) < 0)
			return r;
		done += len;
	}
	return 0;
}

/* Whether an L2 entry maps a cluster the image owns alone, to write in place. */
static bool writable_in_place(uint64_t l2e)
{
	return (l2e & QCOW_OFLAG_COPIED) && !(l2e & (QCOW_OFLAG_COMPRESSED | QCOW_OFLAG_ZERO));
}

/* What an L2 entry pointed to before it was replaced: its refcount drops. */
static int release_entry(struct qcow2 *q, uint64_t l2e)
{
	if (l2e & QCOW_OFLAG_COMPRESSED) {
		uint64_t off, clen;

		compressed_range(q, l2e, &off, &clen);
		q->zcluster_l2e = 0;
		return unref_range(q, off, clen);
	}
	if (l2e & L2E_OFFSET_MASK)
		return unref_range(q, l2e & L2E_OFFSET_MASK, q->cluster_size);
	return 0;
}

/* Write [guest, guest+len) inside one cluster from iov, copying up the rest. */
static int write_cluster_part(struct qcow2 *q, uint64_t guest, const struct iovec *iov, int iovcnt)
{
	uint64_t in = guest & (q->cluster_size - 1), cstart = guest - in, l2e, new_off;
	size_t len = iov_length(iov, iovcnt);
	struct iovec whole = { q->cow, q->cluster_size };
	unsigned int idx;
	uint8_t *table;
	int r;

	if ((r = l2_lookup(q, guest, true, &table, &idx)) < 0)
		return r;
	l2e = l2_get(table, idx);
	if ((r = read_cluster_part(q, cstart, l2e, &whole, 1)) < 0)
		return r;
	iov_to_buf(iov, iovcnt, 0, q->cow + in, len);
	if ((r = alloc_cluster(q, &new_off)) < 0)
		return r;
	if ((r = q->file->ops->pwritev(q->file, &whole, 1, new_off)) < 0)
		return r;
	/* The table may have left the cache while clusters were allocated. */
	if ((r = l2_lookup(q, guest, true, &table, &idx)) < 0)
		return r;
	if ((r = l2_set(q, table, idx, guest, new_off | QCOW_OFLAG_COPIED)) < 0)
		return r;
	/* Only now may what the entry pointed to go. */
	return release_entry(q, l2e);
}

/*
 * Whole clusters from guest on (n of them, in one L2 table, none writable
 * in place) into a new run of host clusters: the run's refcounts first,
 * then the data straight from iov in one write, then the L2 entries in one
 * write, then the old clusters are released. How many bytes were written
 * goes to *ret_len: the run may be shorter than n.
 */
static int write_new_clusters(struct qcow2 *q, uint64_t guest, uint64_t n, const struct iovec *iov,
			      int iovcnt, size_t *ret_len)
{
	uint64_t off, got, old[64], l2_off;
	struct iovec part[QCOW2_MAX_IOV];
	unsigned int idx;
	uint8_t *table;
	int k, r;

	n = MIN(n, ARRAY_SIZE(old));
	if ((r = alloc_run(q, n, &off, &got)) < 0)
		return r;
	k = iov_slice(iov, iovcnt, 0, got << q->cluster_bits, part, ARRAY_SIZE(part));
	if (k < 0)
		return -EIO;
	if ((r = q->file->ops->pwritev(q->file, part, k, off)) < 0)
		return r;
	if ((r = l2_lookup(q, guest, true, &table, &idx)) < 0)
		return r;
	for (uint64_t i = 0; i < got; i++) {
		old[i] = l2_get(table, idx + i);
		put_be64(table + 8 * (idx + i), (off + (i << q->cluster_bits)) | QCOW_OFLAG_COPIED);
	}
	l2_off = q->l1[guest >> (q->cluster_bits + q->l2_bits)] & L1E_OFFSET_MASK;
	if ((r = pwrite_full(q->fd, table + 8 * idx, 8 * got, l2_off + 8 * idx)) < 0)
		return r;
	for (uint64_t i = 0; i < got; i++)
		if ((r = release_entry(q, old[i])) < 0)
			return r;
	*ret_len = got << q->cluster_bits;
	return 0;
}

/*
 * Runs of clusters go to the file in one write each: clusters written in
 * place while they stay contiguous on the host, whole new clusters as one
 * allocated run; a part of a cluster that needs a copy goes on its own.
 */
static int qcow2_pwritev(struct disk *disk, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	struct qcow2 *q = (struct qcow2 *)disk;
	size_t total = iov_length(iov, iovcnt), done = 0;
	struct iovec part[QCOW2_MAX_IOV];
	uint64_t per_table = 1ULL << q->l2_bits;

	if (disk->readonly)
		return -EROFS;
	while (done < total) {
		uint64_t guest = offset + done, in = guest & (q->cluster_size - 1), l2e;
		size_t len = MIN(total - done, q->cluster_size - in);
		unsigned int idx;
		uint8_t *table;
		int n, r;

		if ((r = l2_lookup(q, guest, true, &table, &idx)) < 0)
			return r;
		l2e = l2_get(table, idx);
		if ((r = check_l2e(q, l2e)) < 0)
			return r;
		if (writable_in_place(l2e)) {
			uint64_t host = l2e & L2E_OFFSET_MASK;

			len = host_run(q, table, idx, host, len, total - done, QCOW_OFLAG_COPIED);
			n = iov_slice(iov, iovcnt, done, len, part, ARRAY_SIZE(part));
			if (n < 0)
				return -EIO;
			r = q->file->ops->pwritev(q->file, part, n, host + in);
		} else if (in == 0 && total - done >= q->cluster_size) {
			uint64_t whole = 1;

			while (whole < (total - done) >> q->cluster_bits && idx + whole < per_table &&
			       !writable_in_place(l2_get(table, idx + whole)) &&
			       check_l2e(q, l2_get(table, idx + whole)) == 0)
				whole++;
			n = iov_slice(iov, iovcnt, done, whole << q->cluster_bits, part, ARRAY_SIZE(part));
			if (n < 0)
				return -EIO;
			r = write_new_clusters(q, guest, whole, part, n, &len);
		} else {
			n = iov_slice(iov, iovcnt, done, len, part, ARRAY_SIZE(part));
			if (n < 0)
				return -EIO;
			r = write_cluster_part(q, guest, part, n);
		}
		if (r < 0)
			return r;
		done += len;
	}
	return 0;
}

static int qcow2_flush(struct disk *disk)
{
	struct qcow2 *q = (struct qcow2 *)disk;

	return fdatasync(q->fd) < 0 ? -errno : 0;
}

/*
 * Drop whole clusters: they read as zeroes (v3 zero flag, or no entry when
 * there is no backing file to show through), and their space is freed.
 * v2 with a backing file cannot say "zero": nothing is dropped there.
 */
static bool can_drop(const struct qcow2 *q)
{
	return q->version >= 3 || !q->backing;
}

static int drop_clusters(struct qcow2 *q, uint64_t offset, uint64_t len)
{
	uint64_t end = offset + len, v = q->backing ? QCOW_OFLAG_ZERO : 0;

	if (!can_drop(q))
		return 0;
	for (uint64_t c = ALIGN_UP(offset, q->cluster_size); c + q->cluster_size <= end;
	     c += q->cluster_size) {
		uint64_t l2e;
		unsigned int idx;
		uint8_t *table;
		int r;

		if ((r = l2_lookup(q, c, false, &table, &idx)) < 0)
			return r;
		if (!table && v == 0)
			continue; /* no L2 table: already reads as zeroes */
		/* Again for writing: a shared table is refused, a missing one made. */
		if ((r = l2_lookup(q, c, true, &table, &idx)) < 0)
			return r;
		l2e = l2_get(table, idx);
		if (l2e == v)
			continue;
		if ((r = check_l2e(q, l2e)) < 0)
			return r;
		if ((r = l2_set(q, table, idx, c, v)) < 0 || (r = release_entry(q, l2e)) < 0)
			return r;
	}
	return 0;
}

static int qcow2_discard(struct disk *disk, uint64_t offset, uint64_t len)
{
	if (disk->readonly)
		return -EROFS;
	return drop_clusters((struct qcow2 *)disk, offset, len);
}

static int qcow2_write_zeroes(struct disk *disk, uint64_t offset, uint64_t len, bool unmap)
{
	static const uint8_t zero[4096];
	struct qcow2 *q = (struct qcow2 *)disk;
	uint64_t end = offset + len, pos = offset;
	int r;

	if (disk->readonly)
		return -EROFS;
	/* Whole clusters are dropped whether or not unmap is allowed: it reads the same. */
	if ((r = drop_clusters(q, offset, len)) < 0)
		return r;
	while (pos < end) {
		uint64_t cstart = pos & ~(q->cluster_size - 1);
		uint64_t n = MIN(end, cstart + q->cluster_size) - pos;

		if (!(pos == cstart && n == q->cluster_size && can_drop(q))) {
			for (uint64_t k = 0; k < n; k += sizeof(zero)) {
				struct iovec v = { (void *)zero, MIN(sizeof(zero), n - k) };

				if ((r = write_cluster_part(q, pos + k, &v, 1)) < 0)
					return r;
			}
		}
		pos += n;
	}
	(void)unmap;
	return 0;
}

static void qcow2_free(struct qcow2 *q)
{
	disk_close(q->file);
	if (q->fd >= 0)
		close(q->fd);
	disk_close(q->backing);
	cache_free(&q->l2_cache);
	cache_free(&q->rb_cache);
	free(q->l1);
	free(q->reftable);
	free(q->cow);
	free(q->zbuf);
	free(q->zcluster);
	free(q);
}

static void qcow2_close(struct disk *disk)
{
	qcow2_free((struct qcow2 *)disk);
}

static const struct disk_ops qcow2_ops = {
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.close = qcow2_close,
};

/* ---- open ---- */


/* [off, off+len) lies in the file, cluster-aligned, clear of the header cluster. */
static bool region_ok(const struct qcow2 *q, uint64_t off, uint64_t len, uint64_t file_size)
{
	return off >= q->cluster_size && !(off & (q->cluster_size - 1)) && len <= file_size &&
	       off <= file_size - len;
}

/* Header extensions: the backing file's format. */
static int read_extensions(const uint8_t *h, size_t hlen, size_t start, size_t end,
			   enum disk_format *ret_format, const char *path, char *err, size_t errlen)
{
	size_t off = start;

	while (off + 8 <= end && off + 8 <= hlen) {
		uint32_t type = be32_at(h + off), len = be32_at(h + off + 4);

		if (type == EXT_END)
			return 0;
		if (len > end - off - 8)
			return error_set(err, errlen, -EINVAL,
				    "qcow2 image %s is corrupt: a header extension runs past its end", path);
		if (type == EXT_BACKING_FORMAT) {
			if (len == 3 && !memcmp(h + off + 8, "raw", 3))
				*ret_format = DISK_FORMAT_RAW;
			else if (len == 5 && !memcmp(h + off + 8, "qcow2", 5))
				*ret_format = DISK_FORMAT_QCOW2;
			else
				return error_set(err, errlen, -ENOTSUP,
					    "qcow2 image %s has a backing file of format '%.*s'; webkvm reads "
					    "raw and qcow2", path, (int)MIN(len, 16u), h + off + 8);
		}
		off += 8 + ALIGN_UP((size_t)len, 8);
	}
	return 0;
}

static int open_backing(struct qcow2 *q, const uint8_t *h, uint64_t boff, uint32_t blen,
			enum disk_format bformat, const char *path, const struct disk_chain *chain,
			char *err, size_t errlen)
{
	char name[MAX_BACKING_NAME + 1], full[PATH_MAX], dir[PATH_MAX];
	int r;

	memcpy(name, h + boff, blen);
	name[blen] = '\0';
	if (strlen(name) != blen || !blen)
		return error_set(err, errlen, -EINVAL,
			    "qcow2 image %s is corrupt: its backing file name is not a path", path);
	if (strncmp(name, "json:", 5) == 0 || strstr(name, "://"))
		return error_set(err, errlen, -ENOTSUP,
			    "qcow2 image %s names a backing file by protocol (%s); webkvm opens files",
			    path, name);
	if (name[0] == '/') {
		snprintf(full, sizeof(full), "%s", name);
	} else {
		/* Relative names are relative to the image's own folder. */
		snprintf(dir, sizeof(dir), "%s", path);
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", dirname(dir), name) >= sizeof(full))
			return error_set(err, errlen, -ENAMETOOLONG,
				    "backing file path of %s is too long", path);
	}
	r = disk_open_backing(full, bformat, chain, &q->backing, err, errlen);
	return r;
}

int qcow2_open(int fd, const char *path, bool readonly, bool direct,
	       const struct disk_chain *chain, struct disk **ret_disk, char *err, size_t errlen)
{
	uint64_t size, l1_bytes, l2_reach, file_size, incompat, autoclear, boff, reftable_bytes;
	uint32_t hlen, blen, nsnap, refcount_order;
	enum disk_format bformat = DISK_FORMAT_PROBE;
	uint8_t h[4096];
	struct qcow2 *q;
	struct stat st;
	int r, data_fd;

	q = calloc(1, sizeof(*q));
	if (!q) {
		close(fd);
		return error_set(err, errlen, -ENOMEM, "out of memory opening %s", path);
	}
	q->fd = fd;
	if (fstat(fd, &st) < 0) {
		r = error_set(err, errlen, -errno, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	file_size = st.st_size;
	/* The header is read through a plain descriptor: O_DIRECT wants aligned buffers. */
	if (direct) {
		int plain = disk_open_file(path, readonly, false);

		if (plain < 0) {
			r = error_set(err, errlen, plain, "cannot open %s: %s", path, strerror(-plain));
			goto fail;
		}
		data_fd = fd;
		q->fd = plain;
	} else {
		data_fd = dup(fd);
		if (data_fd < 0) {
			r = error_set(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
			goto fail;
		}
		fcntl(data_fd, F_SETFD, FD_CLOEXEC);
	}
	r = raw_open(data_fd, readonly, direct, &q->file);
	if (r < 0) {
		error_set(err, errlen, r, "cannot open %s: %s", path, strerror(-r));
		goto fail;
	}

	memset(h, 0, sizeof(h));
	if (file_size < V2_HEADER_LEN || (r = pread_full(q->fd, h, sizeof(h), 0)) < 0) {
		r = error_set(err, errlen, -EINVAL, "%s is not a qcow2 image: it is too short", path);
		goto fail;
	}
	if (be32_at(h) != QCOW2_MAGIC) {
		r = error_set(err, errlen, -EINVAL, "%s is not a qcow2 image (no QFI magic)", path);
		goto fail;
	}
	q->version = be32_at(h + 4);
	if (q->version != 2 && q->version != 3) {
		r = error_set(err, errlen, -ENOTSUP, "qcow2 image %s has version %u; webkvm reads 2 and 3",
			 path, q->version);
		goto fail;
	}
	boff = be64_at(h + 8);
	blen = be32_at(h + 16);
	q->cluster_bits = be32_at(h + 20);
	size = be64_at(h + 24);
	if (q->cluster_bits < MIN_CLUSTER_BITS || q->cluster_bits > MAX_CLUSTER_BITS) {
		r = error_set(err, errlen, -EINVAL,
			 "qcow2 image %s is corrupt: cluster_bits %u is outside %d..%d", path,
			 q->cluster_bits, MIN_CLUSTER_BITS, MAX_CLUSTER_BITS);
		goto fail;
	}
	q->cluster_size = 1ULL << q->cluster_bits;
	q->l2_bits = q->cluster_bits - 3;
	if (be32_at(h + 32) != 0) {
		r = error_set(err, errlen, -ENOTSUP, "qcow2 image %s is encrypted; webkvm does not decrypt",
			 path);
		goto fail;
	}
	q->l1_size = be32_at(h + 36);
	q->l1_offset = be64_at(h + 40);
	q->reftable_offset = be64_at(h + 48);
	reftable_bytes = (uint64_t)be32_at(h + 56) << q->cluster_bits;
	nsnap = be32_at(h + 60);
	if (q->version >= 3) {
		incompat = be64_at(h + 72);
		autoclear = be64_at(h + 88);
		refcount_order = be32_at(h + 96);
		hlen = be32_at(h + 100);
	} else {
		incompat = autoclear = 0;
		refcount_order = 4;
		hlen = V2_HEADER_LEN;
	}
	if ((q->version >= 3 && (hlen < V3_HEADER_LEN || hlen % 8)) || hlen > q->cluster_size ||
	    hlen > sizeof(h)) {
		r = error_set(err, errlen, -EINVAL, "qcow2 image %s is corrupt: header length %u", path,
			 hlen);
		goto fail;
	}
	if (incompat & INCOMPAT_DATA_FILE) {
		r = error_set(err, errlen, -ENOTSUP,
			 "qcow2 image %s keeps its data in an external file; webkvm does not support that",
			 path);
		goto fail;
	}
	if (incompat & INCOMPAT_COMPRESSION) {
		r = error_set(err, errlen, -ENOTSUP,
			 "qcow2 image %s uses a compression type other than deflate (zstd); convert it "
			 "with qemu-img convert -O qcow2", path);
		goto fail;
	}
	if (incompat & INCOMPAT_EXTL2) {
		r = error_set(err, errlen, -ENOTSUP,
			 "qcow2 image %s uses extended L2 entries (subclusters); webkvm does not support them",
			 path);
		goto fail;
	}
	if (incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT)) {
		r = error_set(err, errlen, -ENOTSUP, "qcow2 image %s has unknown incompatible features %#llx",
			 path, (unsigned long long)incompat);
		goto fail;
	}
	if (!readonly && (incompat & INCOMPAT_DIRTY)) {
		r = error_set(err, errlen, -EINVAL,
			 "qcow2 image %s was not closed cleanly; repair it with qemu-img check -r all",
			 path);
		goto fail;
	}
	if (!readonly && (incompat & INCOMPAT_CORRUPT)) {
		r = error_set(err, errlen, -EINVAL,
			 "qcow2 image %s is marked corrupt; repair it with qemu-img check -r all", path);
		goto fail;
	}
	if (!readonly && nsnap) {
		r = error_set(err, errlen, -ENOTSUP,
			 "qcow2 image %s has internal snapshots; webkvm opens such images only read-only",
			 path);
		goto fail;
	}
	if (refcount_order > 6) {
		r = error_set(err, errlen, -EINVAL, "qcow2 image %s is corrupt: refcount_order %u", path,
			 refcount_order);
		goto fail;
	}
	q->refcount_bits = 1u << refcount_order;
	q->refs_per_block = (q->cluster_size * 8) >> refcount_order;

	/* The L1 table must map the whole disk, and fit in the file and in our limit. */
	l2_reach = q->cluster_size << q->l2_bits;
	if (size > (1ULL << 62) || (uint64_t)q->l1_size * 8 > MAX_L1_BYTES ||
	    DIV_ROUND_UP(size, l2_reach) > q->l1_size) {
		r = error_set(err, errlen, -EINVAL,
			 "qcow2 image %s is corrupt or too large: %llu bytes with an L1 table of %u entries",
			 path, (unsigned long long)size, q->l1_size);
		goto fail;
	}
	l1_bytes = (uint64_t)q->l1_size * 8;
	if (q->l1_size && !region_ok(q, q->l1_offset, l1_bytes, file_size)) {
		r = error_set(err, errlen, -EINVAL,
			 "qcow2 image %s is corrupt: its L1 table lies outside the file or on the header",
			 path);
		goto fail;
	}
	if (reftable_bytes == 0 || reftable_bytes > MAX_REFTABLE_BYTES ||
	    !region_ok(q, q->reftable_offset, reftable_bytes, file_size)) {
		r = error_set(err, errlen, -EINVAL,
			 "qcow2 image %s is corrupt: its refcount table lies outside the file, on the "
			 "header, or is too large", path);
		goto fail;
	}
	if (q->l1_size && overlaps(q->l1_offset, l1_bytes, q->reftable_offset, reftable_bytes)) {
		r = error_set(err, errlen, -EINVAL,
			 "qcow2 image %s is corrupt: its L1 and refcount tables overlap", path);
		goto fail;
	}
	if (boff || blen) {
		if (blen > MAX_BACKING_NAME || boff < hlen || boff > q->cluster_size ||
		    blen > q->cluster_size - boff || boff + blen > sizeof(h)) {
			r = error_set(err, errlen, -EINVAL,
				 "qcow2 image %s is corrupt: its backing file name lies outside the header",
				 path);
			goto fail;
		}
	}
	r = read_extensions(h, sizeof(h), hlen, boff ? boff : MIN(q->cluster_size, sizeof(h)),
			    &bformat, path, err, errlen);
	if (r < 0)
		goto fail;

	q->l1 = calloc(q->l1_size ? q->l1_size : 1, sizeof(uint64_t));
	q->reftable_entries = reftable_bytes / 8;
	q->reftable = calloc(q->reftable_entries, sizeof(uint64_t));
	if (posix_memalign((void **)&q->cow, 4096, q->cluster_size))
		q->cow = NULL;
	q->zbuf = malloc(2 * q->cluster_size);
	q->zcluster = malloc(q->cluster_size);
	if (!q->l1 || !q->reftable || !q->cow || !q->zbuf || !q->zcluster) {
		r = error_set(err, errlen, -ENOMEM, "out of memory opening %s", path);
		goto fail;
	}
	if ((r = pread_full(q->fd, q->l1, l1_bytes, q->l1_offset)) < 0 ||
	    (r = pread_full(q->fd, q->reftable, reftable_bytes, q->reftable_offset)) < 0) {
		error_set(err, errlen, r, "cannot read the tables of %s: %s", path, strerror(-r));
		goto fail;
	}
	for (uint32_t i = 0; i < q->l1_size; i++)
		q->l1[i] = be64toh(q->l1[i]);
	for (uint64_t i = 0; i < q->reftable_entries; i++)
		q->reftable[i] = be64toh(q->reftable[i]);
	q->file_end = ALIGN_UP(file_size, q->cluster_size);

	if (blen) {
		r = open_backing(q, h, boff, blen, bformat, path, chain, err, errlen);
		if (r < 0)
			goto fail;
	}
	/* Autoclear bits (bitmaps) describe data we do not keep up to date: clear them. */
	if (!readonly && autoclear) {
		uint64_t zero = 0;

		if ((r = pwrite_full(q->fd, &zero, 8, 88)) < 0) {
			error_set(err, errlen, r, "cannot update the header of %s: %s", path, strerror(-r));
			goto fail;
		}
	}
	q->disk.ops = &qcow2_ops;
	q->disk.size = size;
	q->disk.readonly = readonly;
	q->disk.direct = direct;
	q->disk.align = 1;
	*ret_disk = &q->disk;
	return 0;
fail:
	qcow2_free(q);
	return r;
}
