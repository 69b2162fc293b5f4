/* A VM's disks: attach a volume, detach, grow (VMs take changes at their next start). */
#include <stdio.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/audit.h"
#include "fcgi/domxml.h"
#include "fcgi/pages.h"
#include "fcgi/quota.h"
#include "fcgi/response.h"
#include "fcgi/storage.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define DISK_GIB_MAX (64 * 1024)

/* The disks of the VM (r->args[0]), or NULL with err. */
static json_object *vm_disks(struct request *r, char *err, size_t errlen)
{
	json_object *xml = NULL, *s, *disks = NULL;
	char code[64];

	if (vmmd_call_vm(r->vmmd, "domain.dumpxml", r->args[0], &xml, code, sizeof(code), err,
			 errlen) == 0 &&
	    json_object_object_get_ex(xml, "xml", &s))
		disks = domxml_disks(json_object_get_string(s));
	json_object_put(xml);
	return disks;
}

/* vda..vdz: the first a VM's disks do not use. */
static bool free_target(json_object *disks, char ret[8])
{
	for (char c = 'a'; c <= 'z'; c++) {
		bool used = false;

		snprintf(ret, 8, "vd%c", c);
		for (size_t i = 0; i < json_object_array_length(disks); i++)
			used |= !strcmp(json_object_get_string(json_object_object_get(
						json_object_array_get_idx(disks, i), "target")), ret);
		if (!used)
			return true;
	}
	return false;
}

/* The disk list the instance page shows, with each disk's volume when it is one. */
json_object *vm_disks_for_page(struct request *r)
{
	char err[256];
	json_object *disks = vm_disks(r, err, sizeof(err)), *volumes;

	if (!disks)
		return json_object_new_array();
	volumes = all_volumes(r);
	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i), *v;

		v = volume_of_path(volumes, json_object_get_string(json_object_object_get(d, "file")));
		if (v)
			json_object_object_add(d, "volume", json_object_get(json_object_object_get(v, "label")));
	}
	json_object_put(volumes);
	return disks;
}

int page_vm_disk_attach(struct request *r)
{
	char back[VM_NAME_MAX + 16], err[512], code[64], target[8];
	json_object *volumes, *vol, *disks, *params, *res = NULL;
	struct quota_use use;
	int64_t owner;
	bool readonly;
	int lock, ret;

	snprintf(back, sizeof(back), "/instance/%s", r->args[0]);
	if (params_bool(&r->form, "readonly", &readonly) < 0)
		return respond_redirect_error(r, back, "Read-only is on or off.");
	volumes = all_volumes(r);
	/* a volume vmmd lists, never a path from the form */
	vol = chosen_volume(volumes, params_get(&r->form, "volume"));
	if (!vol) {
		json_object_put(volumes);
		return respond_redirect_error(r, back, "Choose a volume of a started pool.");
	}
	/* another VM's disk, or the base of other volumes: someone else's data */
	if (!r->session.admin && volume_taken(volumes, vol)) {
		json_object_put(volumes);
		audit_log(r, "attach disk", r->args[0], "refused: the volume is in use");
		return respond_redirect_error(r, back, "That volume is in use (a disk of a VM, or the base "
					      "of other volumes); only an administrator attaches it.");
	}
	disks = vm_disks(r, err, sizeof(err));
	if (!disks || !free_target(disks, target)) {
		json_object_put(disks);
		json_object_put(volumes);
		return respond_redirect_error(r, back, "%s has no free disk slot (vda to vdz).", r->args[0]);
	}
	json_object_put(disks);
	/* a disk more on a VM a user owns: within the owner's disk quota */
	lock = quota_lock_vm(r, &owner, &use, err, sizeof(err));
	if (lock == QUOTA_FAILED) {
		json_object_put(volumes);
		return respond_redirect_error(r, back, "%s", err);
	}
	if (lock >= 0) {
		int64_t capacity = 0;

		json_get_int64(vol, "capacity", &capacity);
		use.disk_bytes += capacity;
		if (quota_check(r, owner, r->vm_uuid, &use, err, sizeof(err)) < 0) {
			quota_unlock(lock);
			json_object_put(volumes);
			audit_log(r, "attach disk", r->args[0], "refused: quota");
			return respond_redirect_error(r, back, "%s", err);
		}
	}
	params = json_object_new_object();
	json_object_object_add(params, "name", json_object_new_string(r->args[0]));
	json_object_object_add(params, "file", json_object_get(json_object_object_get(vol, "path")));
	json_object_object_add(params, "format", json_object_get(json_object_object_get(vol, "format")));
	json_object_object_add(params, "target", json_object_new_string(target));
	json_object_object_add(params, "readonly", json_object_new_boolean(readonly));
	json_object_put(volumes);
	ret = vmmd_call(r->vmmd, "domain.attach_disk", params, &res, code, sizeof(code), err,
			sizeof(err));
	quota_unlock(lock);
	if (ret < 0) {
		audit_log(r, "attach disk", r->args[0], err);
		return respond_vmmd_refused(r, back, code, err);
	}
	json_object_put(res);
	audit_log(r, "attach disk", r->args[0], "ok");
	return respond_redirect(r, back, "The volume is %s of %s (a running VM sees it at its next start).",
				target, r->args[0]);
}

int page_vm_disk_detach(struct request *r)
{
	const char *target = params_get(&r->form, "target");
	char back[VM_NAME_MAX + 16], err[512], code[64];
	json_object *params, *res = NULL;

	snprintf(back, sizeof(back), "/instance/%s", r->args[0]);
	if (!target || strlen(target) != 3 || strncmp(target, "vd", 2) || target[2] < 'a' || target[2] > 'z')
		return respond_redirect_error(r, back, "Name the disk (vda to vdz).");
	params = json_object_new_object();
	json_object_object_add(params, "name", json_object_new_string(r->args[0]));
	json_object_object_add(params, "target", json_object_new_string(target));
	if (vmmd_call(r->vmmd, "domain.detach_disk", params, &res, code, sizeof(code), err,
		      sizeof(err)) < 0) {
		audit_log(r, "detach disk", r->args[0], err);
		return respond_vmmd_refused(r, back, code, err);
	}
	json_object_put(res);
	audit_log(r, "detach disk", r->args[0], "ok");
	return respond_redirect(r, back, "%s was detached from %s (its volume is kept).", target, r->args[0]);
}

/* Grow a disk that is a volume; a running VM's disk is grown by vmmd only when it allows. */
int page_vm_disk_resize(struct request *r)
{
	const char *target = params_get(&r->form, "target");
	char back[VM_NAME_MAX + 16], err[512];
	json_object *disks, *volumes, *vol = NULL, *extra;
	long long gib;
	const char *pool = "", *name = "";
	struct quota_use use;
	int64_t owner, capacity = 0;
	int lock, ret;

	snprintf(back, sizeof(back), "/instance/%s", r->args[0]);
	if (!target || params_int(&r->form, "size", 1, DISK_GIB_MAX, &gib) < 0)
		return respond_redirect_error(r, back, "Give the disk's new size in GiB (1 to %d).", DISK_GIB_MAX);
	disks = vm_disks(r, err, sizeof(err));
	volumes = all_volumes(r);
	for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i);

		if (!strcmp(json_object_get_string(json_object_object_get(d, "target")), target))
			vol = volume_of_path(volumes, json_object_get_string(json_object_object_get(d, "file")));
	}
	if (!vol) {
		json_object_put(disks);
		json_object_put(volumes);
		return respond_redirect_error(r, back, "%s of %s is not a volume of a started pool.", target,
					      r->args[0]);
	}
	json_get_string(vol, "pool", &pool);
	json_get_string(vol, "name", &name);
	json_get_int64(vol, "capacity", &capacity);
	/* a disk of a VM a user owns grows within the owner's disk quota */
	lock = quota_lock_vm(r, &owner, &use, err, sizeof(err));
	if (lock == QUOTA_FAILED) {
		json_object_put(disks);
		json_object_put(volumes);
		return respond_redirect_error(r, back, "%s", err);
	}
	if (lock >= 0 && ((int64_t)gib << 30) > capacity) {
		use.disk_bytes += ((int64_t)gib << 30) - capacity;
		if (quota_check(r, owner, r->vm_uuid, &use, err, sizeof(err)) < 0) {
			quota_unlock(lock);
			json_object_put(disks);
			json_object_put(volumes);
			audit_log(r, "resize disk", r->args[0], "refused: quota");
			return respond_redirect_error(r, back, "%s", err);
		}
	}
	extra = json_object_new_object();
	json_object_object_add(extra, "capacity", json_object_new_int64((int64_t)gib << 30));
	ret = vol_call(r, "vol.resize", pool, name, extra, err, sizeof(err));
	quota_unlock(lock);
	if (ret < 0) {
		json_object_put(disks);
		json_object_put(volumes);
		audit_log(r, "resize disk", r->args[0], err);
		return respond_redirect_error(r, back, "%s", err);
	}
	json_object_put(disks);
	json_object_put(volumes);
	audit_log(r, "resize disk", r->args[0], "ok");
	return respond_redirect(r, back, "%s of %s is now %lld GiB.", target, r->args[0], gib);
}
