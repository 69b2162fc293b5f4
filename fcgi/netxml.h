/*
 * The network form (pages/networks.c) made into libvirt's network XML:
 * NAT, isolated or bridged, with the host's address and prefix on the
 * bridge, a DHCP range and static hosts. Each field is checked here for
 * its form (a name, an IPv4 address, a MAC); vmmd checks the whole again
 * (the range in the subnet, a free bridge and subnet) and says what is
 * wrong in its own words.
 */
#ifndef WEBKVM_FCGI_NETXML_H
#define WEBKVM_FCGI_NETXML_H

#include <stddef.h>

#include "fcgi/params.h"

#define NETXML_HOSTS_MAX 256
#define NETXML_BRIDGE_MAX 15 /* a Linux device name */

/*
 * The form's fields: name, mode (nat, isolated, bridge), bridge, address
 * ("10.80.0.1/24"), dhcp (on), dhcp_start, dhcp_end, hosts (one "MAC IP
 * [NAME]" a line). The XML (the caller frees it), or NULL with one
 * sentence in err that names the field.
 */
char *netxml_from_form(const struct params *form, char *err, size_t errlen);

#endif
