/*
 * Host network devices for VMs: the tap of each guest NIC, put on a
 * bridge. A tap belongs to the vmm that holds its fd and goes away with
 * that process, so a VM that ends for any reason leaves none behind.
 */
#ifndef WEBKVM_VMMD_NETDEV_H
#define WEBKVM_VMMD_NETDEV_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Make a tap (vnetN) for a guest NIC with guest_mac, with virtio-net
 * headers, on bridge, up. Its fd (close-on-exec), with its name in
 * ret_name; or -errno with one sentence in err, and nothing left behind.
 */
int netdev_tap_on_bridge(const char *bridge, const uint8_t guest_mac[6],
			 char ret_name[IFNAMSIZ], char *err, size_t errlen);

#endif
