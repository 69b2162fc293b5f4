#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/response.h"
#include "fcgi/template.h"

static bool header_safe(const char *s)
{
	return !strpbrk(s, "\r\n");
}

int respond_header(struct request *r, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value))
		return -EINVAL;
	return buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

static void add_layout(struct request *r, json_object *ctx, const char *title)
{
	char *flash = NULL;

	/* a name of its own: a VM's "title" must not fall back to the page's */
	json_object_object_add(ctx, "page_title", json_object_new_string(title));
	if (r->has_session) {
		json_object_object_add(ctx, "csrf", json_object_new_string(r->session.csrf));
		flash = session_take_flash(r->db, &r->session);
	}
	if (r->session.user_id) {
		json_object *user = json_object_new_object();

		json_object_object_add(user, "name", json_object_new_string(r->session.user));
		json_object_object_add(user, "admin", json_object_new_boolean(r->session.admin));
		json_object_object_add(user, "may_create",
				       json_object_new_boolean(r->session.admin || r->session.may_create));
		json_object_object_add(ctx, "user", user);
	}
	if (flash) {
		/* an error's message is kept with a leading '!' */
		json_object_object_add(ctx, "flash_kind", json_object_new_string(
			flash[0] == '!' ? "danger" : "success"));
		json_object_object_add(ctx, "flash", json_object_new_string(flash + (flash[0] == '!')));
		free(flash);
	}
}

int respond_page(struct request *r, const char *name, const char *title, json_object *ctx)
{
	int ret;

	if (!ctx)
		ctx = json_object_new_object();
	/* the API's answer is what the page is made from, without the page */
	if (r->api)
		return respond_json(r, r->status ? r->status : 200, ctx);
	add_layout(r, ctx, title);
	buf_reset(&r->body);
	ret = tpl_render(r->app->templates, name, ctx, &r->body);
	json_object_put(ctx);
	if (ret < 0) {
		buf_reset(&r->body);
		r->status = 500;
		r->content_type = "text/plain; charset=utf-8";
		buf_printf(&r->body, "The page %s could not be made (%s).\n", name, strerror(-ret));
		return ret;
	}
	if (!r->status)
		r->status = 200;
	r->content_type = "text/html; charset=utf-8";
	return 0;
}

static int redirect(struct request *r, const char *path, bool error, const char *fmt, va_list ap)
{
	/* the API's answer: what the page would have said, as JSON */
	if (r->api) {
		json_object *o = json_object_new_object();
		char msg[1024] = "";

		if (fmt)
			vsnprintf(msg, sizeof(msg), fmt, ap);
		if (error) {
			json_object_object_add(o, "code", json_object_new_string(
				r->refusal_status ? r->refusal_code : "refused"));
			json_object_object_add(o, "message", json_object_new_string(msg));
			if (r->refusal_reason[0])
				json_object_object_add(o, "reason", json_object_new_string(r->refusal_reason));
			return respond_json(r, r->refusal_status ? r->refusal_status : 400, o);
		}
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "message", json_object_new_string(msg));
		return respond_json(r, 200, o);
	}
	/* only paths of ours: never a Location a request chose */
	if (path[0] != '/' || path[1] == '/' || path[1] == '\\' || !header_safe(path))
		path = "/";
	if (fmt && r->has_session) {
		char msg[1024];

		msg[0] = '!';
		vsnprintf(msg + error, sizeof(msg) - 1, fmt, ap);
		if (msg[error] == '!') /* a message of its own never looks like an error's mark */
			msg[error] = ' ';
		session_set_flash(r->db, &r->session, msg);
	}
	/* a script of our pages (an upload) goes there itself: the message waits for that page */
	if (r->script) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "location", json_object_new_string(path));
		return respond_json(r, 200, o);
	}
	r->status = 303;
	buf_reset(&r->body);
	return respond_header(r, "Location", path);
}

int respond_redirect(struct request *r, const char *path, const char *flash, ...)
{
	va_list ap;
	int ret;

	va_start(ap, flash);
	ret = redirect(r, path, false, flash, ap);
	va_end(ap);
	return ret;
}

void respond_refusal_kind(struct request *r, int status, const char *code)
{
	r->refusal_status = status;
	r->refusal_code = code;
	if (!status)
		r->refusal_reason[0] = '\0';
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

int respond_vmmd_refused(struct request *r, const char *path, const char *code, const char *err)
{
	if (!code[0])
		respond_refusal_kind(r, 502, "vm-service-unavailable");
	else if (!strncmp(code, "no-", 3))
		respond_refusal_kind(r, 404, "not-found");
	else if (!strcmp(code, "invalid-state") || has_suffix(code, "-exists"))
		respond_refusal_kind(r, 409, "conflict");
	else if (!strncmp(code, "invalid-", 8) || !strcmp(code, "upload-cut"))
		respond_refusal_kind(r, 400, "refused");
	else
		respond_refusal_kind(r, 500, "vm-service-error");
	snprintf(r->refusal_reason, sizeof(r->refusal_reason), "%s", code);
	return respond_redirect_error(r, path, "%s", err);
}

int respond_redirect_error(struct request *r, const char *path, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = redirect(r, path, true, fmt, ap);
	va_end(ap);
	return ret;
}

bool request_wants_json(const struct request *r)
{
	size_t n = r->path ? strlen(r->path) : 0;

	return r->api || r->script || (n > 5 && !strcmp(r->path + n - 5, ".json"));
}

/* The API's stable error codes, by HTTP status. */
static const char *error_code(int status)
{
	switch (status) {
	case 400: return "bad-request";
	case 401: return "unauthenticated";
	case 403: return "forbidden";
	case 404: return "not-found";
	case 405: return "method-not-allowed";
	case 409: return "conflict";
	case 413: return "too-large";
	case 502: return "vm-service-unavailable";
	default: return status >= 500 ? "internal-error" : "refused";
	}
}

int respond_error(struct request *r, int status, const char *fmt, ...)
{
	json_object *ctx = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = status;
	if (request_wants_json(r)) {
		json_object *obj = json_object_new_object();

		json_object_put(ctx);
		if (r->api)
			json_object_object_add(obj, "code", json_object_new_string(error_code(status)));
		json_object_object_add(obj, r->api ? "message" : "error", json_object_new_string(msg));
		return respond_json(r, status, obj);
	}
	json_object_object_add(ctx, "status", json_object_new_int(status));
	json_object_object_add(ctx, "message", json_object_new_string(msg));
	return respond_page(r, "error", status == 403 ? "Not allowed" : "Error", ctx);
}

int respond_json(struct request *r, int status, json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);

	buf_reset(&r->body);
	buf_append(&r->body, s, len);
	json_object_put(obj);
	r->status = status;
	r->content_type = "application/json";
	return r->body.error;
}
