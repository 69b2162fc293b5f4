/*
 * vmm's control socket.
 *
 * NOTES
 * - Served by the main thread from its poll loop, one request at a time,
 *   so a handler may touch the VM as the main loop does.
 * - Clients are few (vmmd, a tool); past CONTROL_MAX_CLIENTS a new one is
 *   refused. A client that sends bad JSON gets an error reply and stays;
 *   one whose line outgrows the limit, or that does not read its replies,
 *   is dropped.
 */
#include "vmm/control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/jsonrpc.h"
#include "common/log.h"
#include "common/sock.h"

#define CONTROL_MAX_LINE (64 * 1024)

struct control_client {
	int fd;
	struct line_buf in;
};

struct control {
	int listen_fd;
	char *path;
	control_handler handler;
	void *opaque;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

int control_open(struct control **ret, const char *spec, control_handler handler, void *opaque,
		 char *err, size_t errlen)
{
	struct control *ctl;

	*ret = NULL;
	if (strncmp(spec, "unix:", 5) != 0 || !spec[5])
		return error_set(err, errlen, -EINVAL, "--control %s is not unix:PATH", spec);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	ctl->handler = handler;
	ctl->opaque = opaque;
	ctl->path = strdup(spec + 5);
	ctl->listen_fd = unix_listen(spec + 5, CONTROL_MAX_CLIENTS);
	if (!ctl->path || ctl->listen_fd < 0) {
		int r = ctl->listen_fd < 0 ? ctl->listen_fd : -ENOMEM;

		free(ctl->path);
		if (ctl->listen_fd >= 0)
			close(ctl->listen_fd);
		free(ctl);
		return error_set(err, errlen, r, "cannot listen on control socket %s: %s", spec + 5,
				 strerror(-r));
	}
	*ret = ctl;
	return 0;
}

static void drop_client(struct control_client *c)
{
	close(c->fd);
	c->fd = -1;
	line_buf_free(&c->in);
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0)
			drop_client(&ctl->clients[i]);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

unsigned int control_pollfds(struct control *ctl, struct pollfd *fds)
{
	unsigned int n = 0;

	fds[n++] = (struct pollfd){ .fd = ctl->listen_fd, .events = POLLIN };
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0)
			fds[n++] = (struct pollfd){ .fd = ctl->clients[i].fd, .events = POLLIN };
	return n;
}

static void accept_client(struct control *ctl)
{
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = &ctl->clients[i];

		if (c->fd < 0) {
			c->fd = fd;
			line_buf_init(&c->in, CONTROL_MAX_LINE);
			return;
		}
	}
	log_warn("control socket: more than %d clients, one refused", CONTROL_MAX_CLIENTS);
	close(fd);
}

/* false when the client must go */
static bool serve_line(struct control *ctl, struct control_client *c, const char *line)
{
	json_object *req, *params, *id, *reply, *result;
	const char *method;
	bool is_error = false;
	int r;

	if (jsonrpc_parse_request(line, &req, &method, &params, &id, &reply) == 0) {
		result = ctl->handler(ctl->opaque, method, params, &is_error);
		reply = jsonrpc_reply(id, result, is_error);
		json_object_put(req);
	}
	r = jsonrpc_send(c->fd, reply);
	json_object_put(reply);
	return r == 0;
}

static void serve_client(struct control *ctl, struct control_client *c)
{
	ssize_t n = line_buf_fill(&c->in, c->fd);
	char *line;

	if (n == -EAGAIN)
		return;
	if (n == -EMSGSIZE) {
		json_object *e = jsonrpc_error(NULL, JSONRPC_TOO_LARGE,
					       "a request is longer than %d bytes", CONTROL_MAX_LINE);

		jsonrpc_send(c->fd, e);
		json_object_put(e);
	}
	if (n <= 0) {
		drop_client(c);
		return;
	}
	while ((line = line_buf_next(&c->in))) {
		if (!serve_line(ctl, c, line)) {
			drop_client(c);
			return;
		}
	}
}

void control_dispatch(struct control *ctl, const struct pollfd *fds, unsigned int n)
{
	for (unsigned int k = 1; k < n; k++) {
		if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
			if (ctl->clients[i].fd == fds[k].fd)
				serve_client(ctl, &ctl->clients[i]);
	}
	if (n && (fds[0].revents & POLLIN))
		accept_client(ctl);
}

void control_broadcast(struct control *ctl, json_object *notification)
{
	if (!ctl)
		return;
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0 && jsonrpc_send(ctl->clients[i].fd, notification) < 0)
			drop_client(&ctl->clients[i]);
}
