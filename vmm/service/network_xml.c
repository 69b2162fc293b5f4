/*
 * Network definitions (libvirt's network XML, IPv4).
 *
 * NOTES
 * - One <ip> with one DHCP <range> and static <host> entries (the rule
 *   table refuses a second <ip> or <range>), as
 *   virt-manager writes them. The host's address must not be the subnet's
 *   first or last, nor lie in the range; hosts must lie in the subnet,
 *   outside the host's address, each MAC and address once.
 * - The nftables rules follow libvirt's for NAT: masquerade what leaves
 *   the subnet (but not multicast or broadcast), forward what comes from
 *   the subnet and what answers it, refuse the rest to and from the
 *   bridge. An isolated network forwards nothing. Guests on one bridge
 *   talk to each other over the bridge; nftables sees that traffic only
 *   where br_netfilter is loaded, and it is let through first.
 */
#include "vmm/service/network_xml.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/mac.h"

static const struct xml_rule network_rules[] = {
	{ "network", "connections", 0 },
	{ "network/name", NULL, XML_RULE_TEXT },
	{ "network/uuid", NULL, XML_RULE_TEXT },
	{ "network/forward", "mode dev", 0 },
	{ "network/forward/nat", NULL, 0 },
	{ "network/forward/nat/port", "start end", 0 },
	{ "network/bridge", "name stp delay", 0 },
	{ "network/mac", "address", 0 },
	{ "network/domain", "name localOnly", 0 },
	{ "network/ip", "family address netmask prefix", 0 },
	{ "network/ip/dhcp", NULL, 0 },
	{ "network/ip/dhcp/range", "start end", 0 },
	{ "network/ip/dhcp/host", "mac name ip", XML_RULE_MANY },
	{ NULL, NULL, 0 },
};

static const struct xml_definition network_kind = {
	.root = "network", .rules = network_rules, .max = NETWORK_XML_MAX, .noun = "network",
};

static int parse_ip4(const char *s, uint32_t *ret)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ret = ntohl(a.s_addr);
	return 0;
}

static void format_ip4(uint32_t ip, char out[INET_ADDRSTRLEN])
{
	struct in_addr a = { .s_addr = htonl(ip) };

	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

uint32_t network_mask(const struct network_def *def)
{
	return def->prefix ? ~0u << (32 - def->prefix) : 0;
}

static bool in_subnet(const struct network_def *def, uint32_t ip)
{
	uint32_t m = network_mask(def);

	return (ip & m) == (def->address & m);
}

/* In the subnet, and neither its first (the network) nor its last (broadcast) address. */
static bool usable(const struct network_def *def, uint32_t ip)
{
	uint32_t m = network_mask(def);

	return in_subnet(def, ip) && (ip & ~m) != 0 && (ip & ~m) != ~m;
}

bool network_subnets_overlap(const struct network_def *a, const struct network_def *b)
{
	uint32_t m;

	if (a->forward == NETWORK_BRIDGE || b->forward == NETWORK_BRIDGE)
		return false;
	m = network_mask(a) & network_mask(b); /* the shorter prefix */
	return (a->address & m) == (b->address & m);
}

static bool bridge_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NETWORK_BRIDGE_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static int parse_ip(struct network_def *def, xmlNodePtr ip, char *err, size_t errlen)
{
	const char *v, *netmask = xml_attr(ip, "netmask"), *prefix = xml_attr(ip, "prefix");
	xmlNodePtr dhcp = xml_child(ip, "dhcp"), range, h;
	uint32_t mask;

	if ((v = xml_attr(ip, "family")) && strcmp(v, "ipv4") != 0)
		return error_set(err, errlen, -EINVAL, "unsupported <ip family='%s'> (webkvm has ipv4)",
				 v);
	if (parse_ip4(xml_attr(ip, "address"), &def->address) < 0)
		return error_set(err, errlen, -EINVAL, "<ip address='%s'> is not an IPv4 address",
				 xml_attr(ip, "address") ? xml_attr(ip, "address") : "");
	if (!netmask == !prefix)
		return error_set(err, errlen, -EINVAL, "<ip> needs netmask= or prefix=, one of them");
	if (prefix) {
		char *end;
		unsigned long p = strtoul(prefix, &end, 10);

		if (*prefix < '0' || *prefix > '9' || *end || p < 8 || p > 30)
			return error_set(err, errlen, -EINVAL,
					 "<ip prefix='%s'> is not a prefix from 8 to 30", prefix);
		def->prefix = p;
	} else {
		if (parse_ip4(netmask, &mask) < 0 || (mask & (~mask >> 1)) || /* not contiguous */
		    __builtin_popcount(mask) < 8 || __builtin_popcount(mask) > 30)
			return error_set(err, errlen, -EINVAL,
					 "<ip netmask='%s'> is not a netmask from /8 to /30", netmask);
		def->prefix = __builtin_popcount(mask);
	}
	if (!usable(def, def->address))
		return error_set(err, errlen, -EINVAL,
				 "<ip address='%s'> is its subnet's network or broadcast address",
				 xml_attr(ip, "address"));
	if (!dhcp)
		return 0;
	range = xml_child(dhcp, "range");
	if (range) {
		if (parse_ip4(xml_attr(range, "start"), &def->dhcp_start) < 0 ||
		    parse_ip4(xml_attr(range, "end"), &def->dhcp_end) < 0 ||
		    !usable(def, def->dhcp_start) || !usable(def, def->dhcp_end) ||
		    def->dhcp_start > def->dhcp_end)
			return error_set(err, errlen, -EINVAL,
					 "DHCP <range start='%s' end='%s'> is not an ordered range of "
					 "usable addresses in %s/%u",
					 xml_attr(range, "start") ? xml_attr(range, "start") : "",
					 xml_attr(range, "end") ? xml_attr(range, "end") : "",
					 xml_attr(ip, "address"), def->prefix);
		if (def->address >= def->dhcp_start && def->address <= def->dhcp_end)
			return error_set(err, errlen, -EINVAL,
					 "the DHCP range holds the host's own address %s",
					 xml_attr(ip, "address"));
	}
	for (h = xml_child(dhcp, "host"); h; h = xml_next(h, "host")) {
		struct network_host *nh;

		if (def->nhosts == NETWORK_MAX_HOSTS)
			return error_set(err, errlen, -EINVAL, "at most %d DHCP hosts", NETWORK_MAX_HOSTS);
		nh = &def->hosts[def->nhosts];
		if (!(v = xml_attr(h, "mac")) || mac_parse(v, nh->mac) < 0)
			return error_set(err, errlen, -EINVAL,
					 "DHCP <host mac='%s'> is not a unicast MAC address", v ? v : "");
		if (parse_ip4(xml_attr(h, "ip"), &nh->ip) < 0 || !usable(def, nh->ip) ||
		    nh->ip == def->address)
			return error_set(err, errlen, -EINVAL,
					 "DHCP <host ip='%s'> is not a guest's address in %s/%u",
					 xml_attr(h, "ip") ? xml_attr(h, "ip") : "",
					 xml_attr(ip, "address"), def->prefix);
		nh->name = xml_attr(h, "name");
		if (nh->name && !xml_name_valid(nh->name))
			return error_set(err, errlen, -EINVAL, "DHCP <host name='%s'> is not a host name",
					 nh->name);
		for (unsigned int i = 0; i < def->nhosts; i++)
			if (!memcmp(def->hosts[i].mac, nh->mac, 6) || def->hosts[i].ip == nh->ip)
				return error_set(err, errlen, -EINVAL,
						 "DHCP hosts %s and %s share a MAC or an address",
						 xml_attr(h, "mac"), xml_attr(h, "ip"));
		def->nhosts++;
	}
	def->dhcp = range || def->nhosts;
	return 0;
}

int network_def_parse(struct network_def **ret, const char *xml, size_t len, char *err,
		      size_t errlen)
{
	struct network_def *def;
	xmlNodePtr root, fwd, br, ip, mac, dom;
	const char *v;
	int r = -EINVAL;

	*ret = NULL;
	def = calloc(1, sizeof(*def));
	if (!def)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	def->doc = xml_parse_definition(&network_kind, xml, len, def->name, def->uuid,
					&def->uuid_given, err, errlen);
	if (!def->doc)
		goto fail;
	if (strchr(def->name, '+')) {
		error_set(err, errlen, r, "a network name has no '+' (it names nftables tables)");
		goto fail;
	}
	root = xmlDocGetRootElement(def->doc);
	fwd = xml_child(root, "forward");
	br = xml_child(root, "bridge");
	ip = xml_child(root, "ip");
	mac = xml_child(root, "mac");
	def->forward = NETWORK_ISOLATED;
	if (fwd) {
		v = xml_attr(fwd, "mode");
		if (!v || !strcmp(v, "nat")) {
			def->forward = NETWORK_NAT;
		} else if (!strcmp(v, "bridge")) {
			def->forward = NETWORK_BRIDGE;
		} else {
			error_set(err, errlen, r,
				  "unsupported <forward mode='%s'> (nat, bridge, or no <forward> for "
				  "an isolated network)", v);
			goto fail;
		}
		def->forward_dev = xml_attr(fwd, "dev");
		if (def->forward_dev && (def->forward != NETWORK_NAT ||
					 !bridge_name_valid(def->forward_dev))) {
			error_set(err, errlen, r, "<forward dev='%s'> is a device name for NAT only",
				  def->forward_dev);
			goto fail;
		}
	}
	if (br && (v = xml_attr(br, "name"))) {
		if (!bridge_name_valid(v)) {
			error_set(err, errlen, r,
				  "<bridge name='%s'> is not a device name (1 to %d letters, digits, "
				  "'-', '_', '.')", v, NETWORK_BRIDGE_MAX);
			goto fail;
		}
		snprintf(def->bridge, sizeof(def->bridge), "%s", v);
	}
	if ((v = xml_attr(br, "stp")) && strcmp(v, "on") && strcmp(v, "off")) {
		error_set(err, errlen, r, "<bridge stp='%s'> is on or off", v);
		goto fail;
	}
	def->stp = !v || strcmp(v, "on") == 0; /* on unless said, as in libvirt */
	if ((v = xml_attr(br, "delay"))) {
		char *end;
		unsigned long delay = strtoul(v, &end, 10);

		if (!*v || *end || delay > 30) {
			error_set(err, errlen, r, "<bridge delay='%s'> is 0 to 30 seconds", v);
			goto fail;
		}
		def->delay = (unsigned int)delay;
	}
	if (def->forward == NETWORK_BRIDGE) {
		if (!def->bridge[0] || ip || mac || xml_child(root, "domain")) {
			error_set(err, errlen, r,
				  "a <forward mode='bridge'/> network names the host's bridge "
				  "(<bridge name='br0'/>) and has no <ip>, <mac> or <domain>");
			goto fail;
		}
		*ret = def;
		return 0;
	}
	if (!ip) {
		error_set(err, errlen, r, "a NAT or isolated network needs an <ip>");
		goto fail;
	}
	if (parse_ip(def, ip, err, errlen) < 0)
		goto fail;
	if (mac) {
		if (!(v = xml_attr(mac, "address")) || mac_parse(v, def->mac) < 0) {
			error_set(err, errlen, r, "<mac address='%s'> is not a unicast MAC address",
				  v ? v : "");
			goto fail;
		}
		def->mac_given = true;
	}
	dom = xml_child(root, "domain");
	if (dom) {
		def->domain = xml_attr(dom, "name");
		if (!def->domain || !xml_name_valid(def->domain)) {
			error_set(err, errlen, r, "<domain name='%s'> is not a DNS domain",
				  def->domain ? def->domain : "");
			goto fail;
		}
	}
	*ret = def;
	return 0;
fail:
	network_def_free(def);
	return r;
}

void network_def_free(struct network_def *def)
{
	if (!def)
		return;
	if (def->doc)
		xmlFreeDoc(def->doc);
	free(def);
}

char *network_def_format(const struct network_def *def)
{
	return xml_format(def->doc);
}

int network_def_set_uuid(struct network_def *def, const char *uuid)
{
	return xml_set_uuid(def->doc, uuid, def->uuid);
}

int network_def_set_bridge(struct network_def *def, const char *bridge)
{
	xmlNodePtr root = xmlDocGetRootElement(def->doc), br = xml_child(root, "bridge");

	if (!br && !(br = xmlNewChild(root, NULL, (const xmlChar *)"bridge", NULL)))
		return -ENOMEM;
	if (!xmlSetProp(br, (const xmlChar *)"name", (const xmlChar *)bridge))
		return -ENOMEM;
	snprintf(def->bridge, sizeof(def->bridge), "%s", bridge);
	return 0;
}

int network_def_set_mac(struct network_def *def, const uint8_t mac[6])
{
	xmlNodePtr root = xmlDocGetRootElement(def->doc), m = xml_child(root, "mac");
	char s[MAC_STRLEN];

	mac_format(mac, s);
	if (!m && !(m = xmlNewChild(root, NULL, (const xmlChar *)"mac", NULL)))
		return -ENOMEM;
	if (!xmlSetProp(m, (const xmlChar *)"address", (const xmlChar *)s))
		return -ENOMEM;
	memcpy(def->mac, mac, 6);
	def->mac_given = true;
	return 0;
}

/* A growing text. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if (t->buf && t->len + n < t->cap) {
			t->len += n;
			return;
		}
		size_t cap = (t->cap + n + 1) * 2;
		char *b = realloc(t->buf, cap);

		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

static char *done(struct text *t)
{
	if (t->failed) {
		free(t->buf);
		return NULL;
	}
	return t->buf ? t->buf : strdup("");
}

char *network_dnsmasq_conf(const struct network_def *def, const char *dir)
{
	struct text t = { 0 };
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN], mac[MAC_STRLEN];

	format_ip4(def->address, a);
	format_ip4(network_mask(def), m);
	add(&t, "# dnsmasq for webkvm network %s\n", def->name);
	add(&t, "strict-order\n");
	add(&t, "pid-file=%s/dnsmasq.pid\n", dir);
	add(&t, "except-interface=lo\nbind-dynamic\ninterface=%s\n", def->bridge);
	add(&t, "listen-address=%s\n", a);
	if (def->domain)
		add(&t, "domain=%s\nexpand-hosts\nlocal=/%s/\n", def->domain, def->domain);
	if (def->forward == NETWORK_ISOLATED)
		add(&t, "# isolated: no default route for the guests\ndhcp-option=3\nno-resolv\n");
	if (def->dhcp) {
		if (def->dhcp_start) {
			format_ip4(def->dhcp_start, a);
			format_ip4(def->dhcp_end, b);
			add(&t, "dhcp-range=%s,%s,%s\n", a, b, m);
			add(&t, "dhcp-lease-max=%u\n", def->dhcp_end - def->dhcp_start + 1 + def->nhosts);
		} else {
			format_ip4(def->address & network_mask(def), a);
			add(&t, "dhcp-range=%s,static,%s\n", a, m);
		}
		add(&t, "dhcp-no-override\ndhcp-authoritative\n");
		add(&t, "dhcp-leasefile=%s/leases\n", dir);
		for (unsigned int i = 0; i < def->nhosts; i++) {
			mac_format(def->hosts[i].mac, mac);
			format_ip4(def->hosts[i].ip, a);
			add(&t, "dhcp-host=%s,%s%s%s\n", mac, a, def->hosts[i].name ? "," : "",
			    def->hosts[i].name ? def->hosts[i].name : "");
		}
	}
	return done(&t);
}

void network_nft_table(const struct network_def *def, char *out, size_t len)
{
	snprintf(out, len, "webkvm-%s", def->name);
}

char *network_nft_rules(const struct network_def *def)
{
	struct text t = { 0 };
	char net[INET_ADDRSTRLEN + 4], table[XML_NAME_MAX + 8];
	const char *br = def->bridge;

	format_ip4(def->address & network_mask(def), net);
	snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%u", def->prefix);
	network_nft_table(def, table, sizeof(table));
	add(&t, "table ip %s {\n", table);
	if (def->forward == NETWORK_NAT) {
		add(&t, "\tchain postrouting {\n");
		add(&t, "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
		add(&t, "\t\tip saddr %s ip daddr 224.0.0.0/24 return\n", net);
		add(&t, "\t\tip saddr %s ip daddr 255.255.255.255 return\n", net);
		add(&t, "\t\tip saddr %s ip daddr != %s%s%s%s masquerade\n", net, net,
		    def->forward_dev ? " oifname \"" : "", def->forward_dev ? def->forward_dev : "",
		    def->forward_dev ? "\"" : "");
		add(&t, "\t}\n");
	}
	add(&t, "\tchain forward {\n");
	add(&t, "\t\ttype filter hook forward priority filter; policy accept;\n");
	/* guest to guest on the bridge, seen here when br_netfilter is loaded */
	add(&t, "\t\tiifname \"%s\" oifname \"%s\" accept\n", br, br);
	if (def->forward == NETWORK_NAT) {
		add(&t, "\t\tiifname \"%s\" ip saddr %s accept\n", br, net);
		add(&t, "\t\toifname \"%s\" ip daddr %s ct state established,related accept\n", br,
		    net);
	}
	add(&t, "\t\tiifname \"%s\" reject\n", br);
	add(&t, "\t\toifname \"%s\" reject\n", br);
	add(&t, "\t}\n");
	add(&t, "}\n");
	return done(&t);
}
