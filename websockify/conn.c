/*
 * NOTES
 * - Backpressure: what one side sends is read only while what is queued
 *   toward the other side is under QUEUE_MAX. The client's bytes go to
 *   the VM's socket at once, and only what it did not take is kept
 *   (to_backend); the VM's bytes are queued in wslay, which copies them.
 *   So a client that stops reading holds at most QUEUE_MAX and a chunk
 *   of the proxy's memory, however much its VM writes, and the VM's
 *   writes then block on its own socket.
 * - wslay buffers no data message (no_buffering): each frame's payload is
 *   passed on as it comes. Its length limit then applies to each frame;
 *   a message's frames are added up here, and past MESSAGE_MAX the
 *   connection closes with 1009. wslay itself closes with 1002 for an
 *   unmasked frame, bad opcodes or control frames, and answers ping and
 *   close.
 * - epoll is level-triggered, and each side's interest is worked out
 *   again after every event (conn_update): what is wanted is read or
 *   written until it would block, and nothing is watched that cannot be
 *   acted on. A side that hung up while it is not being read is taken
 *   out of epoll until it is read again, so its hang-up does not spin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "websockify/proxy.h"

#define CLOSE_GRACE_MS 2000 /* for the client's answer to our close */
#define LAST_OUTPUT_MS 30000 /* for the client to take what the VM sent before its end */

long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Close a connection now: its sockets (which takes them out of epoll) and
 * what it holds. The struct itself goes to the dead list, as a later event
 * of the same epoll_wait batch may still name it; conn_reap frees it.
 */
static int flush_backend(struct conn *c);

static void conn_free(struct conn *c)
{
	struct proxy *px = c->px;

	if (c->dead)
		return;
	/* what the client sent last still goes to the VM, as far as its socket takes it now */
	if (c->backend >= 0 && c->to_backend.len)
		flush_backend(c);
	if (c->fd >= 0)
		close(c->fd);
	if (c->backend >= 0)
		close(c->backend);
	c->fd = c->backend = -1;
	if (c->ws)
		wslay_event_context_free(c->ws);
	c->ws = NULL;
	free(c->in);
	free(c->raw);
	c->in = c->raw = NULL;
	buf_free(&c->to_backend);
	buf_free(&c->stage);
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	px->nconns--;
	c->dead = true;
	c->next = px->dead;
	px->dead = c;
}

void conn_reap(struct proxy *px)
{
	while (px->dead) {
		struct conn *c = px->dead;

		px->dead = c->next;
		free(c);
		px->freed_since_trim++;
	}
}

static void watch(struct conn *c, bool backend, uint32_t want)
{
	int fd = backend ? c->backend : c->fd;
	uint32_t *cur = backend ? &c->ev_backend : &c->ev_client;
	bool *reg = backend ? &c->reg_backend : &c->reg_client;
	struct epoll_event ev = { .events = want, .data.ptr = backend ? &c->ep_backend : &c->ep_client };

	if (fd < 0 || (*reg && *cur == want) || (!*reg && !want))
		return;
	if (epoll_ctl(c->px->epfd, *reg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
		log_warn("epoll_ctl: %s", strerror(errno));
	*reg = true;
	*cur = want;
}

static void unwatch(struct conn *c, bool backend)
{
	int fd = backend ? c->backend : c->fd;
	bool *reg = backend ? &c->reg_backend : &c->reg_client;

	if (fd >= 0 && *reg)
		epoll_ctl(c->px->epfd, EPOLL_CTL_DEL, fd, NULL);
	*reg = false;
}

/* Send what is left of the HTTP answer. 1 when it all went, 0 when it would block, -1 on error. */
static int flush_raw(struct conn *c)
{
	while (c->raw_off < c->raw_len) {
		ssize_t n = send(c->fd, c->raw + c->raw_off, c->raw_len - c->raw_off, MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->raw_off += (size_t)n;
	}
	free(c->raw);
	c->raw = NULL;
	c->raw_len = c->raw_off = 0;
	return 1;
}

/* Send to the VM's socket what it takes now: the bytes sent, or -1 once it failed (then it is at its end). */
static ssize_t send_backend(struct conn *c, const void *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(c->backend, (const char *)p + done, len - done, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			c->backend_eof = true;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int flush_backend(struct conn *c)
{
	ssize_t off = send_backend(c, c->to_backend.data, c->to_backend.len);

	if (off < 0) {
		buf_reset(&c->to_backend);
		return -1;
	}
	if ((size_t)off == c->to_backend.len) {
		/* nothing waits: give the memory back */
		buf_free(&c->to_backend);
		buf_init(&c->to_backend, QUEUE_MAX + MESSAGE_MAX);
	} else if (off) {
		memmove(c->to_backend.data, c->to_backend.data + off, c->to_backend.len - (size_t)off);
		c->to_backend.len -= (size_t)off;
	}
	return 0;
}

/* wslay's callbacks */

/*
 * Whether the client may be read: what it sent is taken by the VM's
 * socket, and the client takes what is queued for it (pongs count: a
 * client that sends pings and reads nothing is not read either).
 */
static bool client_readable(struct conn *c)
{
	return c->to_backend.len < QUEUE_MAX &&
	       wslay_event_get_queued_msg_count(c->ws) < QUEUE_MSGS_MAX;
}

/* Whether the VM's socket may be read: the client takes what is queued for it. */
static bool backend_readable(struct conn *c)
{
	return !c->backend_eof && wslay_event_get_queued_msg_length(c->ws) < QUEUE_MAX &&
	       wslay_event_get_queued_msg_count(c->ws) < QUEUE_MSGS_MAX;
}

/*
 * wslay reads at most 4 KiB at a time; the socket is read 64 KiB at a
 * time, and what wslay did not take yet waits in the connection's stage.
 */
static ssize_t ws_recv(wslay_event_context_ptr ws, uint8_t *p, size_t len, int flags,
		       void *user)
{
	struct conn *c = user;
	ssize_t n;

	(void)flags;
	if (!client_readable(c)) {
		/* the VM does not take what came, or the client what we sent: read no more for now */
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (c->stage_off < c->stage.len) {
		size_t k = c->stage.len - c->stage_off < len ? c->stage.len - c->stage_off : len;

		memcpy(p, c->stage.data + c->stage_off, k);
		c->stage_off += k;
		if (c->stage_off == c->stage.len) {
			buf_free(&c->stage);
			buf_init(&c->stage, READ_CHUNK);
			c->stage_off = 0;
		}
		return (ssize_t)k;
	}
	n = recv(c->fd, c->px->scratch, sizeof(c->px->scratch), 0);
	if (n > 0) {
		size_t k = (size_t)n < len ? (size_t)n : len;

		c->last_io = mono_ms();
		memcpy(p, c->px->scratch, k);
		if ((size_t)n > k && buf_append(&c->stage, c->px->scratch + k, (size_t)n - k) < 0) {
			c->client_eof = true; /* out of memory: what was read cannot be kept */
			wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
			return -1;
		}
		return (ssize_t)k;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	c->client_eof = true;
	wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ws, const uint8_t *p, size_t len, int flags,
		       void *user)
{
	struct conn *c = user;
	ssize_t n;

	n = send(c->fd, p, len, MSG_NOSIGNAL | (flags & WSLAY_MSG_MORE ? MSG_MORE : 0));
	if (n >= 0) {
		c->last_io = mono_ms();
		return n;
	}
	if (errno == EAGAIN || errno == EINTR) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	c->client_eof = true;
	wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void ws_frame_start(wslay_event_context_ptr ws,
			   const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
	struct conn *c = user;

	(void)ws;
	c->frame_opcode = arg->opcode;
	if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
		c->msg_len = 0; /* a new message (wslay refuses one that starts inside another) */
}

static void ws_frame_chunk(wslay_event_context_ptr ws,
			   const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user)
{
	struct conn *c = user;

	if (c->frame_opcode != WSLAY_TEXT_FRAME && c->frame_opcode != WSLAY_BINARY_FRAME &&
	    c->frame_opcode != WSLAY_CONTINUATION_FRAME)
		return; /* control frames are wslay's */
	c->msg_len += arg->data_length;
	if (c->msg_len > MESSAGE_MAX) {
		if (!wslay_event_get_close_sent(ws))
			wslay_event_queue_close(ws, WSLAY_CODE_MESSAGE_TOO_BIG,
						(const uint8_t *)"message too big", 15);
		wslay_event_shutdown_read(ws);
		return;
	}
	if (c->backend_eof || wslay_event_get_close_sent(ws))
		return;
	/* kept and sent at once after this round of wslay's reads: one send, not one a 4 KiB piece */
	if (buf_append(&c->to_backend, arg->data, arg->data_length) < 0) {
		wslay_event_queue_close(ws, WSLAY_CODE_INTERNAL_SERVER_ERROR, NULL, 0);
		wslay_event_shutdown_read(ws);
	}
}

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv,
	.send_callback = ws_send,
	.on_frame_recv_start_callback = ws_frame_start,
	.on_frame_recv_chunk_callback = ws_frame_chunk,
};

/*
 * wslay's frame layer refused what the client sent (a control frame that
 * is fragmented or longer than 125 bytes): it queued a close without a
 * status and gave up on the connection. When nothing else is on its way
 * to the client, the close goes out here, with 1002, before it is dropped.
 */
static void protocol_failure(struct conn *c)
{
	static const uint8_t close_1002[] = { 0x88, 0x02, 0x03, 0xea };

	if (wslay_event_get_queued_msg_count(c->ws) <= 1 && !c->raw) {
		if (send(c->fd, close_1002, sizeof(close_1002), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* the client is gone as well */
		}
	} else if (!c->raw) {
		wslay_event_send(c->ws);
	}
}

void conn_close(struct conn *c, uint16_t code, const char *reason)
{
	if (c->state != CONN_OPEN) {
		conn_free(c);
		return;
	}
	if (!wslay_event_get_close_sent(c->ws))
		wslay_event_queue_close(c->ws, code, (const uint8_t *)reason,
					reason ? strlen(reason) : 0);
	if (!c->deadline)
		c->deadline = mono_ms() + CLOSE_GRACE_MS;
	/* nothing more goes to the VM, once what came before the close went */
	if (c->backend >= 0) {
		if (c->to_backend.len)
			flush_backend(c);
		unwatch(c, true);
		close(c->backend);
		c->backend = -1;
	}
}

static bool conn_update(struct conn *c);

void conn_close_now(struct conn *c, uint16_t code, const char *reason)
{
	bool open = c->state == CONN_OPEN;

	conn_close(c, code, reason);
	if (!open)
		return; /* freed */
	if (!c->raw && wslay_event_want_write(c->ws) && wslay_event_send(c->ws) < 0)
		c->client_eof = true;
	if (!conn_update(c))
		conn_free(c);
}

static void drain(struct conn *c)
{
	if (c->backend >= 0) {
		unwatch(c, true);
		close(c->backend);
		c->backend = -1;
	}
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAINING;
	c->deadline = mono_ms() + CLOSE_GRACE_MS;
}

/* After every event: what each side should be watched for; false when the connection is done. */
static bool conn_update(struct conn *c)
{
	uint32_t want_client = 0, want_backend = 0;

	switch (c->state) {
	case CONN_HANDSHAKE:
		watch(c, false, EPOLLIN);
		return true;
	case CONN_REFUSING:
		watch(c, false, EPOLLOUT);
		return true;
	case CONN_DRAINING:
		watch(c, false, EPOLLIN);
		return true;
	case CONN_OPEN:
		break;
	}
	if (c->client_eof)
		return false;
	if (c->backend_eof && c->backend >= 0) {
		/* the VM's end closed: what it sent before still goes to the client, then the close */
		unwatch(c, true);
		close(c->backend);
		c->backend = -1;
		if (!c->deadline)
			c->deadline = mono_ms() + LAST_OUTPUT_MS;
	}
	if (c->backend_eof && !c->raw && !wslay_event_get_queued_msg_count(c->ws))
		conn_close(c, 1000, "the console's other end closed");
	if (c->raw) {
		want_client = EPOLLOUT;
	} else {
		if (wslay_event_want_read(c->ws) && client_readable(c))
			want_client |= EPOLLIN;
		if (wslay_event_want_write(c->ws))
			want_client |= EPOLLOUT;
		if (!wslay_event_want_write(c->ws) && wslay_event_get_close_sent(c->ws)) {
			drain(c); /* our close went out: nothing more comes from us */
			watch(c, false, EPOLLIN);
			return true;
		}
		if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws))
			return false;
		if (wslay_event_get_close_received(c->ws) && c->backend >= 0)
			conn_close(c, 1000, NULL);
	}
	if (c->backend >= 0) {
		if (!c->raw && backend_readable(c))
			want_backend |= EPOLLIN;
		if (c->to_backend.len)
			want_backend |= EPOLLOUT;
		watch(c, true, want_backend);
	}
	watch(c, false, want_client);
	return true;
}

static void read_backend(struct conn *c)
{
	struct proxy *px = c->px;

	while (backend_readable(c)) {
		ssize_t n = recv(c->backend, px->scratch, sizeof(px->scratch), 0);
		struct wslay_event_msg msg = { WSLAY_BINARY_FRAME, px->scratch, 0 };

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			c->backend_eof = true;
			break;
		}
		c->last_io = mono_ms();
		msg.msg_length = (size_t)n;
		if (wslay_event_queue_msg(c->ws, &msg) < 0) {
			c->backend_eof = true;
			break;
		}
	}
}

static void handshake_done(struct conn *c, struct handshake *h)
{
	char answer[512];
	int n;

	free(c->in);
	c->in = NULL;
	if (!h->status)
		admit(c->px, c, h);
	if (!h->status) {
		c->ws = NULL;
		if (wslay_event_context_server_init(&c->ws, &ws_callbacks, c) < 0) {
			h->status = 503;
			h->reason = "out of memory";
		} else {
			wslay_event_config_set_no_buffering(c->ws, 1);
			wslay_event_config_set_max_recv_msg_length(c->ws, MESSAGE_MAX);
		}
	}
	if (h->status) {
		if (c->backend >= 0) {
			close(c->backend);
			c->backend = -1;
		}
		log_info("websocket from %s refused: %d %s", h->address[0] ? h->address : "-",
			 h->status, h->reason);
	}
	n = handshake_response(h, answer, sizeof(answer));
	c->raw = malloc((size_t)n);
	if (!c->raw) {
		c->client_eof = true;
		c->state = CONN_REFUSING;
		return;
	}
	memcpy(c->raw, answer, (size_t)n);
	c->raw_len = (size_t)n;
	c->raw_off = 0;
	c->deadline = 0;
	c->last_io = mono_ms();
	c->state = h->status ? CONN_REFUSING : CONN_OPEN;
	if (c->state == CONN_REFUSING)
		c->deadline = mono_ms() + CLOSE_GRACE_MS;
}

/*
 * Most requests come in one read: they are parsed where they were read,
 * and a connection keeps a buffer of its own only for one that comes in
 * pieces.
 */
static void read_handshake(struct conn *c)
{
	struct handshake h;
	char *at = c->in ? c->in + c->in_len : (char *)c->px->scratch;
	ssize_t n;
	int done;

	n = recv(c->fd, at, HANDSHAKE_MAX - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->client_eof = true;
		return;
	}
	c->in_len += (size_t)n;
	done = handshake_parse(c->in ? c->in : at, c->in_len, &h);
	if (!done && !c->in) {
		c->in = malloc(HANDSHAKE_MAX);
		if (!c->in) {
			c->client_eof = true;
			return;
		}
		memcpy(c->in, at, c->in_len);
	}
	if (done)
		handshake_done(c, &h);
}

void conn_event(struct conn *c, bool backend, uint32_t events)
{
	if (c->dead)
		return;
	if (backend) {
		if (c->backend < 0)
			return;
		if ((events & (EPOLLHUP | EPOLLERR)) && !(c->ev_backend & EPOLLIN) &&
		    !(events & EPOLLOUT)) {
			unwatch(c, true); /* read again once the client takes what waits */
			return;
		}
		if (events & EPOLLOUT)
			flush_backend(c);
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			read_backend(c);
		if (wslay_event_want_write(c->ws) && !c->raw && wslay_event_send(c->ws) < 0)
			c->client_eof = true;
	} else {
		switch (c->state) {
		case CONN_HANDSHAKE:
			if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				read_handshake(c);
			break;
		case CONN_REFUSING:
			if (flush_raw(c) < 0) {
				conn_free(c);
				return;
			}
			if (!c->raw)
				drain(c);
			break;
		case CONN_DRAINING: {
			ssize_t n = recv(c->fd, c->px->scratch, sizeof(c->px->scratch), 0);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				conn_free(c);
				return;
			}
			break;
		}
		case CONN_OPEN:
			if ((events & (EPOLLHUP | EPOLLERR)) && !(c->ev_client & EPOLLIN) &&
			    !(events & EPOLLOUT)) {
				if (!client_readable(c)) {
					unwatch(c, false); /* read again once either side takes what waits */
					return;
				}
				c->client_eof = true;
			}
			if (c->raw) {
				int r = flush_raw(c);

				if (r < 0)
					c->client_eof = true;
				if (r <= 0)
					break;
			}
			if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && wslay_event_recv(c->ws) < 0) {
				if (!c->client_eof)
					protocol_failure(c);
				c->client_eof = true;
			}
			if (!c->client_eof && wslay_event_want_write(c->ws) &&
			    wslay_event_send(c->ws) < 0)
				c->client_eof = true;
			break;
		}
		if (c->state == CONN_REFUSING && c->client_eof) {
			conn_free(c);
			return;
		}
	}
	/* what the other side freed may let this one go on */
	if (c->state == CONN_OPEN && !c->client_eof && c->backend >= 0) {
		if (c->to_backend.len)
			flush_backend(c);
		if (!c->client_eof && !c->raw && wslay_event_want_write(c->ws) &&
		    wslay_event_send(c->ws) < 0)
			c->client_eof = true;
		/*
		 * Input read before a side filled up waits in the stage, which
		 * epoll will not announce again: it is taken now, for as long
		 * as it moves (the stage is finite, so this ends).
		 */
		while (!c->client_eof && c->stage_off < c->stage.len && client_readable(c) &&
		       !c->raw && wslay_event_want_read(c->ws)) {
			size_t len = c->stage.len, off = c->stage_off;

			if (wslay_event_recv(c->ws) < 0) {
				if (!c->client_eof)
					protocol_failure(c);
				c->client_eof = true;
				break;
			}
			if (c->to_backend.len && c->backend >= 0)
				flush_backend(c);
			if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) < 0)
				c->client_eof = true;
			if (c->stage.len == len && c->stage_off == off)
				break;
		}
	}
	if (c->state == CONN_HANDSHAKE && c->client_eof) {
		conn_free(c);
		return;
	}
	if (!conn_update(c))
		conn_free(c);
}

void conn_accept(struct proxy *px)
{
	for (;;) {
		int fd = accept4(px->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (px->nconns >= px->cfg.max_connections || px->stopping) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				"Content-Length: 28\r\nConnection: close\r\n\r\n"
				"too many consoles are open.\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* it gets the close alone */
			}
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->px = px;
		c->fd = fd;
		c->backend = -1;
		c->ep_client = (struct endpoint){ c, false };
		c->ep_backend = (struct endpoint){ c, true };
		buf_init(&c->to_backend, QUEUE_MAX + MESSAGE_MAX);
		buf_init(&c->stage, READ_CHUNK);
		c->state = CONN_HANDSHAKE;
		c->last_io = mono_ms();
		c->deadline = c->last_io + px->cfg.handshake_timeout_ms;
		c->next = px->conns;
		if (px->conns)
			px->conns->prev = c;
		px->conns = c;
		px->nconns++;
		conn_update(c);
	}
}

void conn_sweep(struct proxy *px, long long now)
{
	struct conn *c, *next;

	for (c = px->conns; c; c = next) {
		next = c->next;
		if (c->deadline && now >= c->deadline) {
			/* a handshake that did not come in time, a refusal or a close not taken */
			conn_free(c);
			continue;
		}
		if (c->state != CONN_OPEN || c->deadline)
			continue;
		if (px->cfg.idle_timeout_ms && now - c->last_io >= px->cfg.idle_timeout_ms) {
			conn_close(c, 1001, "idle for too long");
		} else if (c->ticketed && now >= c->next_check) {
			const char *why = admit_recheck(px, c);

			c->next_check = now + px->cfg.check_interval_ms;
			if (why) {
				log_info("console %s of %s for %s closed: %s", c->kind, c->vm_name,
					 c->user, why);
				conn_close(c, 1008, why);
			}
		}
		if (c->ws && wslay_event_want_write(c->ws) && !c->raw &&
		    wslay_event_send(c->ws) < 0)
			c->client_eof = true;
		if (!conn_update(c))
			conn_free(c);
	}
}
