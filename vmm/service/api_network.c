/*
 * The API's network methods: net.list, net.define, net.undefine,
 * net.start, net.destroy, net.dumpxml, net.info, net.autostart,
 * net.leases; and domain.ifaddr, a VM's addresses from the leases of the
 * networks its interfaces are on. Networks are named by params.name.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mac.h"
#include "vmm/service/api.h"

static struct network *param_network(struct api_ctx *c)
{
	const char *name = api_string(c, "name");
	struct network *net;

	if (!name)
		return NULL;
	net = network_find(c->d, name);
	if (!net)
		api_fail(c, "no-network", "no network named '%s'", name);
	return net;
}

static const char *forward_name(enum network_forward f)
{
	return f == NETWORK_NAT ? "nat" : f == NETWORK_BRIDGE ? "bridge" : "isolated";
}

static json_object *ip_string(uint32_t ip)
{
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &(struct in_addr){ htonl(ip) }, s, sizeof(s));
	return json_object_new_string(s);
}

static bool domain_on_network(const struct domain *dom, const char *network)
{
	for (unsigned int i = 0; i < dom->def->nifaces; i++)
		if (dom->def->ifaces[i].type == IFACE_NETWORK &&
		    strcmp(dom->def->ifaces[i].source, network) == 0)
			return true;
	return false;
}

/* The VMs with an interface on it ({name, running}), and its DHCP's static hosts. */
static void network_users_and_hosts(const struct vmmd *d, const struct network_def *def,
				    json_object *o)
{
	json_object *vms = json_object_new_array(), *hosts = json_object_new_array();
	unsigned int running = 0;

	for (unsigned int i = 0; i < d->ndomains; i++) {
		const struct domain *dom = d->domains[i];
		json_object *v;

		if (!domain_on_network(dom, def->name))
			continue;
		v = json_object_new_object();
		json_object_object_add(v, "name", json_object_new_string(dom->def->name));
		json_object_object_add(v, "running", json_object_new_boolean(dom->pid != 0));
		json_object_array_add(vms, v);
		running += dom->pid != 0;
	}
	json_object_object_add(o, "vms", vms);
	json_object_object_add(o, "running_vms", json_object_new_int((int)running));
	for (unsigned int i = 0; i < def->nhosts; i++) {
		json_object *h = json_object_new_object();
		char mac[MAC_STRLEN];

		mac_format(def->hosts[i].mac, mac);
		json_object_object_add(h, "mac", json_object_new_string(mac));
		json_object_object_add(h, "ip", ip_string(def->hosts[i].ip));
		if (def->hosts[i].name)
			json_object_object_add(h, "name", json_object_new_string(def->hosts[i].name));
		json_object_array_add(hosts, h);
	}
	json_object_object_add(o, "hosts", hosts);
}

/* The first running VM with an interface on it, or NULL. */
static const char *network_running_user(const struct vmmd *d, const char *network)
{
	for (unsigned int i = 0; i < d->ndomains; i++)
		if (d->domains[i]->pid && domain_on_network(d->domains[i], network))
			return d->domains[i]->def->name;
	return NULL;
}

static json_object *network_summary(const struct vmmd *d, const struct network *net)
{
	const struct network_def *def = net->def;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(def->name));
	json_object_object_add(o, "uuid", json_object_new_string(def->uuid));
	json_object_object_add(o, "state",
			       json_object_new_string(net->active ? "active" : "inactive"));
	json_object_object_add(o, "autostart", json_object_new_boolean(net->autostart));
	json_object_object_add(o, "forward", json_object_new_string(forward_name(def->forward)));
	json_object_object_add(o, "bridge", json_object_new_string(def->bridge));
	if (def->forward != NETWORK_BRIDGE) {
		json_object_object_add(o, "address", ip_string(def->address));
		json_object_object_add(o, "prefix", json_object_new_int((int)def->prefix));
		if (def->dhcp && def->dhcp_start) {
			json_object_object_add(o, "dhcp_start", ip_string(def->dhcp_start));
			json_object_object_add(o, "dhcp_end", ip_string(def->dhcp_end));
		}
	}
	network_users_and_hosts(d, def, o);
	return o;
}

json_object *api_net_list(struct api_ctx *c)
{
	json_object *arr = json_object_new_array(), *o = json_object_new_object();

	for (unsigned int i = 0; i < c->d->nnetworks; i++)
		json_object_array_add(arr, network_summary(c->d, c->d->networks[i]));
	json_object_object_add(o, "networks", arr);
	return o;
}

json_object *api_net_define(struct api_ctx *c)
{
	const char *xml = api_string(c, "xml");
	struct network *net;
	bool only_new = false;
	struct network_def *def;

	if (!xml)
		return NULL;
	/* params.new: define a network of a name not yet taken, never change one */
	if (json_object_object_get_ex(c->params, "new", NULL) &&
	    !json_get_bool(c->params, "new", &only_new))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.new is not true or false");
	if (only_new && network_def_parse(&def, xml, strlen(xml), c->err, sizeof(c->err)) == 0) {
		net = network_find(c->d, def->name);
		network_def_free(def);
		if (net)
			return api_fail(c, "network-exists", "a network named %s exists already",
					net->def->name);
	}
	if (network_define(c->d, xml, strlen(xml), &net, &c->code, c->err,
				   sizeof(c->err)) < 0)
		return NULL;
	return network_summary(c->d, net);
}

json_object *api_net_undefine(struct api_ctx *c)
{
	struct network *net = param_network(c);

	if (!net || network_undefine(c->d, net, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return json_object_new_object();
}

json_object *api_net_start(struct api_ctx *c)
{
	struct network *net = param_network(c);

	if (!net || network_start(c->d, net, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return network_summary(c->d, net);
}

json_object *api_net_destroy(struct api_ctx *c)
{
	struct network *net = param_network(c);
	const char *vm;

	if (!net)
		return NULL;
	/* its bridge and DHCP would go from under the VM */
	vm = net->active ? network_running_user(c->d, net->def->name) : NULL;
	if (vm)
		return api_fail(c, "invalid-state", "the running VM %s is on the network %s",
				vm, net->def->name);
	if (network_stop(c->d, net, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return network_summary(c->d, net);
}

json_object *api_net_dumpxml(struct api_ctx *c)
{
	struct network *net = param_network(c);

	return net ? api_xml(c, network_def_format(net->def)) : NULL;
}

json_object *api_net_info(struct api_ctx *c)
{
	struct network *net = param_network(c);

	return net ? network_summary(c->d, net) : NULL;
}

json_object *api_net_autostart(struct api_ctx *c)
{
	struct network *net = param_network(c);
	bool on = true;

	if (!net)
		return NULL;
	if (json_object_object_get_ex(c->params, "enable", NULL) &&
	    !json_get_bool(c->params, "enable", &on))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.enable is not true or false");
	if (network_set_autostart(c->d, net, on, c->err, sizeof(c->err)) < 0) {
		c->code = "io-error";
		return NULL;
	}
	return network_summary(c->d, net);
}

static json_object *lease_object(const struct network_lease *l)
{
	json_object *o = json_object_new_object();
	char mac[MAC_STRLEN];

	mac_format(l->mac, mac);
	json_object_object_add(o, "expiry", json_object_new_int64(l->expiry));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "ip", ip_string(l->ip));
	json_object_object_add(o, "prefix", json_object_new_int((int)l->prefix));
	json_object_object_add(o, "hostname",
			       l->hostname ? json_object_new_string(l->hostname) : NULL);
	return o;
}

struct lease_filter {
	json_object *out;
	const uint8_t *mac;      /* only this MAC, or NULL */
	const char *iface;       /* added to each lease, or NULL */
};

static void add_lease(void *opaque, const struct network_lease *l)
{
	struct lease_filter *f = opaque;
	json_object *o;

	if (f->mac && memcmp(f->mac, l->mac, 6) != 0)
		return;
	o = lease_object(l);
	if (f->iface)
		json_object_object_add(o, "interface", json_object_new_string(f->iface));
	json_object_array_add(f->out, o);
}

json_object *api_net_leases(struct api_ctx *c)
{
	struct network *net = param_network(c);
	struct lease_filter f = { 0 };
	const char *mac_text;
	uint8_t mac[6];
	json_object *o;

	if (!net)
		return NULL;
	if (json_get_string(c->params, "mac", &mac_text)) {
		if (mac_parse(mac_text, mac) < 0)
			return api_fail(c, JSONRPC_INVALID_PARAMS, "'%s' is not a MAC address",
					mac_text);
		f.mac = mac;
	}
	if (!net->active)
		return api_fail(c, "invalid-state", "the network %s is not started",
				net->def->name);
	f.out = json_object_new_array();
	if (network_leases(c->d, net, add_lease, &f) < 0) {
		json_object_put(f.out);
		return api_fail(c, "io-error", "cannot read the leases of %s", net->def->name);
	}
	o = json_object_new_object();
	json_object_object_add(o, "leases", f.out);
	return o;
}

json_object *api_domain_ifaddr(struct api_ctx *c)
{
	const char *name = api_string(c, "name");
	struct domain *dom;
	json_object *o, *arr;

	if (!name)
		return NULL;
	dom = domain_find(c->d, name);
	if (!dom)
		return api_fail(c, "no-domain", "no VM named '%s'", name);
	if (dom->state != DOMAIN_RUNNING && dom->state != DOMAIN_PAUSED)
		return api_fail(c, "invalid-state", "%s is not running", name);
	arr = json_object_new_array();
	for (unsigned int i = 0; i < dom->def->nifaces; i++) {
		const struct domain_iface *f = &dom->def->ifaces[i];
		struct lease_filter lf = { .out = arr, .mac = f->mac };
		struct network *net;
		char label[32];

		if (f->type != IFACE_NETWORK || !(net = network_find(c->d, f->source)))
			continue;
		snprintf(label, sizeof(label), "%s", dom->tap_names[i][0] ? dom->tap_names[i] : "-");
		lf.iface = label;
		network_leases(c->d, net, add_lease, &lf);
	}
	o = json_object_new_object();
	json_object_object_add(o, "interfaces", arr);
	return o;
}
