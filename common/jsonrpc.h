/*
 * JSON lines in the JSON-RPC 2.0 shape, shared by vmm's control socket,
 * vmmd's API and vmmctl: one object per line, each at most a given size.
 * Errors carry a stable "code" string and a human "message".
 */
#ifndef WEBKVM_COMMON_JSONRPC_H
#define WEBKVM_COMMON_JSONRPC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Bytes read from a stream socket, cut into lines. */
struct line_buf {
	char *data;
	size_t len, cap;
	size_t taken; /* the line handed out last, dropped at the next call */
	size_t max;   /* the longest line accepted, newline excluded */
};

void line_buf_init(struct line_buf *lb, size_t max);
void line_buf_free(struct line_buf *lb);
/*
 * Read what fd has. The number of bytes read, 0 at end of file, or -errno
 * (-EAGAIN when nothing waits, -EMSGSIZE when a line outgrows max).
 */
ssize_t line_buf_fill(struct line_buf *lb, int fd);
/*
 * line_buf_fill on a unix socket that may carry a file descriptor
 * (SCM_RIGHTS) with its bytes: one that arrives goes to *passed_fd (an
 * earlier one still there is closed). Received fds are close-on-exec.
 */
ssize_t line_buf_fill_fd(struct line_buf *lb, int fd, int *passed_fd);
/* The next whole line, NUL-terminated without its newline, or NULL. Valid until the next call. */
char *line_buf_next(struct line_buf *lb);

/* Stable error codes. */
#define JSONRPC_PARSE_ERROR "parse-error"
#define JSONRPC_INVALID_REQUEST "invalid-request"
#define JSONRPC_METHOD_NOT_FOUND "method-not-found"
#define JSONRPC_INVALID_PARAMS "invalid-params"
#define JSONRPC_TOO_LARGE "request-too-large"
#define JSONRPC_INTERNAL "internal-error"

/* Builders; they take ownership of result/params, and id may be NULL. */
json_object *jsonrpc_result(json_object *id, json_object *result);
json_object *jsonrpc_error(json_object *id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_object *jsonrpc_notification(const char *method, json_object *params);
/*
 * The reply to request id: res wrapped as its result, or, when is_error,
 * res (built by jsonrpc_error) given that id. Takes res.
 */
json_object *jsonrpc_reply(json_object *id, json_object *res, bool is_error);

/*
 * Check one request line: 0 with *method, *params (an object, maybe empty)
 * and *id borrowed from *ret_req, or an error reply to send in *ret_reply.
 */
int jsonrpc_parse_request(const char *line, json_object **ret_req, const char **method,
			  json_object **params, json_object **id, json_object **ret_reply);

/* Write obj as one line; blocking. 0 or -errno. Does not take obj. */
int jsonrpc_send(int fd, json_object *obj);

/*
 * A client call on a connected socket: send the request, wait up to
 * timeout_ms for its reply (skipping notifications). 0 with *ret_result
 * (owned by the caller); or -1 with the server's error code and message
 * in code and err; or -errno with a sentence in err.
 */
int jsonrpc_call(int fd, const char *method, json_object *params, int timeout_ms,
		 json_object **ret_result, char *code, size_t codelen, char *err, size_t errlen);
/* The same, handing pass_fd to the server with the request (SCM_RIGHTS). */
int jsonrpc_call_fd(int fd, const char *method, json_object *params, int pass_fd,
		    int timeout_ms, json_object **ret_result, char *code, size_t codelen, char *err,
		    size_t errlen);

/*
 * The same, for a method whose reply hands the caller a file descriptor
 * (SCM_RIGHTS): on success *ret_fd is it (the caller's to close), or -1
 * when the reply carried none.
 */
int jsonrpc_call_take_fd(int fd, const char *method, json_object *params, int timeout_ms,
			 int *ret_fd, json_object **ret_result, char *code, size_t codelen,
			 char *err, size_t errlen);

/* Parameter getters: false when the member is missing or of another type. */
bool json_get_string(json_object *obj, const char *key, const char **ret);
bool json_get_int64(json_object *obj, const char *key, int64_t *ret);
bool json_get_bool(json_object *obj, const char *key, bool *ret);

#endif
