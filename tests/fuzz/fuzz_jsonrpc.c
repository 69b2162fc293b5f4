/*
 * libFuzzer harness: vmmd's API as any member of group webkvm can drive
 * it: bytes on the socket cut into lines (line_buf, read with
 * line_buf_fill_fd as vmmd reads), each line checked as a JSON-RPC request
 * (jsonrpc_parse_request), the reply built and written as vmmd writes it.
 *
 * This is the lowest pure layer. api_call, the one above, is not fuzzed
 * here: its methods act on a running vmmd's state, files, processes and
 * network; of what it checks, the name checks that keep a client's string
 * inside one folder are (xml_name_valid, volume_name_valid).
 *
 * Invariants beyond no crash or leak:
 * - the lines handed out are the input's, in order, cut at each newline,
 *   none longer than the reader's maximum; a longer one ends the stream;
 * - a request taken has a method string, params an object, and an id that
 *   is absent, an integer or a string; written out and read again, it is
 *   taken again with the same method;
 * - a request refused gets an error with one of the stable codes;
 * - every reply is one JSON object on one line, so the framing holds;
 * - a name either check takes is one path component: no '/', not "." or "..".
 *
 * The first input byte picks the reader's maximum line, so that short
 * inputs reach the too-long path; the rest is what the client sends.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/jsonrpc.h"
#include "vmm/service/pool_xml.h"
#include "vmm/service/xml.h"

#define VMMD_MAX_LINE (4 << 20) /* API_MAX_LINE of vmm/service/main.c */

/* A reply as jsonrpc_send writes it: one line of one JSON object. */
static void check_reply(json_object *reply, bool is_error)
{
	size_t len;
	const char *s = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len);
	json_object *back, *e, *v;

	if (!s || strlen(s) != len || memchr(s, '\n', len))
		abort();
	back = json_tokener_parse(s);
	if (!back || !json_object_is_type(back, json_type_object) ||
	    !json_object_object_get_ex(back, is_error ? "error" : "result", &e) ||
	    !json_object_object_get_ex(back, "id", NULL))
		abort();
	if (is_error) {
		const char *code;

		if (!json_get_string(e, "code", &code) ||
		    !json_object_object_get_ex(e, "message", &v) ||
		    !json_object_is_type(v, json_type_string))
			abort();
		if (strcmp(code, JSONRPC_PARSE_ERROR) && strcmp(code, JSONRPC_INVALID_REQUEST) &&
		    strcmp(code, JSONRPC_INVALID_PARAMS) && strcmp(code, JSONRPC_INTERNAL))
			abort();
	}
	json_object_put(back);
}

static bool one_component(const char *s)
{
	return !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && s[0];
}

static void check_names(json_object *params)
{
	static const char *const keys[] = { "name", "new_name", "pool", "network", "volume",
					     "target" };
	const char *v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!json_get_string(params, keys[i], &v))
			continue;
		if ((xml_name_valid(v) || volume_name_valid(v)) && !one_component(v))
			abort();
	}
}

static void check_line(const char *line)
{
	json_object *req, *params, *id, *reply, *again_req, *again_params, *again_id;
	const char *method, *again_method;

	if (jsonrpc_parse_request(line, &req, &method, &params, &id, &reply) < 0) {
		if (req || !reply)
			abort();
		check_reply(reply, true);
		json_object_put(reply);
		return;
	}
	if (!req || reply || !method || !json_object_is_type(params, json_type_object) ||
	    (id && !json_object_is_type(id, json_type_int) &&
	     !json_object_is_type(id, json_type_string)))
		abort();
	check_names(params);
	/* the request as a client library would write it again */
	if (jsonrpc_parse_request(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
				  &again_req, &again_method, &again_params, &again_id, &reply) < 0 ||
	    strcmp(method, again_method) || !again_id != !id)
		abort();
	json_object_put(again_req);
	/* and answered, the method's name as its result */
	reply = jsonrpc_reply(id, json_object_new_string(method), false);
	check_reply(reply, false);
	json_object_put(reply);
	reply = jsonrpc_reply(id, jsonrpc_error(NULL, JSONRPC_INVALID_PARAMS, "no '%s'", method),
			      true);
	check_reply(reply, true);
	json_object_put(reply);
	json_object_put(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxima[] = { 16, 256, 4096, VMMD_MAX_LINE };
	struct line_buf lb;
	size_t sent, off = 0;
	int sv[2], passed_fd = -1;
	ssize_t n;
	char *line;

	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	line_buf_init(&lb, maxima[data[0] % 4]);
	data++, size--;
	n = size ? send(sv[0], data, size, MSG_DONTWAIT | MSG_NOSIGNAL) : 0;
	sent = n > 0 ? (size_t)n : 0;
	shutdown(sv[0], SHUT_WR);
	for (;;) {
		n = line_buf_fill_fd(&lb, sv[1], &passed_fd);
		if (n == -EMSGSIZE) {
			/* only when what is left holds no newline within the maximum */
			const char *nl = memchr(data + off, '\n', sent - off);

			if (nl && (size_t)(nl - (const char *)data - off) <= lb.max)
				abort();
			break;
		}
		if (n <= 0)
			break;
		while ((line = line_buf_next(&lb))) {
			const char *nl = memchr(data + off, '\n', sent - off);
			size_t len = strlen(line);

			if (!nl || len > (size_t)(nl - (const char *)data - off) || len > lb.max ||
			    memcmp(line, data + off, len))
				abort();
			off = nl - (const char *)data + 1;
			check_line(line);
		}
	}
	if (n == 0 && memchr(data + off, '\n', sent - off))
		abort(); /* a whole line left unread at the end */
	if (passed_fd >= 0)
		abort(); /* nothing sent one */
	line_buf_free(&lb);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
