/*
 * Taps for guest NICs.
 *
 * NOTES
 * - The tap's own MAC is the guest's with the first byte 0xfe, as libvirt
 *   does: a bridge takes the lowest MAC of its ports as its own, and 0xfe
 *   keeps the taps above any real NIC, so starting a VM never changes the
 *   bridge's address.
 * - Bridge ports are added with the SIOCBRADDIF ioctl, which exists for
 *   exactly this and needs no netlink code of ours.
 */
#include "vmm/service/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	r = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return r;
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
	ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
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
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ret_name, IFNAMSIZ);
	if ((r = if_ioctl(SIOCGIFFLAGS, &ifr)) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = if_ioctl(SIOCSIFFLAGS, &ifr);
	}
	if (r < 0) {
		error_set(err, errlen, r, "cannot bring %s up: %s", ret_name, strerror(-r));
		goto fail;
	}
	return fd;
fail:
	close(fd); /* the tap is not persistent: it goes with its last fd */
	return r;
}
