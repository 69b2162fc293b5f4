#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/name.h"
#include "fcgi/account.h"
#include "fcgi/db.h"
#include "fcgi/password.h"

bool user_name_valid(const char *name)
{
	return name_valid(name, USER_NAME_MAX, "");
}

int account_create(sqlite3 *db, const char *name, bool admin, const char *password, bool initial,
		   int64_t *ret_id, char *err, size_t errlen)
{
	char hash[PASSWORD_HASH_MAX];
	sqlite3_stmt *st;
	int r;

	if (!user_name_valid(name))
		return error_set(err, errlen, -EINVAL,
				 "A user name has 1 to %d letters, digits, '-', '_' or '.', and does not start with '-' or '.'.",
				 USER_NAME_MAX);
	r = password_check_new(password, err, errlen);
	if (r < 0)
		return r;
	r = password_hash(password, hash);
	if (r < 0)
		return error_set(err, errlen, r, "The password could not be hashed.");
	st = db_query(db, "INSERT INTO users (name, role, password, initial, created) "
			  "VALUES (?, ?, ?, ?, strftime('%s', 'now')) RETURNING id",
		      "sssi", name, admin ? "admin" : "user", hash, (int64_t)initial);
	if (!st)
		return error_set(err, errlen, -EIO, "The database failed: %s", sqlite3_errmsg(db));
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		if (ret_id)
			*ret_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	r = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE
		    ? error_set(err, errlen, -EEXIST, "A user named %s exists already.", name)
		    : error_set(err, errlen, -EIO, "The database failed: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r;
}

int account_set_password(sqlite3 *db, int64_t user_id, const char *password, bool initial)
{
	char hash[PASSWORD_HASH_MAX];
	int r = password_hash(password, hash);

	if (r < 0)
		return r;
	r = db_exec(db, "UPDATE users SET password = ?, initial = ? WHERE id = ?", "sii", hash,
		    (int64_t)initial, user_id);
	if (r == 0 && db_changes(db) != 1)
		return -ENOENT;
	return r;
}

/* Seconds to wait before the next try under key (blocking after free failures), 0, or -1 when the database failed. */
static int throttle_wait(sqlite3 *db, const char *key, int free_failures, time_t now)
{
	sqlite3_stmt *st = db_query(db, "SELECT count, last FROM login_failures WHERE key = ?", "s",
				    key);
	int64_t count, last, wait = 0;
	int r;

	if (!st)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		count = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
		if (count >= free_failures) {
			int shift = (int)(count - free_failures);

			wait = shift >= 5 ? LOGIN_MAX_WAIT : (int64_t)LOGIN_FIRST_WAIT << shift;
			if (wait > LOGIN_MAX_WAIT)
				wait = LOGIN_MAX_WAIT;
			wait = last + wait - now;
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return -1;
	return wait > 0 ? (int)wait : 0;
}

static int throttle_count(sqlite3 *db, const char *key, time_t now)
{
	return db_exec(db, "INSERT INTO login_failures (key, count, last) VALUES (?, 1, ?) "
			   "ON CONFLICT (key) DO UPDATE SET count = count + 1, last = excluded.last",
		       "si", key, (int64_t)now);
}

static void throttle_uncount(sqlite3 *db, const char *key)
{
	db_exec(db, "UPDATE login_failures SET count = count - 1 WHERE key = ? AND count > 0", "s", key);
}

/* The part of a client address that counts: an IPv6 client by its /64. */
static void address_key(char *buf, size_t len, const char *address)
{
	const char *p = address;
	int groups = 0;

	if (strchr(address, ':')) {
		while (*p && groups < 4) {
			if (*p == ':')
				groups++;
			p++;
		}
		snprintf(buf, len, "addr:%.*s/64", (int)(p - address), address);
		return;
	}
	snprintf(buf, len, "addr:%.64s", address);
}

int account_login(sqlite3 *db, const char *name, const char *password, const char *address,
		  time_t now, int64_t *ret_id, int *ret_wait)
{
	char name_key[USER_NAME_MAX + 8], pair_key[USER_NAME_MAX + 90], addr_key[80];
	const char *hash = NULL;
	sqlite3_stmt *st = NULL;
	int64_t id = 0;
	bool disabled = false, ok;
	int wait, w;

	/* an invalid name counts under one key of its own: it is no account */
	if (!user_name_valid(name))
		name = "(invalid)";
	snprintf(name_key, sizeof(name_key), "user:%s", name);
	address_key(addr_key, sizeof(addr_key), address);
	snprintf(pair_key, sizeof(pair_key), "user:%s@%s", name, addr_key + 5);
	/*
	 * Looked at and counted in one transaction, before the password is:
	 * tries sent at once each find the ones before them counted, so
	 * none gets past the limit. Taken back on success.
	 */
	if (db_begin(db) < 0)
		return -EIO;
	/* forget failures an hour old */
	db_exec(db, "DELETE FROM login_failures WHERE last < ?", "i", (int64_t)(now - 3600));
	/* a failure to look or to count lets no try through */
	wait = throttle_wait(db, pair_key, LOGIN_FREE_FAILURES, now);
	w = wait < 0 ? -1 : throttle_wait(db, addr_key, LOGIN_FREE_FAILURES, now);
	wait = w < 0 ? -1 : w > wait ? w : wait;
	w = wait < 0 ? -1 : throttle_wait(db, name_key, LOGIN_NAME_FAILURES, now);
	wait = w < 0 ? -1 : w > wait ? w : wait;
	if (wait > 0) {
		db_rollback(db);
		*ret_wait = wait;
		return -EAGAIN;
	}
	if (wait < 0 || throttle_count(db, pair_key, now) < 0 ||
	    throttle_count(db, addr_key, now) < 0 || throttle_count(db, name_key, now) < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		return -EIO;
	}
	st = db_query(db, "SELECT id, password, disabled FROM users WHERE name = ?", "s", name);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		hash = (const char *)sqlite3_column_text(st, 1);
		disabled = sqlite3_column_int(st, 2);
	}
	/* an unknown name costs one argon2id run like any other */
	ok = password_verify(hash, password) && !disabled;
	sqlite3_finalize(st);
	if (!ok)
		return -EACCES;
	db_exec(db, "DELETE FROM login_failures WHERE key = ? OR key = ?", "ss", pair_key, name_key);
	throttle_uncount(db, addr_key);
	*ret_id = id;
	return 0;
}

int account_check_password(sqlite3 *db, int64_t user_id, const char *name, const char *password,
			   time_t now, int *ret_wait)
{
	char name_key[USER_NAME_MAX + 8], form_key[USER_NAME_MAX + 12];
	sqlite3_stmt *st;
	bool ok = false;
	int wait;

	snprintf(name_key, sizeof(name_key), "user:%s", name);
	snprintf(form_key, sizeof(form_key), "password:%s", name);
	/*
	 * Only the form's own failures make it wait: failed logins from
	 * anywhere must not keep a logged-in user from changing a password.
	 */
	if (db_begin(db) < 0)
		return -EIO;
	wait = throttle_wait(db, form_key, LOGIN_FREE_FAILURES, now);
	if (wait > 0) {
		db_rollback(db);
		*ret_wait = wait;
		return -EAGAIN;
	}
	/* counted first, as a login's are, and under the account's own key too */
	if (wait < 0 || throttle_count(db, form_key, now) < 0 ||
	    throttle_count(db, name_key, now) < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -EIO;
	}
	st = db_query(db, "SELECT password FROM users WHERE id = ?", "i", user_id);
	if (!st)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		ok = password_verify((const char *)sqlite3_column_text(st, 0), password);
	else
		password_verify(NULL, password);
	sqlite3_finalize(st);
	if (!ok)
		return -EACCES;
	db_exec(db, "DELETE FROM login_failures WHERE key = ? OR key = ?", "ss", form_key, name_key);
	return 0;
}
