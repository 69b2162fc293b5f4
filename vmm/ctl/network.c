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

static int net_info(struct ctl *c, const char *name)
{
	json_object *res = call(c, "net.info", name_params(name));

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

static int net_simple(struct ctl *c, const char *method, const char *name, const char *done)
{
	json_object *res = call(c, method, name_params(name));

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Network %s %s\n\n", name, done);
	json_object_put(res);
	return 0;
}

static int net_autostart(struct ctl *c, const struct args *a)
{
	json_object *p = name_params(a->pos[0]), *res;

	json_object_object_add(p, "enable", json_object_new_boolean(!a->disable));
	res = call(c, "net.autostart", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Network %s %s\n\n", a->pos[0],
	       a->disable ? "unmarked as autostarted" : "marked as autostarted");
	json_object_put(res);
	return 0;
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

static int domifaddr(struct ctl *c, const char *name)
{
	json_object *res = call(c, "domain.ifaddr", name_params(name)), *arr;

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

static const struct {
	const char *name, *options, *usage;
	unsigned int npos;
} commands[] = {
	{ "net-list", "--all", "net-list [--all]", 0 },
	{ "net-define", "", "net-define FILE", 1 },
	{ "net-start", "", "net-start NAME", 1 },
	{ "net-destroy", "", "net-destroy NAME", 1 },
	{ "net-undefine", "", "net-undefine NAME", 1 },
	{ "net-dumpxml", "", "net-dumpxml NAME", 1 },
	{ "net-info", "", "net-info NAME", 1 },
	{ "net-autostart", "--disable", "net-autostart [--disable] NAME", 1 },
	{ "net-dhcp-leases", "--mac", "net-dhcp-leases NAME [--mac MAC]", 1 },
	{ "domifaddr", "", "domifaddr NAME", 1 },
};

bool network_command_known(const char *cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return true;
	return false;
}

int network_command(struct ctl *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	struct args a;
	size_t i;

	for (i = 0; strcmp(cmd, commands[i].name) != 0; i++)
		;
	if (parse_args(argc, argv, commands[i].options, commands[i].npos, &a, commands[i].usage))
		return 1;
	if (strcmp(cmd, "net-list") == 0)
		return net_list(c, &a);
	if (strcmp(cmd, "net-define") == 0)
		return define_from_file(c, "net.define", a.pos[0], "Network");
	if (strcmp(cmd, "net-start") == 0)
		return net_simple(c, "net.start", a.pos[0], "started");
	if (strcmp(cmd, "net-destroy") == 0)
		return net_simple(c, "net.destroy", a.pos[0], "destroyed");
	if (strcmp(cmd, "net-undefine") == 0)
		return net_simple(c, "net.undefine", a.pos[0], "has been undefined");
	if (strcmp(cmd, "net-dumpxml") == 0)
		return print_xml(c, "net.dumpxml", a.pos[0]);
	if (strcmp(cmd, "net-info") == 0)
		return net_info(c, a.pos[0]);
	if (strcmp(cmd, "net-autostart") == 0)
		return net_autostart(c, &a);
	if (strcmp(cmd, "net-dhcp-leases") == 0)
		return net_leases(c, &a);
	return domifaddr(c, a.pos[0]);
}
