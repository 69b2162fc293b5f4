/* API tokens (api_token.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fcgi/api_token.h"
#include "fcgi/db.h"
#include "fcgi/password.h"

static bool token_form(const char *t)
{
	size_t p = strlen(API_TOKEN_PREFIX);

	return t && strlen(t) == API_TOKEN_LEN && !strncmp(t, API_TOKEN_PREFIX, p) &&
	       strspn(t + p, "0123456789abcdef") == API_TOKEN_LEN - p;
}

int api_token_create(sqlite3 *db, int64_t user_id, const char *name, time_t now, time_t expires,
		     char ret[API_TOKEN_LEN + 1])
{
	char hash[SESSION_ID_HEX + 1];
	sqlite3_stmt *st;
	int64_t n = 0;
	int r;

	/* expired ones go first: they open nothing and count for nothing */
	if (db_exec(db, "DELETE FROM api_tokens WHERE user_id = ? AND expires <= ?", "ii", user_id,
		    (int64_t)now) < 0)
		return -EIO;
	st = db_query(db, "SELECT count(*) FROM api_tokens WHERE user_id = ?", "i", user_id);
	if (!st)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n >= API_TOKENS_PER_USER)
		return -EMLINK;
	memcpy(ret, API_TOKEN_PREFIX, strlen(API_TOKEN_PREFIX));
	r = random_hex(ret + strlen(API_TOKEN_PREFIX), (API_TOKEN_LEN - strlen(API_TOKEN_PREFIX)) / 2);
	if (r < 0)
		return r;
	sha256_hex(ret, hash);
	if (expires)
		r = db_exec(db, "INSERT INTO api_tokens (user_id, name, hash, created, expires) "
				"VALUES (?, ?, ?, ?, ?)", "issii", user_id, name, hash, (int64_t)now,
			    (int64_t)expires);
	else
		r = db_exec(db, "INSERT INTO api_tokens (user_id, name, hash, created) VALUES (?, ?, ?, ?)",
			    "issi", user_id, name, hash, (int64_t)now);
	if (r < 0) {
		memset(ret, 0, API_TOKEN_LEN + 1);
		return -EIO;
	}
	return 0;
}

int api_token_find(sqlite3 *db, const char *token, time_t now, struct session *ret)
{
	struct session s = { 0 };
	char hash[SESSION_ID_HEX + 1];
	sqlite3_stmt *st;
	int64_t id, expires, last_used;
	bool disabled, has_expiry;
	int rc;

	if (!token_form(token))
		return -ENOENT;
	sha256_hex(token, hash);
	/* looked up by its hash: what the index compares is not the secret */
	st = db_query(db,
		      "SELECT t.id, t.expires, u.id, u.name, u.role, u.disabled, u.initial, t.last_used, u.may_create "
		      "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
		      "s", hash);
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	id = sqlite3_column_int64(st, 0);
	has_expiry = sqlite3_column_type(st, 1) != SQLITE_NULL;
	expires = sqlite3_column_int64(st, 1);
	s.user_id = sqlite3_column_int64(st, 2);
	snprintf(s.user, sizeof(s.user), "%s", (const char *)sqlite3_column_text(st, 3));
	s.admin = !strcmp((const char *)sqlite3_column_text(st, 4), "admin");
	disabled = sqlite3_column_int(st, 5);
	s.initial_password = sqlite3_column_int(st, 6);
	last_used = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
	s.may_create = sqlite3_column_int(st, 8);
	sqlite3_finalize(st);
	if (disabled || (has_expiry && now >= expires))
		return -ENOENT;
	/* written at most once a minute: most reads write nothing (and take no write lock) */
	if (last_used < 0 || now - last_used >= 60)
		db_exec(db, "UPDATE api_tokens SET last_used = ? WHERE id = ?", "ii", (int64_t)now, id);
	*ret = s;
	return 0;
}

static json_object *time_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL
							   : json_object_new_int64(sqlite3_column_int64(st, col));
}

json_object *api_tokens_of(sqlite3 *db, int64_t user_id)
{
	json_object *list = json_object_new_array();
	sqlite3_stmt *st = db_query(db, "SELECT id, name, created, expires, last_used FROM api_tokens "
					"WHERE user_id = ? ORDER BY id DESC", "i", user_id);

	while (st && sqlite3_step(st) == SQLITE_ROW) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
		json_object_object_add(t, "name", json_object_new_string(
			(const char *)sqlite3_column_text(st, 1)));
		json_object_object_add(t, "created", time_or_null(st, 2));
		json_object_object_add(t, "expires", time_or_null(st, 3));
		json_object_object_add(t, "last_used", time_or_null(st, 4));
		json_object_array_add(list, t);
	}
	sqlite3_finalize(st);
	return list;
}

int api_token_revoke(sqlite3 *db, int64_t user_id, int64_t id)
{
	if (db_exec(db, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", "ii", id, user_id) < 0)
		return -EIO;
	return db_changes(db) == 1 ? 0 : -ENOENT;
}

void api_tokens_end_user(sqlite3 *db, int64_t user_id)
{
	db_exec(db, "DELETE FROM api_tokens WHERE user_id = ?", "i", user_id);
}
