/*
 * Host network devices for VMs: the tap of each guest NIC, put on a
 * bridge. A tap belongs to the vmm that holds its fd and goes away with
 * that process, so a VM that ends for any reason leaves none behind.
 */
#ifndef WEBKVM_VMMD_NETDEV_H
#define WEBKVM_VMMD_NETDEV_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Make a tap (vnetN) for a guest NIC with guest_mac, with virtio-net
 * headers, on bridge, up. Its fd (close-on-exec), with its name in
 * ret_name; or -errno with one sentence in err, and nothing left behind.
 */
int netdev_tap_on_bridge(const char *bridge, const uint8_t guest_mac[6],
			 char ret_name[IFNAMSIZ], char *err, size_t errlen);

/* Whether a network device of that name exists on the host. */
bool netdev_exists(const char *name);
/* Whether name is a bridge. */
bool netdev_is_bridge(const char *name);

/*
 * Make bridge name with mac, address/prefix (host byte order), spanning
 * tree on or off and a forward delay in seconds, and bring it up. 0, or -errno with one
 * sentence in err, and no bridge left behind.
 */
int netdev_bridge_create(const char *name, const uint8_t mac[6], uint32_t address,
			 unsigned int prefix, bool stp, unsigned int delay, char *err,
			 size_t errlen);
/* Take the bridge down and delete it; its ports stay, off it. 0 or -errno. */
int netdev_bridge_delete(const char *name);

/*
 * Whether an IPv4 address of some host interface lies in net/mask (host
 * byte order); if so, the interface and address in who ("eth0 10.0.0.5").
 */
bool netdev_subnet_in_use(uint32_t net, uint32_t mask, char *who, size_t len);

#endif
