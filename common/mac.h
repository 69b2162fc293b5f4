/* Ethernet MAC addresses as text: "52:54:00:12:34:56". */
#ifndef WEBKVM_COMMON_MAC_H
#define WEBKVM_COMMON_MAC_H

#include <stddef.h>
#include <stdint.h>

#define MAC_STRLEN 18 /* with the NUL */

/* Six two-digit hex bytes separated by colons; a unicast address. 0 or -EINVAL. */
int mac_parse(const char *s, uint8_t mac[6]);
void mac_format(const uint8_t mac[6], char out[MAC_STRLEN]);
/* A random address in 52:54:00:xx:xx:xx, the prefix QEMU and libvirt use. */
void mac_random(uint8_t mac[6]);

#endif
