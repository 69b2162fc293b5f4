/*
 * Virtual networks (admin): the list with each one's state, bridge,
 * subnet, DHCP range, autostart and the VMs on it; a form that defines a
 * NAT, isolated or bridged network (netxml.c makes its XML); a network's
 * page with its definition, static hosts, DHCP leases and VMs; start,
 * stop, autostart and delete.
 *
 * NOTES
 * - vmmd keeps the networks and checks everything again: a stop while a
 *   running VM is on the network, a delete of a started one, a bridge or
 *   subnet in use. Its sentence is what the page shows.
 * - A network's name from the path is checked before it goes anywhere
 *   (vmmd, a redirect): a name vmmd could not have is "no such network".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonrpc.h"
#include "fcgi/audit.h"
#include "fcgi/netxml.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

static const char *forward_label(const char *forward)
{
	return !strcmp(forward, "nat") ? "NAT" : !strcmp(forward, "bridge") ? "bridged" : "isolated";
}

/* What the pages show of vmmd's summary, added to it. */
static void decorate(json_object *net)
{
	const char *forward = "", *state = "", *addr = NULL, *start = NULL, *end = NULL;
	json_object *vms = NULL;
	int64_t prefix = 0;
	char text[64];

	json_get_string(net, "forward", &forward);
	json_get_string(net, "state", &state);
	json_object_object_add(net, "forward_label", json_object_new_string(forward_label(forward)));
	json_object_object_add(net, "active", json_object_new_boolean(!strcmp(state, "active")));
	if (json_get_string(net, "address", &addr) && json_get_int64(net, "prefix", &prefix)) {
		snprintf(text, sizeof(text), "%s/%lld", addr, (long long)prefix);
		json_object_object_add(net, "subnet", json_object_new_string(text));
	}
	if (json_get_string(net, "dhcp_start", &start) && json_get_string(net, "dhcp_end", &end)) {
		snprintf(text, sizeof(text), "%s – %s", start, end);
		json_object_object_add(net, "dhcp", json_object_new_string(text));
	}
	json_object_object_get_ex(net, "vms", &vms);
	json_object_object_add(net, "vm_count",
			       json_object_new_int(vms ? (int)json_object_array_length(vms) : 0));
	if (json_get_int64(net, "running_vms", &prefix) && prefix > 0) {
		snprintf(text, sizeof(text), "%lld running", (long long)prefix);
		json_object_object_add(net, "running_note", json_object_new_string(text));
	}
	json_object_object_get_ex(net, "hosts", &vms);
	json_object_object_add(net, "has_hosts",
			       json_object_new_boolean(vms && json_object_array_length(vms) > 0));
}

/* Each lease's expiry as a date and time (UTC), or "static". */
static void lease_times(json_object *leases)
{
	for (size_t i = 0; i < json_object_array_length(leases); i++) {
		json_object *l = json_object_array_get_idx(leases, i);
		int64_t expiry = 0;
		char text[32] = "static";
		struct tm tm;
		time_t t;

		json_get_int64(l, "expiry", &expiry);
		t = (time_t)expiry;
		if (expiry > 0 && gmtime_r(&t, &tm))
			strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
		json_object_object_add(l, "expires", json_object_new_string(text));
	}
}

int page_networks(struct request *r)
{
	json_object *res = NULL, *nets = NULL, *ctx;
	char code[64], err[512];

	/* not vmmd_networks: an empty list would say there are none */
	if (vmmd_call(r->vmmd, "net.list", NULL, &res, code, sizeof(code), err, sizeof(err)) < 0 ||
	    !json_object_object_get_ex(res, "networks", &nets)) {
		json_object_put(res);
		return respond_error(r, 502, "The VM service did not answer: %s", err);
	}
	nets = json_object_get(nets);
	json_object_put(res);
	ctx = json_object_new_object();

	for (size_t i = 0; i < json_object_array_length(nets); i++)
		decorate(json_object_array_get_idx(nets, i));
	json_object_object_add(ctx, "networks", nets);
	json_object_object_add(ctx, "bridges", host_bridges());
	json_object_object_add(ctx, "nav_networks", json_object_new_boolean(1));
	return respond_page(r, "networks", "Networks", ctx);
}

int page_network_create(struct request *r)
{
	const char *name = params_get(&r->form, "name");
	json_object *params, *res = NULL;
	char code[64], err[512] = "";
	bool start, autostart;
	char *xml;

	if (params_bool(&r->form, "start", &start) < 0 ||
	    params_bool(&r->form, "autostart", &autostart) < 0)
		return respond_redirect_error(r, "/networks", "Start and autostart are on or off.");
	xml = netxml_from_form(&r->form, err, sizeof(err));
	if (!xml)
		return respond_redirect_error(r, "/networks", "%s", err);
	params = json_object_new_object();
	json_object_object_add(params, "xml", json_object_new_string(xml));
	json_object_object_add(params, "new", json_object_new_boolean(1));
	free(xml);
	if (vmmd_call(r->vmmd, "net.define", params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		audit_log(r, "create network", name, err);
		return respond_vmmd_refused(r, "/networks", code, err);
	}
	json_object_put(res);
	audit_log(r, "create network", name, "ok");
	return define_followups(r, "network", name, "net", autostart, start, "/networks");
}

/* The network the path names, vmmd's summary of it; or NULL, answered. */
static json_object *network_of(struct request *r)
{
	json_object *net = NULL;
	char code[64], err[512];

	if (!vm_name_valid(r->args[0])) {
		respond_error(r, 404, "There is no network named %s.", r->args[0]);
		return NULL;
	}
	if (vmmd_call(r->vmmd, "net.info", vmmd_name_params(r->args[0]), &net, code, sizeof(code), err,
		      sizeof(err)) < 0) {
		if (!strcmp(code, "no-network"))
			respond_error(r, 404, "There is no network named %s.", r->args[0]);
		else
			respond_error(r, 502, "The VM service did not answer: %s", err);
		return NULL;
	}
	return net;
}

int page_network(struct request *r)
{
	json_object *net = network_of(r), *ctx, *res = NULL, *leases;
	const char *forward = "", *xml = "";
	char code[64], err[512] = "";

	if (!net)
		return -1;
	decorate(net);
	ctx = json_object_new_object();
	json_object_object_add(ctx, "net", net);
	if (vmmd_call(r->vmmd, "net.dumpxml", vmmd_name_params(r->args[0]), &res, code, sizeof(code),
		      err, sizeof(err)) == 0 && json_get_string(res, "xml", &xml))
		json_object_object_add(ctx, "xml", json_object_new_string(xml));
	json_object_put(res);
	res = NULL;
	json_get_string(net, "forward", &forward);
	if (strcmp(forward, "bridge") &&
	    json_object_get_boolean(json_object_object_get(net, "active"))) {
		if (vmmd_call(r->vmmd, "net.leases", vmmd_name_params(r->args[0]), &res, code,
			      sizeof(code), err, sizeof(err)) == 0 &&
		    json_object_object_get_ex(res, "leases", &leases)) {
			lease_times(leases);
			json_object_object_add(ctx, "leases", json_object_get(leases));
			json_object_object_add(ctx, "has_leases", json_object_new_boolean(1));
		} else {
			json_object_object_add(ctx, "leases_error", json_object_new_string(err));
		}
		json_object_put(res);
	}
	json_object_object_add(ctx, "nav_networks", json_object_new_boolean(1));
	return respond_page(r, "network", r->args[0], ctx);
}

/* A call on the network the path names; back to its page, or to the list when it is gone. */
static int network_action(struct request *r, const char *action, const char *method,
			  json_object *params, const char *done)
{
	char code[64], err[512], back[VM_NAME_MAX + 16];
	json_object *res = NULL;

	if (!vm_name_valid(r->args[0])) {
		json_object_put(params);
		return respond_error(r, 404, "There is no network named %s.", r->args[0]);
	}
	snprintf(back, sizeof(back), "/network/%s", r->args[0]);
	if (vmmd_call(r->vmmd, method, params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		audit_log(r, action, r->args[0], err);
		return respond_vmmd_refused(r, strcmp(code, "no-network") ? back : "/networks", code,
					    err);
	}
	json_object_put(res);
	audit_log(r, action, r->args[0], "ok");
	return respond_redirect(r, strcmp(method, "net.undefine") ? back : "/networks",
				"The network %s %s.", r->args[0], done);
}

int page_network_start(struct request *r)
{
	return network_action(r, "start network", "net.start", vmmd_name_params(r->args[0]),
			      "was started");
}

int page_network_stop(struct request *r)
{
	return network_action(r, "stop network", "net.destroy", vmmd_name_params(r->args[0]),
			      "was stopped");
}

int page_network_autostart(struct request *r)
{
	json_object *params;
	bool enable;

	if (params_bool(&r->form, "enable", &enable) < 0)
		return respond_redirect_error(r, "/networks", "Autostart is on or off.");
	params = vmmd_name_params(r->args[0]);
	json_object_object_add(params, "enable", json_object_new_boolean(enable));
	return network_action(r, "network autostart", "net.autostart", params,
			      enable ? "now starts with the host" : "no longer starts with the host");
}

int page_network_delete(struct request *r)
{
	return network_action(r, "delete network", "net.undefine", vmmd_name_params(r->args[0]),
			      "was deleted");
}
