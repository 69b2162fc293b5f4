/* The audit log (admin): newest first, 100 a page, by user and by object. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/db.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"

#define AUDIT_PAGE 100

int page_audit(struct request *r)
{
	const char *user = params_get(&r->query, "user"), *object = params_get(&r->query, "object");
	long long page = 1;
	json_object *ctx, *rows;
	sqlite3_stmt *st;
	int n = 0;

	if (params_get(&r->query, "page") &&
	    params_int(&r->query, "page", 1, 1000000, &page) < 0)
		return respond_error(r, 400, "The page number is not valid.");
	if (user && !*user)
		user = NULL;
	if (object && !*object)
		object = NULL;
	st = db_query(r->db,
		      "SELECT at, user, address, action, object, result FROM audit "
		      "WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR object = ?2) "
		      "ORDER BY id DESC LIMIT ?3 OFFSET ?4",
		      "ssii", user, object, (int64_t)AUDIT_PAGE + 1, (int64_t)(page - 1) * AUDIT_PAGE);
	if (!st)
		return respond_error(r, 500, "The portal's database failed.");
	ctx = json_object_new_object();
	rows = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		static const char *const cols[] = { "at", "user", "address", "action", "object", "result" };
		json_object *row;
		char when[32];
		time_t t;
		struct tm tm;

		if (++n > AUDIT_PAGE)
			break;
		row = json_object_new_object();
		t = (time_t)sqlite3_column_int64(st, 0);
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		json_object_object_add(row, cols[0], json_object_new_string(when));
		for (int c = 1; c < 6; c++)
			json_object_object_add(row, cols[c], json_object_new_string(
				(const char *)sqlite3_column_text(st, c)));
		json_object_object_add(row, "refused", json_object_new_boolean(
			strcmp((const char *)sqlite3_column_text(st, 5), "ok") != 0));
		json_object_array_add(rows, row);
	}
	sqlite3_finalize(st);
	json_object_object_add(ctx, "rows", rows);
	json_object_object_add(ctx, "filter_user", json_object_new_string(user ? user : ""));
	json_object_object_add(ctx, "filter_object", json_object_new_string(object ? object : ""));
	if (page > 1)
		json_object_object_add(ctx, "prev", json_object_new_int64(page - 1));
	if (n > AUDIT_PAGE)
		json_object_object_add(ctx, "next", json_object_new_int64(page + 1));
	json_object_object_add(ctx, "nav_audit", json_object_new_boolean(1));
	return respond_page(r, "audit", "Audit log", ctx);
}
