/* Users (admin): accounts, roles, and each user's rights on each VM. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/account.h"
#include "fcgi/api_token.h"
#include "fcgi/audit.h"
#include "fcgi/db.h"
#include "fcgi/pages.h"
#include "fcgi/quota.h"
#include "fcgi/password.h"
#include "fcgi/response.h"
#include "fcgi/rights.h"
#include "fcgi/vmmd.h"

/* 8-4-4-4-12 lowercase hex digits, as vmmd writes a uuid. */
static bool uuid_valid(const char *u)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')))
			return false;
	}
	return u[36] == '\0';
}

static const char *text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? (const char *)s : "";
}

int page_users(struct request *r)
{
	json_object *ctx = json_object_new_object(), *users = json_object_new_array();
	sqlite3_stmt *st = db_query(r->db,
		"SELECT u.name, u.role, u.disabled, u.initial, "
		"(SELECT count(*) FROM rights WHERE user_id = u.id) FROM users u ORDER BY u.name", NULL);

	if (!st) {
		json_object_put(ctx);
		json_object_put(users);
		return respond_error(r, 500, "The portal's database failed.");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_object *u = json_object_new_object();

		json_object_object_add(u, "name", json_object_new_string(text(st, 0)));
		json_object_object_add(u, "admin", json_object_new_boolean(!strcmp(text(st, 1), "admin")));
		json_object_object_add(u, "disabled", json_object_new_boolean(sqlite3_column_int(st, 2)));
		json_object_object_add(u, "initial", json_object_new_boolean(sqlite3_column_int(st, 3)));
		json_object_object_add(u, "vms", json_object_new_int(sqlite3_column_int(st, 4)));
		json_object_array_add(users, u);
	}
	sqlite3_finalize(st);
	json_object_object_add(ctx, "users", users);
	json_object_object_add(ctx, "min_len", json_object_new_int(PASSWORD_MIN_LEN));
	json_object_object_add(ctx, "nav_users", json_object_new_boolean(1));
	return respond_page(r, "users", "Users", ctx);
}

int page_user_create(struct request *r)
{
	const char *name = params_get(&r->form, "name"), *password = params_get(&r->form, "password");
	const char *role = params_get(&r->form, "role");
	char err[256];
	int ret;

	if (!name || !password || !role || (strcmp(role, "admin") && strcmp(role, "user")))
		return respond_redirect_error(r, "/users", "Give the new user a name, a role and a password.");
	ret = account_create(r->db, name, !strcmp(role, "admin"), password, false, NULL, err,
			     sizeof(err));
	audit_log(r, "create user", name, ret < 0 ? err : "ok");
	if (ret < 0)
		return respond_redirect_error(r, "/users", "%s", err);
	return respond_redirect(r, "/users", "The user %s was created.", name);
}

/* The user named in the path: 0 with id, role and state, or an answer is made. */
static int find_user(struct request *r, int64_t *id, bool *admin, bool *disabled)
{
	sqlite3_stmt *st;

	if (!user_name_valid(r->args[0]))
		return respond_error(r, 404, "There is no such user."), -ENOENT;
	st = db_query(r->db, "SELECT id, role, disabled FROM users WHERE name = ?", "s", r->args[0]);
	if (!st)
		return respond_error(r, 500, "The portal's database failed."), -EIO;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return respond_error(r, 404, "There is no user named %s.", r->args[0]), -ENOENT;
	}
	*id = sqlite3_column_int64(st, 0);
	*admin = !strcmp(text(st, 1), "admin");
	*disabled = sqlite3_column_int(st, 2);
	sqlite3_finalize(st);
	return 0;
}

/* What the quota card shows: may_create, and each quota with its limit (or none) and use. */
static json_object *quota_page_context(struct request *r, int64_t id)
{
	static const char *const field[] = { "vms", "vcpus", "memory", "disk" };
	static const char *const what[] = { "VMs", "vCPUs", "Memory (MiB)", "Disk (GiB)" };
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	struct quota q = { -1, -1, -1, -1 };
	struct quota_use u = { 0 };
	sqlite3_stmt *st;
	char err[256];
	bool have_use;

	quota_get(r->db, id, &q);
	have_use = quota_usage(r, id, NULL, &u, err, sizeof(err)) == 0;
	if (!have_use)
		respond_refusal_kind(r, 0, NULL); /* only shown: no refusal of this request */
	st = db_query(r->db, "SELECT may_create FROM users WHERE id = ?", "i", id);
	json_object_object_add(o, "may_create",
			       json_object_new_boolean(st && sqlite3_step(st) == SQLITE_ROW &&
						       sqlite3_column_int(st, 0)));
	sqlite3_finalize(st);
	{
		int64_t limit[] = { q.vms, q.vcpus, q.memory_mib, q.disk_gib };
		int64_t used[] = { u.vms, u.vcpus, u.memory_mib, (u.disk_bytes + (1 << 30) - 1) >> 30 };

		for (int i = 0; i < 4; i++) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "field", json_object_new_string(field[i]));
			json_object_object_add(e, "what", json_object_new_string(what[i]));
			if (limit[i] >= 0)
				json_object_object_add(e, "limit", json_object_new_int64(limit[i]));
			if (have_use)
				json_object_object_add(e, "used", json_object_new_int64(used[i]));
			json_object_array_add(list, e);
		}
	}
	json_object_object_add(o, "limits", list);
	return o;
}

int page_user(struct request *r)
{
	json_object *ctx, *list = NULL, *domains, *vms, *user;
	struct session who = { 0 };
	json_object *granted = NULL;
	char code[64], err[256];
	int64_t id;
	bool admin, disabled;

	if (find_user(r, &id, &admin, &disabled) < 0)
		return -1;
	if (vmmd_call(r->vmmd, "domain.list", NULL, &list, code, sizeof(code), err, sizeof(err)) < 0)
		return respond_error(r, 502, "The VM service did not answer: %s", err);
	who.user_id = id;
	if (rights_of_user(r->db, &who, &granted) < 0) {
		json_object_put(list);
		return respond_error(r, 500, "The portal's database failed.");
	}
	ctx = json_object_new_object();
	user = json_object_new_object();
	json_object_object_add(user, "name", json_object_new_string(r->args[0]));
	json_object_object_add(user, "admin", json_object_new_boolean(admin));
	json_object_object_add(user, "disabled", json_object_new_boolean(disabled));
	json_object_object_add(user, "self", json_object_new_boolean(id == r->session.user_id));
	json_object_object_add(ctx, "target", user);
	vms = json_object_new_array();
	if (json_object_object_get_ex(list, "domains", &domains)) {
		size_t n = json_object_array_length(domains);

		for (size_t i = 0; i < n; i++) {
			json_object *d = json_object_array_get_idx(domains, i), *g = NULL, *o;
			const char *uuid = "", *name = "";
			static const char *const keys[] = { "power", "change", "remove", "console" };

			json_get_string(d, "uuid", &uuid);
			json_get_string(d, "name", &name);
			o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(name));
			json_object_object_add(o, "uuid", json_object_new_string(uuid));
			json_object_object_get_ex(granted, uuid, &g);
			json_object_object_add(o, "view", json_object_new_boolean(g != NULL));
			for (size_t k = 0; k < 4; k++) {
				bool v = false;

				json_get_bool(g, keys[k], &v);
				json_object_object_add(o, keys[k], json_object_new_boolean(v));
			}
			json_object_array_add(vms, o);
		}
	}
	json_object_object_add(ctx, "vms", vms);
	json_object_object_add(ctx, "quota", quota_page_context(r, id));
	json_object_object_add(ctx, "min_len", json_object_new_int(PASSWORD_MIN_LEN));
	json_object_object_add(ctx, "nav_users", json_object_new_boolean(1));
	json_object_put(list);
	json_object_put(granted);
	return respond_page(r, "user", r->args[0], ctx);
}

int page_user_update(struct request *r)
{
	const char *role = params_get(&r->form, "role");
	char back[USER_NAME_MAX + 8];
	int64_t id;
	bool admin, disabled, want_disabled;

	if (find_user(r, &id, &admin, &disabled) < 0)
		return -1;
	snprintf(back, sizeof(back), "/user/%s", r->args[0]);
	if (!role || (strcmp(role, "admin") && strcmp(role, "user")) ||
	    params_bool(&r->form, "disabled", &want_disabled) < 0)
		return respond_redirect_error(r, back, "Choose a role.");
	if (id == r->session.user_id && (strcmp(role, "admin") || want_disabled))
		return respond_redirect_error(r, back, "You cannot take away your own admin role or disable yourself.");
	if (db_exec(r->db, "UPDATE users SET role = ?, disabled = ? WHERE id = ?", "sii", role,
		    (int64_t)want_disabled, id) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	if (want_disabled)
		session_end_user(r->db, id, NULL);
	audit_log(r, "change user", r->args[0], "ok");
	return respond_redirect(r, back, "The user %s was changed.", r->args[0]);
}

/*
 * Self-service: may_create (a checkbox) and the four quotas, each a number
 * or empty (no limit). Lowering a quota below what is used takes nothing
 * away; it only stops growth.
 */
int page_user_quota(struct request *r)
{
	static const char *const field[] = { "vms", "vcpus", "memory", "disk" };
	static const long long max[] = { 100000, 100000, 1LL << 40, 1LL << 30 };
	char back[USER_NAME_MAX + 8];
	const char *text[4];
	bool admin, disabled, may_create;
	long long v;
	int64_t id;

	if (find_user(r, &id, &admin, &disabled) < 0)
		return -1;
	snprintf(back, sizeof(back), "/user/%s", r->args[0]);
	if (params_bool(&r->form, "may_create", &may_create) < 0)
		return respond_redirect_error(r, back, "Making VMs is allowed or not.");
	for (int i = 0; i < 4; i++) {
		/* checked as a number, stored from its one spelling (the column makes it an integer) */
		text[i] = params_get(&r->form, field[i]);
		if (text[i] && !*text[i])
			text[i] = NULL;
		if (text[i] && params_int(&r->form, field[i], 0, max[i], &v) < 0)
			return respond_redirect_error(r, back, "A quota is a whole number from 0 up, or empty for no limit.");
	}
	if (db_exec(r->db, "UPDATE users SET may_create = ?, quota_vms = ?, quota_vcpus = ?, "
			   "quota_memory_mib = ?, quota_disk_gib = ? WHERE id = ?", "issssi",
		    (int64_t)may_create, text[0], text[1], text[2], text[3], id) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	audit_log(r, "set quota", r->args[0], "ok");
	return respond_redirect(r, back, "The quotas of %s were saved.", r->args[0]);
}

int page_user_password(struct request *r)
{
	const char *password = params_get(&r->form, "password");
	char back[USER_NAME_MAX + 8], err[256];
	int64_t id;
	bool admin, disabled;

	if (find_user(r, &id, &admin, &disabled) < 0)
		return -1;
	snprintf(back, sizeof(back), "/user/%s", r->args[0]);
	if (id == r->session.user_id)
		return respond_redirect_error(r, back, "Change your own password on your account page, with the current one.");
	if (!password || password_check_new(password, err, sizeof(err)) < 0)
		return respond_redirect_error(r, back, "%s", password ? err : "Give a new password.");
	if (account_set_password(r->db, id, password, false) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	/* whoever used the old one is out, and the scripts of whoever had it */
	session_end_user(r->db, id, NULL);
	api_tokens_end_user(r->db, id);
	audit_log(r, "reset password", r->args[0], "ok");
	return respond_redirect(r, back, "The password of %s was set.", r->args[0]);
}

/*
 * The rights form: for each VM listed (field vm=UUID), view.UUID and the
 * four rights as checkboxes; a VM without view loses every right.
 */
int page_user_rights(struct request *r)
{
	static const char *const keys[] = { "view", "power", "change", "remove", "console" };
	char back[USER_NAME_MAX + 8], field[80];
	int64_t id;
	bool admin, disabled;
	int changed = 0;

	if (find_user(r, &id, &admin, &disabled) < 0)
		return -1;
	snprintf(back, sizeof(back), "/user/%s", r->args[0]);
	if (db_begin(r->db) < 0)
		return respond_error(r, 500, "The portal's database failed.");
	for (size_t i = 0; i < r->form.n; i++) {
		const char *uuid = r->form.v[i].value;
		bool v[5];
		int ret = 0;

		if (strcmp(r->form.v[i].name, "vm"))
			continue;
		if (!uuid_valid(uuid)) {
			db_rollback(r->db);
			return respond_redirect_error(r, back, "The form named a VM that is not a uuid.");
		}
		for (size_t k = 0; k < 5; k++) {
			snprintf(field, sizeof(field), "%s.%s", keys[k], uuid);
			if (params_bool(&r->form, field, &v[k]) < 0)
				ret = -EINVAL;
		}
		if (ret == 0)
			ret = v[0] ? rights_set(r->db, id, uuid, &(struct vm_rights){
						 true, v[1], v[2], v[3], v[4] })
				   : rights_revoke(r->db, id, uuid);
		if (ret < 0) {
			db_rollback(r->db);
			return respond_redirect_error(r, back, "The rights could not be set.");
		}
		changed++;
	}
	if (db_commit(r->db) < 0) {
		db_rollback(r->db);
		return respond_error(r, 500, "The portal's database failed.");
	}
	audit_log(r, "set rights", r->args[0], "ok");
	return respond_redirect(r, back, "The rights of %s on %d VMs were saved.", r->args[0], changed);
}
