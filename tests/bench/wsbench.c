/*
 * wsbench: two websocket-to-TCP proxies side by side (Debian's websockify
 * and webkvm-websockify with --target), both listening on 127.0.0.1:PORT
 * and joining each websocket to one fixed TCP target.
 *
 *   wsbench echo-server PORT                  the target: writes back what it reads
 *   wsbench source-server PORT                the target: writes 64 KiB blocks, no end
 *   wsbench latency PORT COUNT                64-byte round trips (echo-server)
 *   wsbench echo-throughput PORT SECONDS      64 KiB messages out, echo back
 *   wsbench download PORT SECONDS             what a source-server sends
 *   wsbench hold PORT COUNT SECONDS [PID]     COUNT idle websockets; the
 *                                             memory of PID and its descendants
 *
 * Results are "key value" lines on stdout; errors go to stderr, exit 1.
 * NOTES
 * - The path is always /websockify: ours takes no other, Debian's any.
 * - The target's bytes come back in messages of the proxy's choosing
 *   (split or merged): bytes are counted, never messages.
 * - Everything is one thread; sockets the tool waits on with epoll or
 *   poll are non-blocking. Blocking ones have 10 s timeouts, so a proxy
 *   that hangs ends the run with an error instead of stalling it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (64 * 1024)               /* the servers' and echo-throughput's unit */
#define PENDING_MAX (256 * 1024)        /* echo-server: a connection is not read past this */
#define INFLIGHT_MAX (4 * 1024 * 1024)  /* echo-throughput: sent, not yet echoed */
#define RECV_BUF (256 * 1024)
#define IO_TIMEOUT_MS 10000             /* blocking sockets, handshakes */
#define ANSWER_MAX 8192                 /* the proxy's HTTP answer */
#define LAT_SIZE 64
#define LAT_WARMUP 200
#define HOLD_PARALLEL 256               /* handshakes in progress at once */
#define ALIVE_SAMPLE 100
#define ALIVE_SIZE 8
#define ALIVE_TIMEOUT_MS 5000

#define WS_CONT 0x0
#define WS_TEXT 0x1
#define WS_BINARY 0x2
#define WS_CLOSE 0x8
#define WS_PING 0x9
#define WS_PONG 0xa

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("wsbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long long now_ms(void)
{
	return (long long)(now_ns() / 1000000);
}

static long parse_long(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s takes %ld to %ld, not '%s'", what, min, max, s);
	return v;
}

static double parse_seconds(const char *s, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min) || v > 86400)
		die("SECONDS takes %g to 86400, not '%s'", min, s);
	return v;
}

/* Returns the descriptors this process may now open. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			die("setrlimit: %s", strerror(errno));
	}
	return rl.rlim_cur;
}

static void sleep_s(double seconds)
{
	struct timespec ts = {
		.tv_sec = (time_t)seconds,
		.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9),
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* xorshift64*: mask keys and handshake keys need to vary, not to be secret here */
struct rng {
	uint64_t s;
};

static void rng_init(struct rng *r)
{
	if (getrandom(&r->s, sizeof(r->s), 0) != (ssize_t)sizeof(r->s))
		r->s = now_ns() ^ ((uint64_t)getpid() << 32);
	if (!r->s)
		r->s = 0x9e3779b97f4a7c15ull;
}

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Sec-WebSocket-Key: 16 random bytes in base64, 24 characters (not terminated). */
static void ws_key(struct rng *r, char key[24])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t raw[18] = { 0 };
	uint64_t a = rng_next(r), b = rng_next(r);

	memcpy(raw, &a, 8);
	memcpy(raw + 8, &b, 8);
	for (int i = 0; i < 6; i++) {
		uint32_t v = (uint32_t)raw[3 * i] << 16 | (uint32_t)raw[3 * i + 1] << 8 | raw[3 * i + 2];

		key[4 * i] = b64[v >> 18 & 63];
		key[4 * i + 1] = b64[v >> 12 & 63];
		key[4 * i + 2] = b64[v >> 6 & 63];
		key[4 * i + 3] = b64[v & 63];
	}
	/* 16 bytes end in one byte of the last group: two padding signs */
	key[22] = '=';
	key[23] = '=';
}

/* The upgrade request, exactly as our proxy wants it. Returns its length. */
static size_t ws_request(char *out, size_t size, int port, const char key[24])
{
	int n = snprintf(out, size,
			 "GET /websockify HTTP/1.1\r\n"
			 "Host: 127.0.0.1:%d\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %.24s\r\n"
			 "Sec-WebSocket-Version: 13\r\n"
			 "Origin: http://127.0.0.1:%d\r\n"
			 "Sec-WebSocket-Protocol: binary\r\n"
			 "\r\n", port, key, port);

	if (n < 0 || (size_t)n >= size)
		die("the request does not fit");
	return (size_t)n;
}

/* A client frame's header (FIN, opcode, MASK, length, key); returns its size, at most 14. */
static size_t ws_header(uint8_t *h, uint8_t opcode, uint64_t len, uint32_t key)
{
	size_t n;

	h[0] = 0x80 | opcode;
	if (len < 126) {
		h[1] = 0x80 | (uint8_t)len;
		n = 2;
	} else if (len <= 0xffff) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		n = 4;
	} else {
		h[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	memcpy(h + n, &key, 4);
	return n + 4;
}

static void ws_mask(uint8_t *dst, const uint8_t *src, size_t len, uint32_t key)
{
	uint8_t k[4];
	uint64_t k8, w;
	size_t i;

	memcpy(k, &key, 4);
	/* the key's bytes twice, in memory order, to mask 8 bytes at a time */
	memcpy(&k8, k, 4);
	memcpy((uint8_t *)&k8 + 4, k, 4);
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, src + i, 8);
		w ^= k8;
		memcpy(dst + i, &w, 8);
	}
	for (; i < len; i++)
		dst[i] = src[i] ^ k[i & 3];
}

/* A whole masked frame into out (room for len + 14); returns its size. */
static size_t ws_frame(struct rng *r, uint8_t *out, uint8_t opcode, const uint8_t *p, size_t len)
{
	uint32_t key = (uint32_t)rng_next(r);
	size_t n = ws_header(out, opcode, len, key);

	ws_mask(out + n, p, len, key);
	return n + len;
}

/*
 * The server's frames, parsed as they come, in pieces of any size: the
 * data messages' payload is only counted; a ping's is kept for the pong.
 */
struct ws_rx {
	uint8_t hdr[10];
	unsigned hlen;       /* header bytes so far */
	unsigned hneed;      /* the header's size, once its second byte came */
	bool in_payload;
	uint8_t opcode;
	uint64_t left;       /* of the current frame's payload */
	uint64_t data;       /* payload bytes of data frames so far */
	bool closed;         /* a close frame came */
	const char *bad;     /* why the stream is not RFC 6455 from a server */
	uint8_t ping[125];
	unsigned ping_len;
	bool ping_due;       /* a ping came that was not answered yet */
};

static void ws_rx_frame_end(struct ws_rx *rx)
{
	rx->in_payload = false;
	if (rx->opcode == WS_CLOSE)
		rx->closed = true;
	else if (rx->opcode == WS_PING)
		rx->ping_due = true;
}

static void ws_rx_header(struct ws_rx *rx)
{
	unsigned l7 = rx->hdr[1] & 0x7f;
	uint64_t len = l7;

	rx->opcode = rx->hdr[0] & 0x0f;
	if (l7 == 126)
		len = (uint64_t)rx->hdr[2] << 8 | rx->hdr[3];
	else if (l7 == 127)
		for (int i = 0; i < 8; i++)
			len = len << 8 | rx->hdr[2 + i];
	if (rx->hdr[0] & 0x70)
		rx->bad = "a frame with RSV bits";
	else if ((rx->opcode > WS_BINARY && rx->opcode < WS_CLOSE) || rx->opcode > WS_PONG)
		rx->bad = "a frame with a reserved opcode";
	else if (rx->opcode >= WS_CLOSE && (len > 125 || !(rx->hdr[0] & 0x80)))
		rx->bad = "a control frame that is long or fragmented";
	rx->left = len;
	rx->hlen = 0;
	rx->in_payload = true;
	if (rx->opcode == WS_PING)
		rx->ping_len = 0;
	if (!len)
		ws_rx_frame_end(rx);
}

/* Takes all of p, up to a close frame; what comes after one is dropped. */
static void ws_rx_feed(struct ws_rx *rx, const uint8_t *p, size_t n)
{
	while (n && !rx->closed && !rx->bad) {
		size_t take;

		if (!rx->in_payload) {
			if (rx->hlen < 2) {
				rx->hdr[rx->hlen++] = *p++;
				n--;
				if (rx->hlen < 2)
					continue;
				if (rx->hdr[1] & 0x80) {
					rx->bad = "a masked frame from the server";
					return;
				}
				rx->hneed = 2 + ((rx->hdr[1] & 0x7f) == 126 ? 2 :
						 (rx->hdr[1] & 0x7f) == 127 ? 8 : 0);
			}
			take = rx->hneed - rx->hlen;
			take = take < n ? take : n;
			memcpy(rx->hdr + rx->hlen, p, take);
			rx->hlen += (unsigned)take;
			p += take;
			n -= take;
			if (rx->hlen == rx->hneed)
				ws_rx_header(rx);
			continue;
		}
		take = rx->left < n ? (size_t)rx->left : n;
		if (rx->opcode <= WS_BINARY) {
			rx->data += take;
		} else if (rx->opcode == WS_PING) {
			memcpy(rx->ping + rx->ping_len, p, take);
			rx->ping_len += (unsigned)take;
		}
		p += take;
		n -= take;
		rx->left -= take;
		if (!rx->left)
			ws_rx_frame_end(rx);
	}
}

/*
 * A TCP connection to 127.0.0.1:port, or -errno. A non-blocking one may
 * still be on its way (*pending); a blocking one is waited for here, at
 * most IO_TIMEOUT_MS, as a blocking connect() would wait for minutes.
 */
static int connect_loopback(int port, bool nonblock, bool *pending)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0, fl;
	socklen_t len = sizeof(err);

	*pending = false;
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* after EINTR the connection goes on as after EINPROGRESS */
		if (errno != EINPROGRESS && errno != EINTR) {
			err = errno;
			close(fd);
			return -err;
		}
		*pending = true;
	}
	if (nonblock)
		return fd;
	if (*pending) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int r;

		do
			r = poll(&pfd, 1, IO_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			err = r ? errno : ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		*pending = false;
	}
	fl = fcntl(fd, F_GETFL);
	if (!err && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
		err = errno;
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

/* Works on blocking and non-blocking sockets alike: 0, or -errno. */
static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int r;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			r = poll(&pfd, 1, IO_TIMEOUT_MS);
			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One websocket of the measuring subcommands. */
struct client {
	int port;
	int fd;
	struct rng rng;
	struct ws_rx rx;
	uint8_t *in;          /* RECV_BUF */
};

/*
 * Connect, upgrade, and leave the socket blocking with 10 s timeouts.
 * Frames that came with the answer are already in rx.
 */
static void client_open(struct client *cl, int port, bool nodelay)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };
	char req[512], key[24];
	size_t len, got = 0;
	char *end = NULL;
	int one = 1, r;
	bool pending;

	memset(cl, 0, sizeof(*cl));
	cl->port = port;
	rng_init(&cl->rng);
	cl->in = malloc(RECV_BUF);
	if (!cl->in)
		die("out of memory");
	cl->fd = connect_loopback(port, false, &pending);
	if (cl->fd < 0)
		die("connect to 127.0.0.1:%d: %s", port, strerror(-cl->fd));
	setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (nodelay && setsockopt(cl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY: %s", strerror(errno));
	ws_key(&cl->rng, key);
	len = ws_request(req, sizeof(req), port, key);
	r = send_all(cl->fd, req, len);
	if (r < 0)
		die("sending the handshake: %s", strerror(-r));
	while (!end) {
		ssize_t n;

		if (got == ANSWER_MAX)
			die("the proxy's answer has no end in %d bytes", ANSWER_MAX);
		n = recv(cl->fd, cl->in + got, ANSWER_MAX - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			die("no answer to the handshake in %d s", IO_TIMEOUT_MS / 1000);
		if (n < 0)
			die("reading the handshake's answer: %s", strerror(errno));
		if (n == 0)
			die("the proxy closed the connection before it answered%s",
			    got ? " in full" : "");
		got += (size_t)n;
		end = memmem(cl->in, got, "\r\n\r\n", 4);
	}
	if (memcmp(cl->in, "HTTP/1.1 101", 12)) {
		char *eol = memchr(cl->in, '\r', got);

		die("the proxy refused the websocket: %.*s", (int)(eol - (char *)cl->in), cl->in);
	}
	end += 4;
	ws_rx_feed(&cl->rx, (uint8_t *)end, got - (size_t)(end - (char *)cl->in));
}

static void client_nonblock(struct client *cl)
{
	int fl = fcntl(cl->fd, F_GETFL);

	if (fl < 0 || fcntl(cl->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("O_NONBLOCK: %s", strerror(errno));
}

/* Only between whole frames of ours: a pong must not land inside one. */
static void client_pong(struct client *cl)
{
	uint8_t frame[125 + 14];
	size_t n;
	int r;

	if (!cl->rx.ping_due)
		return;
	cl->rx.ping_due = false;
	n = ws_frame(&cl->rng, frame, WS_PONG, cl->rx.ping, cl->rx.ping_len);
	r = send_all(cl->fd, frame, n);
	if (r < 0)
		die("sending a pong: %s", strerror(-r));
}

static void client_check(struct client *cl)
{
	if (cl->rx.bad)
		die("the proxy sent %s", cl->rx.bad);
	if (cl->rx.closed)
		die("the proxy closed the websocket");
}

/* Reads what is there (waits on a blocking socket); false when a non-blocking one has nothing. */
static bool client_recv(struct client *cl)
{
	ssize_t n;

	do
		n = recv(cl->fd, cl->in, RECV_BUF, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return false;
	if (n < 0)
		die("reading from the proxy: %s", strerror(errno));
	if (n == 0)
		die("the proxy closed the connection");
	ws_rx_feed(&cl->rx, cl->in, (size_t)n);
	client_check(cl);
	return true;
}

/* between_frames: whether a close frame may go out (none of ours is half sent) */
static void client_close(struct client *cl, bool between_frames)
{
	static const uint8_t code[2] = { 1000 >> 8, 1000 & 0xff };
	uint8_t frame[2 + 14];

	if (between_frames) {
		size_t n = ws_frame(&cl->rng, frame, WS_CLOSE, code, sizeof(code));

		if (send(cl->fd, frame, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* it gets the bare close */
		}
	}
	close(cl->fd);
	free(cl->in);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank */
static double percentile_us(const uint64_t *sorted, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return sorted[rank ? rank - 1 : 0] / 1e3;
}

static int run_latency(int port, long count)
{
	uint8_t payload[LAT_SIZE], frame[LAT_SIZE + 14];
	uint64_t *t = malloc((size_t)count * sizeof(*t)), sum = 0;
	struct client cl;

	if (!t)
		die("out of memory");
	client_open(&cl, port, true);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	for (long i = -LAT_WARMUP; i < count; i++) {
		uint64_t t0 = now_ns(), want = cl.rx.data + LAT_SIZE;
		size_t n = ws_frame(&cl.rng, frame, WS_BINARY, payload, LAT_SIZE);
		int r = send_all(cl.fd, frame, n);

		if (r < 0)
			die("sending: %s", strerror(-r));
		while (cl.rx.data < want)
			if (!client_recv(&cl))
				die("no echo in %d s", IO_TIMEOUT_MS / 1000);
		if (i >= 0)
			t[i] = now_ns() - t0;
		if (cl.rx.data != want)
			die("%llu bytes came back for %d", (unsigned long long)(cl.rx.data - want + LAT_SIZE),
			    LAT_SIZE);
		client_pong(&cl);
	}
	client_close(&cl, true);
	for (long i = 0; i < count; i++)
		sum += t[i];
	qsort(t, (size_t)count, sizeof(*t), cmp_u64);
	printf("p50_us %.1f\n", percentile_us(t, (size_t)count, 50));
	printf("p99_us %.1f\n", percentile_us(t, (size_t)count, 99));
	printf("mean_us %.1f\n", (double)sum / (double)count / 1e3);
	free(t);
	return 0;
}

/*
 * echo-throughput (send) and download (!send): one socket, poll(), for
 * SECONDS. Sending stops while INFLIGHT_MAX is on its way, so neither
 * side ends up waiting for the other with both directions full.
 */
static int run_stream(int port, double seconds, bool send_too)
{
	uint8_t *payload = malloc(BLOCK), *frame = malloc(BLOCK + 14);
	uint64_t queued = 0, inflight, t0, end, now;
	size_t flen = 0, foff = 0;
	struct client cl;

	if (!payload || !frame)
		die("out of memory");
	for (size_t i = 0; i < BLOCK; i++)
		payload[i] = (uint8_t)(i * 7);
	client_open(&cl, port, false);
	client_nonblock(&cl);
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	while ((now = now_ns()) < end) {
		struct pollfd pfd = { .fd = cl.fd, .events = POLLIN };
		int r;

		if (foff == flen)
			client_pong(&cl);
		inflight = queued > cl.rx.data ? queued - cl.rx.data : 0;
		if (send_too && foff == flen && inflight + BLOCK <= INFLIGHT_MAX) {
			flen = ws_frame(&cl.rng, frame, WS_BINARY, payload, BLOCK);
			foff = 0;
			queued += BLOCK;
		}
		if (foff < flen)
			pfd.events |= POLLOUT;
		r = poll(&pfd, 1, (int)((end - now + 999999) / 1000000));
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (pfd.revents & POLLOUT) {
			while (foff < flen) {
				ssize_t n = send(cl.fd, frame + foff, flen - foff, MSG_NOSIGNAL);

				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0 && errno == EAGAIN)
					break;
				if (n < 0)
					die("sending: %s", strerror(errno));
				foff += (size_t)n;
			}
		}
		/* a few reads at most, so sending gets its turn */
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			for (int i = 0; i < 8 && client_recv(&cl); i++)
				;
	}
	now = now_ns();
	printf("mb_per_s %.1f\n", (double)cl.rx.data / ((double)(now - t0) / 1e9) / 1e6);
	printf("bytes %llu\n", (unsigned long long)cl.rx.data);
	client_close(&cl, foff == flen);
	free(payload);
	free(frame);
	return 0;
}

/* The TCP targets. */

struct sconn {
	int fd;
	uint32_t events;     /* what epoll watches */
	uint32_t off;        /* source: where in the block the stream is */
	uint8_t *pend;       /* echo: what the socket did not take yet, from pend_off */
	size_t pend_off, pend_len, pend_cap;
};

struct server {
	int lfd, sfd, epfd;
	bool source;
	bool accepting;      /* the listener is watched (not while out of descriptors) */
	long nconns;
	uint8_t *block;      /* echo: read buffer; source: the stream's content */
};

static void sconn_close(struct server *s, struct sconn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->lfd };

	close(c->fd);
	free(c->pend);
	free(c);
	s->nconns--;
	if (!s->accepting && epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) == 0)
		s->accepting = true; /* a descriptor is free again */
}

static bool sconn_watch(struct server *s, struct sconn *c, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (want == c->events)
		return true;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return false;
	c->events = want;
	return true;
}

static void server_accept(struct server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct epoll_event ev;
		struct sconn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* level-triggered: stop watching until a connection ends, or it spins */
				fprintf(stderr, "wsbench: accept with %ld open: %s\n", s->nconns,
					strerror(errno));
				epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
				s->accepting = false;
			}
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		/* an echo answers each small message at once */
		if (!s->source)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->events = s->source ? EPOLLIN | EPOLLOUT : EPOLLIN;
		ev = (struct epoll_event){ .events = c->events, .data.ptr = c };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		s->nconns++;
	}
}

/* false when the connection is to be closed */
static bool echo_flush(struct sconn *c)
{
	while (c->pend_len) {
		ssize_t n = send(c->fd, c->pend + c->pend_off, c->pend_len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		c->pend_off += (size_t)n;
		c->pend_len -= (size_t)n;
	}
	/* an idle connection keeps no buffer */
	free(c->pend);
	c->pend = NULL;
	c->pend_off = c->pend_cap = 0;
	return true;
}

static bool echo_keep(struct sconn *c, const uint8_t *p, size_t len)
{
	if (c->pend_off + c->pend_len + len > c->pend_cap) {
		size_t cap = c->pend_len + len;
		uint8_t *n;

		if (c->pend_off) {
			memmove(c->pend, c->pend + c->pend_off, c->pend_len);
			c->pend_off = 0;
		}
		if (cap > c->pend_cap) {
			cap = cap < BLOCK ? BLOCK : cap * 2;
			n = realloc(c->pend, cap);
			if (!n)
				return false;
			c->pend = n;
			c->pend_cap = cap;
		}
	}
	memcpy(c->pend + c->pend_off + c->pend_len, p, len);
	c->pend_len += len;
	return true;
}

static bool echo_read(struct server *s, struct sconn *c)
{
	for (int i = 0; i < 8 && c->pend_len < PENDING_MAX; i++) {
		ssize_t n = recv(c->fd, s->block, BLOCK, 0), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		if (!c->pend_len) {
			do
				w = send(c->fd, s->block, (size_t)n, MSG_NOSIGNAL);
			while (w < 0 && errno == EINTR);
			if (w < 0 && errno != EAGAIN)
				return false;
			if (w < 0)
				w = 0;
		}
		if (w < n && !echo_keep(c, s->block + w, (size_t)(n - w)))
			return false;
		if (w < n)
			break; /* the socket is full: EPOLLOUT will say when */
	}
	return true;
}

static bool source_write(struct server *s, struct sconn *c)
{
	/* a bounded number, so the other connections get their turn */
	for (int i = 0; i < 16; i++) {
		ssize_t n = send(c->fd, s->block + c->off, BLOCK - c->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		c->off = (uint32_t)((c->off + (size_t)n) % BLOCK);
	}
	return true;
}

static bool source_read(struct server *s, struct sconn *c)
{
	ssize_t n;

	do
		n = recv(c->fd, s->block, BLOCK, 0);
	while (n < 0 && errno == EINTR);
	return n > 0 || (n < 0 && errno == EAGAIN);
}

static bool sconn_event(struct server *s, struct sconn *c, uint32_t ev)
{
	if (s->source) {
		if (ev & (EPOLLERR | EPOLLHUP))
			return false;
		if ((ev & EPOLLIN) && !source_read(s, c))
			return false;
		return !(ev & EPOLLOUT) || source_write(s, c);
	}
	if ((ev & EPOLLOUT) && !echo_flush(c))
		return false;
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->pend_len < PENDING_MAX &&
	    !echo_read(s, c))
		return false;
	if ((ev & (EPOLLHUP | EPOLLERR)) && !(c->events & EPOLLIN))
		return false; /* not read now, and nobody will read what it sends */
	return sconn_watch(s, c, (c->pend_len < PENDING_MAX ? EPOLLIN : 0) |
			   (c->pend_len ? EPOLLOUT : 0));
}

static int listen_loopback(int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind 127.0.0.1:%d: %s", port, strerror(errno));
	/* the kernel caps the backlog at net.core.somaxconn */
	if (listen(fd, 65535) < 0)
		die("listen: %s", strerror(errno));
	return fd;
}

static int run_server(int port, bool source)
{
	struct server s = { .source = source, .accepting = true };
	struct epoll_event evs[256], ev;
	sigset_t sigs;

	raise_nofile();
	s.block = malloc(BLOCK);
	if (!s.block)
		die("out of memory");
	for (size_t i = 0; i < BLOCK; i++)
		s.block[i] = (uint8_t)(i * 131 + 7);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	/* the signals come through the loop, so they end it at a clean point */
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	s.sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	s.lfd = listen_loopback(port);
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s.sfd < 0 || s.epfd < 0)
		die("signalfd or epoll: %s", strerror(errno));
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &s.lfd };
	if (epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.lfd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &s.sfd };
	if (epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.sfd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	printf("listening %d\n", port);
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(s.epfd, evs, 256, -1);

		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &s.sfd)
				return 0; /* SIGTERM or SIGINT */
			if (p == &s.lfd)
				server_accept(&s);
			else if (!sconn_event(&s, p, evs[i].events))
				sconn_close(&s, p);
		}
	}
}

/* hold: many websockets opened, kept idle, checked. */

enum hold_state { H_CONNECTING, H_SENDING, H_READING, H_HELD, H_FAILED };
enum hold_failure { F_REFUSED, F_CLOSED, F_STATUS, F_TIMEOUT, F_LOCAL, F_REASONS };

static const char *const failure_key[F_REASONS] = {
	"failed_refused", "failed_closed", "failed_status", "failed_timeout", "failed_local",
};

/* Small on purpose: there are tens of thousands. */
struct hold_conn {
	int fd;
	uint8_t state;
	uint8_t crlf;        /* how much of "\r\n\r\n" the answer ends with so far */
	bool bad_status;     /* it did not begin with "HTTP/1.1 101" */
	uint16_t off;        /* request bytes sent, then answer bytes read */
	char key[24];        /* the request is built again to send the rest of it */
	long long deadline;  /* ms */
};

struct hold {
	int port, epfd;
	long count, next, lo, inflight, done, held;
	long failed[F_REASONS];
	bool told_status, told_local;
	struct hold_conn *c;
	struct rng rng;
	uint8_t scratch[4096];
};

static void hold_fail(struct hold *h, long i, enum hold_failure why)
{
	struct hold_conn *c = &h->c[i];

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = H_FAILED;
	h->failed[why]++;
	h->inflight--;
	h->done++;
}

static void hold_start(struct hold *h, long i)
{
	struct hold_conn *c = &h->c[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)i };
	bool pending;

	h->inflight++;
	c->deadline = now_ms() + IO_TIMEOUT_MS;
	ws_key(&h->rng, c->key);
	c->fd = connect_loopback(h->port, true, &pending);
	if (c->fd < 0) {
		if (c->fd == -ECONNREFUSED) {
			hold_fail(h, i, F_REFUSED);
			return;
		}
		if (!h->told_local)
			fprintf(stderr, "wsbench: connection %ld: %s\n", i, strerror(-c->fd));
		h->told_local = true;
		hold_fail(h, i, F_LOCAL);
		return;
	}
	/* the request goes once the socket is writable, either way */
	c->state = pending ? H_CONNECTING : H_SENDING;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		hold_fail(h, i, F_LOCAL);
}

static void hold_send(struct hold *h, long i)
{
	struct hold_conn *c = &h->c[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
	char req[512];
	size_t len = ws_request(req, sizeof(req), h->port, c->key);

	while (c->off < len) {
		ssize_t n = send(c->fd, req + c->off, len - c->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			hold_fail(h, i, F_CLOSED);
			return;
		}
		c->off += (uint16_t)n;
	}
	c->off = 0;
	c->state = H_READING;
	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		hold_fail(h, i, F_LOCAL);
}

/*
 * Only the answer's first bytes and its end are looked at. A frame that
 * came in the same read right after it would be lost, but none is sent
 * before the target says something, and the echo-server speaks only
 * when spoken to.
 */
static void hold_read(struct hold *h, long i)
{
	static const char ok[] = "HTTP/1.1 101";
	struct hold_conn *c = &h->c[i];

	for (;;) {
		ssize_t n = recv(c->fd, h->scratch, sizeof(h->scratch), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			hold_fail(h, i, F_CLOSED);
			return;
		}
		for (ssize_t k = 0; k < n; k++) {
			uint8_t ch = h->scratch[k];

			if (c->off < sizeof(ok) - 1 && ch != (uint8_t)ok[c->off])
				c->bad_status = true;
			c->off++;
			c->crlf = ch == (uint8_t)"\r\n\r\n"[c->crlf] ? c->crlf + 1 : ch == '\r';
			if (c->crlf < 4)
				continue;
			if (c->bad_status) {
				/* the first refusal's status line, when it is all in this read */
				uint8_t *eol = memchr(h->scratch, '\r', (size_t)n);

				if (!h->told_status && c->off == k + 1 && eol)
					fprintf(stderr, "wsbench: refused: %.*s\n",
						(int)(eol - h->scratch), h->scratch);
				h->told_status = true;
				hold_fail(h, i, F_STATUS);
				return;
			}
			/* held: nothing is watched while it idles */
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
			c->state = H_HELD;
			h->held++;
			h->inflight--;
			h->done++;
			return;
		}
		if (c->off > ANSWER_MAX) {
			hold_fail(h, i, F_STATUS);
			return;
		}
	}
}

static void hold_event(struct hold *h, long i, uint32_t events)
{
	struct hold_conn *c = &h->c[i];

	if (c->state == H_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err || !(events & EPOLLOUT)) {
			hold_fail(h, i, err == ECONNREFUSED ? F_REFUSED :
				  err == ETIMEDOUT ? F_TIMEOUT : F_CLOSED);
			return;
		}
		c->state = H_SENDING;
	}
	if (c->state == H_SENDING)
		hold_send(h, i);
	else if (c->state == H_READING)
		hold_read(h, i);
}

/* Open all, HOLD_PARALLEL at a time; each has IO_TIMEOUT_MS from its start. */
static void hold_open(struct hold *h)
{
	struct epoll_event evs[256];

	while (h->done < h->count) {
		long long now;
		int n;

		while (h->inflight < HOLD_PARALLEL && h->next < h->count)
			hold_start(h, h->next++);
		n = epoll_wait(h->epfd, evs, 256, 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			long i = (long)evs[k].data.u64;

			if (h->c[i].state < H_HELD)
				hold_event(h, i, evs[k].events);
		}
		/* deadlines grow with the index: the oldest unfinished one comes first */
		now = now_ms();
		for (; h->lo < h->next; h->lo++) {
			struct hold_conn *c = &h->c[h->lo];

			if (c->state < H_HELD && c->deadline > now)
				break;
			if (c->state < H_HELD)
				hold_fail(h, h->lo, F_TIMEOUT);
		}
	}
}

/* VmRSS: or Pss: of a /proc file, in KiB; -1 when the process is gone. */
static long proc_kib(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen)) {
			kib = strtol(line + klen, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static pid_t proc_ppid(pid_t pid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the name in parentheses may hold anything, ')' too: the last one ends it */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * The memory of root and all its descendants: Debian's websockify forks
 * one process per connection. RSS counts pages the forks share once per
 * process; PSS splits them, so it is printed as well. False when root is
 * gone (the proxy died: the run goes on, to say what became of the rest).
 */
static bool tree_memory(pid_t root)
{
	size_t n = 0, cap = 1024, nt = 1;
	pid_t *pid = malloc(cap * sizeof(*pid)), *ppid = malloc(cap * sizeof(*ppid)), *tree;
	long rss = 0, pss = 0, procs = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc");

	if (!dir || !pid || !ppid)
		die("/proc: %s", strerror(errno));
	while ((d = readdir(dir))) {
		pid_t p = (pid_t)atoi(d->d_name), pp;

		if (p <= 0 || (pp = proc_ppid(p)) < 0)
			continue;
		if (n == cap) {
			cap *= 2;
			pid = realloc(pid, cap * sizeof(*pid));
			ppid = realloc(ppid, cap * sizeof(*ppid));
			if (!pid || !ppid)
				die("out of memory");
		}
		pid[n] = p;
		ppid[n++] = pp;
	}
	closedir(dir);
	/* breadth first: each one found is then looked for as a parent */
	tree = malloc((n + 1) * sizeof(*tree));
	if (!tree)
		die("out of memory");
	tree[0] = root;
	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < n; j++)
			if (ppid[j] == tree[i])
				tree[nt++] = pid[j];
	for (size_t i = 0; i < nt; i++) {
		long r = proc_kib(tree[i], "status", "VmRSS:");
		long s = proc_kib(tree[i], "smaps_rollup", "Pss:");

		if (r < 0 && !i) {
			fprintf(stderr, "wsbench: process %d: no VmRSS (it is gone)\n", (int)root);
			free(pid);
			free(ppid);
			free(tree);
			return false;
		}
		if (r < 0)
			continue;
		rss += r;
		pss += s > 0 ? s : 0;
		procs++;
	}
	printf("rss_kib %ld\n", rss);
	printf("pss_kib %ld\n", pss);
	printf("procs %ld\n", procs);
	free(pid);
	free(ppid);
	free(tree);
	return true;
}

struct probe {
	long i;
	bool done;
	struct ws_rx rx;
};

/* Up to ALIVE_SAMPLE held websockets, spread over all: an echo each within ALIVE_TIMEOUT_MS. */
static long hold_alive(struct hold *h)
{
	struct probe *pr = calloc(ALIVE_SAMPLE, sizeof(*pr));
	long want = h->held < ALIVE_SAMPLE ? h->held : ALIVE_SAMPLE, np = 0, k = 0;
	long pending = 0, alive = 0;
	long long deadline;
	uint8_t payload[ALIVE_SIZE] = "wsbench", frame[ALIVE_SIZE + 14];

	if (!pr)
		die("out of memory");
	for (long i = 0; i < h->count && np < want; i++) {
		if (h->c[i].state != H_HELD)
			continue;
		if (k++ == np * h->held / want)
			pr[np++].i = i;
	}
	for (long j = 0; j < np; j++) {
		struct hold_conn *c = &h->c[pr[j].i];
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)j };
		size_t n = ws_frame(&h->rng, frame, WS_BINARY, payload, ALIVE_SIZE);

		/* 14 bytes into an idle socket: all or nothing */
		if (send(c->fd, frame, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n ||
		    epoll_ctl(h->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			pr[j].done = true;
			continue;
		}
		pending++;
	}
	deadline = now_ms() + ALIVE_TIMEOUT_MS;
	while (pending) {
		struct epoll_event evs[ALIVE_SAMPLE];
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			break;
		n = epoll_wait(h->epfd, evs, ALIVE_SAMPLE, (int)left);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int e = 0; e < n; e++) {
			struct probe *p = &pr[evs[e].data.u64];
			struct hold_conn *c = &h->c[p->i];
			ssize_t r;

			if (p->done)
				continue;
			do
				r = recv(c->fd, h->scratch, sizeof(h->scratch), 0);
			while (r < 0 && errno == EINTR);
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r > 0)
				ws_rx_feed(&p->rx, h->scratch, (size_t)r);
			if (r > 0 && p->rx.data < ALIVE_SIZE && !p->rx.closed && !p->rx.bad)
				continue;
			alive += r > 0 && p->rx.data >= ALIVE_SIZE;
			p->done = true;
			pending--;
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		}
	}
	free(pr);
	return alive;
}

static int run_hold(int port, long count, double seconds, pid_t pid)
{
	struct hold *h = calloc(1, sizeof(*h));
	rlim_t nofile = raise_nofile();
	uint64_t t0;
	bool gone = false;
	long alive;

	if (!h)
		die("out of memory");
	if ((rlim_t)count + 16 > nofile)
		fprintf(stderr, "wsbench: %ld connections with %llu descriptors: some will fail\n",
			count, (unsigned long long)nofile);
	h->port = port;
	h->count = count;
	h->c = calloc((size_t)count, sizeof(*h->c));
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!h->c || h->epfd < 0)
		die("setting up: %s", strerror(errno));
	rng_init(&h->rng);
	t0 = now_ns();
	hold_open(h);
	printf("held %ld\n", h->held);
	printf("failed %ld\n", h->done - h->held);
	for (int r = 0; r < F_REASONS; r++)
		if (h->failed[r])
			printf("%s %ld\n", failure_key[r], h->failed[r]);
	printf("open_s %.2f\n", (double)(now_ns() - t0) / 1e9);
	fflush(stdout);
	sleep_s(seconds);
	/* while all are still open */
	if (pid > 0)
		gone = !tree_memory(pid);
	alive = hold_alive(h);
	printf("alive %ld\n", alive);
	for (long i = 0; i < count; i++)
		if (h->c[i].state == H_HELD)
			close(h->c[i].fd);
	close(h->epfd);
	free(h->c);
	free(h);
	return gone;
}

static void __attribute__((noreturn)) usage(void)
{
	fputs("usage: wsbench echo-server|source-server PORT\n"
	      "       wsbench latency PORT COUNT\n"
	      "       wsbench echo-throughput|download PORT SECONDS\n"
	      "       wsbench hold PORT COUNT SECONDS [PID]\n", stderr);
	exit(1);
}

int main(int argc, char **argv)
{
	const char *cmd;
	int port;

	/* a proxy that closes on us is a result, not a reason to die */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 3)
		usage();
	cmd = argv[1];
	port = (int)parse_long("PORT", argv[2], 1, 65535);
	if (!strcmp(cmd, "echo-server") && argc == 3)
		return run_server(port, false);
	if (!strcmp(cmd, "source-server") && argc == 3)
		return run_server(port, true);
	if (!strcmp(cmd, "latency") && argc == 4)
		return run_latency(port, parse_long("COUNT", argv[3], 1, 100000000));
	if (!strcmp(cmd, "echo-throughput") && argc == 4)
		return run_stream(port, parse_seconds(argv[3], 0.001), true);
	if (!strcmp(cmd, "download") && argc == 4)
		return run_stream(port, parse_seconds(argv[3], 0.001), false);
	if (!strcmp(cmd, "hold") && (argc == 5 || argc == 6))
		return run_hold(port, parse_long("COUNT", argv[3], 1, 1000000),
				parse_seconds(argv[4], 0),
				argc == 6 ? (pid_t)parse_long("PID", argv[5], 1, 4194304) : 0);
	usage();
}
