#include <string.h>

#include "common/jsonrpc.h"
#include "common/name.h"
#include "fcgi/format.h"
#include "fcgi/response.h"
#include "fcgi/rights.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

/* vmmd's rule for names (vmm/service/xml.c), checked before asking it. */
bool vm_name_valid(const char *name)
{
	return name_valid(name, VM_NAME_MAX, "+");
}

static void add_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

enum state_class { CLASS_OFF, CLASS_RUNNING, CLASS_PAUSED, CLASS_CRASHED };

static json_object *state_object(enum state_class c, bool responding)
{
	static const char *const badges[] = { "secondary", "success", "info", "danger" };
	json_object *o = json_object_new_object();

	json_object_object_add(o, "badge", json_object_new_string(responding ? badges[c] : "warning"));
	add_bool(o, "not_responding", !responding);
	add_bool(o, "running", c == CLASS_RUNNING);
	add_bool(o, "paused", c == CLASS_PAUSED);
	add_bool(o, "off", c == CLASS_OFF || c == CLASS_CRASHED);
	return o;
}

static json_object *rights_object(const struct vm_rights *r)
{
	json_object *o = json_object_new_object();

	add_bool(o, "power", r->power);
	add_bool(o, "change", r->change);
	add_bool(o, "remove", r->remove);
	add_bool(o, "console", r->console);
	return o;
}

void vm_decorate(json_object *vm, const struct vm_rights *rights, struct vm_decor *d)
{
	const char *state = "";
	bool responding = true;
	enum state_class c = CLASS_OFF;
	unsigned int si, ri;
	int64_t kib;

	json_get_string(vm, "state", &state);
	json_get_bool(vm, "responding", &responding);
	if (!strcmp(state, "running"))
		c = CLASS_RUNNING;
	else if (!strcmp(state, "paused"))
		c = CLASS_PAUSED;
	else if (!strcmp(state, "crashed"))
		c = CLASS_CRASHED;
	si = (unsigned int)c * 2 + responding;
	if (!d->state[si])
		d->state[si] = state_object(c, responding);
	json_object_object_add(vm, "st", json_object_get(d->state[si]));
	ri = rights->view | rights->power << 1 | rights->change << 2 | rights->remove << 3 |
	     rights->console << 4;
	if (!d->rights[ri])
		d->rights[ri] = rights_object(rights);
	json_object_object_add(vm, "can", json_object_get(d->rights[ri]));
	if (json_get_int64(vm, "memory_kib", &kib)) {
		char text[32];

		format_kib(text, sizeof(text), kib);
		json_object_object_add(vm, "memory", json_object_new_string(text));
	}
}

void vm_decor_free(struct vm_decor *d)
{
	for (size_t i = 0; i < sizeof(d->state) / sizeof(d->state[0]); i++)
		json_object_put(d->state[i]);
	for (size_t i = 0; i < sizeof(d->rights) / sizeof(d->rights[0]); i++)
		json_object_put(d->rights[i]);
	memset(d, 0, sizeof(*d));
}

int vmlist_inputs(struct request *r, json_object **domains, json_object **mine)
{
	char err[256];

	*mine = NULL;
	*domains = vmmd_domains(r->vmmd, err, sizeof(err));
	if (!*domains) {
		respond_error(r, 502, "The VM service did not answer: %s", err);
		return -1;
	}
	if (rights_of_user(r->db, &r->session, mine) < 0) {
		json_object_put(*domains);
		*domains = NULL;
		respond_error(r, 500, "The portal's database failed.");
		return -1;
	}
	return 0;
}

json_object *vmlist_decorated(json_object *domains, json_object *mine)
{
	struct vm_decor decor = { 0 };
	size_t n = json_object_array_length(domains);
	json_object *out = json_object_new_array();

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
		/*
		 * What no list shows goes first: a json-c object's table
		 * (16 slots) is then never grown by the three keys that
		 * vm_decorate adds, a copy per VM saved on a long list.
		 */
		json_object_object_del(vm, "id");
		json_object_object_del(vm, "reason");
		vm_decorate(vm, &rights, &decor);
		json_object_array_add(out, json_object_get(vm));
	}
	vm_decor_free(&decor);
	return out;
}

json_object *vmlist_visible(struct request *r)
{
	json_object *domains, *mine, *out;

	if (vmlist_inputs(r, &domains, &mine) < 0)
		return NULL;
	out = vmlist_decorated(domains, mine);
	json_object_put(mine);
	json_object_put(domains);
	return out;
}
