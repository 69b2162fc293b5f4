/*
 * Create instance: a flavor's size, the disk as a new empty volume or a
 * qcow2 overlay of a volume, a network, a kernel, initrd and command line
 * from volumes, and "start after creating". What a failed step made is
 * removed again: nothing is left half made.
 *
 * An admin builds on any volume. A user an admin let make VMs builds
 * only on the volumes marked as templates, within their quotas, and owns
 * (and has every right on) what they make.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/audit.h"
#include "fcgi/db.h"
#include "fcgi/domxml.h"
#include "fcgi/pages.h"
#include "fcgi/quota.h"
#include "fcgi/response.h"
#include "fcgi/storage.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define CMDLINE_MAX 1024

/* The volumes a user may build on: every one for an admin, else the templates. */
static json_object *buildable_volumes(struct request *r)
{
	json_object *all = all_volumes(r), *out;

	if (r->session.admin)
		return all;
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *v = json_object_array_get_idx(all, i);
		const char *pool = "", *name = "";

		json_get_string(v, "pool", &pool);
		json_get_string(v, "name", &name);
		if (volume_is_template(r->db, pool, name,
				       json_object_get_string(json_object_object_get(v, "id"))))
			json_object_array_add(out, json_object_get(v));
	}
	json_object_put(all);
	return out;
}

/* For a user under quotas: {vms, vcpus, memory_mib, disk_gib} each {used, limit}. */
static json_object *quota_context(struct request *r)
{
	struct quota q;
	struct quota_use u;
	json_object *o;
	char err[256];

	if (r->session.admin || quota_get(r->db, r->session.user_id, &q) < 0)
		return NULL;
	if (quota_usage(r, r->session.user_id, NULL, &u, err, sizeof(err)) < 0) {
		respond_refusal_kind(r, 0, NULL); /* only shown: no refusal of this request */
		return NULL;
	}
	o = json_object_new_array();
	{
		const char *what[] = { "VMs", "vCPUs", "Memory (MiB)", "Disk (GiB)" };
		int64_t used[] = { u.vms, u.vcpus, u.memory_mib, (u.disk_bytes + (1 << 30) - 1) >> 30 };
		int64_t limit[] = { q.vms, q.vcpus, q.memory_mib, q.disk_gib };

		for (int i = 0; i < 4; i++) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "what", json_object_new_string(what[i]));
			json_object_object_add(e, "used", json_object_new_int64(used[i]));
			json_object_object_add(e, "limited", json_object_new_boolean(limit[i] >= 0));
			if (limit[i] >= 0)
				json_object_object_add(e, "limit", json_object_new_int64(limit[i]));
			json_object_array_add(o, e);
		}
	}
	return o;
}

int page_create_form(struct request *r)
{
	json_object *ctx = json_object_new_object(), *quota = quota_context(r);

	if (quota) {
		json_object_object_add(ctx, "quota", quota);
		json_object_object_add(ctx, "has_quota", json_object_new_boolean(1));
	}
	json_object_object_add(ctx, "flavors", flavors_list(r->db));
	json_object_object_add(ctx, "volumes", buildable_volumes(r));
	json_object_object_add(ctx, "pools", started_names(r, "pool.list", "pools"));
	json_object_object_add(ctx, "networks", started_names(r, "net.list", "networks"));
	json_object_object_add(ctx, "nav_create", json_object_new_boolean(1));
	return respond_page(r, "create", "Create instance", ctx);
}

static int create_vm(struct request *r);

int page_create(struct request *r)
{
	int lock, ret;

	if (r->session.admin)
		return create_vm(r);
	lock = quota_lock(r->app, r->session.user_id);
	if (lock < 0)
		return respond_error(r, 500, "The portal's quota lock failed.");
	ret = create_vm(r);
	quota_unlock(lock);
	return ret;
}

static int create_vm(struct request *r)
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
		respond_refusal_kind(r, 409, "conflict");
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

	/* only volumes and pools vmmd lists (for a user, only templates): never a path from the form */
	volumes = buildable_volumes(r);
	kernel = chosen_volume(volumes, params_get(&r->form, "kernel"));
	if (!kernel) {
		json_object *pools_now = NULL;

		json_object_put(volumes);
		/* no choice of the user's is wrong when vmmd could not be asked */
		if (vmmd_call(r->vmmd, "pool.list", NULL, &pools_now, code, sizeof(code), err, sizeof(err)) < 0)
			return respond_vmmd_refused(r, "/create", code, err);
		json_object_put(pools_now);
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
	{
		int64_t base_size = 0, disk_bytes = disk_gib << 30;

		/* a base larger than the flavor's disk stays as it is */
		if (disk && json_get_int64(disk, "capacity", &base_size) && base_size > disk_bytes)
			disk_bytes = base_size;
		if (!r->session.admin &&
		    quota_check(r, r->session.user_id, NULL,
				&(struct quota_use){ 1, vcpus, memory, disk_bytes }, err, sizeof(err)) < 0) {
			json_object_put(volumes);
			audit_log(r, "create", name, "refused: quota");
			return respond_redirect_error(r, "/create", "%s", err);
		}
	}

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
		return respond_vmmd_refused(r, "/create", code, err);
	}
	{
		const char *uuid = NULL;

		json_get_string(res, "uuid", &uuid);
		quota_give_vm(r, uuid, name);
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
