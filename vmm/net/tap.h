/*
 * The host side of a guest NIC: a tap device that carries virtio-net
 * headers (IFF_VNET_HDR), opened by name or handed over as an fd.
 */
#ifndef WEBKVM_VMM_NET_TAP_H
#define WEBKVM_VMM_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header on every frame: struct virtio_net_hdr_v1 (virtio 1.2 §5.1.6). */
#define TAP_VNET_HDR_LEN 12

struct net_options {
	char ifname[IFNAMSIZ]; /* tap=IFNAME, or "" */
	int fd;                /* fd=N from the supervisor, or -1 */
	uint8_t mac[6];        /* mac=, or a random 52:54:00:xx:xx:xx */
	bool link_down;        /* link=down: the cable starts pulled */
};

/* Parse "tap=IFNAME" or "fd=N", then ",mac=MAC" and ",link=up|down". 0, or -EINVAL with err. */
int net_parse_options(const char *spec, struct net_options *ret_opts, char *err, size_t errlen);
/*
 * Open the tap named in opts, or check the one handed over, and set it up:
 * non-blocking, close-on-exec, TAP_VNET_HDR_LEN headers, no offloads yet.
 * The fd, or -errno with one sentence in err.
 */
int tap_open(const struct net_options *opts, char *err, size_t errlen);
/* Which offloads the guest takes (TUN_F_* from linux/if_tun.h). 0 or -errno. */
int tap_set_offload(int fd, unsigned int tun_flags);

#endif
