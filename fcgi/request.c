#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "fcgi/api_token.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"

/*
 * Sent with every answer. The pages load scripts and styles only from
 * this site (no inline script, no eval); Bootstrap's CSS draws some
 * controls with data: images.
 */
static const char security_headers[] =
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
	"frame-ancestors 'none'; base-uri 'none'\r\n"
	"X-Content-Type-Options: nosniff\r\n"
	"X-Frame-Options: DENY\r\n"
	"Referrer-Policy: same-origin\r\n"
	"Cache-Control: no-store\r\n";

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 502: return "Bad Gateway";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

int request_new_session(struct request *r, int64_t user_id)
{
	struct session s;
	int ret;

	if (r->has_session)
		session_end(r->db, &r->session);
	session_clear(&r->session);
	r->has_session = false;
	ret = session_create(r->db, user_id, r->address ? r->address : "", r->now,
			     r->new_session_id, &s);
	if (ret < 0)
		return ret;
	r->session = s;
	r->has_session = true;
	r->clear_cookie = false;
	return 0;
}

void request_end_session(struct request *r)
{
	if (r->has_session) {
		session_end(r->db, &r->session);
		session_clear(&r->session);
	}
	r->has_session = false;
	r->new_session_id[0] = '\0';
	r->clear_cookie = true;
}

/*
 * A POST's body: a urlencoded form of at most REQUEST_BODY_MAX bytes is
 * read; a file's bytes (application/octet-stream, with its length) are
 * left to the route that takes them. 0, or an answer is made.
 */
static int read_body(struct request *r, FCGX_Request *fcgx)
{
	const char *type = FCGX_GetParam("CONTENT_TYPE", fcgx->envp);
	const char *length = FCGX_GetParam("CONTENT_LENGTH", fcgx->envp);
	char err[256], *body, *end;
	long long len;
	int n, ret;

	errno = 0;
	len = length && *length ? strtoll(length, &end, 10) : 0;
	if (length && *length && (*end || len < 0 || errno || !isdigit((unsigned char)*length)))
		return respond_error(r, 400, "The request's length is not a number."), -EINVAL;
	if (type && !strcmp(type, "application/octet-stream")) {
		if (!length || !*length)
			return respond_error(r, 411, "A file's upload needs its length."), -EINVAL;
		r->file_body = fcgx->in;
		r->file_length = len;
		return 0;
	}
	if (len > REQUEST_BODY_MAX)
		return respond_error(r, 413, "The request is larger than %d bytes.", REQUEST_BODY_MAX), -E2BIG;
	if (len == 0)
		return 0;
	if (!type || strncmp(type, "application/x-www-form-urlencoded", 33) ||
	    (type[33] && type[33] != ';'))
		return respond_error(r, 415, "The portal takes forms only as application/x-www-form-urlencoded."), -EINVAL;
	body = malloc((size_t)len + 1);
	if (!body)
		return respond_error(r, 500, "Out of memory."), -ENOMEM;
	n = FCGX_GetStr(body, (int)len, fcgx->in);
	if (n != len) {
		free(body);
		return respond_error(r, 400, "The request's body ended early."), -EIO;
	}
	body[len] = '\0';
	ret = params_parse_urlencoded(body, (size_t)len, &r->form, err, sizeof(err));
	free(body);
	if (ret < 0)
		return respond_error(r, 400, "The form could not be read: %s", err), ret;
	return 0;
}

/* libfcgi's own printf knows few conversions: the head is made here. */
static void write_answer(struct request *r, FCGX_Request *fcgx)
{
	struct buf head = BUF_INIT(128 * 1024);

	buf_printf(&head, "Status: %d %s\r\n", r->status, status_text(r->status));
	buf_puts(&head, security_headers);
	if (r->https)
		buf_puts(&head, "Strict-Transport-Security: max-age=31536000\r\n");
	if (r->new_session_id[0])
		buf_printf(&head, "Set-Cookie: " SESSION_COOKIE
			   "=%s; Path=/; Secure; HttpOnly; SameSite=Strict\r\n", r->new_session_id);
	else if (r->clear_cookie)
		buf_puts(&head, "Set-Cookie: " SESSION_COOKIE
			 "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0\r\n");
	if (r->content_type)
		buf_printf(&head, "Content-Type: %s\r\n", r->content_type);
	if (r->headers.len)
		buf_append(&head, r->headers.data, r->headers.len);
	buf_printf(&head, "Content-Length: %zu\r\n\r\n", r->body.len);
	if (head.error) {
		buf_reset(&head);
		buf_puts(&head, "Status: 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
		r->body.len = 0;
	}
	FCGX_PutStr(head.data, (int)head.len, fcgx->out);
	if (r->body.len && strcmp(r->method, "HEAD"))
		FCGX_PutStr(r->body.data, (int)r->body.len, fcgx->out);
	buf_free(&head);
}

/* A worker keeps at most this much of a page buffer between requests. */
#define KEPT_BUFFER (4 * 1024 * 1024)

void request_serve(const struct app *app, struct worker_keep *keep, FCGX_Request *fcgx)
{
	struct request r = {
		.app = app,
		.db = keep->db,
		.vmmd = &keep->vmmd,
		.rows = &keep->rows,
		.api_list = &keep->api_list,
		.volumes = &keep->volumes,
		.now = time(NULL),
	};
	const char *query, *cookie, *https, *xrw;
	char err[256];

	buf_init(&r.headers, 64 * 1024);
	r.body = keep->page;
	buf_reset(&r.body);
	r.method = FCGX_GetParam("REQUEST_METHOD", fcgx->envp);
	r.path = FCGX_GetParam("DOCUMENT_URI", fcgx->envp);
	r.host = FCGX_GetParam("HTTP_HOST", fcgx->envp);
	r.port = FCGX_GetParam("SERVER_PORT", fcgx->envp);
	r.origin = FCGX_GetParam("HTTP_ORIGIN", fcgx->envp);
	r.address = FCGX_GetParam("REMOTE_ADDR", fcgx->envp);
	https = FCGX_GetParam("HTTPS", fcgx->envp);
	r.https = https && *https;
	xrw = FCGX_GetParam("HTTP_X_REQUESTED_WITH", fcgx->envp);
	r.poll = xrw && !strcmp(xrw, "poll");
	r.script = xrw != NULL;
	r.csrf_header = FCGX_GetParam("HTTP_X_CSRF_TOKEN", fcgx->envp);
	r.style_nonce = FCGX_GetParam("WEBKVM_STYLE_NONCE", fcgx->envp);
	if (r.style_nonce && (strlen(r.style_nonce) != 32 ||
			      strspn(r.style_nonce, "0123456789abcdef") != 32))
		r.style_nonce = NULL;
	if (!r.method || !r.path || r.path[0] != '/') {
		r.method = r.method ? r.method : "GET";
		respond_error(&r, 400, "The request has no method or path.");
		goto answer;
	}
	if (strcmp(r.method, "GET") && strcmp(r.method, "HEAD") && strcmp(r.method, "POST")) {
		respond_header(&r, "Allow", "GET, HEAD, POST");
		respond_error(&r, 405, "The portal takes GET and POST requests only.");
		goto answer;
	}
	query = FCGX_GetParam("QUERY_STRING", fcgx->envp);
	if (query && *query &&
	    params_parse_urlencoded(query, strlen(query), &r.query, err, sizeof(err)) < 0) {
		respond_error(&r, 400, "The address could not be read: %s", err);
		goto answer;
	}
	r.api = !strncmp(r.path, "/api/", 5);
	r.route_path = r.api ? r.path + 4 : r.path;
	if (r.api) {
		/* only a token: cookies never authenticate the API (no CSRF there) */
		const char *auth = FCGX_GetParam("HTTP_AUTHORIZATION", fcgx->envp);

		if (auth && !strncmp(auth, "Bearer ", 7) &&
		    api_token_find(r.db, auth + 7, r.now, &r.session) == -EIO) {
			respond_error(&r, 500, "The portal's database failed.");
			goto answer;
		}
	} else {
		cookie = FCGX_GetParam("HTTP_COOKIE", fcgx->envp);
		if (cookie)
			params_parse_cookies(cookie, &r.cookies);
		if (session_find(r.db, params_get(&r.cookies, SESSION_COOKIE), r.now, !r.poll,
				 &r.session) == 0)
			r.has_session = true;
		else if (params_get(&r.cookies, SESSION_COOKIE))
			r.clear_cookie = true; /* an id we do not know: the browser forgets it */
	}
	if (!strcmp(r.method, "POST") && read_body(&r, fcgx) < 0)
		goto answer;
	router_dispatch(&r);
answer:
	if (r.body.error || r.headers.error) {
		log_error("the answer to %s %s did not fit: %s", r.method, r.path,
			  strerror(-(r.body.error ? r.body.error : r.headers.error)));
		buf_reset(&r.body);
		buf_reset(&r.headers);
		r.status = 500;
		r.content_type = "text/plain; charset=utf-8";
		buf_puts(&r.body, "The answer was too large.\n");
	}
	write_answer(&r, fcgx);
	params_free(&r.query);
	params_free(&r.form);
	params_free(&r.cookies);
	session_clear(&r.session);
	json_object_put(r.vm);
	buf_free(&r.headers);
	if (r.body.cap > KEPT_BUFFER)
		buf_free(&r.body);
	keep->page = r.body;
}
