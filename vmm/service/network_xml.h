/*
 * Network definitions: the subset of libvirt's network XML that webkvm
 * runs. NAT (<forward mode='nat'/>: a bridge of ours, DHCP and DNS from
 * dnsmasq, masquerading out of the host), isolated (no <forward>: a bridge
 * of ours with no route out) and bridge (<forward mode='bridge'/>: the
 * host's existing bridge, such as br0, as it is).
 */
#ifndef WEBKVM_VMMD_NETWORK_XML_H
#define WEBKVM_VMMD_NETWORK_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/service/xml.h"

#define NETWORK_XML_MAX (256 * 1024)
#define NETWORK_MAX_HOSTS 256
#define NETWORK_BRIDGE_MAX 15 /* IFNAMSIZ less the NUL */

enum network_forward { NETWORK_NAT, NETWORK_ISOLATED, NETWORK_BRIDGE };

struct network_host {
	uint8_t mac[6];
	uint32_t ip;                   /* host byte order */
	const char *name;              /* or NULL; points into the document */
};

struct network_def {
	xmlDocPtr doc;
	char name[XML_NAME_MAX + 1];
	char uuid[XML_UUID_LEN + 1];
	bool uuid_given;
	enum network_forward forward;
	char bridge[NETWORK_BRIDGE_MAX + 1]; /* "" when the definition left it to vmmd */
	bool stp;                      /* spanning tree on the bridge */
	unsigned int delay;            /* its forward delay, seconds */
	uint8_t mac[6];                /* the bridge's MAC (NAT and isolated) */
	bool mac_given;
	const char *forward_dev;       /* NAT only through this device, or NULL */
	const char *domain;            /* DNS domain, or NULL */
	/* NAT and isolated: */
	uint32_t address;              /* the host's address on the bridge (the gateway) */
	unsigned int prefix;           /* 8 to 30 */
	bool dhcp;
	uint32_t dhcp_start, dhcp_end;
	struct network_host hosts[NETWORK_MAX_HOSTS];
	unsigned int nhosts;
};

/* 0, or -EINVAL with one sentence in err that names what is wrong. */
int network_def_parse(struct network_def **ret, const char *xml, size_t len, char *err,
		      size_t errlen);
void network_def_free(struct network_def *def);
char *network_def_format(const struct network_def *def);
int network_def_set_uuid(struct network_def *def, const char *uuid);
/* Give a definition without one its bridge's name (kept in the XML). 0 or -ENOMEM. */
int network_def_set_bridge(struct network_def *def, const char *bridge);

/* Give a definition without one its bridge's MAC (kept in the XML). 0 or -ENOMEM. */
int network_def_set_mac(struct network_def *def, const uint8_t mac[6]);

/* The subnet's first address and mask, host byte order. */
uint32_t network_mask(const struct network_def *def);
/* Whether two definitions' subnets overlap (bridge networks have none). */
bool network_subnets_overlap(const struct network_def *a, const struct network_def *b);

/*
 * What starting a NAT or isolated network sets up, as text: dnsmasq's
 * configuration (its files under dir) and the nftables ruleset (table
 * "ip webkvm-NAME", which `nft delete table` removes whole). malloc'ed,
 * or NULL when out of memory.
 */
char *network_dnsmasq_conf(const struct network_def *def, const char *dir);
char *network_nft_rules(const struct network_def *def);
/* The nftables table's name: "webkvm-NAME". */
void network_nft_table(const struct network_def *def, char *out, size_t len);

#endif
