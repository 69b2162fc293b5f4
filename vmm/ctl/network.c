/* vmmctl's net-* commands and domifaddr, shaped like virsh's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/ctl/ctl.h"

static bool flag(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static int net_list(struct ctl *c, const struct args *a)
{
	json_object *res = call(c, "net.list", NULL), *arr;

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_object_object_get_ex(res, "networks", &arr);
	printf(" %-20s %-10s %-11s %s\n", "Name", "State", "Autostart", "Persistent");
	printf("----------------------------------------------------------\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *n = json_object_array_get_idx(arr, i);

		if (strcmp(str(n, "state"), "active") != 0 && !a->all)
			continue;
		printf(" %-20s %-10s %-11s %s\n", str(n, "name"), str(n, "state"),
		       flag(n, "autostart") ? "yes" : "no", "yes");
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

static int net_info(struct ctl *c, const struct args *a)
{
	json_object *res = call(c, "net.info", name_params(a->pos[0]));

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("%-16s%s\n", "Name:", str(res, "name"));
	printf("%-16s%s\n", "UUID:", str(res, "uuid"));
	printf("%-16s%s\n", "Active:", strcmp(str(res, "state"), "active") ? "no" : "yes");
	printf("%-16s%s\n", "Persistent:", "yes");
	printf("%-16s%s\n", "Autostart:", flag(res, "autostart") ? "yes" : "no");
	printf("%-16s%s\n", "Bridge:", str(res, "bridge"));
	printf("%-16s%s\n", "Forward:", str(res, "forward"));
	if (*str(res, "address"))
		printf("%-16s%s/%lld\n", "Address:", str(res, "address"), num(res, "prefix"));
	if (*str(res, "dhcp_start"))
		printf("%-16s%s - %s\n", "DHCP range:", str(res, "dhcp_start"), str(res, "dhcp_end"));
	printf("\n");
	json_object_put(res);
	return 0;
}

static int net_start(struct ctl *c, const struct args *a)
{
	return name_call(c, "net.start", a->pos[0], "Network", false, "started");
}

static int net_destroy(struct ctl *c, const struct args *a)
{
	return name_call(c, "net.destroy", a->pos[0], "Network", false, "destroyed");
}

static int net_undefine(struct ctl *c, const struct args *a)
{
	return name_call(c, "net.undefine", a->pos[0], "Network", false, "has been undefined");
}

static int net_define(struct ctl *c, const struct args *a)
{
	return define_from_file(c, "net.define", a->pos[0], "Network");
}

static int net_dumpxml(struct ctl *c, const struct args *a)
{
	return print_xml(c, "net.dumpxml", a->pos[0]);
}

static int net_autostart(struct ctl *c, const struct args *a)
{
	return autostart_call(c, "net.autostart", a->pos[0], "Network", false, a->disable);
}

static int net_leases(struct ctl *c, const struct args *a)
{
	json_object *p = name_params(a->pos[0]), *res, *arr;

	if (a->mac)
		json_object_object_add(p, "mac", json_object_new_string(a->mac));
	res = call(c, "net.leases", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_object_object_get_ex(res, "leases", &arr);
	printf(" %-21s %-19s %-10s %-20s %s\n", "Expiry Time", "MAC address", "Protocol",
	       "IP address", "Hostname");
	printf("-----------------------------------------------------------------------------"
	       "-------------\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *l = json_object_array_get_idx(arr, i);
		time_t t = (time_t)num(l, "expiry");
		char when[32], ip[64];

		if (t)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
		else
			snprintf(when, sizeof(when), "never");
		snprintf(ip, sizeof(ip), "%s/%lld", str(l, "ip"), num(l, "prefix"));
		printf(" %-21s %-19s %-10s %-20s %s\n", when, str(l, "mac"), "ipv4", ip,
		       *str(l, "hostname") ? str(l, "hostname") : "-");
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

static int domifaddr(struct ctl *c, const struct args *a)
{
	json_object *res = call(c, "domain.ifaddr", name_params(a->pos[0])), *arr;

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_object_object_get_ex(res, "interfaces", &arr);
	printf(" %-10s %-20s %-12s %s\n", "Name", "MAC address", "Protocol", "Address");
	printf("-------------------------------------------------------------------------------\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *l = json_object_array_get_idx(arr, i);
		char ip[64];

		snprintf(ip, sizeof(ip), "%s/%lld", str(l, "ip"), num(l, "prefix"));
		printf(" %-10s %-20s %-12s %s\n", str(l, "interface"), str(l, "mac"), "ipv4", ip);
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

const struct command network_commands[] = {
	{ "net-list", "--all", "net-list [--all]", 0, net_list },
	{ "net-define", "", "net-define FILE", 1, net_define },
	{ "net-start", "", "net-start NAME", 1, net_start },
	{ "net-destroy", "", "net-destroy NAME", 1, net_destroy },
	{ "net-undefine", "", "net-undefine NAME", 1, net_undefine },
	{ "net-dumpxml", "", "net-dumpxml NAME", 1, net_dumpxml },
	{ "net-info", "", "net-info NAME", 1, net_info },
	{ "net-autostart", "--disable", "net-autostart [--disable] NAME", 1, net_autostart },
	{ "net-dhcp-leases", "--mac", "net-dhcp-leases NAME [--mac MAC]", 1, net_leases },
	{ "domifaddr", "", "domifaddr NAME", 1, domifaddr },
	{ NULL },
};
