#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/db.h"
#include "fcgi/password.h"
#include "fcgi/session.h"

void sha256_hex(const char *s, char ret[SESSION_ID_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++) {
		ret[2 * i] = digits[md[i] >> 4];
		ret[2 * i + 1] = digits[md[i] & 15];
	}
	ret[SESSION_ID_HEX] = '\0';
}

static bool valid_id(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == SESSION_ID_HEX;
}

void session_clear(struct session *s)
{
	free(s->flash);
	memset(s, 0, sizeof(*s));
}

int session_find(sqlite3 *db, const char *id, time_t now, bool active, struct session *ret)
{
	struct session s = { 0 };
	sqlite3_stmt *st;
	int64_t created, last;
	bool disabled;
	int rc;

	if (!id || !valid_id(id))
		return -ENOENT;
	sha256_hex(id, s.id_hash);
	st = db_query(db,
		      "SELECT s.csrf, s.created, s.last_active, s.user_id, u.name, u.role, "
		      "u.disabled, u.initial, s.flash, u.may_create FROM sessions s LEFT JOIN users u "
		      "ON u.id = s.user_id WHERE s.id_hash = ?",
		      "s", s.id_hash);
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	snprintf(s.csrf, sizeof(s.csrf), "%s", (const char *)sqlite3_column_text(st, 0));
	created = sqlite3_column_int64(st, 1);
	last = sqlite3_column_int64(st, 2);
	s.user_id = sqlite3_column_int64(st, 3);
	if (s.user_id) {
		snprintf(s.user, sizeof(s.user), "%s", (const char *)sqlite3_column_text(st, 4));
		s.admin = !strcmp((const char *)sqlite3_column_text(st, 5), "admin");
	}
	disabled = sqlite3_column_int(st, 6);
	s.initial_password = sqlite3_column_int(st, 7);
	if (sqlite3_column_type(st, 8) == SQLITE_TEXT)
		s.flash = strdup((const char *)sqlite3_column_text(st, 8));
	s.may_create = sqlite3_column_int(st, 9);
	sqlite3_finalize(st);
	if (now - last > SESSION_IDLE_SECONDS || now - created > SESSION_MAX_SECONDS || disabled) {
		session_end(db, &s);
		session_clear(&s);
		return -ENOENT;
	}
	/* activity is written at most once a minute: pages stay read-only */
	if (active && now - last >= 60)
		db_exec(db, "UPDATE sessions SET last_active = ? WHERE id_hash = ?", "is",
			(int64_t)now, s.id_hash);
	*ret = s;
	return 0;
}

int session_create(sqlite3 *db, int64_t user_id, const char *address, time_t now,
		   char ret_id[SESSION_ID_HEX + 1], struct session *ret)
{
	struct session s = { .user_id = user_id };
	char id[SESSION_ID_HEX + 1];
	int r;

	r = random_hex(id, SESSION_ID_HEX / 2);
	if (r < 0)
		return r;
	r = random_hex(s.csrf, SESSION_ID_HEX / 2);
	if (r < 0)
		return r;
	sha256_hex(id, s.id_hash);
	session_prune(db, now);
	if (!user_id)
		/* login forms are made for anyone: the oldest go past a bound */
		db_exec(db, "DELETE FROM sessions WHERE user_id IS NULL AND id_hash IN "
			    "(SELECT id_hash FROM sessions WHERE user_id IS NULL "
			    "ORDER BY created DESC LIMIT -1 OFFSET ?)", "i",
			(int64_t)SESSION_ANONYMOUS_MAX);
	if (user_id) {
		sqlite3_stmt *st = db_query(db, "SELECT name, role, initial, may_create FROM users WHERE id = ?",
					    "i", user_id);

		if (!st)
			return -EIO;
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return -ENOENT;
		}
		snprintf(s.user, sizeof(s.user), "%s", (const char *)sqlite3_column_text(st, 0));
		s.admin = !strcmp((const char *)sqlite3_column_text(st, 1), "admin");
		s.initial_password = sqlite3_column_int(st, 2);
		s.may_create = sqlite3_column_int(st, 3);
		sqlite3_finalize(st);
	}
	r = db_exec(db,
		    "INSERT INTO sessions (id_hash, user_id, csrf, created, last_active, address) "
		    "VALUES (?, NULLIF(?, 0), ?, ?, ?, ?)",
		    "sisiis", s.id_hash, user_id, s.csrf, (int64_t)now, (int64_t)now, address);
	if (r < 0)
		return r;
	memcpy(ret_id, id, sizeof(id));
	*ret = s;
	return 0;
}

int session_end(sqlite3 *db, const struct session *s)
{
	return db_exec(db, "DELETE FROM sessions WHERE id_hash = ?", "s", s->id_hash);
}

int session_end_user(sqlite3 *db, int64_t user_id, const char *keep_hash)
{
	return db_exec(db, "DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?", "is",
		       user_id, keep_hash);
}

int session_set_flash(sqlite3 *db, const struct session *s, const char *msg)
{
	return db_exec(db, "UPDATE sessions SET flash = ? WHERE id_hash = ?", "ss", msg,
		       s->id_hash);
}

char *session_take_flash(sqlite3 *db, struct session *s)
{
	char *msg = s->flash;

	if (!msg)
		return NULL;
	s->flash = NULL;
	db_exec(db, "UPDATE sessions SET flash = NULL WHERE id_hash = ?", "s", s->id_hash);
	return msg;
}

int session_prune(sqlite3 *db, time_t now)
{
	return db_exec(db, "DELETE FROM sessions WHERE last_active < ? OR created < ?", "ii",
		       (int64_t)(now - SESSION_IDLE_SECONDS), (int64_t)(now - SESSION_MAX_SECONDS));
}
