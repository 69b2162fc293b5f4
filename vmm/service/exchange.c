/*
 * Requests to a running VM's vmm on its control socket, without waiting
 * for the answer: the main loop goes on serving everyone else, and the
 * answer (or its absence by the deadline) finishes the request later.
 *
 * NOTES
 * - Each request gets a connection of its own, so that its reply cannot
 *   mix with the events on the VM's events connection, and requests to
 *   one vmm need not queue behind each other.
 * - What is in a VM's run folder belongs to the VM's user and is not
 *   trusted: vmm_connect_socket connects (as root) only to a socket that
 *   is there itself, not through a link, through the handle that checked
 *   it, and only when its listener is the VM's own vmm (SO_PEERCRED).
 * - The connect is non-blocking: a unix socket connects at once while the
 *   listener's backlog has room, and says EAGAIN (never waits) when it
 *   has none, as with a stopped vmm that accepts nothing. The request is
 *   one short line that an empty socket buffer always takes whole.
 * - A vmm answers in milliseconds; one that lets a request wait past
 *   EXCHANGE_TIMEOUT_MS fails it with vmm-unreachable and is shown as not
 *   responding until a later request is answered. At most
 *   EXCHANGES_PER_VM wait at once for one vmm (vmm takes 8 clients).
 * - When the VM ends, what vmm answered before it ended is still read;
 *   the rest fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "vmm/service/vmmd.h"

#define EXCHANGE_TIMEOUT_MS 10000
#define EXCHANGES_PER_VM 4
#define EXCHANGE_LINE_MAX (1 << 20)
#define EXCHANGE_ID 1

int64_t vmmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int vmm_connect_socket(const struct vmmd *d, const struct domain *dom, const char *file)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred peer;
	socklen_t len = sizeof(peer);
	char path[4096];
	struct stat st;
	int handle, fd, r = 0;

	domain_run_path(d, dom, file, path, sizeof(path));
	handle = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (handle < 0)
		return -errno;
	if (fstat(handle, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		close(handle);
		return -EPERM;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", handle);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		close(handle);
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || peer.pid != dom->pid)
		r = -EPERM;
	close(handle);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int vmm_connect(const struct vmmd *d, const struct domain *dom)
{
	return vmm_connect_socket(d, dom, "control.sock");
}

static void exchange_free(struct exchange *x)
{
	line_buf_free(&x->in);
	free(x);
}

/* Take x out of its domain and the main loop, then tell its owner. */
static void finish(struct vmmd *d, struct exchange *x, json_object *result, const char *code,
		   const char *err)
{
	struct domain *dom = x->dom;

	for (struct exchange **p = &dom->exchanges; *p; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
			dom->nexchanges--;
			break;
		}
	}
	vmmd_unwatch(d, &x->w);
	x->done(d, x, result, code, err);
	exchange_free(x);
}

int exchange_start(struct vmmd *d, struct domain *dom, const char *method,
		   void (*done)(struct vmmd *d, struct exchange *x, json_object *result,
				const char *code, const char *err),
		   struct deferred *q, const char **code, char *err, size_t errlen)
{
	return exchange_start_with(d, dom, method, NULL, done, q, code, err, errlen);
}

int exchange_start_with(struct vmmd *d, struct domain *dom, const char *method,
			json_object *params,
			void (*done)(struct vmmd *d, struct exchange *x, json_object *result,
				     const char *code, const char *err),
			struct deferred *q, const char **code, char *err, size_t errlen)
{
	char line[256];
	struct exchange *x;
	int fd, n;
	ssize_t w;

	*code = "invalid-state";
	if (!dom->pid)
		return error_set(err, errlen, -1, "%s is not running", dom->def->name);
	if (dom->starting)
		return error_set(err, errlen, -1, "%s is still starting", dom->def->name);
	*code = "vmm-unreachable";
	if (dom->nexchanges >= EXCHANGES_PER_VM)
		return error_set(err, errlen, -1,
				 "%s's vmm is not answering: %d requests already wait for it",
				 dom->def->name, EXCHANGES_PER_VM);
	n = snprintf(line, sizeof(line),
		     "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"%s%s}\n", EXCHANGE_ID,
		     method, params ? ",\"params\":" : "",
		     params ? json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN) : "");
	x = calloc(1, sizeof(*x));
	if (!x || n < 0 || (size_t)n >= sizeof(line)) {
		free(x);
		*code = "internal-error";
		return error_set(err, errlen, -1, "out of memory");
	}
	fd = vmm_connect(d, dom);
	if (fd == -EAGAIN) {
		/* its backlog is full: it has stopped taking connections */
		dom->unanswered = true;
		free(x);
		return error_set(err, errlen, -1, "%s's vmm takes no connections (is it stopped?)",
				 dom->def->name);
	}
	if (fd < 0) {
		free(x);
		return error_set(err, errlen, -1, "cannot reach %s's vmm: %s", dom->def->name,
				 strerror(-fd));
	}
	w = send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w != n) {
		close(fd);
		free(x);
		return error_set(err, errlen, -1, "cannot send a request to %s's vmm: %s",
				 dom->def->name, w < 0 ? strerror(errno) : "a short write");
	}
	x->w = (struct watch){ .kind = FD_EXCHANGE, .fd = fd, .owner = x };
	x->dom = dom;
	snprintf(x->method, sizeof(x->method), "%s", method);
	line_buf_init(&x->in, EXCHANGE_LINE_MAX);
	x->started_ms = vmmd_now_ms();
	x->deadline_ms = x->started_ms + EXCHANGE_TIMEOUT_MS;
	x->q = q;
	x->done = done;
	if (vmmd_watch(d, &x->w) < 0) {
		close(fd);
		exchange_free(x);
		*code = "internal-error";
		return error_set(err, errlen, -1, "cannot watch a connection: %s", strerror(errno));
	}
	x->next = dom->exchanges;
	dom->exchanges = x;
	dom->nexchanges++;
	return 0;
}

/*
 * Read what vmm sent: 1 when x got its answer (and is gone), 0 when
 * nothing more is there yet, -1 when the connection ended without it.
 */
static int read_answer(struct vmmd *d, struct exchange *x)
{
	for (;;) {
		ssize_t n = line_buf_fill(&x->in, x->w.fd);
		char *line;

		while ((line = line_buf_next(&x->in))) {
			json_object *o = json_tokener_parse(line), *id, *e, *res;
			const char *code = "vmm-unreachable", *msg = "vmm gave an error without a message";
			char err[512];

			/* vm.event and other notifications carry no id */
			if (!o || !json_object_object_get_ex(o, "id", &id) ||
			    !json_object_is_type(id, json_type_int) ||
			    json_object_get_int64(id) != EXCHANGE_ID) {
				json_object_put(o);
				continue;
			}
			x->dom->unanswered = false;
			if (json_object_object_get_ex(o, "error", &e)) {
				json_get_string(e, "message", &msg);
				snprintf(err, sizeof(err), "%s's vmm refused %s: %s",
					 x->dom->def->name, x->method, msg);
				finish(d, x, NULL, code, err);
			} else if (json_object_object_get_ex(o, "result", &res)) {
				finish(d, x, res, NULL, NULL);
			} else {
				snprintf(err, sizeof(err), "%s's vmm gave a reply without a result",
					 x->dom->def->name);
				finish(d, x, NULL, code, err);
			}
			json_object_put(o);
			return 1;
		}
		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
	}
}

void exchange_ready(struct vmmd *d, struct exchange *x)
{
	char err[256];

	if (read_answer(d, x) >= 0)
		return;
	snprintf(err, sizeof(err), "%s's vmm closed the connection before it answered %s",
		 x->dom->def->name, x->method);
	finish(d, x, NULL, "vmm-unreachable", err);
}

void exchanges_end(struct vmmd *d, struct domain *dom)
{
	char err[256];

	while (dom->exchanges) {
		struct exchange *x = dom->exchanges;

		if (read_answer(d, x) == 1)
			continue;
		snprintf(err, sizeof(err), "%s ended before its vmm answered %s", dom->def->name,
			 x->method);
		finish(d, x, NULL, "vmm-unreachable", err);
	}
}

int64_t exchanges_expire(struct vmmd *d, struct domain *dom, int64_t now)
{
	int64_t next = INT64_MAX;
	char err[256];
	struct exchange *x;

again:
	for (x = dom->exchanges; x; x = x->next) {
		if (x->deadline_ms > now) {
			if (x->deadline_ms < next)
				next = x->deadline_ms;
			continue;
		}
		dom->unanswered = true;
		log_warn("%s: vmm did not answer %s within %d s", dom->def->name, x->method,
			 EXCHANGE_TIMEOUT_MS / 1000);
		snprintf(err, sizeof(err), "%s's vmm did not answer within %d s", dom->def->name,
			 EXCHANGE_TIMEOUT_MS / 1000);
		finish(d, x, NULL, "vmm-unreachable", err);
		next = INT64_MAX;
		goto again; /* the list changed */
	}
	return next;
}

void exchanges_release(struct vmmd *d, struct domain *dom)
{
	while (dom->exchanges) {
		struct exchange *x = dom->exchanges;

		dom->exchanges = x->next;
		vmmd_unwatch(d, &x->w);
		deferred_free(x->q);
		exchange_free(x);
	}
	dom->nexchanges = 0;
}
