/*
 * Create instance (admin): a flavor's size, the disk as a new empty
 * volume or a qcow2 overlay of a volume, a network, a kernel, initrd and
 * command line from volumes, and "start after creating". What a failed
 * step made is removed again: nothing is left half made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/audit.h"
#include "fcgi/db.h"
#include "fcgi/domxml.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/storage.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define CMDLINE_MAX 1024

int page_create_form(struct request *r)
{
	json_object *ctx = json_object_new_object();

	json_object_object_add(ctx, "flavors", flavors_list(r->db));
	json_object_object_add(ctx, "volumes", all_volumes(r));
	json_object_object_add(ctx, "pools", started_names(r, "pool.list", "pools"));
	json_object_object_add(ctx, "networks", started_names(r, "net.list", "networks"));
	json_object_object_add(ctx, "nav_create", json_object_new_boolean(1));
	return respond_page(r, "create", "Create instance", ctx);
}

int page_create(struct request *r)
{
	const char *name = params_get(&r->form, "name"), *pool = params_get(&r->form, "pool");
	const char *base = params_get(&r->form, "base"), *network = params_get(&r->form, "network");
	const char *cmdline = "";
	long long flavor_id;
	json_object *volumes, *kernel, *initrd = NULL, *disk, *params, *res = NULL, *pools;
	char err[512], code[64], disk_name[VM_NAME_MAX + 8], to[VM_NAME_MAX + 16];
	int64_t vcpus, memory, disk_gib;
	bool start, pool_ok = false;
	sqlite3_stmt *st;
	char *xml;
	int ret;

	if (!name || !vm_name_valid(name))
		return respond_redirect_error(r, "/create", "A VM name has 1 to %d letters, digits, '-', '_', '.' or '+'.",
					      VM_NAME_MAX);
	/* a definition under a taken name would replace that VM's */
	if (vmmd_call_vm(r->vmmd, "domain.info", name, &res, code, sizeof(code), err, sizeof(err)) == 0) {
		json_object_put(res);
		return respond_redirect_error(r, "/create", "A VM named %s exists already.", name);
	}
	res = NULL;
	if (params_int(&r->form, "flavor", 1, INT64_MAX, &flavor_id) < 0)
		return respond_redirect_error(r, "/create", "Choose a flavor.");
	if (params_get(&r->form, "cmdline") &&
	    params_text(&r->form, "cmdline", CMDLINE_MAX, false, &cmdline) < 0)
		return respond_redirect_error(r, "/create", "The command line is one line of at most %d bytes.",
					      CMDLINE_MAX);
	if (params_bool(&r->form, "start", &start) < 0)
		return respond_redirect_error(r, "/create", "Start after creating is on or off.");
	st = db_query(r->db, "SELECT vcpus, memory_mib, disk_gib FROM flavors WHERE id = ?", "i",
		      (int64_t)flavor_id);
	if (!st || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return respond_redirect_error(r, "/create", "There is no such flavor.");
	}
	vcpus = sqlite3_column_int64(st, 0);
	memory = sqlite3_column_int64(st, 1);
	disk_gib = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);

	/* only volumes and pools vmmd lists: never a path from the form */
	volumes = all_volumes(r);
	kernel = chosen_volume(volumes, params_get(&r->form, "kernel"));
	if (!kernel) {
		json_object_put(volumes);
		return respond_redirect_error(r, "/create", "Choose the kernel, a volume of a started pool.");
	}
	if (params_get(&r->form, "initrd") && *params_get(&r->form, "initrd") &&
	    !(initrd = chosen_volume(volumes, params_get(&r->form, "initrd")))) {
		json_object_put(volumes);
		return respond_redirect_error(r, "/create", "The initrd is not a volume of a started pool.");
	}
	disk = base && *base ? chosen_volume(volumes, base) : NULL;
	if (base && *base && !disk) {
		json_object_put(volumes);
		return respond_redirect_error(r, "/create", "The base image is not a volume of a started pool.");
	}
	pools = started_names(r, "pool.list", "pools");
	for (size_t i = 0; pool && i < json_object_array_length(pools); i++)
		pool_ok |= !strcmp(json_object_get_string(json_object_array_get_idx(pools, i)), pool);
	json_object_put(pools);
	if (!pool_ok) {
		json_object_put(volumes);
		return respond_redirect_error(r, "/create", "Choose a started pool for the disk.");
	}
	if (network && !*network)
		network = NULL;

	/* the disk: NAME.qcow2 in the pool, empty or on the base image */
	snprintf(disk_name, sizeof(disk_name), "%s.qcow2", name);
	if (disk) {
		json_object *extra = json_object_new_object();
		const char *bpool = "", *bname = "";

		json_get_string(disk, "pool", &bpool);
		json_get_string(disk, "name", &bname);
		json_object_object_add(extra, "new_name", json_object_new_string(disk_name));
		json_object_object_add(extra, "overlay", json_object_new_boolean(1));
		if (strcmp(bpool, pool)) {
			json_object_put(extra);
			json_object_put(volumes);
			return respond_redirect_error(r, "/create", "An overlay lives in its base image's pool (%s).", bpool);
		}
		ret = vol_call(r, "vol.clone", bpool, bname, extra, err, sizeof(err));
		if (ret == 0) {
			extra = json_object_new_object();
			json_object_object_add(extra, "capacity", json_object_new_int64(disk_gib << 30));
			/* a base larger than the flavor's disk stays as it is */
			vol_call(r, "vol.resize", pool, disk_name, extra, err, sizeof(err));
			ret = 0;
		}
	} else {
		json_object *extra = json_object_new_object();

		json_object_object_add(extra, "capacity", json_object_new_int64(disk_gib << 30));
		json_object_object_add(extra, "format", json_object_new_string("qcow2"));
		ret = vol_call(r, "vol.create", pool, disk_name, extra, err, sizeof(err));
	}
	if (ret < 0) {
		json_object_put(volumes);
		audit_log(r, "create", name, err);
		return respond_redirect_error(r, "/create", "The disk could not be made: %s", err);
	}
	{
		json_object *info = NULL;
		const char *path = "";

		params = json_object_new_object();
		json_object_object_add(params, "pool", json_object_new_string(pool));
		json_object_object_add(params, "name", json_object_new_string(disk_name));
		vmmd_call(r->vmmd, "vol.info", params, &info, code, sizeof(code), err, sizeof(err));
		json_get_string(info, "path", &path);
		xml = domxml_build(&(struct new_vm){
			.name = name, .vcpus = vcpus, .memory_mib = memory,
			.kernel = json_object_get_string(json_object_object_get(kernel, "path")),
			.initrd = initrd ? json_object_get_string(json_object_object_get(initrd, "path")) : NULL,
			.cmdline = cmdline, .disk = path, .disk_format = "qcow2", .network = network });
		json_object_put(info);
	}
	json_object_put(volumes);
	params = json_object_new_object();
	json_object_object_add(params, "xml", json_object_new_string(xml ? xml : ""));
	free(xml);
	if (vmmd_call(r->vmmd, "domain.define", params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		char ignored[256];

		vol_call(r, "vol.delete", pool, disk_name, NULL, ignored, sizeof(ignored));
		audit_log(r, "create", name, err);
		return respond_redirect_error(r, "/create", "%s", err);
	}
	json_object_put(res);
	audit_log(r, "create", name, "ok");
	snprintf(to, sizeof(to), "/instance/%s", name);
	if (start) {
		if (vmmd_call_vm(r->vmmd, "domain.start", name, &res, code, sizeof(code), err,
				 sizeof(err)) < 0) {
			audit_log(r, "start", name, err);
			return respond_redirect_error(r, to, "%s was created, but it did not start: %s", name, err);
		}
		json_object_put(res);
		audit_log(r, "start", name, "ok");
		return respond_redirect(r, to, "%s was created and started.", name);
	}
	return respond_redirect(r, to, "%s was created.", name);
}
