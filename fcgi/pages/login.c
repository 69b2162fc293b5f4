/* Login, logout and a user's own password. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fcgi/account.h"
#include "fcgi/api_token.h"
#include "fcgi/audit.h"
#include "fcgi/pages.h"
#include "fcgi/password.h"
#include "fcgi/request.h"
#include "fcgi/response.h"

static int login_page(struct request *r, int status, const char *error, const char *name)
{
	json_object *ctx = json_object_new_object();

	if (error)
		json_object_object_add(ctx, "error", json_object_new_string(error));
	if (name)
		json_object_object_add(ctx, "name", json_object_new_string(name));
	r->status = status;
	return respond_page(r, "login", "Log in", ctx);
}

int page_login_form(struct request *r)
{
	if (r->session.user_id)
		return respond_redirect(r, "/instances", NULL);
	/* the form's CSRF token belongs to a session without a user */
	if (!r->has_session && request_new_session(r, 0) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	return login_page(r, 200, NULL, NULL);
}

int page_login(struct request *r)
{
	const char *name = params_get(&r->form, "name");
	const char *password = params_get(&r->form, "password");
	int64_t id;
	int wait, ret;

	if (!name || !password || strlen(name) > USER_NAME_MAX * 4 ||
	    strlen(password) > PASSWORD_MAX_LEN)
		return login_page(r, 400, "Enter a user name and a password.", NULL);
	ret = account_login(r->db, name, password, r->address ? r->address : "", r->now, &id, &wait);
	if (ret == -EAGAIN) {
		char msg[128];

		snprintf(msg, sizeof(msg), "Too many failed logins. Try again in %d seconds.", wait);
		return login_page(r, 429, msg, name);
	}
	if (ret == -EIO)
		return respond_error(r, 500, "The portal's database failed.");
	if (ret < 0) {
		audit_log(r, "login", user_name_valid(name) ? name : "(invalid name)", "wrong name or password");
		return login_page(r, 401, "The user name or the password is wrong.", name);
	}
	/* a new id: one planted before login never becomes a logged-in session */
	if (request_new_session(r, id) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	audit_log(r, "login", name, "ok");
	if (r->session.initial_password)
		return respond_redirect(r, "/account/password", "Choose a password of your own first.");
	return respond_redirect(r, "/instances", NULL);
}

int page_logout(struct request *r)
{
	audit_log(r, "logout", r->session.user, "ok");
	request_end_session(r);
	return respond_redirect(r, "/login", NULL);
}

static int password_page(struct request *r, int status, const char *error)
{
	json_object *ctx = json_object_new_object();

	if (error)
		json_object_object_add(ctx, "error", json_object_new_string(error));
	json_object_object_add(ctx, "initial", json_object_new_boolean(r->session.initial_password));
	json_object_object_add(ctx, "min_len", json_object_new_int(PASSWORD_MIN_LEN));
	r->status = status;
	return respond_page(r, "password", "Change password", ctx);
}

int page_password_form(struct request *r)
{
	return password_page(r, 200, NULL);
}

int page_password(struct request *r)
{
	const char *current = params_get(&r->form, "current");
	const char *new1 = params_get(&r->form, "new");
	const char *new2 = params_get(&r->form, "repeat");
	int64_t user_id = r->session.user_id;
	bool was_initial = r->session.initial_password;
	char err[256];
	int ret, wait = 0;

	if (!current || !new1 || !new2)
		return password_page(r, 400, "Fill in all three fields.");
	ret = account_check_password(r->db, user_id, r->session.user, current, r->now, &wait);
	if (ret == -EAGAIN) {
		char msg[128];

		audit_log(r, "change password", r->session.user, "throttled");
		snprintf(msg, sizeof(msg), "Too many wrong passwords. Try again in %d seconds.", wait);
		return password_page(r, 429, msg);
	}
	if (ret == -EIO)
		return respond_error(r, 500, "The portal's database failed.");
	if (ret < 0) {
		audit_log(r, "change password", r->session.user, "wrong current password");
		return password_page(r, 403, "The current password is wrong.");
	}
	if (strcmp(new1, new2))
		return password_page(r, 400, "The new password and its repetition differ.");
	if (password_check_new(new1, err, sizeof(err)) < 0)
		return password_page(r, 400, err);
	if (!strcmp(new1, current))
		return password_page(r, 400, "The new password is the current one.");
	if (account_set_password(r->db, user_id, new1, false) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	/* every session and API token of the user ends, this session too: it continues under a new id */
	session_end_user(r->db, user_id, NULL);
	api_tokens_end_user(r->db, user_id);
	r->has_session = false;
	if (request_new_session(r, user_id) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	audit_log(r, "change password", r->session.user, "ok");
	if (was_initial && r->session.admin) {
		/* the setup kept the first admin's password here until now */
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", r->app->state_dir, INITIAL_PASSWORD_FILE);
		unlink(path);
	}
	return respond_redirect(r, "/instances", "Your password has been changed.");
}
