/* Changing one VM: settings, autostart, the definition's XML, clone, delete. */
#include <errno.h>
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
#include "fcgi/tags.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define VCPUS_MAX 64
#define MEMORY_MIB_MAX (1024 * 1024)
#define TITLE_MAX 200
#define DESCRIPTION_MAX 4000
#define XML_MAX (512 * 1024)

static void back_to(struct request *r, char *buf, size_t len)
{
	snprintf(buf, len, "/instance/%s", r->args[0]);
}

/* vmmd's answer to a change: 0, or a redirect with its reason is made. */
static int vmmd_change(struct request *r, const char *action, const char *method,
		       json_object *params, const char *back)
{
	char code[64], err[512];
	json_object *res = NULL;

	if (vmmd_call(r->vmmd, method, params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		audit_log(r, action, r->args[0], err);
		respond_vmmd_refused(r, back, code, err);
		return -1;
	}
	json_object_put(res);
	audit_log(r, action, r->args[0], "ok");
	return 0;
}

int page_vm_settings(struct request *r)
{
	long long vcpus, memory;
	const char *title, *description;
	json_object *xml = NULL, *xmlstr, *params;
	char back[VM_NAME_MAX + 16], code[64], err[512];
	struct quota_use use;
	int64_t owner;
	char *changed;
	int lock, ret;

	back_to(r, back, sizeof(back));
	if (params_int(&r->form, "vcpus", 1, VCPUS_MAX, &vcpus) < 0)
		return respond_redirect_error(r, back, "vCPUs must be a number from 1 to %d.", VCPUS_MAX);
	if (params_int(&r->form, "memory", 16, MEMORY_MIB_MAX, &memory) < 0)
		return respond_redirect_error(r, back, "Memory must be a number of MiB from 16 to %d.",
					      MEMORY_MIB_MAX);
	if (params_text(&r->form, "title", TITLE_MAX, false, &title) < 0)
		return respond_redirect_error(r, back, "A title is one line of at most %d bytes.", TITLE_MAX);
	if (params_text(&r->form, "description", DESCRIPTION_MAX, true, &description) < 0)
		return respond_redirect_error(r, back, "A description has at most %d bytes.", DESCRIPTION_MAX);
	/* a VM a user owns grows only within the owner's quotas */
	lock = quota_lock_vm(r, &owner, &use, err, sizeof(err));
	if (lock == QUOTA_FAILED)
		return respond_redirect_error(r, back, "%s", err);
	if (lock >= 0) {
		use.vcpus = vcpus;
		use.memory_mib = memory;
		if (quota_check(r, owner, r->vm_uuid, &use, err, sizeof(err)) < 0) {
			quota_unlock(lock);
			audit_log(r, "settings", r->args[0], "refused: quota");
			return respond_redirect_error(r, back, "%s", err);
		}
	}
	if (vmmd_call_vm(r->vmmd, "domain.dumpxml", r->args[0], &xml, code, sizeof(code), err,
			 sizeof(err)) < 0 ||
	    !json_object_object_get_ex(xml, "xml", &xmlstr)) {
		json_object_put(xml);
		quota_unlock(lock);
		return respond_redirect_error(r, back, "%s", err);
	}
	if (domxml_apply(json_object_get_string(xmlstr),
			 &(struct vm_settings){ vcpus, memory, title, description }, &changed, err,
			 sizeof(err)) < 0) {
		json_object_put(xml);
		quota_unlock(lock);
		return respond_redirect_error(r, back, "%s", err);
	}
	json_object_put(xml);
	params = json_object_new_object();
	json_object_object_add(params, "xml", json_object_new_string(changed));
	free(changed);
	ret = vmmd_change(r, "settings", "domain.define", params, back);
	quota_unlock(lock);
	if (ret < 0)
		return -1;
	return respond_redirect(r, back, "The settings of %s were saved%s.", r->args[0],
				json_object_get_string(json_object_object_get(r->vm, "state")) &&
						strcmp(json_object_get_string(json_object_object_get(r->vm, "state")),
						       "shut off")
					? "; a running VM takes them at its next start"
					: "");
}

int page_vm_autostart(struct request *r)
{
	char back[VM_NAME_MAX + 16];
	json_object *params = vmmd_name_params(r->args[0]);
	bool enable;

	back_to(r, back, sizeof(back));
	if (params_bool(&r->form, "enable", &enable) < 0) {
		json_object_put(params);
		return respond_redirect_error(r, back, "Autostart is on or off.");
	}
	json_object_object_add(params, "enable", json_object_new_boolean(enable));
	if (vmmd_change(r, "autostart", "domain.autostart", params, back) < 0)
		return -1;
	return respond_redirect(r, back, "%s starts %s with the host.", r->args[0],
				enable ? "now" : "no longer");
}

/* Admins only: the VM's tags, all of them at once. */
int page_vm_tags(struct request *r)
{
	char back[VM_NAME_MAX + 16], err[256];
	const char *text = "";
	int ret;

	back_to(r, back, sizeof(back));
	if (params_get(&r->form, "tags") && params_text(&r->form, "tags", 1024, false, &text) < 0)
		return respond_redirect_error(r, back, "Tags are one line of at most 1024 bytes.");
	ret = tags_set(r->db, r->vm_uuid, text, err, sizeof(err));
	if (ret == -EINVAL)
		return respond_redirect_error(r, back, "%s", err);
	if (ret < 0)
		return respond_error(r, 500, "The portal's database failed.");
	audit_log(r, "set tags", r->args[0], "ok");
	return respond_redirect(r, back, "The tags of %s were saved.", r->args[0]);
}

/* Admins only, and only while the VM is off: the whole definition. */
int page_vm_xml(struct request *r)
{
	const char *xml, *state = "";
	char back[VM_NAME_MAX + 16], name[VM_NAME_MAX + 1], err[512];
	json_object *params;

	back_to(r, back, sizeof(back));
	json_get_string(r->vm, "state", &state);
	if (strcmp(state, "shut off") && strcmp(state, "crashed"))
		return respond_redirect_error(r, back, "Shut %s down before editing its definition.",
					      r->args[0]);
	if (params_text(&r->form, "xml", XML_MAX, true, &xml) < 0)
		return respond_redirect_error(r, back, "The definition is missing or larger than %d bytes.",
					      XML_MAX);
	if (domxml_name(xml, name, sizeof(name), err, sizeof(err)) < 0)
		return respond_redirect_error(r, back, "%s", err);
	if (strcmp(name, r->args[0]))
		return respond_redirect_error(r, back, "The definition must keep the name %s (clone it for another).",
					      r->args[0]);
	params = json_object_new_object();
	json_object_object_add(params, "xml", json_object_new_string(xml));
	if (vmmd_change(r, "edit xml", "domain.define", params, back) < 0)
		return -1;
	return respond_redirect(r, back, "The definition of %s was saved.", r->args[0]);
}

/*
 * An admin clones any VM; a user allowed to make VMs clones the VMs they
 * own, and the clone, theirs too, counts as a VM as large as its source.
 */
int page_vm_clone(struct request *r)
{
	const char *new_name = params_get(&r->form, "new_name");
	const char *disks = params_get(&r->form, "disks");
	char back[VM_NAME_MAX + 16], to[VM_NAME_MAX + 16], err[512], code[64];
	json_object *params, *res = NULL;
	struct quota_use use;
	int lock = QUOTA_NONE;

	back_to(r, back, sizeof(back));
	if (!new_name || !vm_name_valid(new_name))
		return respond_redirect_error(r, back, "A VM name has 1 to %d letters, digits, '-', '_', '.' or '+'.",
					      VM_NAME_MAX);
	/* disks=copy (the default) or disks=overlay */
	if (disks && strcmp(disks, "copy") && strcmp(disks, "overlay"))
		return respond_redirect_error(r, back, "The disks are copied or made overlays.");
	if (!r->session.admin) {
		int64_t owner = vm_owner(r->db, r->vm_uuid);

		if (owner != r->session.user_id) {
			audit_log(r, "clone", r->args[0], "refused: not the owner");
			return respond_redirect_error(r, back, "You may clone only the VMs you made.");
		}
		lock = quota_lock(r->app, owner);
		if (lock < 0)
			return respond_error(r, 500, "The portal's quota lock failed.");
		if (quota_vm_use(r, owner, r->vm_uuid, &use, err, sizeof(err)) < 0 ||
		    quota_check(r, owner, NULL, &use, err, sizeof(err)) < 0) {
			quota_unlock(lock);
			audit_log(r, "clone", r->args[0], "refused: quota");
			return respond_redirect_error(r, back, "%s", err);
		}
	}
	params = vmmd_name_params(r->args[0]);
	json_object_object_add(params, "new_name", json_object_new_string(new_name));
	json_object_object_add(params, "overlay",
			       json_object_new_boolean(disks && !strcmp(disks, "overlay")));
	if (vmmd_call(r->vmmd, "domain.clone", params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		quota_unlock(lock);
		audit_log(r, "clone", r->args[0], err);
		return respond_vmmd_refused(r, back, code, err);
	}
	{
		/* the clone vmmd made (never another VM by its name) */
		const char *uuid = NULL;

		json_get_string(res, "uuid", &uuid);
		quota_give_vm(r, uuid, new_name);
	}
	json_object_put(res);
	quota_unlock(lock);
	audit_log(r, "clone", r->args[0], "ok");
	snprintf(to, sizeof(to), "/instance/%s", new_name);
	return respond_redirect(r, to, "%s is a clone of %s.", new_name, r->args[0]);
}

void vm_forget(sqlite3 *db, const char *uuid)
{
	db_exec(db, "DELETE FROM rights WHERE vm_uuid = ?", "s", uuid);
	tags_forget(db, uuid);
	vm_owner_forget(db, uuid);
}

/*
 * The VM's disks this user may delete with it: every one for an admin
 * (NULL); for the user who made the VM, the disks made for it (by create
 * or clone) that are no template, as an array of paths (vmmd's "files"),
 * a volume vmmd cannot list now being kept; for anyone else none (NULL
 * with *refused).
 */
static json_object *disks_to_remove(struct request *r, const char **refused)
{
	json_object *volumes, *made, *files;

	*refused = NULL;
	if (r->session.admin)
		return NULL;
	if (vm_owner(r->db, r->vm_uuid) != r->session.user_id) {
		*refused = "Only an administrator, or the user who made the VM, deletes its disks with it.";
		return NULL;
	}
	made = vm_made_disks(r->db, r->vm_uuid);
	volumes = all_volumes(r);
	files = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(volumes); i++) {
		json_object *v = json_object_array_get_idx(volumes, i);
		const char *pool = "", *name = "", *path = "";

		json_get_string(v, "pool", &pool);
		json_get_string(v, "name", &name);
		json_get_string(v, "path", &path);
		for (size_t k = 0; k < json_object_array_length(made); k++) {
			if (strcmp(json_object_get_string(json_object_array_get_idx(made, k)), path))
				continue;
			if (!volume_is_template(r->db, pool, name,
						json_object_get_string(json_object_object_get(v, "id"))))
				json_object_array_add(files, json_object_new_string(path));
			break;
		}
	}
	json_object_put(volumes);
	json_object_put(made);
	return files;
}

int page_vm_delete(struct request *r)
{
	char back[VM_NAME_MAX + 16], code[64], err[512], kept[512] = "";
	json_object *params = vmmd_name_params(r->args[0]), *res = NULL, *list, *files = NULL;
	const char *refused = NULL;
	bool storage;

	back_to(r, back, sizeof(back));
	if (params_bool(&r->form, "remove_storage", &storage) < 0) {
		json_object_put(params);
		return respond_redirect_error(r, back, "Say whether the disks go too.");
	}
	if (storage)
		files = disks_to_remove(r, &refused);
	if (refused) {
		json_object_put(params);
		audit_log(r, "delete", r->args[0], "refused: disks");
		respond_refusal_kind(r, 403, "forbidden");
		return respond_redirect_error(r, back, "%s", refused);
	}
	json_object_object_add(params, "remove_storage", json_object_new_boolean(storage));
	if (files)
		json_object_object_add(params, "files", files);
	if (vmmd_call(r->vmmd, "domain.undefine", params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		audit_log(r, "delete", r->args[0], err);
		return respond_vmmd_refused(r, back, code, err);
	}
	audit_log(r, "delete", r->args[0], "ok");
	/* a VM defined again from saved XML with this uuid gets no old rights or tags */
	vm_forget(r->db, r->vm_uuid);
	/* the disks vmmd kept, by name; why (another VM has it, ...) only to an
	 * admin, who may see the VMs and volumes it names */
	if (json_object_object_get_ex(res, "kept", &list)) {
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *file = json_object_get_string(json_object_array_get_idx(list, i));
			const char *base = strrchr(file, '/'), *reason = NULL;
			size_t n = strlen(kept);

			if (r->session.admin)
				json_get_string(json_object_object_get(res, "why"), file, &reason);
			snprintf(kept + n, sizeof(kept) - n, "%s%s%s%s", n ? "; " : "",
				 base ? base + 1 : file, reason ? " " : "", reason ? reason : "");
		}
	}
	json_object_put(res);
	return respond_redirect(r, "/instances", "%s was deleted%s%s%s%s.", r->args[0],
				storage ? " with its disks" : "", kept[0] ? ". Kept: " : "", kept,
				kept[0] && !r->session.admin ? " (not made for it, a template, or needed "
							      "by others)" : "");
}
