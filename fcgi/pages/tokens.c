/*
 * A user's API tokens: the list (name, made, expiry, last use), a form
 * that makes one and shows it once, and revocation. Each user sees and
 * revokes only their own; a token has its user's rights, no more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonrpc.h"
#include "fcgi/api_token.h"
#include "fcgi/audit.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"

#define EXPIRY_DAYS_MAX 3650

static void add_date(json_object *t, const char *key, const char *text_key)
{
	int64_t v = 0;
	char text[32];
	struct tm tm;
	time_t when;

	if (!json_get_int64(t, key, &v))
		return;
	when = (time_t)v;
	if (gmtime_r(&when, &tm) && strftime(text, sizeof(text), "%Y-%m-%d %H:%M UTC", &tm))
		json_object_object_add(t, text_key, json_object_new_string(text));
}

static int tokens_page(struct request *r, const char *new_token, const char *new_name)
{
	json_object *ctx = json_object_new_object(), *list = api_tokens_of(r->db, r->session.user_id);

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *t = json_object_array_get_idx(list, i);

		add_date(t, "created", "created_text");
		add_date(t, "expires", "expires_text");
		add_date(t, "last_used", "last_used_text");
	}
	json_object_object_add(ctx, "tokens", list);
	if (new_token) {
		json_object_object_add(ctx, "new_token", json_object_new_string(new_token));
		json_object_object_add(ctx, "new_name", json_object_new_string(new_name));
	}
	json_object_object_add(ctx, "nav_tokens", json_object_new_boolean(1));
	return respond_page(r, "tokens", "API tokens", ctx);
}

int page_tokens(struct request *r)
{
	return tokens_page(r, NULL, NULL);
}

/* Made and shown in this answer (not a redirect: the token is kept nowhere to show it again). */
int page_token_create(struct request *r)
{
	const char *name = NULL;
	char token[API_TOKEN_LEN + 1];
	long long days = 0;
	int ret;

	if (params_text(&r->form, "name", API_TOKEN_NAME_MAX, false, &name) < 0 || !*name)
		return respond_redirect_error(r, "/account/tokens", "A token's name is one line of 1 to %d bytes.",
					      API_TOKEN_NAME_MAX);
	if (params_get(&r->form, "days") && *params_get(&r->form, "days") &&
	    params_int(&r->form, "days", 1, EXPIRY_DAYS_MAX, &days) < 0)
		return respond_redirect_error(r, "/account/tokens",
					      "A token lasts 1 to %d days, or has no expiry.", EXPIRY_DAYS_MAX);
	ret = api_token_create(r->db, r->session.user_id, name, r->now,
			       days ? r->now + (time_t)days * 86400 : 0, token);
	if (ret == -EMLINK)
		return respond_redirect_error(r, "/account/tokens",
					      "You have %d tokens; revoke one first.", API_TOKENS_PER_USER);
	if (ret < 0)
		return respond_error(r, 500, "The portal's database failed.");
	audit_log(r, "create token", name, "ok");
	ret = tokens_page(r, token, name);
	memset(token, 0, sizeof(token));
	return ret;
}

int page_token_revoke(struct request *r)
{
	long long id;
	char *end;
	int ret;

	errno = 0;
	id = strtoll(r->args[0], &end, 10);
	if (errno || *end || id <= 0)
		return respond_error(r, 404, "There is no such token.");
	ret = api_token_revoke(r->db, r->session.user_id, id);
	if (ret == -ENOENT) {
		audit_log(r, "revoke token", r->args[0], "refused");
		return respond_redirect_error(r, "/account/tokens", "You have no such token.");
	}
	if (ret < 0)
		return respond_error(r, 500, "The portal's database failed.");
	audit_log(r, "revoke token", r->args[0], "ok");
	return respond_redirect(r, "/account/tokens", "The token was revoked.");
}
