/* Tags on VMs (tags.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/name.h"
#include "fcgi/db.h"
#include "fcgi/tags.h"

bool tag_valid(const char *tag)
{
	return name_valid(tag, TAG_LEN_MAX, "");
}

json_object *tags_all(sqlite3 *db)
{
	sqlite3_stmt *st = db_query(db, "SELECT vm_uuid, tag FROM vm_tags ORDER BY vm_uuid, tag", NULL);
	json_object *all, *list = NULL;
	int rc;

	if (!st)
		return NULL;
	all = json_object_new_object();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *uuid = (const char *)sqlite3_column_text(st, 0);
		const char *tag = (const char *)sqlite3_column_text(st, 1);

		if (!uuid || !tag)
			continue;
		if (!json_object_object_get_ex(all, uuid, &list)) {
			list = json_object_new_array();
			json_object_object_add(all, uuid, list);
		}
		json_object_array_add(list, json_object_new_string(tag));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_object_put(all);
		return NULL;
	}
	return all;
}

json_object *tags_of(sqlite3 *db, const char *uuid)
{
	sqlite3_stmt *st = db_query(db, "SELECT tag FROM vm_tags WHERE vm_uuid = ? ORDER BY tag", "s",
				    uuid);
	json_object *list = json_object_new_array();

	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_object_array_add(list, json_object_new_string(
			(const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	return list;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

int tags_set(sqlite3 *db, const char *uuid, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text ? text : ""), *save = NULL, *tag;
	const char *tags[TAGS_PER_VM_MAX];
	size_t n = 0;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (tag = strtok_r(copy, ", \t\r\n", &save); tag; tag = strtok_r(NULL, ", \t\r\n", &save)) {
		bool seen = false;

		if (!tag_valid(tag)) {
			free(copy);
			return fail(err, errlen, "A tag has 1 to 32 letters, digits, '-', '_' or '.', and "
				    "does not start with '-' or '.'; tags are separated by commas or spaces.");
		}
		for (size_t i = 0; i < n; i++)
			seen |= !strcmp(tags[i], tag);
		if (seen)
			continue;
		if (n == TAGS_PER_VM_MAX) {
			free(copy);
			return fail(err, errlen, "A VM has at most 16 tags.");
		}
		tags[n++] = tag;
	}
	if (db_begin(db) < 0) {
		free(copy);
		return -EIO;
	}
	r = db_exec(db, "DELETE FROM vm_tags WHERE vm_uuid = ?", "s", uuid);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = db_exec(db, "INSERT INTO vm_tags (vm_uuid, tag) VALUES (?, ?)", "ss", uuid, tags[i]);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	free(copy);
	return r < 0 ? -EIO : 0;
}

void tags_forget(sqlite3 *db, const char *uuid)
{
	db_exec(db, "DELETE FROM vm_tags WHERE vm_uuid = ?", "s", uuid);
}
