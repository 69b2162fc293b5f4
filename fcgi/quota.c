/* Self-service under quotas: limits, use, the per-user lock, owners, templates. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonrpc.h"
#include "fcgi/db.h"
#include "fcgi/domxml.h"
#include "fcgi/quota.h"
#include "fcgi/response.h"
#include "fcgi/rights.h"
#include "fcgi/storage.h"
#include "fcgi/vmmd.h"

#define QUOTA_LOCK_FILE "quota.lock"

int quota_get(sqlite3 *db, int64_t user_id, struct quota *ret)
{
	sqlite3_stmt *st = db_query(db, "SELECT quota_vms, quota_vcpus, quota_memory_mib, quota_disk_gib "
					"FROM users WHERE id = ?", "i", user_id);
	int64_t *v[] = { &ret->vms, &ret->vcpus, &ret->memory_mib, &ret->disk_gib };
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	for (int i = 0; i < 4; i++)
		*v[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
	sqlite3_finalize(st);
	return 0;
}

int state_lock_file(const struct app *app, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", app->state_dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

int quota_lock(const struct app *app, int64_t user_id)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = user_id, .l_len = 1 };
	int fd = state_lock_file(app, QUOTA_LOCK_FILE);

	if (fd < 0)
		return fd;
	/* an open file description's lock: this fd's alone, not the process's */
	while (fcntl(fd, F_OFD_SETLKW, &lk) < 0) {
		int e = errno;

		if (e != EINTR) {
			close(fd);
			return -e;
		}
	}
	return fd;
}

void quota_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int quota_usage(struct request *r, int64_t user_id, const char *except_uuid,
		struct quota_use *ret, char *err, size_t errlen)
{
	json_object *owned = json_object_new_object(), *names = json_object_new_object();
	json_object *domains, *volumes;
	sqlite3_stmt *st;
	char code[64] = "";
	int rc;

	*ret = (struct quota_use){ 0 };
	st = db_query(r->db, "SELECT vm_uuid FROM vm_owners WHERE user_id = ?", "i", user_id);
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_object_add(owned, (const char *)sqlite3_column_text(st, 0), NULL);
	sqlite3_finalize(st);
	if (!st || rc != SQLITE_DONE) {
		json_object_put(owned);
		json_object_put(names);
		snprintf(err, errlen, "The portal's database failed.");
		respond_refusal_kind(r, 500, "internal-error");
		return -1;
	}
	domains = vmmd_domains(r->vmmd, err, errlen);
	if (!domains) {
		json_object_put(owned);
		json_object_put(names);
		respond_refusal_kind(r, 502, "vm-service-unavailable");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(domains); i++) {
		json_object *d = json_object_array_get_idx(domains, i);
		const char *uuid = "", *name = "";
		int64_t vcpus = 0, kib = 0;

		json_get_string(d, "uuid", &uuid);
		if (!json_object_object_get_ex(owned, uuid, NULL) ||
		    (except_uuid && !strcmp(uuid, except_uuid)))
			continue;
		json_get_string(d, "name", &name);
		json_get_int64(d, "vcpus", &vcpus);
		json_get_int64(d, "memory_kib", &kib);
		ret->vms++;
		ret->vcpus += vcpus;
		ret->memory_mib += (kib + 1023) / 1024;
		json_object_object_add(names, name, NULL);
	}
	json_object_put(domains);
	/*
	 * each volume once, however many of the user's VMs have it; a pool
	 * whose volumes cannot be listed refuses the count rather than
	 * leave its disks out of it
	 */
	volumes = every_volume(r, code, sizeof(code), err, errlen);
	if (!volumes) {
		json_object_put(owned);
		json_object_put(names);
		if (code[0])
			respond_refusal_kind(r, 500, "vm-service-error");
		else
			respond_refusal_kind(r, 502, "vm-service-unavailable");
		snprintf(r->refusal_reason, sizeof(r->refusal_reason), "%.*s",
			 (int)sizeof(r->refusal_reason) - 1, code);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(volumes); i++) {
		json_object *v = json_object_array_get_idx(volumes, i), *vms = NULL;
		int64_t capacity = 0;

		json_object_object_get_ex(v, "vms", &vms);
		json_get_int64(v, "capacity", &capacity);
		for (size_t k = 0; k < json_object_array_length(vms); k++) {
			const char *name = "";

			json_get_string(json_object_array_get_idx(vms, k), "name", &name);
			if (json_object_object_get_ex(names, name, NULL)) {
				ret->disk_bytes += capacity;
				break;
			}
		}
	}
	json_object_put(volumes);
	json_object_put(owned);
	json_object_put(names);
	return 0;
}

static bool within(int64_t limit, int64_t before, int64_t after)
{
	return limit < 0 || after <= before || after <= limit;
}

bool quota_allows(const struct quota *q, const struct quota_use *before,
		  const struct quota_use *after, char *why, size_t len)
{
	if (!within(q->vms, before->vms, after->vms)) {
		snprintf(why, len, "Your quota of %" PRId64 " VMs would be exceeded (you have %" PRId64 ").",
			 q->vms, before->vms);
		return false;
	}
	if (!within(q->vcpus, before->vcpus, after->vcpus)) {
		snprintf(why, len, "Your quota of %" PRId64 " vCPUs would be exceeded (%" PRId64
			 " in use, %" PRId64 " after this).", q->vcpus, before->vcpus, after->vcpus);
		return false;
	}
	if (!within(q->memory_mib, before->memory_mib, after->memory_mib)) {
		snprintf(why, len, "Your memory quota of %" PRId64 " MiB would be exceeded (%" PRId64
			 " MiB in use, %" PRId64 " MiB after this).", q->memory_mib, before->memory_mib,
			 after->memory_mib);
		return false;
	}
	if (q->disk_gib >= 0 &&
	    !within(q->disk_gib << 30, before->disk_bytes, after->disk_bytes)) {
		snprintf(why, len, "Your disk quota of %" PRId64 " GiB would be exceeded (%.1f GiB in use, "
			 "%.1f GiB after this).", q->disk_gib, before->disk_bytes / 1073741824.0,
			 after->disk_bytes / 1073741824.0);
		return false;
	}
	return true;
}

int quota_vm_use(struct request *r, int64_t user_id, const char *uuid, struct quota_use *ret,
		 char *err, size_t errlen)
{
	struct quota_use all, without;

	if (quota_usage(r, user_id, NULL, &all, err, errlen) < 0 ||
	    quota_usage(r, user_id, uuid, &without, err, errlen) < 0)
		return -1;
	*ret = (struct quota_use){ all.vms - without.vms, all.vcpus - without.vcpus,
				   all.memory_mib - without.memory_mib,
				   all.disk_bytes - without.disk_bytes };
	return 0;
}

int quota_check(struct request *r, int64_t user_id, const char *uuid,
		const struct quota_use *vm_after, char *why, size_t len)
{
	struct quota q;
	struct quota_use before, after;
	int ret = quota_get(r->db, user_id, &q);

	if (ret < 0) {
		snprintf(why, len, ret == -ENOENT ? "The VM's owner is no longer a user."
						  : "The portal's database failed.");
		respond_refusal_kind(r, ret == -ENOENT ? 409 : 500, ret == -ENOENT ? "conflict" : "internal-error");
		return -1;
	}
	if (quota_usage(r, user_id, NULL, &before, why, len) < 0)
		return -1;
	after = before;
	if (uuid && quota_usage(r, user_id, uuid, &after, why, len) < 0)
		return -1;
	after.vms += vm_after->vms;
	after.vcpus += vm_after->vcpus;
	after.memory_mib += vm_after->memory_mib;
	after.disk_bytes += vm_after->disk_bytes;
	if (quota_allows(&q, &before, &after, why, len))
		return 0;
	respond_refusal_kind(r, 403, "quota-exceeded");
	return -1;
}

int quota_lock_vm(struct request *r, int64_t *owner, struct quota_use *use, char *err, size_t errlen)
{
	int lock;

	if (r->session.admin)
		return QUOTA_NONE;
	*owner = vm_owner(r->db, r->vm_uuid);
	if (*owner < 0) {
		snprintf(err, errlen, "The portal's database failed.");
		respond_refusal_kind(r, 500, "internal-error");
		return QUOTA_FAILED;
	}
	if (*owner == 0)
		return QUOTA_NONE;
	lock = quota_lock(r->app, *owner);
	if (lock < 0) {
		snprintf(err, errlen, "The portal's quota lock failed.");
		respond_refusal_kind(r, 500, "internal-error");
		return QUOTA_FAILED;
	}
	if (quota_vm_use(r, *owner, r->vm_uuid, use, err, errlen) < 0) {
		quota_unlock(lock);
		return QUOTA_FAILED;
	}
	return lock;
}

void quota_give_vm(struct request *r, const char *uuid, const char *name)
{
	json_object *xml = NULL, *disks;
	char code[64], err[256];

	if (r->session.admin || !uuid)
		return;
	vm_owner_set(r->db, uuid, r->session.user_id);
	rights_set(r->db, r->session.user_id, uuid,
		   &(struct vm_rights){ .view = true, .power = true, .change = true, .remove = true,
					 .console = true });
	if (vmmd_call_vm(r->vmmd, "domain.dumpxml", name, &xml, code, sizeof(code), err,
			 sizeof(err)) < 0)
		return;
	disks = domxml_disks(json_object_get_string(json_object_object_get(xml, "xml")));
	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *d = json_object_array_get_idx(disks, i);
		bool readonly = false;
		const char *file = NULL;

		json_get_bool(d, "readonly", &readonly);
		json_get_string(d, "file", &file);
		if (file && !readonly)
			db_exec(r->db, "INSERT OR IGNORE INTO vm_made_disks (vm_uuid, path) VALUES (?, ?)",
				"ss", uuid, file);
	}
	json_object_put(disks);
	json_object_put(xml);
}

json_object *vm_made_disks(sqlite3 *db, const char *uuid)
{
	json_object *out = json_object_new_array();
	sqlite3_stmt *st = db_query(db, "SELECT path FROM vm_made_disks WHERE vm_uuid = ?", "s", uuid);

	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_object_array_add(out, json_object_new_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	return out;
}

int64_t vm_owner(sqlite3 *db, const char *uuid)
{
	sqlite3_stmt *st = db_query(db, "SELECT user_id FROM vm_owners WHERE vm_uuid = ?", "s", uuid);
	int64_t id;
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return id;
}

int vm_owner_set(sqlite3 *db, const char *uuid, int64_t user_id)
{
	return db_exec(db, "INSERT OR REPLACE INTO vm_owners (vm_uuid, user_id) VALUES (?, ?)", "si",
		       uuid, user_id);
}

int vm_owner_forget(sqlite3 *db, const char *uuid)
{
	db_exec(db, "DELETE FROM vm_made_disks WHERE vm_uuid = ?", "s", uuid);
	return db_exec(db, "DELETE FROM vm_owners WHERE vm_uuid = ?", "s", uuid);
}

bool volume_is_template(sqlite3 *db, const char *pool, const char *name, const char *id)
{
	sqlite3_stmt *st = db_query(db, "SELECT 1 FROM template_volumes WHERE pool = ? AND name = ? "
				    "AND file_id = ?", "sss", pool, name, id ? id : "");
	/* "-": vmmd could not tell which file it is, so it is none marked */
	bool yes = id && id[0] && strcmp(id, "-") && st && sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return yes;
}

json_object *volume_templates(sqlite3 *db, const char *pool)
{
	json_object *set = json_object_new_object();
	sqlite3_stmt *st = db_query(db, "SELECT name, file_id FROM template_volumes WHERE pool = ?",
				    "s", pool);

	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_object_object_add(set, (const char *)sqlite3_column_text(st, 0),
				       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	return set;
}

bool volume_in_templates(json_object *templates, json_object *volume)
{
	json_object *id = NULL;
	const char *vid = json_object_get_string(json_object_object_get(volume, "id"));

	return vid && vid[0] && strcmp(vid, "-") &&
	       json_object_object_get_ex(templates,
					 json_object_get_string(json_object_object_get(volume, "name")), &id) &&
	       !strcmp(json_object_get_string(id), vid);
}

int volume_template_set(sqlite3 *db, const char *pool, const char *name, const char *id,
			bool template)
{
	if (template)
		return db_exec(db, "INSERT OR REPLACE INTO template_volumes (pool, name, file_id) "
			       "VALUES (?, ?, ?)", "sss", pool, name, id);
	return db_exec(db, "DELETE FROM template_volumes WHERE pool = ? AND name = ?", "ss", pool, name);
}
