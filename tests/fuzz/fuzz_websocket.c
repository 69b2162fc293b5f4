/*
 * libFuzzer harness: what a browser sends the console proxy. The first
 * byte picks the part:
 * - even: the handshake parser (websockify/handshake.c) on the rest as a
 *   request, whole and cut at many points. Beyond not crashing: a cut
 *   request is never accepted unless the whole one has bytes after it
 *   (then the whole is refused); an accepted one has a key of 24
 *   characters ending in "==" and a ticket of hex digits only, and its
 *   answer is a 101; a refused one's answer names its status.
 * - odd: the frame path of a connection, the proxy's own code
 *   (websockify/conn.c) on real sockets: a valid handshake, then the
 *   rest as the client's bytes, in pieces, with the VM's end (a
 *   socketpair standing in for vmmd's) and the client's end read as they
 *   go. What the proxy holds for the VM never passes its bound.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sock.h"
#include "websockify/handshake.h"
#include "websockify/proxy.h"

static int backend_peer = -1;

/* admit.c's part: every handshake gets one end of a socketpair as its VM's socket. */
void admit(struct proxy *px, struct conn *c, struct handshake *h)
{
	int sv[2];

	(void)px;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		h->status = 503;
		h->reason = "no socketpair";
		return;
	}
	c->backend = sv[0];
	backend_peer = sv[1];
}

const char *admit_recheck(struct proxy *px, struct conn *c)
{
	(void)px;
	(void)c;
	return NULL;
}

static void handshake_case(const char *d, size_t n)
{
	struct handshake whole, part;
	char answer[512];
	int rw = handshake_parse(d, n, &whole), len;

	for (size_t i = 1; i < n; i += 1 + i / 8) {
		int rp = handshake_parse(d, i, &part);

		if (rp == 1 && part.status == 0 && !(rw == 1 && whole.status == 400))
			abort(); /* a part accepted, the whole not refused for what follows */
	}
	if (rw != 1)
		return;
	len = handshake_response(&whole, answer, sizeof(answer));
	if (len <= 0 || (size_t)len >= sizeof(answer))
		abort();
	if (whole.status == 0) {
		if (strlen(whole.key) != 24 || strcmp(whole.key + 22, "==") ||
		    strspn(whole.ticket, "0123456789abcdef") != strlen(whole.ticket) ||
		    memcmp(answer, "HTTP/1.1 101 ", 13))
			abort();
	} else {
		char head[16];

		snprintf(head, sizeof(head), "HTTP/1.1 %d ", whole.status);
		if (whole.status < 400 || whole.status > 599 || strncmp(answer, head, strlen(head)))
			abort();
	}
}

static struct proxy px;

static bool alive(struct conn *c)
{
	for (struct conn *x = px.conns; x; x = x->next)
		if (x == c)
			return true;
	return false;
}

static void drain(int fd)
{
	char buf[65536];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void frames_case(const uint8_t *d, size_t n)
{
	static const char request[] =
		"GET /websockify HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\nOrigin: http://fuzz\r\n\r\n";
	static char path[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct conn *c;
	int client;

	if (!px.epfd) {
		snprintf(path, sizeof(path), "/tmp/fuzz-websockify-%d.sock", (int)getpid());
		px.epfd = epoll_create1(EPOLL_CLOEXEC);
		px.listen_fd = unix_listen(path, 16);
		px.cfg = (struct proxy_config){ .max_connections = 4, .max_per_user = 4,
						.handshake_timeout_ms = 1000, .check_interval_ms = 1000 };
		if (px.epfd < 0 || px.listen_fd < 0)
			abort();
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (client < 0 || connect(client, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	conn_accept(&px);
	c = px.conns;
	if (!c || send(client, request, sizeof(request) - 1, 0) != (ssize_t)(sizeof(request) - 1))
		abort();
	conn_event(c, false, EPOLLIN);
	if (!alive(c) || c->state != CONN_OPEN)
		abort();
	conn_event(c, false, EPOLLOUT);
	drain(client);
	for (size_t off = 0; off < n && alive(c);) {
		/* pieces of 1 to 256 bytes, sized by the input itself */
		size_t piece = 1 + d[off] % 256;
		ssize_t w;

		if (piece > n - off)
			piece = n - off;
		w = send(client, d + off, piece, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			off += (size_t)w;
		conn_event(c, false, EPOLLIN | EPOLLOUT);
		if (alive(c) && c->backend >= 0)
			conn_event(c, true, EPOLLIN | EPOLLOUT);
		if (alive(c) && (c->to_backend.len > QUEUE_MAX + 65536 || c->stage.len > READ_CHUNK))
			abort(); /* the bound toward the VM was not kept */
		drain(client);
		if (backend_peer >= 0)
			drain(backend_peer);
		if (w <= 0 && errno != EAGAIN)
			break;
		if (w <= 0 && alive(c) && c->to_backend.len >= QUEUE_MAX)
			break;
	}
	close(client);
	if (backend_peer >= 0)
		close(backend_peer);
	backend_peer = -1;
	while (px.conns)
		conn_close(px.conns, 1000, NULL), conn_sweep(&px, mono_ms() + 3600 * 1000LL);
	conn_reap(&px);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	if (data[0] & 1)
		frames_case(data + 1, size - 1);
	else
		handshake_case((const char *)data + 1, size - 1);
	return 0;
}
