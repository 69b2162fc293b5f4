/*
 * domain-xml [--pool|--network|--network-plan] FILE: check a domain (or a
 * storage pool, or a network) definition as vmmd does and print what
 * dumpxml would give back, or the error on stderr (exit status 1). With
 * --network-plan, print what starting the network sets up instead: its
 * dnsmasq configuration and nftables rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fd.h"
#include "common/mac.h"
#include "vmm/service/domain_xml.h"
#include "vmm/service/network_xml.h"
#include "vmm/service/pool_xml.h"

static int network(const char *buf, size_t len, bool plan)
{
	struct network_def *def;
	char err[512], *out, *conf, *rules, dir[256];

	if (network_def_parse(&def, buf, len, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (!plan) {
		out = network_def_format(def);
		fputs(out, stdout);
		free(out);
	} else if (def->forward == NETWORK_BRIDGE) {
		printf("# the host's bridge %s, as it is: nothing to set up\n", def->bridge);
	} else {
		snprintf(dir, sizeof(dir), "/run/webkvm/networks/%s", def->name);
		conf = network_dnsmasq_conf(def, dir);
		rules = network_nft_rules(def);
		printf("--- dnsmasq.conf\n%s--- nft\n%s", conf, rules);
		free(conf);
		free(rules);
	}
	network_def_free(def);
	return 0;
}

int main(int argc, char **argv)
{
	struct domain_def *def = NULL;
	struct pool_def *pool = NULL;
	const char *kind = argc == 3 ? argv[1] : "";
	const char *file = argv[argc - 1];
	bool is_pool = !strcmp(kind, "--pool");
	char err[512], *out;
	void *buf;
	size_t len;
	int r;

	if (argc < 2 || argc > 3 ||
	    (argc == 3 && !is_pool && strcmp(kind, "--network") && strcmp(kind, "--network-plan"))) {
		fprintf(stderr, "usage: domain-xml [--pool|--network|--network-plan] FILE\n");
		return 2;
	}
	r = read_file(file, DOMAIN_XML_MAX + 1, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "cannot read %s: %s\n", file, strerror(-r));
		return 2;
	}
	if (!strncmp(kind, "--network", 9)) {
		r = network(buf, len, !strcmp(kind, "--network-plan"));
		free(buf);
		return r;
	}
	r = is_pool ? pool_def_parse(&pool, buf, len, err, sizeof(err))
		    : domain_def_parse(&def, buf, len, err, sizeof(err));
	free(buf);
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	out = is_pool ? pool_def_format(pool) : domain_def_format(def);
	fputs(out, stdout);
	free(out);
	domain_def_free(def);
	pool_def_free(pool);
	return 0;
}
