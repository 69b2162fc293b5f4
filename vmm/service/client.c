/*
 * vmmd's API connections: their requests, and the replies that go back.
 *
 * NOTES
 * - Sockets are non-blocking: no client, however slow, holds the main
 *   loop. Each connection's requests are answered one at a time, in the
 *   order they came: while one waits (for a vmm, a start, a child) or its
 *   reply is still being written, vmmd reads nothing more from that
 *   connection. So one client costs vmmd one reply's memory, and other
 *   connections are served meanwhile; a client that wants several answers
 *   at once opens several connections.
 * - A reply that the client reads nothing of for SEND_TIMEOUT_MS ends
 *   its connection.
 * - A request line may be API_MAX_LINE bytes (a definition escaped in
 *   JSON); a longer one gets an error and the connection is closed. A
 *   malformed request gets an error and the connection stays.
 * - A method may hand the client a file descriptor (domain.open_console's
 *   socket): it goes with the first byte of the reply's line (SCM_RIGHTS),
 *   and vmmd closes its copy once it is sent.
 * - Each client's uid (SO_PEERCRED) goes to the API: it decides which
 *   host files the client may name, and is logged with what it changes.
 * - A client is freed only while no handler up the stack still holds it:
 *   the main loop takes one event per wait, and lines that a finished
 *   request leaves waiting are served from the loop (clients_resume).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/service/vmmd.h"

#define API_MAX_LINE (4 * DOMAIN_XML_MAX)
#define MAX_CLIENTS 256
#define SEND_TIMEOUT_MS 5000

struct client {
	struct client *next;
	struct watch w;
	struct line_buf in;
	uid_t uid;
	int passed_fd;               /* sent with the request being read, or -1 */
	int out_fd;                  /* to go with the reply's first byte (SCM_RIGHTS), or -1 */
	struct deferred *waiting;    /* its request under way, or NULL */
	char *out;                   /* the reply being written, or NULL */
	size_t outlen, outoff;
	int64_t out_deadline_ms;
	uint32_t events;             /* what the epoll set waits for */
	bool resume;                 /* lines may wait in `in` */
	bool closing;                /* end it once its reply is written */
};

/* Watch for what the client's state asks: its reply's room, or its next request. */
static void set_events(struct vmmd *d, struct client *c)
{
	uint32_t want = c->out ? EPOLLOUT : (c->waiting || c->closing) ? 0 : EPOLLIN;
	struct epoll_event ev = { .events = want, .data.ptr = &c->w };

	if (want != c->events && epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, c->w.fd, &ev) == 0)
		c->events = want;
}

static void drop_client(struct vmmd *d, struct client *c)
{
	for (struct client **p = &d->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	/* what it waits for goes on; the reply has nowhere to go */
	if (c->waiting)
		c->waiting->client = NULL;
	vmmd_unwatch(d, &c->w);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	line_buf_free(&c->in);
	free(c->out);
	free(c);
	d->nclients--;
}

/* send() with fd passed alongside (SCM_RIGHTS). */
static ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(&ctl, 0, sizeof(ctl));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Write what the client can take now. false when it must go. */
static bool flush(struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n;

		if (c->out_fd >= 0) {
			n = send_with_fd(c->w.fd, c->out + c->outoff, c->outlen - c->outoff,
					 c->out_fd);
			if (n > 0) {
				close(c->out_fd);
				c->out_fd = -1;
			}
		} else {
			n = send(c->w.fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		}

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		c->outoff += n;
		c->out_deadline_ms = vmmd_now_ms() + SEND_TIMEOUT_MS;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	c->resume = true;
	return true;
}

/* Queue obj as one line and write what fits. false when the client is gone (freed). */
static bool client_send(struct vmmd *d, struct client *c, json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	char *p = realloc(c->out, c->outlen + len + 1);

	if (!p) {
		drop_client(d, c);
		return false;
	}
	memcpy(p + c->outlen, s, len);
	p[c->outlen + len] = '\n';
	c->out = p;
	c->outlen += len + 1;
	c->out_deadline_ms = vmmd_now_ms() + SEND_TIMEOUT_MS;
	if (!flush(c)) {
		drop_client(d, c);
		return false;
	}
	if (!c->out && c->closing) {
		drop_client(d, c);
		return false;
	}
	set_events(d, c);
	return true;
}

void deferred_free(struct deferred *q)
{
	if (!q)
		return;
	json_object_put(q->id);
	free(q);
}

void vmmd_answer(struct vmmd *d, struct deferred *q, json_object *res, bool is_error)
{
	struct client *c = q->client;
	json_object *e, *reply;
	const char *msg = "";

	if (q->changes) {
		if (!is_error)
			log_info("uid %u: %s %s", (unsigned int)q->uid, q->method, q->name);
		else if (json_object_object_get_ex(res, "error", &e) &&
			 json_get_string(e, "message", &msg))
			log_info("uid %u: %s %s failed: %s", (unsigned int)q->uid, q->method, q->name,
				 msg);
	}
	reply = jsonrpc_reply(q->id, res, is_error);
	if (c) {
		c->waiting = NULL;
		if (client_send(d, c, reply))
			c->resume = true;
	}
	json_object_put(reply);
	deferred_free(q);
}

void vmmd_answer_error(struct vmmd *d, struct deferred *q, const char *code, const char *fmt,
		       ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vmmd_answer(d, q, jsonrpc_error(NULL, code, "%s", msg), true);
}

void clients_accept(struct vmmd *d, int listen_fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (d->nclients >= MAX_CLIENTS) {
		log_warn("more than %d clients; one refused", MAX_CLIENTS);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.uid = (uid_t)-1;
	c->uid = cred.uid;
	c->passed_fd = c->out_fd = -1;
	c->w = (struct watch){ .kind = FD_CLIENT, .fd = fd, .owner = c };
	c->events = EPOLLIN;
	line_buf_init(&c->in, API_MAX_LINE);
	if (vmmd_watch(d, &c->w) < 0) {
		close(fd);
		line_buf_free(&c->in);
		free(c);
		return;
	}
	c->next = d->clients;
	d->clients = c;
	d->nclients++;
	log_debug("client uid %u connected", (unsigned int)c->uid);
}

/* false when the client is gone */
static bool serve_line(struct vmmd *d, struct client *c, const char *line)
{
	json_object *req, *params, *id, *reply, *res;
	struct deferred *later = NULL;
	const char *method;
	bool is_error = false, alive;
	int reply_fd = -1;

	if (jsonrpc_parse_request(line, &req, &method, &params, &id, &reply) == 0) {
		res = api_call(d, method, params, c->uid, &c->passed_fd, &reply_fd, &later,
			       &is_error);
		if (later) {
			/* the reply comes when what it waits for is done */
			later->client = c;
			later->id = id ? json_object_get(id) : NULL;
			c->waiting = later;
		} else {
			reply = jsonrpc_reply(id, res, is_error);
		}
		json_object_put(req);
	}
	if (c->passed_fd >= 0) {
		close(c->passed_fd); /* sent with a request that did not keep it */
		c->passed_fd = -1;
	}
	if (later) {
		set_events(d, c);
		return true;
	}
	/* a reply with an fd starts a message of its own (nothing else waits: c->out is empty) */
	c->out_fd = reply_fd;
	alive = client_send(d, c, reply);
	json_object_put(reply);
	return alive;
}

/* Serve the lines that wait, until one has to wait itself. false when the client is gone. */
static bool serve_lines(struct vmmd *d, struct client *c)
{
	char *line;

	while (!c->waiting && !c->out && !c->closing && (line = line_buf_next(&c->in)))
		if (!serve_line(d, c, line))
			return false;
	set_events(d, c);
	return true;
}

void client_event(struct vmmd *d, struct client *c, uint32_t events)
{
	ssize_t n;

	if (events & EPOLLOUT) {
		if (!flush(c) || (!c->out && c->closing)) {
			drop_client(d, c);
			return;
		}
		set_events(d, c);
	}
	if (!(c->events & EPOLLIN)) {
		/* it hung up while its request waits or its reply was being written */
		if (events & (EPOLLHUP | EPOLLERR))
			drop_client(d, c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = line_buf_fill_fd(&c->in, c->w.fd, &c->passed_fd);
	if (n == -EAGAIN)
		return;
	if (n == -EMSGSIZE) {
		json_object *e = jsonrpc_error(NULL, JSONRPC_TOO_LARGE,
					       "a request is longer than %d bytes", API_MAX_LINE);

		c->closing = true;
		client_send(d, c, e);
		json_object_put(e);
		return;
	}
	if (n <= 0) {
		drop_client(d, c);
		return;
	}
	serve_lines(d, c);
}

void clients_resume(struct vmmd *d)
{
	struct client *c;

	/* from the start each time: serving one may have dropped another */
	for (;;) {
		for (c = d->clients; c; c = c->next)
			if (c->resume && !c->waiting && !c->out)
				break;
		if (!c)
			return;
		c->resume = false;
		serve_lines(d, c);
	}
}

int64_t clients_expire(struct vmmd *d, int64_t now)
{
	struct client *c, *next;
	int64_t soonest = INT64_MAX;

	for (c = d->clients; c; c = next) {
		next = c->next;
		if (!c->out)
			continue;
		if (c->out_deadline_ms <= now) {
			log_warn("client uid %u did not read its reply within %d s; it is dropped",
				 (unsigned int)c->uid, SEND_TIMEOUT_MS / 1000);
			drop_client(d, c);
		} else if (c->out_deadline_ms < soonest) {
			soonest = c->out_deadline_ms;
		}
	}
	return soonest;
}

void clients_release(struct vmmd *d)
{
	while (d->clients)
		drop_client(d, d->clients);
}

void job_done(struct vmmd *d, struct job *job)
{
	siginfo_t si;
	json_object *res;
	bool is_error = false;
	int status;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, job->pidfd.fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	status = si.si_code == CLD_EXITED ? si.si_status : 255;
	res = job->finish(d, job, status, &is_error);
	log_info("job for %s ended: %s", job->path, is_error ? "failed" : "done");
	vmmd_answer(d, job->q, res, is_error);
	for (struct job **p = &d->jobs; *p; p = &(*p)->next) {
		if (*p == job) {
			*p = job->next;
			break;
		}
	}
	vmmd_unwatch(d, &job->pidfd);
	free(job);
}

bool job_on_file(const struct vmmd *d, const char *path)
{
	for (const struct job *j = d->jobs; j; j = j->next)
		if (!strcmp(j->path, path) || !strcmp(j->source, path))
			return true;
	return false;
}

void jobs_release(struct vmmd *d)
{
	while (d->jobs) {
		struct job *j = d->jobs;

		d->jobs = j->next;
		/* its work is given up: the child must not go on writing */
		syscall(SYS_pidfd_send_signal, j->pidfd.fd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, j->pidfd.fd, &(siginfo_t){ 0 }, WEXITED);
		if (j->release)
			j->release(d, j);
		vmmd_unwatch(d, &j->pidfd);
		deferred_free(j->q);
		free(j);
	}
}
