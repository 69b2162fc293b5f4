/* Flavors (admin): the sizes new VMs are made in. */
#include <stdio.h>
#include <string.h>

#include "fcgi/audit.h"
#include "fcgi/db.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/vmlist.h"

json_object *flavors_list(sqlite3 *db)
{
	json_object *list = json_object_new_array();
	sqlite3_stmt *st = db_query(db, "SELECT id, name, vcpus, memory_mib, disk_gib FROM flavors "
					"ORDER BY vcpus, memory_mib, name", NULL);

	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
		json_object_object_add(f, "name", json_object_new_string(
			(const char *)sqlite3_column_text(st, 1)));
		json_object_object_add(f, "vcpus", json_object_new_int(sqlite3_column_int(st, 2)));
		json_object_object_add(f, "memory_mib", json_object_new_int(sqlite3_column_int(st, 3)));
		json_object_object_add(f, "disk_gib", json_object_new_int(sqlite3_column_int(st, 4)));
		json_object_array_add(list, f);
	}
	sqlite3_finalize(st);
	return list;
}

int page_flavors(struct request *r)
{
	json_object *ctx = json_object_new_object();

	json_object_object_add(ctx, "flavors", flavors_list(r->db));
	json_object_object_add(ctx, "nav_flavors", json_object_new_boolean(1));
	return respond_page(r, "flavors", "Flavors", ctx);
}

/* The form's size: 0, or -1 with the refusal made. */
static int flavor_size(struct request *r, long long *vcpus, long long *memory, long long *disk)
{
	if (params_int(&r->form, "vcpus", 1, 64, vcpus) < 0 ||
	    params_int(&r->form, "memory", 16, 1024 * 1024, memory) < 0 ||
	    params_int(&r->form, "disk", 1, 64 * 1024, disk) < 0) {
		respond_redirect_error(r, "/flavors", "vCPUs are 1 to 64, memory 16 MiB to 1 TiB, the disk 1 GiB to 64 TiB.");
		return -1;
	}
	return 0;
}

int page_flavor_create(struct request *r)
{
	const char *name = params_get(&r->form, "name");
	long long vcpus, memory, disk;

	if (!name || !vm_name_valid(name))
		return respond_redirect_error(r, "/flavors", "A flavor's name has 1 to %d letters, digits, '-', '_', '.' or '+'.",
					      VM_NAME_MAX);
	if (flavor_size(r, &vcpus, &memory, &disk) < 0)
		return -1;
	if (db_exec(r->db, "INSERT INTO flavors (name, vcpus, memory_mib, disk_gib) VALUES (?, ?, ?, ?)",
		    "siii", name, (int64_t)vcpus, (int64_t)memory, (int64_t)disk) < 0) {
		audit_log(r, "create flavor", name, "exists");
		respond_refusal_kind(r, 409, "conflict");
		return respond_redirect_error(r, "/flavors", "A flavor named %s exists already.", name);
	}
	audit_log(r, "create flavor", name, "ok");
	return respond_redirect(r, "/flavors", "The flavor %s was created.", name);
}

/* A flavor's new size; the VMs made from it keep theirs. */
int page_flavor_update(struct request *r)
{
	long long vcpus, memory, disk;

	if (flavor_size(r, &vcpus, &memory, &disk) < 0)
		return -1;
	if (db_exec(r->db, "UPDATE flavors SET vcpus = ?, memory_mib = ?, disk_gib = ? WHERE name = ?",
		    "iiis", (int64_t)vcpus, (int64_t)memory, (int64_t)disk, r->args[0]) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	if (db_changes(r->db) != 1)
		return respond_redirect_error(r, "/flavors", "There is no flavor named %s.", r->args[0]);
	audit_log(r, "change flavor", r->args[0], "ok");
	return respond_redirect(r, "/flavors", "The flavor %s is now %lld vCPUs, %lld MiB and %lld GiB.",
				r->args[0], vcpus, memory, disk);
}

int page_flavor_delete(struct request *r)
{
	if (db_exec(r->db, "DELETE FROM flavors WHERE name = ?", "s", r->args[0]) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	if (db_changes(r->db) != 1)
		return respond_redirect_error(r, "/flavors", "There is no flavor named %s.", r->args[0]);
	audit_log(r, "delete flavor", r->args[0], "ok");
	return respond_redirect(r, "/flavors", "The flavor %s was deleted.", r->args[0]);
}
