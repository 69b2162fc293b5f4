/*
 * Taps for guest NICs.
 *
 * NOTES
 * - The tap's own MAC is the guest's with the first byte 0xfe, as libvirt
 *   does: a bridge takes the lowest MAC of its ports as its own, and 0xfe
 *   keeps the taps above any real NIC, so starting a VM never changes the
 *   bridge's address.
 * - Bridges and their ports are made with the SIOCBRADDBR and SIOCBRADDIF
 *   ioctls, and addresses set with SIOCSIFADDR, which exist for exactly
 *   this and need no netlink code of ours.
 * - A bridge of ours gets its MAC set: a bridge whose MAC was set keeps it
 *   as ports come and go, so the guests' ARP caches stay right.
 * - Spanning tree and the forward delay are as the network says; libvirt's
 *   default network has STP on with delay 0, so a guest's port forwards
 *   at once and DHCP works at boot. They are set through sysfs; where that
 *   fails the kernel's defaults stay (STP off).
 */
#include "vmm/service/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"

static int sock_ioctl(unsigned long req, void *arg)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	r = ioctl(s, req, arg) < 0 ? -errno : 0;
	close(s);
	return r;
}

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	return sock_ioctl(req, ifr);
}

static int set_up(const char *name, bool up)
{
	struct ifreq ifr = { 0 };
	int r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if ((r = if_ioctl(SIOCGIFFLAGS, &ifr)) < 0)
		return r;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return if_ioctl(SIOCSIFFLAGS, &ifr);
}

bool netdev_exists(const char *name)
{
	return strlen(name) < IFNAMSIZ && if_nametoindex(name) != 0;
}

bool netdev_is_bridge(const char *name)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };

	if (strlen(name) >= IFNAMSIZ)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&info;
	return if_ioctl(SIOCETHTOOL, &ifr) == 0 && strcmp(info.driver, "bridge") == 0;
}

static void write_bridge_setting(const char *bridge, const char *key, const char *value)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge/%s", bridge, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, value, strlen(value)) < 0) {
		/* the bridge works with the kernel's defaults */
	}
	close(fd);
}

static int set_ipv4(const char *name, unsigned long req, uint32_t value)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(value) };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return if_ioctl(req, &ifr);
}

int netdev_bridge_create(const char *name, const uint8_t mac[6], uint32_t address,
			 unsigned int prefix, bool stp, unsigned int delay, char *err,
			 size_t errlen)
{
	struct ifreq ifr = { 0 };
	char br[IFNAMSIZ], centis[16];
	const char *step;
	int r;

	if (strlen(name) >= IFNAMSIZ)
		return error_set(err, errlen, -EINVAL, "%s is too long for a device name", name);
	snprintf(br, sizeof(br), "%s", name);
	if ((r = sock_ioctl(SIOCBRADDBR, br)) < 0)
		return error_set(err, errlen, r, "cannot create bridge %s: %s", name,
				 r == -EEXIST ? "a device of that name exists" : strerror(-r));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	step = "set its MAC";
	if ((r = if_ioctl(SIOCSIFHWADDR, &ifr)) < 0)
		goto fail;
	snprintf(centis, sizeof(centis), "%u", delay * 100);
	write_bridge_setting(name, "forward_delay", centis);
	write_bridge_setting(name, "stp_state", stp ? "1" : "0");
	step = "set its address";
	if ((r = set_ipv4(name, SIOCSIFADDR, address)) < 0)
		goto fail;
	step = "set its netmask";
	if ((r = set_ipv4(name, SIOCSIFNETMASK, prefix ? ~0u << (32 - prefix) : 0)) < 0)
		goto fail;
	step = "bring it up";
	if ((r = set_up(name, true)) < 0)
		goto fail;
	return 0;
fail:
	error_set(err, errlen, r, "cannot %s on bridge %s: %s", step, name, strerror(-r));
	netdev_bridge_delete(name);
	return r;
}

int netdev_bridge_delete(const char *name)
{
	char br[IFNAMSIZ];

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	snprintf(br, sizeof(br), "%s", name);
	set_up(name, false);
	return sock_ioctl(SIOCBRDELBR, br);
}

bool netdev_subnet_in_use(uint32_t net, uint32_t mask, char *who, size_t len)
{
	struct ifaddrs *list, *a;
	bool used = false;

	if (getifaddrs(&list) < 0)
		return false;
	for (a = list; a && !used; a = a->ifa_next) {
		char s[INET_ADDRSTRLEN];
		uint32_t ip;

		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET)
			continue;
		ip = ntohl(((const struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr);
		if ((ip & mask) != net)
			continue;
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a->ifa_addr)->sin_addr, s,
			  sizeof(s));
		snprintf(who, len, "%s has %s", a->ifa_name, s);
		used = true;
	}
	freeifaddrs(list);
	return used;
}

int netdev_tap_on_bridge(const char *bridge, const uint8_t guest_mac[6],
			 char ret_name[IFNAMSIZ], char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	unsigned int tap_index;
	int fd, r;

	if (strlen(bridge) >= IFNAMSIZ || !if_nametoindex(bridge))
		return error_set(err, errlen, -ENODEV, "there is no bridge %s on this host", bridge);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errlen, -errno, "cannot open /dev/net/tun: %s", strerror(errno));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "vnet%%d");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		return error_set(err, errlen, r, "cannot make a tap: %s", strerror(-r));
	}
	memcpy(ret_name, ifr.ifr_name, IFNAMSIZ);
	tap_index = if_nametoindex(ret_name);

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ret_name, IFNAMSIZ);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, guest_mac, 6);
	ifr.ifr_hwaddr.sa_data[0] = (char)0xfe;
	if ((r = if_ioctl(SIOCSIFHWADDR, &ifr)) < 0) {
		error_set(err, errlen, r, "cannot set the MAC of %s: %s", ret_name, strerror(-r));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
	ifr.ifr_ifindex = tap_index;
	if ((r = if_ioctl(SIOCBRADDIF, &ifr)) < 0) {
		error_set(err, errlen, r, "cannot put %s on bridge %s: %s", ret_name, bridge,
			  r == -EOPNOTSUPP || r == -EINVAL ? "it is not a bridge" : strerror(-r));
		goto fail;
	}
	if ((r = set_up(ret_name, true)) < 0) {
		error_set(err, errlen, r, "cannot bring %s up: %s", ret_name, strerror(-r));
		goto fail;
	}
	return fd;
fail:
	close(fd); /* the tap is not persistent: it goes with its last fd */
	return r;
}
