/*
 * libFuzzer harness: vmmd's definition parsers (domain, pool, network
 * XML), which take what any member of group webkvm sends with
 * domain.define, pool.define and net.define. The first input byte picks
 * the parser; the rest is the document. Beyond no crash or leak:
 * - a refusal leaves a sentence and no definition;
 * - a definition taken holds what its header promises (a valid name, a
 *   uuid in canonical form, counts within their maxima, absolute paths);
 * - what dumpxml gives back (the *_format functions) is taken again, with
 *   the same name and uuid, and formats to the same text;
 * - a NAT or isolated network's dnsmasq configuration and nftables rules
 *   are printable lines that nothing from the definition broke apart.
 * tests/fuzz/run seeds it with the files of tests/xml/domain, pool and network.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "vmm/service/domain_xml.h"
#include "vmm/service/network_xml.h"
#include "vmm/service/pool_xml.h"

static bool uuid_canonical(const char *u)
{
	if (strlen(u) != XML_UUID_LEN)
		return false;
	for (int i = 0; i < XML_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]) || !u[i])
			return false;
	}
	return true;
}

static void refused(const char *err)
{
	if (!err[0])
		abort(); /* refused without a word */
}

static void domain(const char *xml, size_t len)
{
	struct domain_def *def = (struct domain_def *)1, *again = NULL;
	char err[512] = "", *out, *out2;

	if (domain_def_parse(&def, xml, len, err, sizeof(err)) < 0) {
		if (def)
			abort();
		refused(err);
		return;
	}
	if (!domain_name_valid(def->name) || !uuid_canonical(def->uuid) ||
	    def->ndisks > DOMAIN_MAX_DISKS || def->nifaces > DOMAIN_MAX_IFACES || !def->vcpus ||
	    def->memory_kib < 16 * 1024 || !def->kernel || def->kernel[0] != '/')
		abort();
	for (unsigned int i = 0; i < def->ndisks; i++) {
		if (def->disks[i].file[0] != '/' || strlen(def->disks[i].target) != 3)
			abort();
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(def->disks[i].target, def->disks[j].target) == 0)
				abort();
	}
	out = domain_def_format(def);
	if (!out || domain_def_parse(&again, out, strlen(out), err, sizeof(err)) < 0)
		abort(); /* dumpxml gave what define refuses */
	if (strcmp(again->name, def->name) || strcmp(again->uuid, def->uuid) || !again->uuid_given ||
	    again->ndisks != def->ndisks || again->nifaces != def->nifaces ||
	    again->memory_kib != def->memory_kib || again->vcpus != def->vcpus)
		abort();
	out2 = domain_def_format(again);
	if (!out2 || strcmp(out, out2))
		abort();
	free(out);
	free(out2);
	domain_def_free(again);
	domain_def_free(def);
}

static void pool(const char *xml, size_t len)
{
	struct pool_def *def = (struct pool_def *)1, *again = NULL;
	char err[512] = "", *out, *out2;

	if (pool_def_parse(&def, xml, len, err, sizeof(err)) < 0) {
		if (def)
			abort();
		refused(err);
		return;
	}
	if (!xml_name_valid(def->name) || !uuid_canonical(def->uuid) || def->path[0] != '/' ||
	    strcmp(def->path, "/") == 0 || strstr(def->path, "/../") || strstr(def->path, "/./"))
		abort();
	out = pool_def_format(def);
	if (!out || pool_def_parse(&again, out, strlen(out), err, sizeof(err)) < 0)
		abort();
	if (strcmp(again->name, def->name) || strcmp(again->uuid, def->uuid) ||
	    strcmp(again->path, def->path))
		abort();
	out2 = pool_def_format(again);
	if (!out2 || strcmp(out, out2))
		abort();
	free(out);
	free(out2);
	pool_def_free(again);
	pool_def_free(def);
}

/* Printable lines only; in each, the quotes (which nft needs paired) paired. */
static void check_lines(const char *text, bool quotes_paired)
{
	int quotes = 0;

	if (!text || (text[0] && text[strlen(text) - 1] != '\n'))
		abort();
	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			if (quotes_paired && quotes % 2)
				abort();
			quotes = 0;
		} else if ((unsigned char)*p < 0x20 && *p != '\t') {
			abort();
		} else if ((unsigned char)*p >= 0x7f) {
			abort();
		}
		quotes += *p == '"';
	}
}

static void network(const char *xml, size_t len)
{
	struct network_def *def = (struct network_def *)1, *again = NULL;
	char err[512] = "", *out, *out2, *conf, *rules;
	unsigned int hosts = 0;

	if (network_def_parse(&def, xml, len, err, sizeof(err)) < 0) {
		if (def)
			abort();
		refused(err);
		return;
	}
	if (!xml_name_valid(def->name) || strchr(def->name, '+') || !uuid_canonical(def->uuid) ||
	    def->nhosts > NETWORK_MAX_HOSTS || strlen(def->bridge) > NETWORK_BRIDGE_MAX)
		abort();
	out = network_def_format(def);
	if (!out || network_def_parse(&again, out, strlen(out), err, sizeof(err)) < 0)
		abort();
	if (strcmp(again->name, def->name) || strcmp(again->uuid, def->uuid) ||
	    again->forward != def->forward || again->nhosts != def->nhosts ||
	    again->address != def->address || again->prefix != def->prefix)
		abort();
	out2 = network_def_format(again);
	if (!out2 || strcmp(out, out2))
		abort();
	if (def->forward != NETWORK_BRIDGE) {
		if (!network_subnets_overlap(def, again))
			abort();
		if (!def->bridge[0] && network_def_set_bridge(def, "webkvm-fz0") < 0)
			abort();
		conf = network_dnsmasq_conf(def, "/run/webkvm/networks/fz");
		rules = network_nft_rules(def);
		check_lines(conf, false);
		check_lines(rules, true);
		for (const char *p = conf; (p = strstr(p, "\ndhcp-host=")); p++)
			hosts++;
		if (hosts != (def->dhcp ? def->nhosts : 0))
			abort();
		free(conf);
		free(rules);
	}
	free(out);
	free(out2);
	network_def_free(again);
	network_def_free(def);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		domain((const char *)data + 1, size - 1);
		break;
	case 1:
		pool((const char *)data + 1, size - 1);
		break;
	default:
		network((const char *)data + 1, size - 1);
		break;
	}
	return 0;
}
