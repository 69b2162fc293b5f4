/* What the pages offer from vmmd's pools and networks: volumes, never paths. */
#include <stdio.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/storage.h"
#include "fcgi/vmmd.h"

/*
 * Every volume of every started pool (storage.h); whole: a pool whose
 * volumes cannot be listed fails it all, else it is left out.
 */
static json_object *started_pools_volumes(struct request *r, bool whole, char *code, size_t codelen,
					  char *err, size_t errlen)
{
	json_object *pools = NULL, *list, *out = json_object_new_array();

	if (vmmd_call(r->vmmd, "pool.list", NULL, &pools, code, codelen, err, errlen) < 0 ||
	    !json_object_object_get_ex(pools, "pools", &list)) {
		if (pools) {
			snprintf(code, codelen, "protocol-error");
			snprintf(err, errlen, "vmmd's list of pools has no pools.");
		}
		json_object_put(pools);
		json_object_put(out);
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *pool = json_object_array_get_idx(list, i), *vols;
		const char *pname = "", *state = "";

		json_get_string(pool, "name", &pname);
		json_get_string(pool, "state", &state);
		if (strcmp(state, "active"))
			continue;
		vols = vmmd_volumes(r->vmmd, pname, NULL, code, codelen, err, errlen);
		if (!vols && !whole)
			continue;
		if (!vols) {
			/* vmmd's sentence names the pool's folder: the code alone, for users too */
			snprintf(err, errlen, "The volumes of pool %s could not be listed (%s).", pname,
				 code[0] ? code : "vmmd did not answer");
			json_object_put(pools);
			json_object_put(out);
			return NULL;
		}
		for (size_t k = 0; k < json_object_array_length(vols); k++) {
			json_object *v = json_object_array_get_idx(vols, k), *o = json_object_new_object();
			const char *vname = "", *path = "", *format = "raw";
			char label[300];

			json_get_string(v, "name", &vname);
			json_get_string(v, "path", &path);
			json_get_string(v, "format", &format);
			snprintf(label, sizeof(label), "%s/%s", pname, vname);
			json_object_object_add(o, "pool", json_object_new_string(pname));
			json_object_object_add(o, "name", json_object_new_string(vname));
			json_object_object_add(o, "id", json_object_get(json_object_object_get(v, "id")));
			json_object_object_add(o, "path", json_object_new_string(path));
			json_object_object_add(o, "format", json_object_new_string(format));
			json_object_object_add(o, "label", json_object_new_string(label));
			json_object_object_add(o, "capacity",
					       json_object_get(json_object_object_get(v, "capacity")));
			json_object_object_add(o, "backing",
					       json_object_get(json_object_object_get(v, "backing")));
			json_object_object_add(o, "vms",
					       json_object_get(json_object_object_get(v, "vms")));
			json_object_array_add(out, o);
		}
		json_object_put(vols);
	}
	json_object_put(pools);
	return out;
}

json_object *every_volume(struct request *r, char *code, size_t codelen, char *err, size_t errlen)
{
	return started_pools_volumes(r, true, code, codelen, err, errlen);
}

json_object *all_volumes(struct request *r)
{
	char code[64], err[256];
	json_object *out = started_pools_volumes(r, false, code, sizeof(code), err, sizeof(err));

	return out ? out : json_object_new_array();
}

json_object *started_names(struct request *r, const char *method, const char *key)
{
	json_object *res = NULL, *list, *out = json_object_new_array();
	char code[64], err[256];

	if (vmmd_call(r->vmmd, method, NULL, &res, code, sizeof(code), err, sizeof(err)) == 0 &&
	    json_object_object_get_ex(res, key, &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *o = json_object_array_get_idx(list, i), *name;
			const char *state = "";

			json_get_string(o, "state", &state);
			if (!strcmp(state, "active") &&
			    json_object_object_get_ex(o, "name", &name))
				json_object_array_add(out, json_object_get(name));
		}
	json_object_put(res);
	return out;
}

/* The volume whose label (POOL/NAME) the form chose: its path and format. */
json_object *chosen_volume(json_object *volumes, const char *label)
{
	for (size_t i = 0; label && *label && i < json_object_array_length(volumes); i++) {
		json_object *v = json_object_array_get_idx(volumes, i);
		const char *l = "";

		if (json_get_string(v, "label", &l) && !strcmp(l, label))
			return v;
	}
	return NULL;
}

int vol_call(struct request *r, const char *method, const char *pool, const char *name,
		    json_object *extra, char *err, size_t errlen)
{
	json_object *p = extra ? extra : json_object_new_object(), *res = NULL;
	char code[64];
	int ret;

	json_object_object_add(p, "pool", json_object_new_string(pool));
	json_object_object_add(p, "name", json_object_new_string(name));
	ret = vmmd_call(r->vmmd, method, p, &res, code, sizeof(code), err, errlen);
	json_object_put(res);
	return ret;
}


json_object *volume_of_path(json_object *volumes, const char *path)
{
	for (size_t i = 0; path && i < json_object_array_length(volumes); i++) {
		json_object *v = json_object_array_get_idx(volumes, i);
		const char *p = "";

		if (json_get_string(v, "path", &p) && !strcmp(p, path))
			return v;
	}
	return NULL;
}

bool volume_taken(json_object *volumes, json_object *vol)
{
	json_object *vms = json_object_object_get(vol, "vms");
	const char *path = json_object_get_string(json_object_object_get(vol, "path"));

	if (vms && json_object_array_length(vms) > 0)
		return true;
	for (size_t i = 0; path && i < json_object_array_length(volumes); i++) {
		const char *b = json_object_get_string(
			json_object_object_get(json_object_array_get_idx(volumes, i), "backing"));

		if (b && !strcmp(b, path))
			return true;
	}
	return false;
}
