/*
 * Users' rights on VMs, set by an admin: a row per (user, VM uuid) means
 * the user sees that VM; its flags say what else they may do with it. An
 * admin has every right on every VM.
 */
#ifndef WEBKVM_FCGI_RIGHTS_H
#define WEBKVM_FCGI_RIGHTS_H

#include <json-c/json.h>
#include <sqlite3.h>

#include "fcgi/app.h"

int rights_get(sqlite3 *db, const struct session *s, const char *uuid, struct vm_rights *ret);
/*
 * Every VM a user sees, as an object from uuid to {power, change, remove,
 * console}; for an admin NULL (all of them, with every right).
 */
int rights_of_user(sqlite3 *db, const struct session *s, json_object **ret);
int rights_set(sqlite3 *db, int64_t user_id, const char *uuid, const struct vm_rights *rights);
int rights_revoke(sqlite3 *db, int64_t user_id, const char *uuid);

#endif
