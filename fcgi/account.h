/*
 * Accounts: creation, lookup, password checks with throttling. Failed
 * logins count per account name (whether or not it exists, so that an
 * unknown name answers like a wrong password) and per client address;
 * past LOGIN_FREE_FAILURES either one waits LOGIN_FIRST_WAIT seconds after
 * its last failure, doubling with each further failure up to 5 minutes.
 */
#ifndef WEBKVM_FCGI_ACCOUNT_H
#define WEBKVM_FCGI_ACCOUNT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fcgi/session.h"

/* In the state folder, root's only, until the first admin changes it. */
#define INITIAL_PASSWORD_FILE "initial-admin-password"
#define LOGIN_FREE_FAILURES 5
#define LOGIN_FIRST_WAIT 15
#define LOGIN_MAX_WAIT 300

bool user_name_valid(const char *name);
/* 0 with the new id; -EEXIST, -EINVAL (err says why), -EIO. */
int account_create(sqlite3 *db, const char *name, bool admin, const char *password, bool initial,
		   int64_t *ret_id, char *err, size_t errlen);
int account_set_password(sqlite3 *db, int64_t user_id, const char *password, bool initial);
/*
 * Check a login: 0 with the user's id; -EACCES for a wrong name or
 * password or a disabled account (the same answer); -EAGAIN while
 * throttled, with the seconds to wait in *ret_wait.
 */
int account_login(sqlite3 *db, const char *name, const char *password, const char *address,
		  time_t now, int64_t *ret_id, int *ret_wait);
/* The password check alone (for a password change). */
bool account_password_matches(sqlite3 *db, int64_t user_id, const char *password);

#endif
