/*
 * Tap devices for virtio-net.
 *
 * NOTES
 * - With IFF_VNET_HDR and a header size of 12, what the guest's driver
 *   puts before a frame is exactly what the tap reads, and the reverse, so
 *   frames move between the queues and the tap without copies. The kernel
 *   checks every header a guest sends (checksum offsets, GSO sizes) and
 *   refuses bad ones on its own.
 * - A tap opened by name needs CAP_NET_ADMIN unless it is persistent and
 *   belongs to our user (`ip tuntap add ... user U vnet_hdr`). vmmd makes
 *   taps itself and hands them over with fd=N.
 */
#include "vmm/net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/mac.h"

int net_parse_options(const char *spec, struct net_options *ret_opts, char *err, size_t errlen)
{
	struct net_options o = { .fd = -1 };
	const char *p = spec;
	bool have_mac = false;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[64];

		if (n >= sizeof(item))
			return error_set(err, errlen, -EINVAL, "--net option '%.20s...' is too long", p);
		memcpy(item, p, n);
		item[n] = '\0';
		if (p == spec && !strncmp(item, "tap=", 4)) {
			if (n - 4 == 0 || n - 4 >= IFNAMSIZ || strchr(item + 4, '/'))
				return error_set(err, errlen, -EINVAL,
						 "a tap name must have 1 to %d characters and no '/'",
						 IFNAMSIZ - 1);
			memcpy(o.ifname, item + 4, n - 3);
		} else if (p == spec && !strncmp(item, "fd=", 3)) {
			char *e;
			long v;

			errno = 0;
			v = strtol(item + 3, &e, 10);
			if (errno || e == item + 3 || *e || v < 3 || v > INT_MAX)
				return error_set(err, errlen, -EINVAL,
						 "--net fd= wants an open file descriptor above 2, not '%s'",
						 item + 3);
			o.fd = v;
		} else if (p == spec) {
			return error_set(err, errlen, -EINVAL,
					 "--net starts with tap=IFNAME or fd=N, not '%s'", item);
		} else if (!strncmp(item, "mac=", 4)) {
			if (mac_parse(item + 4, o.mac) < 0)
				return error_set(err, errlen, -EINVAL,
						 "'%s' is not a unicast MAC address like 52:54:00:12:34:56",
						 item + 4);
			have_mac = true;
		} else if (!strcmp(item, "link=up") || !strcmp(item, "link=down")) {
			o.link_down = strcmp(item, "link=down") == 0;
		} else {
			return error_set(err, errlen, -EINVAL, "unknown --net option '%s'", item);
		}
		p = end ? end + 1 : NULL;
	}
	if (!have_mac)
		mac_random(o.mac);
	*ret_opts = o;
	return 0;
}

static int tap_setup(int fd, const char *what, char *err, size_t errlen)
{
	int hdr_len = TAP_VNET_HDR_LEN, fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return error_set(err, errlen, -errno, "cannot set up %s: %s", what, strerror(errno));
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return error_set(err, errlen, -errno, "cannot set the virtio-net header size on %s: %s",
				 what, strerror(errno));
	if (tap_set_offload(fd, 0) < 0)
		return error_set(err, errlen, -errno, "cannot set offloads on %s: %s", what,
				 strerror(errno));
	return 0;
}

int tap_open(const struct net_options *opts, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	char what[64];
	int fd, r;

	if (opts->fd >= 0) {
		snprintf(what, sizeof(what), "the tap at fd %d", opts->fd);
		if (ioctl(opts->fd, TUNGETIFF, &ifr) < 0)
			return error_set(err, errlen, -errno, "fd %d is not a tap device: %s", opts->fd,
					 strerror(errno));
		if ((ifr.ifr_flags & (IFF_TAP | IFF_TUN)) != IFF_TAP || !(ifr.ifr_flags & IFF_NO_PI) ||
		    !(ifr.ifr_flags & IFF_VNET_HDR))
			return error_set(err, errlen, -EINVAL,
					 "fd %d must be a tap opened with IFF_TAP, IFF_NO_PI and IFF_VNET_HDR",
					 opts->fd);
		r = tap_setup(opts->fd, what, err, errlen);
		return r < 0 ? r : opts->fd;
	}
	snprintf(what, sizeof(what), "tap %s", opts->ifname);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errlen, -errno, "cannot open /dev/net/tun: %s", strerror(errno));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, opts->ifname, sizeof(ifr.ifr_name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		return error_set(err, errlen, r, "cannot open tap %s: %s%s", opts->ifname, strerror(-r),
				 r == -EPERM ? " (make it with `ip tuntap add dev NAME mode tap user USER "
					       "vnet_hdr`, or run as root)"
					     : "");
	}
	r = tap_setup(fd, what, err, errlen);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int tap_set_offload(int fd, unsigned int tun_flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0 ? -errno : 0;
}
