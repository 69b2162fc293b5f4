/*
 * virtio-hostile: plays a guest driver against vmm's virtio-blk and
 * virtio-rng (the real PCI, MSI-X and virtio code, on a KVM VM without
 * vCPUs), breaks the virtqueue rules on the disk, and checks that
 *   - the disk reports DEVICE_NEEDS_RESET and serves nothing more,
 *   - the rng beside it keeps serving,
 *   - after a reset the disk serves requests again.
 * Mode multiqueue breaks nothing: it checks that a disk with two request
 * queues (VIRTIO_BLK_F_MQ) says so in its config and serves each queue
 * on its own ring. Mode big-request checks that a 1 MiB read of 256
 * scattered pages fits the disk's seg_max and is served as one request.
 * Prints "ok: ..." lines; exits 1 with a message on the first failure.
 *
 *   virtio-hostile MODE   MODE: outside-ram | loop | long-chain | bad-avail | multiqueue
 *                                | big-request
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/tools/fake-driver.h"
#include "vmm/disk/disk.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/rng.h"

#define RAM (16 * MiB)
#define STATUS_OFF DRV_STATUS_OFF
#define VIRTIO_BLK_F_MQ 12
#define BLK_CFG_NUM_QUEUES 34
#define BLK_CFG_SEG_MAX 12
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_F_INDIRECT_DESC 28
#define PAGES_PER_MIB 256

/* The disk's byte at offset off: a pattern that differs from page to page. */
static uint8_t disk_byte(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 4096);
}

/* A GET_ID request on queue q; true when it completes with the disk's serial. */
static bool get_id(struct drv *d, struct guest_mem *mem, unsigned int q)
{
	uint64_t buf = 0x600000 + q * 0x1000;
	uint16_t done = used_idx_q(d, q) + 1;

	put_le32(mem_ptr(mem, buf, 16), 8);
	memset(mem_ptr(mem, buf + 0x100, 20), 0, 20);
	*(uint8_t *)mem_ptr(mem, buf + 0x200, 1) = 0xff;
	desc_q(d, q, 0, buf, 16, 1, 1);
	desc_q(d, q, 1, buf + 0x100, 20, 2 | 1, 2);
	desc_q(d, q, 2, buf + 0x200, 1, 2, 0);
	offer_q(d, q, 0, 1);
	return WAIT_FOR(used_idx_q(d, q) == done) && *(uint8_t *)mem_ptr(mem, buf + 0x200, 1) == 0 &&
	       !memcmp(mem_ptr(mem, buf + 0x100, 20), "HOSTILE-TEST", 12);
}

static void check_multiqueue(struct drv *d, struct guest_mem *mem)
{
	unsigned int n = mmio_read(d, DRV_DEVICE_CFG + BLK_CFG_NUM_QUEUES, 2);

	if (n != 2)
		die("the disk's config does not say 2 queues");
	drv_init_features(d, 1ULL << VIRTIO_BLK_F_MQ, 2, 8);
	if (!get_id(d, mem, 1))
		die("queue 1 did not serve GET_ID");
	if (used_idx_q(d, 0) != 0)
		die("a request on queue 1 completed on queue 0");
	if (!get_id(d, mem, 0))
		die("queue 0 did not serve GET_ID");
	printf("ok: each of 2 queues serves its own requests\n");
}

/* Entry i of an indirect descriptor table at table. */
static void indirect_desc(struct guest_mem *mem, uint64_t table, unsigned int i, uint64_t addr,
			  uint32_t len, uint16_t flags)
{
	uint8_t *e = mem_ptr(mem, table + 16 * i, 16);

	put_le64(e, addr);
	put_le32(e + 8, len);
	put_le16(e + 12, flags);
	put_le16(e + 14, i + 1);
}

static void check_big_request(struct drv *d, struct guest_mem *mem)
{
	const uint64_t hdr = 0x300000, status = 0x300100, table = 0x700000, data = 0x800000;
	unsigned int seg_max = mmio_read(d, DRV_DEVICE_CFG + BLK_CFG_SEG_MAX, 4), i;

	if (seg_max < PAGES_PER_MIB)
		die("seg_max is below 256: a 1 MiB read of 4 KiB pages takes two requests");
	drv_init_features(d, (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_F_INDIRECT_DESC), 1,
			  8);
	memset(mem_ptr(mem, hdr, 16), 0, 16); /* VIRTIO_BLK_T_IN, sector 0 */
	*(uint8_t *)mem_ptr(mem, status, 1) = 0xff;
	indirect_desc(mem, table, 0, hdr, 16, 1);
	/* Every other page, so no two buffers could be merged into one. */
	for (i = 0; i < PAGES_PER_MIB; i++) {
		memset(mem_ptr(mem, data + i * 0x2000, 4096), 0, 4096);
		indirect_desc(mem, table, i + 1, data + i * 0x2000, 4096, 2 | 1);
	}
	indirect_desc(mem, table, i + 1, status, 1, 2);
	desc(d, 0, table, 16 * (PAGES_PER_MIB + 2), 4, 0);
	offer(d, 0);
	if (!WAIT_FOR(used_idx(d) == 1) || *(uint8_t *)mem_ptr(mem, status, 1) != 0)
		die("the 1 MiB read did not complete");
	for (i = 0; i < PAGES_PER_MIB; i++) {
		const uint8_t *page = mem_ptr(mem, data + i * 0x2000, 4096);

		for (unsigned int b = 0; b < 4096; b++)
			if (page[b] != disk_byte(i * 4096 + b))
				die("the 1 MiB read gave the wrong bytes");
	}
	printf("ok: a 1 MiB read of 256 scattered pages is one request (seg_max %u)\n", seg_max);
}

int main(int argc, char **argv)
{
	struct disk_options opts = { .format = DISK_FORMAT_RAW };
	struct irq_routing routing;
	struct guest_mem mem;
	struct drv blk_drv, rng_drv;
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	const char *mode = argc > 1 ? argv[1] : "outside-ram";
	struct pci pci;
	struct disk *disk;
	char err[256];
	int kvm, vm, fd;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("cannot open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("cannot create a VM with an irqchip");
	if (mem_init(&mem, RAM) < 0)
		die("cannot map memory");
	snprintf(opts.path, sizeof(opts.path), "disk.img");
	snprintf(opts.serial, sizeof(opts.serial), "HOSTILE-TEST");
	fd = open("disk.img", O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, MiB) < 0)
		die("cannot make disk.img");
	for (uint64_t off = 0; off < MiB; off += 4096) {
		uint8_t page[4096];

		for (unsigned int b = 0; b < sizeof(page); b++)
			page[b] = disk_byte(off + b);
		if (pwrite(fd, page, sizeof(page), off) != sizeof(page))
			die("cannot write disk.img");
	}
	close(fd);
	if (disk_open(&opts, &disk, err, sizeof(err)) < 0)
		die(err);
	irq_routing_init(&routing, vm);
	pci_init(&pci);
	if (virtio_blk_init(blk, disk, opts.serial, 2, &pci, &routing, &mem, vm) < 0 ||
	    virtio_rng_init(rng, &pci, &routing, &mem, vm) < 0 || virtio_dev_start(&blk->vdev) < 0 ||
	    virtio_dev_start(&rng->vdev) < 0)
		die("cannot set up the devices");
	drv_attach(&blk_drv, &pci, &mem, 1, 0x100000);
	drv_attach(&rng_drv, &pci, &mem, 2, 0x200000);
	drv_init(&blk_drv);
	drv_init(&rng_drv);

	/* The hostile request. */
	if (!strcmp(mode, "multiqueue")) {
		check_multiqueue(&blk_drv, &mem);
		goto out;
	} else if (!strcmp(mode, "big-request")) {
		check_big_request(&blk_drv, &mem);
		goto out;
	} else if (!strcmp(mode, "outside-ram")) {
		desc(&blk_drv, 0, RAM - 8, 16, 1, 1);
		desc(&blk_drv, 1, 0x300000, 1, 2, 0);
		offer(&blk_drv, 0);
	} else if (!strcmp(mode, "loop")) {
		desc(&blk_drv, 0, 0x300000, 16, 1, 1);
		desc(&blk_drv, 1, 0x300100, 16, 1, 0);
		offer(&blk_drv, 0);
	} else if (!strcmp(mode, "long-chain")) {
		/* An indirect table longer than any chain may be. */
		for (unsigned int i = 0; i < 8; i++)
			desc(&blk_drv, i, 0x300000, 16, 1, i + 1);
		desc(&blk_drv, 0, 0x400000, 16 * 4096, 4, 0);
		offer(&blk_drv, 0);
	} else if (!strcmp(mode, "bad-avail")) {
		put_le16(mem_ptr(&mem, blk_drv.ring + 0x1002, 2), 100);
		mmio_write(&blk_drv, 0x3000, 2, 0);
	} else {
		die("unknown mode");
	}
	if (!WAIT_FOR(mmio_read(&blk_drv, STATUS_OFF, 1) & 64))
		die("the disk did not set DEVICE_NEEDS_RESET");
	printf("ok: %s sets DEVICE_NEEDS_RESET\n", mode);
	if (used_idx(&blk_drv) != 0)
		die("the disk completed the hostile request");

	/* The rng beside it still serves: one 64-byte buffer. */
	desc(&rng_drv, 0, 0x500000, 64, 2, 0);
	memset(mem_ptr(&mem, 0x500000, 64), 0, 64);
	offer(&rng_drv, 0);
	if (!WAIT_FOR(used_idx(&rng_drv) == 1))
		die("the rng stopped serving");
	printf("ok: the rng beside it still serves\n");

	/* After a reset the disk serves again: GET_ID. */
	drv_init(&blk_drv);
	if (!get_id(&blk_drv, &mem, 0))
		die("GET_ID after the reset failed");
	printf("ok: after a reset the disk serves again\n");

out:
	virtio_blk_destroy(blk);
	disk_close(disk);
	virtio_rng_destroy(rng);
	free(blk);
	free(rng);
	pci_destroy(&pci);
	irq_routing_destroy(&routing);
	mem_destroy(&mem);
	close(vm);
	close(kvm);
	unlink("disk.img");
	return 0;
}
