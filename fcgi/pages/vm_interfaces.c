/*
 * A VM's network interfaces: add one on a network (or, for an admin, on a
 * host bridge), remove one, plug or pull its cable.
 *
 * NOTES
 * - Interfaces are named by MAC, as virsh names them. Added and removed
 *   ones take effect at the VM's next start; the link state changes at
 *   once on a running VM and is kept in its definition.
 * - What a form names is checked against what vmmd lists (its networks)
 *   or what this host has (its bridges); vmmd checks it again.
 * - A host bridge joins the VM to the host's own LAN, so only an admin
 *   may choose one; a user with the change right chooses among vmmd's
 *   networks.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonrpc.h"
#include "common/mac.h"
#include "fcgi/audit.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define BRIDGES_MAX 64

json_object *vmmd_networks(struct request *r)
{
	json_object *res = NULL, *list, *out;
	char code[64], err[256];

	if (vmmd_call(r->vmmd, "net.list", NULL, &res, code, sizeof(code), err, sizeof(err)) < 0 ||
	    !json_object_object_get_ex(res, "networks", &list)) {
		json_object_put(res);
		return json_object_new_array();
	}
	out = json_object_get(list);
	json_object_put(res);
	return out;
}

json_object *host_bridges(void)
{
	json_object *out = json_object_new_array();
	DIR *dir = opendir("/sys/class/net");
	struct dirent *e;

	while (dir && (e = readdir(dir)) && json_object_array_length(out) < BRIDGES_MAX) {
		char path[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", e->d_name);
		if (access(path, F_OK) == 0)
			json_object_array_add(out, json_object_new_string(e->d_name));
	}
	if (dir)
		closedir(dir);
	return out;
}

static bool has_name(json_object *list, const char *key, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i);

		if (key)
			v = json_object_object_get(v, key);
		if (!strcmp(json_object_get_string(v), name))
			return true;
	}
	return false;
}

void vm_interfaces_for_page(struct request *r, json_object *ctx)
{
	json_object *nets = vmmd_networks(r), *choices = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(nets); i++) {
		json_object *n = json_object_array_get_idx(nets, i), *c = json_object_new_object();
		char value[128];

		snprintf(value, sizeof(value), "network:%s",
			 json_object_get_string(json_object_object_get(n, "name")));
		json_object_object_add(c, "value", json_object_new_string(value));
		json_object_object_add(c, "label", json_object_get(json_object_object_get(n, "name")));
		json_object_object_add(c, "kind", json_object_new_string("network"));
		json_object_array_add(choices, c);
	}
	json_object_put(nets);
	if (r->session.admin) {
		json_object *bridges = host_bridges();

		for (size_t i = 0; i < json_object_array_length(bridges); i++) {
			json_object *c = json_object_new_object();
			const char *b = json_object_get_string(json_object_array_get_idx(bridges, i));
			char value[128];

			snprintf(value, sizeof(value), "bridge:%s", b);
			json_object_object_add(c, "value", json_object_new_string(value));
			json_object_object_add(c, "label", json_object_new_string(b));
			json_object_object_add(c, "kind", json_object_new_string("host bridge"));
			json_object_array_add(choices, c);
		}
		json_object_put(bridges);
	}
	json_object_object_add(ctx, "has_iface_choices",
			       json_object_new_boolean(json_object_array_length(choices) > 0));
	json_object_object_add(ctx, "iface_choices", choices);
}

/* The form's mac, checked; NULL when it is not a unicast MAC address. */
static const char *form_mac(struct request *r)
{
	const char *mac = params_get(&r->form, "mac");
	uint8_t bytes[6];

	return mac && strlen(mac) == 17 && mac_parse(mac, bytes) == 0 ? mac : NULL;
}

/* Call method on the VM with params (taken); a redirect to its page either way, saying done. */
static int iface_call(struct request *r, const char *method, const char *action,
		      json_object *params, const char *done)
{
	char back[VM_NAME_MAX + 16], err[512], code[64];
	json_object *res = NULL;

	snprintf(back, sizeof(back), "/instance/%s", r->args[0]);
	json_object_object_add(params, "name", json_object_new_string(r->args[0]));
	if (vmmd_call(r->vmmd, method, params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		audit_log(r, action, r->args[0], err);
		return respond_vmmd_refused(r, back, code, err);
	}
	json_object_put(res);
	audit_log(r, action, r->args[0], "ok");
	return respond_redirect(r, back, "%s", done);
}

int page_vm_iface_attach(struct request *r)
{
	const char *on = params_get(&r->form, "on");
	char back[VM_NAME_MAX + 16], done[256];
	json_object *params, *nets;
	bool known;

	snprintf(back, sizeof(back), "/instance/%s", r->args[0]);
	if (on && !strncmp(on, "network:", 8)) {
		nets = vmmd_networks(r);
		known = has_name(nets, "name", on + 8);
		json_object_put(nets);
		if (!known)
			return respond_redirect_error(r, back, "Choose one of the host's networks.");
		params = json_object_new_object();
		json_object_object_add(params, "network", json_object_new_string(on + 8));
	} else if (on && !strncmp(on, "bridge:", 7)) {
		if (!r->session.admin)
			return respond_redirect_error(r, back,
						      "Only an administrator puts a VM on a host bridge.");
		nets = host_bridges();
		known = has_name(nets, NULL, on + 7);
		json_object_put(nets);
		if (!known)
			return respond_redirect_error(r, back, "This host has no bridge by that name.");
		params = json_object_new_object();
		json_object_object_add(params, "bridge", json_object_new_string(on + 7));
	} else {
		return respond_redirect_error(r, back, "Choose a network for the interface.");
	}
	snprintf(done, sizeof(done),
		 "%s has a new interface on %s (a running VM sees it at its next start).", r->args[0],
		 strchr(on, ':') + 1);
	return iface_call(r, "domain.attach_interface", "attach interface", params, done);
}

int page_vm_iface_detach(struct request *r)
{
	const char *mac = form_mac(r);
	char back[VM_NAME_MAX + 16], done[256];
	json_object *params;

	snprintf(back, sizeof(back), "/instance/%s", r->args[0]);
	if (!mac)
		return respond_redirect_error(r, back, "Name the interface by its MAC address.");
	params = json_object_new_object();
	json_object_object_add(params, "mac", json_object_new_string(mac));
	snprintf(done, sizeof(done),
		 "The interface %s was removed from %s (a running VM keeps it until its next start).",
		 mac, r->args[0]);
	return iface_call(r, "domain.detach_interface", "detach interface", params, done);
}

int page_vm_iface_link(struct request *r)
{
	const char *mac = form_mac(r), *state = params_get(&r->form, "state");
	char back[VM_NAME_MAX + 16], done[256];
	json_object *params;
	bool up;

	snprintf(back, sizeof(back), "/instance/%s", r->args[0]);
	if (!mac)
		return respond_redirect_error(r, back, "Name the interface by its MAC address.");
	if (!state || (strcmp(state, "up") && strcmp(state, "down")))
		return respond_redirect_error(r, back, "The link is up or down.");
	up = state[0] == 'u';
	params = json_object_new_object();
	json_object_object_add(params, "mac", json_object_new_string(mac));
	json_object_object_add(params, "up", json_object_new_boolean(up));
	snprintf(done, sizeof(done), "The link of %s on %s is %s.", mac, r->args[0], state);
	return iface_call(r, "domain.set_link", up ? "link up" : "link down", params, done);
}
