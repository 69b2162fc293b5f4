/*
 * virtio-net-test: plays a guest's virtio-net driver against vmm's device
 * (the real PCI, virtio and tap code, on a KVM VM without vCPUs) with a
 * real tap, wk0, whose host side is 10.0.0.1/24; the "guest" is 10.0.0.2.
 * Run it in a network namespace of its own (unshare -n): it makes the tap
 * and sets its addresses with ip(8).
 * Prints "ok: ..." lines; exits 1 with a message on the first failure.
 *
 *   virtio-net-test MODE    MODE: traffic | link | backpressure | small-buffers | hostile
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/tools/fake-driver.h"
#include "vmm/net/tap.h"
#include "vmm/virtio/net.h"

#define RAM (32 * MiB)
#define RING 0x100000
#define BUFS 0x400000    /* receive buffers, BUF_SIZE each */
#define TXBUF 0x1000000  /* frames to send */
#define BUF_SIZE 2048
#define RXQ 0
#define TXQ 1
#define PORT 5555

#define F_CSUM (1ULL << 0)
#define F_GUEST_CSUM (1ULL << 1)
#define F_MAC (1ULL << 5)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STATUS (1ULL << 16)

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

struct test {
	struct guest_mem mem;
	struct pci pci;
	struct irq_routing routing;
	struct virtio_net *net;
	struct drv d;
	int tap, udp;    /* udp: the host's socket on 10.0.0.1:PORT */
	uint8_t host_mac[6];
	uint16_t rx_posted;
};

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(1);
	}
}

static void setup(struct test *t, int kvm)
{
	struct net_options o = { .fd = -1 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct ifreq ifr = { 0 };
	char err[256];
	int vm;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("cannot create a VM with an irqchip");
	if (mem_init(&t->mem, RAM) < 0)
		die("cannot map memory");
	/* No IPv6: its neighbour discovery would put frames of its own on the tap. */
	sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
	snprintf(o.ifname, sizeof(o.ifname), "wk0");
	memcpy(o.mac, guest_mac, 6);
	t->tap = tap_open(&o, err, sizeof(err));
	if (t->tap < 0)
		die(err);
	sh("ip link set lo up && ip link set wk0 mtu 9000 up && ip addr add 10.0.0.1/24 dev wk0 && "
	   "ip neigh replace 10.0.0.2 lladdr 52:54:00:ab:cd:ef dev wk0 nud permanent");
	t->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "wk0");
	if (t->udp < 0 || ioctl(t->udp, SIOCGIFHWADDR, &ifr) < 0)
		die("cannot read the tap's MAC");
	memcpy(t->host_mac, ifr.ifr_hwaddr.sa_data, 6);
	inet_pton(AF_INET, "10.0.0.1", &sa.sin_addr);
	if (t->udp < 0 || bind(t->udp, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot bind the host's UDP socket");
	irq_routing_init(&t->routing, vm);
	pci_init(&t->pci);
	t->net = calloc(1, sizeof(*t->net));
	if (virtio_net_init(t->net, t->tap, guest_mac, &t->pci, &t->routing, &t->mem, vm) < 0 ||
	    virtio_dev_start(&t->net->vdev) < 0)
		die("cannot set up virtio-net");
	drv_attach(&t->d, &t->pci, &t->mem, 1, RING);
}

/* Post n receive buffers of size bytes each, one per request. */
static void post_rx(struct test *t, unsigned int n, uint32_t size, int notify)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t slot = t->rx_posted++ % t->d.qsize;

		desc_q(&t->d, RXQ, slot, BUFS + (uint64_t)slot * BUF_SIZE, size, 2, 0);
		offer_q(&t->d, RXQ, slot, notify && i == n - 1);
	}
}

/* The host sends a UDP datagram of len bytes (byte i is seed + i) to the guest. */
static void host_send(struct test *t, size_t len, uint8_t seed)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	uint8_t *buf = malloc(len);

	for (size_t i = 0; i < len; i++)
		buf[i] = seed + i;
	inet_pton(AF_INET, "10.0.0.2", &to.sin_addr);
	if (sendto(t->udp, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		die("the host cannot send");
	free(buf);
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/*
 * The guest sends a UDP datagram of len payload bytes to the host with a
 * checksum left to the host (NEEDS_CSUM) and garbage in its checksum field:
 * only a header that reaches the tap makes the host take it. Returns the
 * frame's length with its header.
 */
static size_t guest_send(struct test *t, uint16_t head, size_t len, uint8_t seed,
			 const uint8_t *vnet_hdr)
{
	uint8_t *f = mem_ptr(&t->mem, TXBUF + (uint64_t)head * 0x10000, 0x10000);
	uint8_t *eth = f + TAP_VNET_HDR_LEN, *ip = eth + 14, *udp = ip + 20;
	size_t total = 14 + 20 + 8 + len;

	memset(f, 0, TAP_VNET_HDR_LEN);
	if (vnet_hdr) {
		memcpy(f, vnet_hdr, TAP_VNET_HDR_LEN);
	} else {
		f[0] = 1;                /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
		put_le16(f + 6, 34);     /* csum_start: the UDP header */
		put_le16(f + 8, 6);      /* csum_offset: its checksum */
	}
	memcpy(eth, t->host_mac, 6);
	memcpy(eth + 6, guest_mac, 6);
	eth[12] = 0x08;
	eth[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (20 + 8 + len) >> 8;
	ip[3] = (20 + 8 + len) & 0xff;
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, "10.0.0.2", ip + 12);
	inet_pton(AF_INET, "10.0.0.1", ip + 16);
	{
		uint16_t c = ip_checksum(ip, 20);

		ip[10] = c >> 8;
		ip[11] = c & 0xff;
	}
	udp[0] = PORT >> 8;
	udp[1] = PORT & 0xff;
	udp[2] = PORT >> 8;
	udp[3] = PORT & 0xff;
	udp[4] = (8 + len) >> 8;
	udp[5] = (8 + len) & 0xff;
	udp[6] = 0xde; /* garbage: NEEDS_CSUM says the host fills it in */
	udp[7] = 0xad;
	for (size_t i = 0; i < len; i++)
		udp[8 + i] = seed + i;
	desc_q(&t->d, TXQ, head, TXBUF + (uint64_t)head * 0x10000, TAP_VNET_HDR_LEN + total, 0, 0);
	offer_q(&t->d, TXQ, head, 1);
	return TAP_VNET_HDR_LEN + total;
}

/* Whether the host's socket gets a datagram of len bytes from seed within ms. */
static int host_receives(struct test *t, size_t len, uint8_t seed, int ms)
{
	uint8_t buf[65536];
	ssize_t n;

	for (int waited = 0; waited <= ms; waited += 10) {
		n = recv(t->udp, buf, sizeof(buf), MSG_DONTWAIT);
		if (n >= 0) {
			if ((size_t)n != len)
				return 0;
			for (size_t i = 0; i < len; i++)
				if (buf[i] != (uint8_t)(seed + i))
					return 0;
			return 1;
		}
		usleep(10000);
	}
	return 0;
}

/*
 * Check the frame in used entries [first, first + count): a UDP datagram
 * of len bytes from seed, merged over count buffers.
 */
static void check_rx(struct test *t, uint16_t first, unsigned int count, size_t len, uint8_t seed)
{
	uint8_t *frame = malloc(count * BUF_SIZE);
	size_t got = 0;
	uint32_t id, n;

	for (unsigned int k = 0; k < count; k++) {
		used_elem(&t->d, RXQ, first + k, &id, &n);
		if (n > BUF_SIZE)
			die("a used length is larger than its buffer");
		memcpy(frame + got, mem_ptr(&t->mem, BUFS + (uint64_t)id * BUF_SIZE, n), n);
		got += n;
	}
	if (get_le16(frame + 10) != count) {
		fprintf(stderr, "num_buffers %u, expected %u\n", get_le16(frame + 10), count);
		die("wrong num_buffers");
	}
	if (got != TAP_VNET_HDR_LEN + 14 + 20 + 8 + len)
		die("the received frame has the wrong length");
	if (memcmp(frame + TAP_VNET_HDR_LEN, guest_mac, 6))
		die("the received frame is not for the guest's MAC");
	for (size_t i = 0; i < len; i++)
		if (frame[TAP_VNET_HDR_LEN + 42 + i] != (uint8_t)(seed + i))
			die("the received payload differs from what the host sent");
	free(frame);
}

static void init_driver(struct test *t, uint64_t features)
{
	drv_init_features(&t->d, features, 2, 256);
	t->rx_posted = 0;
}

static void mode_traffic(struct test *t)
{
	uint8_t mac[6];

	init_driver(t, F_CSUM | F_GUEST_CSUM | F_MAC | F_MRG_RXBUF | F_STATUS);
	for (int i = 0; i < 6; i++)
		mac[i] = mmio_read(&t->d, DRV_DEVICE_CFG + i, 1);
	if (memcmp(mac, guest_mac, 6))
		die("the config's MAC is not the one given");
	if (!(mmio_read(&t->d, DRV_DEVICE_CFG + 6, 2) & 1))
		die("the link is not up");
	printf("ok: the config has the MAC and the link is up\n");

	post_rx(t, 64, BUF_SIZE, 1);
	host_send(t, 100, 7);
	if (!WAIT_FOR(used_idx_q(&t->d, RXQ) == 1))
		die("a small frame did not arrive");
	check_rx(t, 0, 1, 100, 7);
	printf("ok: a frame from the host arrives in one buffer\n");
	host_send(t, 5000, 3);
	if (!WAIT_FOR(used_idx_q(&t->d, RXQ) == 4))
		die("a 5000-byte frame did not arrive in 3 buffers");
	check_rx(t, 1, 3, 5000, 3);
	printf("ok: a 5000-byte frame arrives merged over 3 buffers\n");

	guest_send(t, 0, 200, 9, NULL);
	if (!host_receives(t, 200, 9, 5000))
		die("the host did not get the guest's datagram");
	if (!WAIT_FOR(used_idx_q(&t->d, TXQ) == 1))
		die("the sent frame was not returned");
	printf("ok: a frame from the guest with its checksum left to the host arrives\n");
	guest_send(t, 1, 8000, 1, NULL);
	if (!host_receives(t, 8000, 1, 5000))
		die("the host did not get the guest's 8000-byte datagram");
	printf("ok: an 8000-byte frame from the guest arrives\n");
}

static void mode_link(struct test *t)
{
	uint8_t gen;

	init_driver(t, F_GUEST_CSUM | F_MAC | F_MRG_RXBUF | F_STATUS);
	post_rx(t, 64, BUF_SIZE, 1);
	gen = mmio_read(&t->d, 21, 1);
	virtio_net_set_link(t->net, false);
	if ((mmio_read(&t->d, DRV_DEVICE_CFG + 6, 2) & 1) || mmio_read(&t->d, 21, 1) == gen)
		die("pulling the link did not change the config");
	printf("ok: the link goes down in the config, with a new generation\n");
	guest_send(t, 0, 100, 1, NULL);
	if (!WAIT_FOR(used_idx_q(&t->d, TXQ) == 1))
		die("a frame sent with the link down was not returned");
	if (host_receives(t, 100, 1, 300))
		die("a frame went out with the link down");
	host_send(t, 100, 2);
	usleep(300000);
	if (used_idx_q(&t->d, RXQ) != 0)
		die("a frame came in with the link down");
	printf("ok: with the link down nothing goes out or comes in\n");
	virtio_net_set_link(t->net, true);
	if (!WAIT_FOR(used_idx_q(&t->d, RXQ) == 1))
		die("the frame that waited did not come in once the link was up");
	check_rx(t, 0, 1, 100, 2);
	guest_send(t, 1, 100, 3, NULL);
	if (!host_receives(t, 100, 3, 5000))
		die("nothing goes out once the link is up again");
	printf("ok: with the link up again, traffic flows both ways\n");
}

static void mode_backpressure(struct test *t)
{
	init_driver(t, F_GUEST_CSUM | F_MRG_RXBUF);
	/* Buffers for two small frames but not for a whole 64 KiB frame: nothing is read. */
	post_rx(t, 2, BUF_SIZE, 1);
	for (int i = 0; i < 10; i++)
		host_send(t, 100, i);
	usleep(300000);
	if (used_idx_q(&t->d, RXQ) != 0)
		die("frames were read before the buffers could hold any frame");
	post_rx(t, 62, BUF_SIZE, 1);
	if (!WAIT_FOR(used_idx_q(&t->d, RXQ) == 10))
		die("the frames that waited in the tap did not all come in");
	for (int i = 0; i < 10; i++)
		check_rx(t, i, 1, 100, i);
	printf("ok: frames wait in the tap until the driver gives buffers, and none is lost\n");
}

static void mode_small_buffers(struct test *t)
{
	/* Without mergeable buffers, each frame must fit one request. */
	init_driver(t, F_GUEST_CSUM);
	post_rx(t, 1, 1526, 1);
	host_send(t, 5000, 1);
	host_send(t, 100, 5);
	if (!WAIT_FOR(used_idx_q(&t->d, RXQ) == 1))
		die("the small frame after a too-large one did not arrive");
	check_rx(t, 0, 1, 100, 5);
	printf("ok: a frame larger than the buffer is dropped, the next one arrives whole\n");
}

static void mode_hostile(struct test *t)
{
	uint8_t bad_gso[TAP_VNET_HDR_LEN] = { 0 };

	init_driver(t, F_CSUM | F_GUEST_CSUM | F_MRG_RXBUF);
	/* A header the kernel refuses: TCPv4 GSO with a segment size of 0 on a UDP frame. */
	bad_gso[1] = 1;
	put_le16(bad_gso + 2, 42);
	guest_send(t, 0, 100, 1, bad_gso);
	if (!WAIT_FOR(used_idx_q(&t->d, TXQ) == 1))
		die("a frame with a bad GSO header was not returned");
	if (host_receives(t, 100, 1, 300))
		die("a frame with a bad GSO header went out");
	guest_send(t, 1, 100, 2, NULL);
	if (!host_receives(t, 100, 2, 5000))
		die("the device stopped sending after a bad header");
	printf("ok: a frame with a header the kernel refuses is dropped, the next goes out\n");

	/* A frame shorter than its header breaks the rules. */
	desc_q(&t->d, TXQ, 2, TXBUF, 6, 0, 0);
	offer_q(&t->d, TXQ, 2, 1);
	if (!WAIT_FOR(mmio_read(&t->d, DRV_STATUS_OFF, 1) & 64))
		die("a frame shorter than a header did not set DEVICE_NEEDS_RESET");
	printf("ok: a frame shorter than a header sets DEVICE_NEEDS_RESET\n");

	/* After a reset: a receive buffer too small for a header breaks the rules too. */
	init_driver(t, F_GUEST_CSUM | F_MRG_RXBUF);
	post_rx(t, 64, 8, 1);
	if (!WAIT_FOR(mmio_read(&t->d, DRV_STATUS_OFF, 1) & 64))
		die("receive buffers shorter than a header did not set DEVICE_NEEDS_RESET");
	printf("ok: receive buffers shorter than a header set DEVICE_NEEDS_RESET\n");

	/* A send buffer outside RAM. */
	init_driver(t, F_GUEST_CSUM | F_MRG_RXBUF);
	desc_q(&t->d, TXQ, 0, RAM - 16, 64, 0, 0);
	offer_q(&t->d, TXQ, 0, 1);
	if (!WAIT_FOR(mmio_read(&t->d, DRV_STATUS_OFF, 1) & 64))
		die("a send buffer outside RAM did not set DEVICE_NEEDS_RESET");
	printf("ok: a send buffer outside RAM sets DEVICE_NEEDS_RESET\n");

	/* And after a reset everything works again. */
	init_driver(t, F_CSUM | F_GUEST_CSUM | F_MRG_RXBUF);
	post_rx(t, 64, BUF_SIZE, 1);
	guest_send(t, 0, 100, 4, NULL);
	if (!host_receives(t, 100, 4, 5000))
		die("nothing goes out after a reset");
	host_send(t, 300, 6);
	if (!WAIT_FOR(used_idx_q(&t->d, RXQ) == 1))
		die("nothing comes in after a reset");
	check_rx(t, 0, 1, 300, 6);
	printf("ok: after a reset the NIC works again\n");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "traffic";
	struct test *t = calloc(1, sizeof(*t));
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	setvbuf(stdout, NULL, _IONBF, 0);
	if (kvm < 0)
		die("cannot open /dev/kvm");
	setup(t, kvm);
	if (!strcmp(mode, "traffic"))
		mode_traffic(t);
	else if (!strcmp(mode, "link"))
		mode_link(t);
	else if (!strcmp(mode, "backpressure"))
		mode_backpressure(t);
	else if (!strcmp(mode, "small-buffers"))
		mode_small_buffers(t);
	else if (!strcmp(mode, "hostile"))
		mode_hostile(t);
	else
		die("unknown mode");
	virtio_net_destroy(t->net);
	free(t->net);
	pci_destroy(&t->pci);
	irq_routing_destroy(&t->routing);
	mem_destroy(&t->mem);
	close(t->tap);
	close(t->udp);
	free(t);
	return 0;
}
