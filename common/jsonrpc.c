/*
 * JSON lines in the JSON-RPC 2.0 shape.
 *
 * NOTES
 * - A line longer than the reader's maximum is an error for the whole
 *   stream: the reader cannot know where the next request begins.
 * - Replies are matched to calls by id; a client call skips notifications
 *   (events a server sends unasked).
 */
#include "common/jsonrpc.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"

void line_buf_init(struct line_buf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void line_buf_free(struct line_buf *lb)
{
	free(lb->data);
	memset(lb, 0, sizeof(*lb));
}

static ssize_t read_with_fd(int fd, void *buf, size_t len, int *passed_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *fds = (int *)CMSG_DATA(c);

			for (int i = 0; i < nfds; i++) {
				if (*passed_fd >= 0)
					close(*passed_fd);
				*passed_fd = fds[i];
			}
		}
	}
	return n;
}

/* Forget the line handed out last. */
static void line_buf_compact(struct line_buf *lb)
{
	if (!lb->taken)
		return;
	memmove(lb->data, lb->data + lb->taken, lb->len - lb->taken);
	lb->len -= lb->taken;
	lb->taken = 0;
}

static ssize_t fill(struct line_buf *lb, int fd, int *passed_fd);

ssize_t line_buf_fill(struct line_buf *lb, int fd)
{
	return fill(lb, fd, NULL);
}

ssize_t line_buf_fill_fd(struct line_buf *lb, int fd, int *passed_fd)
{
	return fill(lb, fd, passed_fd);
}

static ssize_t fill(struct line_buf *lb, int fd, int *passed_fd)
{
	ssize_t n;

	line_buf_compact(lb);
	/* room for a whole line, its newline and the NUL line_buf_next adds */
	if (lb->cap - lb->len < 4096 && lb->cap < lb->max + 2) {
		size_t cap = lb->cap ? lb->cap * 2 : 8192;
		char *p;

		if (cap > lb->max + 2)
			cap = lb->max + 2;
		if (cap < lb->len + 2)
			cap = lb->len + 2;
		p = realloc(lb->data, cap);
		if (!p)
			return -ENOMEM;
		lb->data = p;
		lb->cap = cap;
	}
	if (lb->len + 1 >= lb->cap)
		return -EMSGSIZE;
	n = passed_fd ? read_with_fd(fd, lb->data + lb->len, lb->cap - 1 - lb->len, passed_fd)
		      : read(fd, lb->data + lb->len, lb->cap - 1 - lb->len);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	lb->len += n;
	if (!memchr(lb->data, '\n', lb->len) && lb->len > lb->max)
		return -EMSGSIZE;
	return n;
}

char *line_buf_next(struct line_buf *lb)
{
	char *nl;

	line_buf_compact(lb);
	nl = lb->len ? memchr(lb->data, '\n', lb->len) : NULL;
	if (!nl)
		return NULL;
	*nl = '\0';
	lb->taken = nl - lb->data + 1;
	return lb->data;
}

json_object *jsonrpc_result(json_object *id, json_object *result)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return o;
}

json_object *jsonrpc_error(json_object *id, const char *code, const char *fmt, ...)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(o, "error", e);
	return o;
}

json_object *jsonrpc_reply(json_object *id, json_object *res, bool is_error)
{
	if (!is_error)
		return jsonrpc_result(id, res);
	json_object_object_add(res, "id", id ? json_object_get(id) : NULL);
	return res;
}

json_object *jsonrpc_notification(const char *method, json_object *params)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "params", params ? params : json_object_new_object());
	return o;
}

int jsonrpc_parse_request(const char *line, json_object **ret_req, const char **method,
			  json_object **params, json_object **id, json_object **ret_reply)
{
	enum json_tokener_error jerr;
	json_tokener *tok;
	json_object *req, *v;
	size_t len = strlen(line);

	*ret_req = NULL;
	*ret_reply = NULL;
	tok = json_tokener_new_ex(64);
	if (!tok) {
		*ret_reply = jsonrpc_error(NULL, JSONRPC_INTERNAL, "out of memory");
		return -1;
	}
	req = json_tokener_parse_ex(tok, line, len);
	jerr = json_tokener_get_error(tok);
	if (!req || jerr != json_tokener_success || json_tokener_get_parse_end(tok) != len) {
		*ret_reply = jsonrpc_error(NULL, JSONRPC_PARSE_ERROR, "the request is not JSON: %s",
					   req && jerr == json_tokener_success
						   ? "text after the object"
						   : json_tokener_error_desc(jerr == json_tokener_success
										     ? json_tokener_continue
										     : jerr));
		json_tokener_free(tok);
		json_object_put(req);
		return -1;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(req, json_type_object)) {
		*ret_reply = jsonrpc_error(NULL, JSONRPC_INVALID_REQUEST, "the request is not an object");
		json_object_put(req);
		return -1;
	}
	*id = json_object_object_get_ex(req, "id", &v) ? v : NULL;
	if (*id && !json_object_is_type(*id, json_type_int) &&
	    !json_object_is_type(*id, json_type_string)) {
		*ret_reply = jsonrpc_error(NULL, JSONRPC_INVALID_REQUEST,
					   "the request's id is not a number or a string");
		json_object_put(req);
		return -1;
	}
	if (!json_object_object_get_ex(req, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "2.0")) {
		*ret_reply = jsonrpc_error(*id, JSONRPC_INVALID_REQUEST,
					   "the request has no \"jsonrpc\": \"2.0\"");
		json_object_put(req);
		return -1;
	}
	if (!json_get_string(req, "method", method)) {
		*ret_reply = jsonrpc_error(*id, JSONRPC_INVALID_REQUEST,
					   "the request has no method string");
		json_object_put(req);
		return -1;
	}
	if (!json_object_object_get_ex(req, "params", params) || !*params) {
		*params = json_object_new_object();
		json_object_object_add(req, "params", *params);
	} else if (!json_object_is_type(*params, json_type_object)) {
		*ret_reply = jsonrpc_error(*id, JSONRPC_INVALID_PARAMS,
					   "the request's params are not an object");
		json_object_put(req);
		return -1;
	}
	*ret_req = req;
	return 0;
}

/* Write obj as one line, with pass_fd (when >= 0) on its first bytes. */
static int send_line(int fd, json_object *obj, int pass_fd)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	char *line = malloc(len + 1);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int r;

	if (!line)
		return -ENOMEM;
	memcpy(line, s, len);
	line[len] = '\n';
	iov = (struct iovec){ .iov_base = line, .iov_len = len + 1 };
	memset(&u, 0, sizeof(u));
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &pass_fd, sizeof(int));
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : write_all(fd, line + n, len + 1 - n);
	free(line);
	return r;
}

int jsonrpc_send(int fd, json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	char *line = malloc(len + 1);
	int r;

	if (!line)
		return -ENOMEM;
	memcpy(line, s, len);
	line[len] = '\n';
	r = write_all(fd, line, len + 1);
	free(line);
	return r;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A reply that came back; 1 when it is the one awaited. */
static int take_reply(json_object *reply, int64_t want_id, json_object **ret_result, char *code,
		      size_t codelen, char *err, size_t errlen)
{
	json_object *id, *e;
	const char *s;

	if (!json_object_object_get_ex(reply, "id", &id) || !id)
		return 0; /* a notification */
	if (!json_object_is_type(id, json_type_int) || json_object_get_int64(id) != want_id)
		return 0;
	if (json_object_object_get_ex(reply, "error", &e)) {
		snprintf(code, codelen, "%s",
			 json_get_string(e, "code", &s) ? s : JSONRPC_INTERNAL);
		snprintf(err, errlen, "%s",
			 json_get_string(e, "message", &s) ? s : "the server gave no message");
		return -1;
	}
	if (!json_object_object_get_ex(reply, "result", ret_result))
		return error_set(err, errlen, -EPROTO, "the reply has neither result nor error");
	json_object_get(*ret_result);
	return 1;
}

static int call(int fd, const char *method, json_object *params, int pass_fd, int *ret_fd,
		int timeout_ms, json_object **ret_result, char *code, size_t codelen, char *err,
		size_t errlen);

int jsonrpc_call(int fd, const char *method, json_object *params, int timeout_ms,
		 json_object **ret_result, char *code, size_t codelen, char *err, size_t errlen)
{
	return call(fd, method, params, -1, NULL, timeout_ms, ret_result, code, codelen, err,
		    errlen);
}

int jsonrpc_call_fd(int fd, const char *method, json_object *params, int pass_fd,
		    int timeout_ms, json_object **ret_result, char *code, size_t codelen, char *err,
		    size_t errlen)
{
	return call(fd, method, params, pass_fd, NULL, timeout_ms, ret_result, code, codelen, err,
		    errlen);
}

int jsonrpc_call_take_fd(int fd, const char *method, json_object *params, int timeout_ms,
			 int *ret_fd, json_object **ret_result, char *code, size_t codelen,
			 char *err, size_t errlen)
{
	int r;

	*ret_fd = -1;
	r = call(fd, method, params, -1, ret_fd, timeout_ms, ret_result, code, codelen, err,
		 errlen);
	if (r < 0 && *ret_fd >= 0) {
		close(*ret_fd);
		*ret_fd = -1;
	}
	return r;
}

static int call(int fd, const char *method, json_object *params, int pass_fd, int *ret_fd,
		int timeout_ms, json_object **ret_result, char *code, size_t codelen, char *err,
		size_t errlen)
{
	static const int64_t call_id = 1;
	json_object *req = json_object_new_object();
	long long deadline = now_ms() + timeout_ms;
	struct line_buf lb;
	int r;

	*ret_result = NULL;
	if (codelen)
		code[0] = '\0';
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "id", json_object_new_int64(call_id));
	json_object_object_add(req, "method", json_object_new_string(method));
	if (params)
		json_object_object_add(req, "params", params);
	r = pass_fd >= 0 ? send_line(fd, req, pass_fd) : jsonrpc_send(fd, req);
	json_object_put(req);
	if (r < 0)
		return error_set(err, errlen, r, "cannot send the request: %s", strerror(-r));

	line_buf_init(&lb, 64 << 20);
	for (;;) {
		char *line;
		ssize_t n;

		while ((line = line_buf_next(&lb))) {
			json_object *reply = json_tokener_parse(line);

			if (!reply) {
				r = error_set(err, errlen, -EPROTO, "the reply is not JSON");
				goto out;
			}
			r = take_reply(reply, call_id, ret_result, code, codelen, err, errlen);
			json_object_put(reply);
			if (r != 0)
				goto out;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();

		if (left <= 0) {
			r = error_set(err, errlen, -ETIMEDOUT, "no reply within %d ms", timeout_ms);
			goto out;
		}
		r = poll(&pfd, 1, left);
		if (r < 0 && errno != EINTR) {
			r = error_set(err, errlen, -errno, "poll failed: %s", strerror(errno));
			goto out;
		}
		if (r <= 0)
			continue;
		n = ret_fd ? line_buf_fill_fd(&lb, fd, ret_fd) : line_buf_fill(&lb, fd);
		if (n == -EAGAIN)
			continue;
		if (n < 0) {
			r = error_set(err, errlen, n, "cannot read the reply: %s", strerror(-n));
			goto out;
		}
		if (n == 0) {
			r = error_set(err, errlen, -ECONNRESET, "the connection closed before the reply");
			goto out;
		}
	}
out:
	line_buf_free(&lb);
	return r == 1 ? 0 : r;
}

bool json_get_string(json_object *obj, const char *key, const char **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	*ret = json_object_get_string(v);
	return true;
}

bool json_get_int64(json_object *obj, const char *key, int64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

bool json_get_bool(json_object *obj, const char *key, bool *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_boolean))
		return false;
	*ret = json_object_get_boolean(v);
	return true;
}
