/*
 * Accounts: creation, lookup, password checks with throttling. Failed
 * logins count under three keys: the name from one client address, the
 * address whatever the name, and the name from anywhere. The first two
 * block after LOGIN_FREE_FAILURES (LOGIN_FIRST_WAIT seconds after the last
 * failure, doubling up to 5 minutes); the name alone blocks only after
 * LOGIN_NAME_FAILURES, so that one client cannot lock a known account
 * (admin) out for everyone, while many addresses guessing one account
 * are still bounded. Unknown names count like known ones, so that the
 * answer says nothing about which exist. An attempt counts before its
 * password is checked: parallel tries cannot slip past the limit.
 * IPv6 clients are counted by their /64.
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
#define LOGIN_NAME_FAILURES 50

bool user_name_valid(const char *name);
/* 0 with the new id; -EEXIST, -EINVAL (err says why), -EIO. */
int account_create(sqlite3 *db, const char *name, bool admin, const char *password, bool initial,
		   int64_t *ret_id, char *err, size_t errlen);
int account_set_password(sqlite3 *db, int64_t user_id, const char *password, bool initial);
/*
 * Check a login: 0 with the user's id; -EACCES for a wrong name or
 * password or a disabled account (the same answer); -EAGAIN while
 * throttled, with the seconds to wait in *ret_wait; -EIO when the
 * database failed.
 */
int account_login(sqlite3 *db, const char *name, const char *password, const char *address,
		  time_t now, int64_t *ret_id, int *ret_wait);
/*
 * A logged-in user's current password, as the password form asks for it:
 * 0 when it is the password, -EACCES when not, -EIO when the database
 * failed, -EAGAIN with the seconds to wait when too many were wrong (5
 * free under the form's own key; each also counts under the account's as
 * a failed login does, but only the form's make it wait), so that a
 * stolen session cannot try passwords faster than the login form allows.
 */
int account_check_password(sqlite3 *db, int64_t user_id, const char *name, const char *password,
			   time_t now, int *ret_wait);

#endif
