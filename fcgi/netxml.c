/* The network form made into libvirt's network XML (netxml.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mac.h"
#include "common/name.h"
#include "fcgi/netxml.h"
#include "fcgi/vmlist.h"

#define HOSTS_TEXT_MAX (NETXML_HOSTS_MAX * 100)
#define HOST_NAME_MAX_LEN 63

static char *refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static char *refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return NULL;
}

/* A dotted IPv4 address as inet_pton reads it (four decimal parts), or false. */
static bool ipv4_valid(const char *s)
{
	struct in_addr a;

	return s && inet_pton(AF_INET, s, &a) == 1;
}

static void set(xmlNodePtr n, const char *attr, const char *value)
{
	xmlSetProp(n, (const xmlChar *)attr, (const xmlChar *)value);
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	return xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
}

/*
 * "10.80.0.1/24": the address in addr (INET_ADDRSTRLEN), the prefix in
 * prefix (as text). 0 or -EINVAL.
 */
static int split_cidr(const char *s, char *addr, char *prefix)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t len;
	char *end;
	long p;

	if (!slash || (len = (size_t)(slash - s)) >= INET_ADDRSTRLEN)
		return -EINVAL;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (!ipv4_valid(addr) || slash[1] < '1' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (errno || *end || p < 8 || p > 30)
		return -EINVAL;
	snprintf(prefix, 3, "%ld", p);
	return 0;
}

/* Each line of text "MAC IP [NAME]" as a <host> under dhcp. NULL or the XML's error. */
static char *add_hosts(xmlNodePtr dhcp, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text), *rest = copy, *line;
	unsigned int n = 0, lineno = 0;

	if (!copy)
		return refuse(err, errlen, "Out of memory.");
	/* strsep, not strtok: an empty line is a line, so that the numbers are the user's */
	while ((line = strsep(&rest, "\n"))) {
		char *mac, *ip, *name, *extra, *fsave = NULL;
		uint8_t m[6];
		xmlNodePtr h;

		lineno++;
		mac = strtok_r(line, " \t\r", &fsave);
		if (!mac)
			continue; /* an empty line */
		ip = strtok_r(NULL, " \t\r", &fsave);
		name = strtok_r(NULL, " \t\r", &fsave);
		extra = strtok_r(NULL, " \t\r", &fsave);
		if (!ip || extra || mac_parse(mac, m) < 0 || (m[0] & 1) || !ipv4_valid(ip) ||
		    (name && !name_valid(name, HOST_NAME_MAX_LEN, ""))) {
			free(copy);
			return refuse(err, errlen, "Static host line %u is not \"MAC address, IPv4 address, "
				      "and a host name if you like\" (a name has 1 to %d letters, digits, "
				      "'-', '_' or '.').", lineno, HOST_NAME_MAX_LEN);
		}
		if (++n > NETXML_HOSTS_MAX) {
			free(copy);
			return refuse(err, errlen, "A network has at most %d static hosts.", NETXML_HOSTS_MAX);
		}
		h = child(dhcp, "host");
		set(h, "mac", mac);
		set(h, "ip", ip);
		if (name)
			set(h, "name", name);
	}
	free(copy);
	return (char *)"";
}

char *netxml_from_form(const struct params *form, char *err, size_t errlen)
{
	const char *name = params_get(form, "name"), *mode = params_get(form, "mode");
	const char *bridge = params_get(form, "bridge"), *cidr = params_get(form, "address");
	const char *start = params_get(form, "dhcp_start"), *end = params_get(form, "dhcp_end");
	const char *hosts = "";
	char addr[INET_ADDRSTRLEN], prefix[3];
	xmlDocPtr doc;
	xmlNodePtr root, n;
	xmlChar *out = NULL;
	char *ret;
	int size = 0;
	bool dhcp;

	/* no '+': vmmd names nftables tables after networks */
	if (!name || !name_valid(name, VM_NAME_MAX, ""))
		return refuse(err, errlen, "A network's name has 1 to %d letters, digits, '-', '_' or "
			      "'.', and does not start with '-' or '.'.", VM_NAME_MAX);
	if (!mode || (strcmp(mode, "nat") && strcmp(mode, "isolated") && strcmp(mode, "bridge")))
		return refuse(err, errlen, "A network is NAT, isolated or bridged.");
	if (bridge && !*bridge)
		bridge = NULL;
	if (bridge && !name_valid(bridge, NETXML_BRIDGE_MAX, ""))
		return refuse(err, errlen, "A bridge's name has 1 to %d letters, digits, '-', '_' or '.'.",
			      NETXML_BRIDGE_MAX);
	if (!strcmp(mode, "bridge") && !bridge)
		return refuse(err, errlen, "A bridged network names the host's bridge (such as br0).");
	if (params_bool(form, "dhcp", &dhcp) < 0)
		return refuse(err, errlen, "DHCP is on or off.");
	if (params_get(form, "hosts") && params_text(form, "hosts", HOSTS_TEXT_MAX, true, &hosts) < 0)
		return refuse(err, errlen, "The static hosts are lines of text, at most %d bytes.",
			      HOSTS_TEXT_MAX);
	if (strcmp(mode, "bridge")) {
		if (split_cidr(cidr, addr, prefix) < 0)
			return refuse(err, errlen, "The host's address on the network is an IPv4 address "
				      "and a prefix of 8 to 30, such as 10.80.0.1/24.");
		if (dhcp && (!ipv4_valid(start) || !ipv4_valid(end)))
			return refuse(err, errlen, "DHCP gives addresses from a first to a last IPv4 address.");
		if (!dhcp && hosts[strspn(hosts, " \t\r\n")])
			return refuse(err, errlen, "Static hosts are given by DHCP: turn it on for them.");
	}

	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = xmlNewNode(NULL, (const xmlChar *)"network");
	xmlDocSetRootElement(doc, root);
	xmlNewTextChild(root, NULL, (const xmlChar *)"name", (const xmlChar *)name);
	if (strcmp(mode, "isolated"))
		set(child(root, "forward"), "mode", mode);
	if (bridge) {
		n = child(root, "bridge");
		set(n, "name", bridge);
	}
	if (strcmp(mode, "bridge")) {
		n = child(root, "ip");
		set(n, "address", addr);
		set(n, "prefix", prefix);
		if (dhcp) {
			xmlNodePtr d = child(n, "dhcp"), range = child(d, "range");

			set(range, "start", start);
			set(range, "end", end);
			if (!add_hosts(d, hosts, err, errlen)) {
				xmlFreeDoc(doc);
				return NULL;
			}
		}
	}
	xmlDocDumpFormatMemory(doc, &out, &size, 1);
	xmlFreeDoc(doc);
	ret = out ? strndup((const char *)out, (size_t)size) : NULL;
	xmlFree(out);
	if (!ret)
		return refuse(err, errlen, "Out of memory.");
	return ret;
}
