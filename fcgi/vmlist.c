#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/format.h"
#include "fcgi/response.h"
#include "fcgi/rights.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

bool vm_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > VM_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+") == n;
}

static void add_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void vm_decorate(json_object *vm, const struct vm_rights *rights)
{
	const char *state = "", *badge = "secondary";
	bool responding = true, running, paused, off;
	int64_t kib;

	json_get_string(vm, "state", &state);
	json_get_bool(vm, "responding", &responding);
	running = !strcmp(state, "running");
	paused = !strcmp(state, "paused");
	off = !running && !paused;
	if (!responding)
		badge = "warning";
	else if (running)
		badge = "success";
	else if (paused)
		badge = "info";
	else if (!strcmp(state, "crashed"))
		badge = "danger";
	json_object_object_add(vm, "badge", json_object_new_string(badge));
	add_bool(vm, "not_responding", !responding);
	add_bool(vm, "running", running);
	add_bool(vm, "paused", paused);
	add_bool(vm, "off", off);
	add_bool(vm, "can_power", rights->power);
	add_bool(vm, "can_change", rights->change);
	add_bool(vm, "can_remove", rights->remove);
	add_bool(vm, "can_console", rights->console);
	if (json_get_int64(vm, "memory_kib", &kib)) {
		char text[32];

		format_kib(text, sizeof(text), kib);
		json_object_object_add(vm, "memory", json_object_new_string(text));
	}
}

json_object *vmlist_visible(struct request *r)
{
	json_object *list = NULL, *domains, *mine = NULL, *out;
	char code[64], err[256];

	if (vmmd_call(r->app, "domain.list", NULL, &list, code, sizeof(code), err, sizeof(err)) < 0) {
		respond_error(r, 502, "The VM service did not answer: %s", err);
		return NULL;
	}
	if (rights_of_user(r->db, &r->session, &mine) < 0) {
		json_object_put(list);
		respond_error(r, 500, "The portal's database failed.");
		return NULL;
	}
	out = json_object_new_array();
	if (json_object_object_get_ex(list, "domains", &domains) &&
	    json_object_is_type(domains, json_type_array)) {
		size_t n = json_object_array_length(domains);

		for (size_t i = 0; i < n; i++) {
			json_object *vm = json_object_array_get_idx(domains, i), *granted = NULL;
			struct vm_rights rights = { true, true, true, true, true };
			const char *uuid = "";

			json_get_string(vm, "uuid", &uuid);
			if (mine) {
				if (!json_object_object_get_ex(mine, uuid, &granted))
					continue;
				rights = (struct vm_rights){ .view = true };
				json_get_bool(granted, "power", &rights.power);
				json_get_bool(granted, "change", &rights.change);
				json_get_bool(granted, "remove", &rights.remove);
				json_get_bool(granted, "console", &rights.console);
			}
			vm_decorate(vm, &rights);
			json_object_array_add(out, json_object_get(vm));
		}
	}
	json_object_put(mine);
	json_object_put(list);
	return out;
}
