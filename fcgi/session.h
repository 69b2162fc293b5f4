/*
 * Sessions, kept server-side: the browser holds only a random 256-bit id
 * in the cookie __Host-webkvm (HttpOnly, Secure, SameSite=Strict, Path=/),
 * the database only its SHA-256. A session without a user is the one a
 * login form belongs to, so that the login POST carries a CSRF token too;
 * logging in replaces it by a new one (a planted id never becomes a
 * logged-in session). Idle expiry 30 min, absolute 12 h; background
 * polling does not count as activity.
 */
#ifndef WEBKVM_FCGI_SESSION_H
#define WEBKVM_FCGI_SESSION_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define SESSION_COOKIE "__Host-webkvm"
#define SESSION_IDLE_SECONDS (30 * 60)
#define SESSION_MAX_SECONDS (12 * 3600)
#define SESSION_ID_HEX 64
#define SESSION_ANONYMOUS_MAX 10000 /* login forms' sessions kept at most */
#define USER_NAME_MAX 32

struct session {
	char id_hash[SESSION_ID_HEX + 1];
	char csrf[SESSION_ID_HEX + 1];
	int64_t user_id; /* 0: not logged in */
	char user[USER_NAME_MAX + 1];
	bool admin;
	bool may_create;       /* may make VMs of their own, under their quotas */
	bool initial_password; /* must change the setup's password */
	char *flash;     /* owned; NULL when none */
};

/*
 * The live session of a cookie's id, or -ENOENT (unknown, expired: an
 * expired one is deleted; its user disabled: it is ended). With active,
 * the request counts as activity.
 */
int session_find(sqlite3 *db, const char *id, time_t now, bool active, struct session *ret);
/* A new session (user_id 0 for a login form's): its id in ret_id. */
int session_create(sqlite3 *db, int64_t user_id, const char *address, time_t now,
		   char ret_id[SESSION_ID_HEX + 1], struct session *ret);
int session_end(sqlite3 *db, const struct session *s);
/* End every session of a user but keep_hash's (NULL: all of them). */
int session_end_user(sqlite3 *db, int64_t user_id, const char *keep_hash);
/* Keep a message for the next page this session sees. */
int session_set_flash(sqlite3 *db, const struct session *s, const char *msg);
/* Take it (it is shown once). */
char *session_take_flash(sqlite3 *db, struct session *s);
void session_clear(struct session *s);
/* Delete expired sessions. */
int session_prune(sqlite3 *db, time_t now);

/* SHA-256 of s as 64 hex digits. */
void sha256_hex(const char *s, char ret[SESSION_ID_HEX + 1]);

#endif
