#include <errno.h>
#include <string.h>

#include "fcgi/db.h"
#include "fcgi/rights.h"

int rights_get(sqlite3 *db, const struct session *s, const char *uuid, struct vm_rights *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (s->admin) {
		*ret = (struct vm_rights){ true, true, true, true, true };
		return 0;
	}
	*ret = (struct vm_rights){ 0 };
	if (!s->user_id)
		return 0;
	st = db_query(db, "SELECT power, change, remove, console FROM rights "
			  "WHERE user_id = ? AND vm_uuid = ?", "is", s->user_id, uuid);
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->view = true;
		ret->power = sqlite3_column_int(st, 0);
		ret->change = sqlite3_column_int(st, 1);
		ret->remove = sqlite3_column_int(st, 2);
		ret->console = sqlite3_column_int(st, 3);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int rights_of_user(sqlite3 *db, const struct session *s, json_object **ret)
{
	static const char *const names[] = { "power", "change", "remove", "console" };
	json_object *all;
	sqlite3_stmt *st;
	int rc;

	*ret = NULL;
	if (s->admin)
		return 0;
	all = json_object_new_object();
	st = db_query(db, "SELECT vm_uuid, power, change, remove, console FROM rights "
			  "WHERE user_id = ?", "i", s->user_id);
	if (!st) {
		json_object_put(all);
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();

		for (int i = 0; i < 4; i++)
			json_object_object_add(o, names[i],
					       json_object_new_boolean(sqlite3_column_int(st, i + 1)));
		json_object_object_add(all, (const char *)sqlite3_column_text(st, 0), o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_object_put(all);
		return -EIO;
	}
	*ret = all;
	return 0;
}

int rights_set(sqlite3 *db, int64_t user_id, const char *uuid, const struct vm_rights *rights)
{
	return db_exec(db,
		       "INSERT INTO rights (user_id, vm_uuid, power, change, remove, console) "
		       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, vm_uuid) DO UPDATE SET "
		       "power = excluded.power, change = excluded.change, "
		       "remove = excluded.remove, console = excluded.console",
		       "isiiii", user_id, uuid, (int64_t)rights->power, (int64_t)rights->change,
		       (int64_t)rights->remove, (int64_t)rights->console);
}

int rights_revoke(sqlite3 *db, int64_t user_id, const char *uuid)
{
	return db_exec(db, "DELETE FROM rights WHERE user_id = ? AND vm_uuid = ?", "is", user_id,
		       uuid);
}
