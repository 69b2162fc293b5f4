/*
 * API tokens: what a script sends (Authorization: Bearer TOKEN) to the
 * portal's JSON API under /api/. A user makes them on their tokens page
 * and sees each one once; the database keeps only its SHA-256. A token
 * acts with exactly its user's rights, at the moment of each request; a
 * disabled user's tokens, expired ones and revoked ones open nothing, and
 * a password change or reset ends all of the user's tokens.
 */
#ifndef WEBKVM_FCGI_API_TOKEN_H
#define WEBKVM_FCGI_API_TOKEN_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>
#include <time.h>

#include "fcgi/session.h"

#define API_TOKEN_PREFIX "wkt_"
#define API_TOKEN_LEN (4 + 64) /* the prefix and 256 random bits in hex */
#define API_TOKEN_NAME_MAX 64
#define API_TOKENS_PER_USER 50

/* A new token for the user, its text in ret (shown once). expires 0: never. 0, -EMLINK (too many) or -EIO. */
int api_token_create(sqlite3 *db, int64_t user_id, const char *name, time_t now, time_t expires,
		     char ret[API_TOKEN_LEN + 1]);
/*
 * The user a token acts for, as a session without cookie, CSRF token or
 * flash: 0, or -ENOENT (unknown, expired, revoked, the user disabled).
 */
int api_token_find(sqlite3 *db, const char *token, time_t now, struct session *ret);
/* The user's tokens, newest first: [{id, name, created, expires, last_used}]. */
json_object *api_tokens_of(sqlite3 *db, int64_t user_id);
/* 0, -ENOENT (not one of the user's), or -EIO. */
int api_token_revoke(sqlite3 *db, int64_t user_id, int64_t id);
/* Every token of the user ends (a password change or reset: whoever had the account loses it). */
void api_tokens_end_user(sqlite3 *db, int64_t user_id);

#endif
