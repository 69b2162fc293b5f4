/*
 * vnc-client: a VNC viewer for the tests, on libvncclient.
 *
 *   vnc-client SOCKET COMMAND...
 *
 * connects to a unix socket (or HOST:PORT) and runs the commands in order:
 *
 *   pattern            wait (up to 20 s) until the screen shows the test
 *                      guest's pattern, pixel for pixel
 *   square X Y RGB     wait until the 64x64 square at X,Y is colour RGB (hex)
 *   key KEYSYM         press and release a key (hex keysym)
 *   keydown KEYSYM / keyup KEYSYM
 *   xtkey XT           press and release a key by QEMU's extended key event
 *   pointer X Y MASK   move the pointer with buttons MASK
 *   sleep MS           keep reading updates for MS milliseconds
 *   dump FILE          write the screen as binary PPM
 *   rawdump FILE       write the screen as the guest's XRGB8888 (x = 0)
 *   fbtext TEXT        wait (up to 20 s) until the screen's bytes, as XRGB8888,
 *                      are TEXT and a newline repeated (what `yes TEXT` writes)
 *   type TEXT          type TEXT (lower case, digits, space), then Return
 *   stats SECONDS      count what the server sends for SECONDS: prints
 *                      "bytes N updates U"
 *   password PW        (first) answer VNC authentication with PW
 *
 * Every byte from the server passes a relay that counts it, whatever the
 * encoding. Exit status 0 when every command succeeded; 3 when the server
 * refused the password, that is, when what it sent was exactly an RFB 3.8
 * handshake with VNC authentication ending in a failed security result
 * and its reason (a server that crashed or hung up sends no such thing);
 * 1 on any other failure.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/rfbclient.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct viewer {
	rfbClient *client;
	int server_fd, relay_fd; /* the relay joins these */
	atomic_ullong bytes_in;
	atomic_uint updates;
	char *password;
	/* The server's first bytes, for telling a refused password apart. */
	unsigned char head[256];
	atomic_size_t head_len;
};

static void quiet_log(const char *fmt, ...)
{
	(void)fmt;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_server(const char *where)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(where) >= sizeof(addr.sun_path))
		return -1;
	strcpy(addr.sun_path, where);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "vnc-client: cannot connect to %s: %s\n", where, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Keep what fits of the server's first bytes, before they are relayed. */
static void keep_head(struct viewer *v, const char *buf, ssize_t n)
{
	size_t have = v->head_len, take = sizeof(v->head) - have;

	if ((size_t)n < take)
		take = n;
	memcpy(v->head + have, buf, take);
	v->head_len = have + take;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * Whether the server's bytes were exactly a refused VNC authentication:
 * "RFB 003.008\n", security types that offer VNC authentication (2), a
 * 16-byte challenge, the security result 1 (failed) and a reason, and
 * nothing after. The reason goes into reason.
 */
static bool password_refused(struct viewer *v, char *reason, size_t size)
{
	const unsigned char *h = v->head;
	size_t len = v->head_len, off, n;
	uint32_t reason_len;

	if (len < 13 || memcmp(h, "RFB 003.008\n", 12) || h[12] == 0)
		return false;
	n = h[12];
	off = 13 + n;
	if (len < off || !memchr(h + 13, 2, n))
		return false;
	off += 16; /* the challenge */
	if (len < off + 8 || be32(h + off) != 1)
		return false;
	reason_len = be32(h + off + 4);
	off += 8;
	if (len != off + reason_len || reason_len >= size)
		return false;
	memcpy(reason, h + off, reason_len);
	reason[reason_len] = 0;
	return true;
}

static void *relay(void *arg)
{
	struct viewer *v = arg;
	char buf[65536];

	for (;;) {
		struct pollfd p[2] = { { .fd = v->server_fd, .events = POLLIN },
				       { .fd = v->relay_fd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0)
			return NULL;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(p[1 - i].fd, SHUT_RDWR);
				return NULL;
			}
			if (i == 0) {
				keep_head(v, buf, n);
				v->bytes_in += n;
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(p[1 - i].fd, buf + off, n - off);

				if (w <= 0)
					return NULL;
				off += w;
			}
		}
	}
}

static void finished_update(rfbClient *client)
{
	struct viewer *v = rfbClientGetClientData(client, relay);

	v->updates++;
}

static char *get_password(rfbClient *client)
{
	struct viewer *v = rfbClientGetClientData(client, relay);

	return strdup(v->password ? v->password : "");
}

/* Read server messages for up to ms milliseconds; false if the connection broke. */
static bool pump(struct viewer *v, int ms)
{
	int64_t end = now_ms() + ms;

	for (;;) {
		int64_t left = end - now_ms();
		int n;

		if (left <= 0)
			return true;
		/* Whole messages may wait in libvncclient's buffer, unseen by select(). */
		while (v->client->buffered > 0)
			if (!HandleRFBServerMessage(v->client))
				return false;
		n = WaitForMessage(v->client, (unsigned int)(left > 100 ? 100000 : left * 1000));
		if (n < 0)
			return false;
		if (n > 0 && !HandleRFBServerMessage(v->client))
			return false;
	}
}

static uint32_t pixel_rgb(rfbClient *c, int x, int y)
{
	const uint32_t *fb = (const uint32_t *)c->frameBuffer;
	uint32_t p = fb[y * c->width + x];

	return ((p >> c->format.redShift) & 0xff) << 16 | ((p >> c->format.greenShift) & 0xff) << 8 |
	       ((p >> c->format.blueShift) & 0xff);
}

static uint32_t guest_pattern(unsigned int x, unsigned int y)
{
	return ((x * 3 + y * 5) & 0xff) << 16 | ((x ^ y) & 0xff) << 8 | ((x + y * 7) >> 2 & 0xff);
}

/* First pixel of the region that differs from what is expected, or -1. */
static long mismatch(rfbClient *c, int x0, int y0, int w, int h, long color)
{
	for (int y = y0; y < y0 + h; y++)
		for (int x = x0; x < x0 + w; x++) {
			uint32_t want = color >= 0 ? (uint32_t)color : guest_pattern(x, y);

			if (pixel_rgb(c, x, y) != want)
				return (long)y * c->width + x;
		}
	return -1;
}

static bool wait_for(struct viewer *v, int x0, int y0, int w, int h, long color)
{
	rfbClient *c = v->client;
	int64_t end = now_ms() + 20000;
	long bad;

	while ((bad = mismatch(c, x0, y0, w, h, color)) >= 0) {
		if (now_ms() > end) {
			int x = bad % c->width, y = bad / c->width;

			fprintf(stderr, "vnc-client: pixel %d,%d is %06x, not %06x\n", x, y,
				pixel_rgb(c, x, y), color >= 0 ? (uint32_t)color : guest_pattern(x, y));
			return false;
		}
		if (!pump(v, 100))
			return false;
	}
	return true;
}

static bool dump(rfbClient *c, const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return false;
	fprintf(f, "P6\n%d %d\n255\n", c->width, c->height);
	for (int y = 0; y < c->height; y++)
		for (int x = 0; x < c->width; x++) {
			uint32_t p = pixel_rgb(c, x, y);

			fputc(p >> 16, f);
			fputc(p >> 8 & 0xff, f);
			fputc(p & 0xff, f);
		}
	return fclose(f) == 0;
}

static bool rawdump(rfbClient *c, const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return false;
	for (int y = 0; y < c->height; y++)
		for (int x = 0; x < c->width; x++) {
			uint32_t p = pixel_rgb(c, x, y);
			uint8_t b[4] = { p & 0xff, p >> 8 & 0xff, p >> 16, 0 };

			fwrite(b, 1, 4, f);
		}
	return fclose(f) == 0;
}

/* First pixel whose bytes are not those of TEXT\n repeated, or -1. */
static long text_mismatch(rfbClient *c, const char *text)
{
	size_t period = strlen(text) + 1;

	for (long i = 0; i < (long)c->width * c->height; i++) {
		uint32_t p = pixel_rgb(c, i % c->width, i / c->width), want = 0;

		for (int k = 0; k < 3; k++) {
			size_t off = (size_t)i * 4 + k;
			char ch = off % period == period - 1 ? '\n' : text[off % period];

			want |= (uint32_t)(uint8_t)ch << (8 * k);
		}
		if (p != want)
			return i;
	}
	return -1;
}

static bool wait_text(struct viewer *v, const char *text)
{
	int64_t end = now_ms() + 20000;
	long bad;

	while ((bad = text_mismatch(v->client, text)) >= 0) {
		if (now_ms() > end) {
			fprintf(stderr, "vnc-client: pixel %ld is %06x, not the text's\n", bad,
				pixel_rgb(v->client, bad % v->client->width, bad / v->client->width));
			return false;
		}
		if (!pump(v, 100))
			return false;
	}
	return true;
}

static bool type_text(rfbClient *c, const char *text)
{
	for (const char *p = text; *p; p++)
		if (!SendKeyEvent(c, (uint8_t)*p, TRUE) || !SendKeyEvent(c, (uint8_t)*p, FALSE))
			return false;
	return SendKeyEvent(c, 0xff0d, TRUE) && SendKeyEvent(c, 0xff0d, FALSE);
}

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

static bool run(struct viewer *v, int argc, char **argv)
{
	rfbClient *c = v->client;

	for (int i = 0; i < argc; i++) {
		const char *cmd = argv[i];
		int args = !strcmp(cmd, "square") ? 3 : !strcmp(cmd, "pointer") ? 3
			 : !strcmp(cmd, "pattern") ? 0 : 1;
		bool ok = true;

		if (i + args >= argc) {
			fprintf(stderr, "vnc-client: %s needs %d arguments\n", cmd, args);
			return false;
		}
		if (!strcmp(cmd, "pattern")) {
			ok = wait_for(v, 0, 0, c->width, c->height, -1);
		} else if (!strcmp(cmd, "square")) {
			ok = wait_for(v, num(argv[i + 1]), num(argv[i + 2]), 64, 64,
				      (long)strtoul(argv[i + 3], NULL, 16));
		} else if (!strcmp(cmd, "key")) {
			ok = SendKeyEvent(c, num(argv[i + 1]), TRUE) && SendKeyEvent(c, num(argv[i + 1]), FALSE);
		} else if (!strcmp(cmd, "keydown") || !strcmp(cmd, "keyup")) {
			ok = SendKeyEvent(c, num(argv[i + 1]), !strcmp(cmd, "keydown"));
		} else if (!strcmp(cmd, "xtkey")) {
			/* The server confirms the extension after its first updates. */
			for (int t = 0; t < 50 && !SupportsClient2Server(c, rfbQemuEvent); t++)
				if (!pump(v, 100))
					return false;
			ok = SendExtendedKeyEvent(c, 0, num(argv[i + 1]), TRUE) &&
			     SendExtendedKeyEvent(c, 0, num(argv[i + 1]), FALSE);
			if (!ok)
				fprintf(stderr, "vnc-client: the server has no extended key event\n");
		} else if (!strcmp(cmd, "pointer")) {
			ok = SendPointerEvent(c, num(argv[i + 1]), num(argv[i + 2]), num(argv[i + 3]));
		} else if (!strcmp(cmd, "sleep")) {
			ok = pump(v, num(argv[i + 1]));
		} else if (!strcmp(cmd, "dump")) {
			ok = dump(c, argv[i + 1]);
		} else if (!strcmp(cmd, "rawdump")) {
			ok = rawdump(c, argv[i + 1]);
		} else if (!strcmp(cmd, "fbtext")) {
			ok = wait_text(v, argv[i + 1]);
		} else if (!strcmp(cmd, "type")) {
			ok = type_text(c, argv[i + 1]);
		} else if (!strcmp(cmd, "stats")) {
			unsigned long long b0 = v->bytes_in;
			unsigned int u0 = v->updates;

			ok = pump(v, num(argv[i + 1]) * 1000);
			printf("bytes %llu updates %u\n", v->bytes_in - b0, v->updates - u0);
		} else if (!strcmp(cmd, "password")) {
			/* handled before connecting */
		} else {
			fprintf(stderr, "vnc-client: unknown command %s\n", cmd);
			return false;
		}
		if (!ok) {
			fprintf(stderr, "vnc-client: %s failed\n", cmd);
			return false;
		}
		/* Let what the command caused arrive before the next one. */
		if (!pump(v, 20)) {
			fprintf(stderr, "vnc-client: the server closed the connection\n");
			return false;
		}
		i += args;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct viewer v = { .server_fd = -1 };
	pthread_t thread;
	int pair[2], status;

	if (argc < 2) {
		fprintf(stderr, "usage: vnc-client SOCKET COMMAND...\n");
		return 2;
	}
	alarm(120); /* a test never waits forever on a server that went silent */
	if (argc >= 4 && !strcmp(argv[2], "password"))
		v.password = argv[3];
	if (!getenv("VNC_CLIENT_VERBOSE")) {
		rfbClientLog = quiet_log;
		rfbClientErr = quiet_log;
	}
	v.server_fd = connect_server(argv[1]);
	if (v.server_fd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return 1;
	v.relay_fd = pair[1];
	pthread_create(&thread, NULL, relay, &v);

	v.client = rfbGetClient(8, 3, 4);
	rfbClientSetClientData(v.client, relay, &v);
	v.client->FinishedFrameBufferUpdate = finished_update;
	v.client->appData.enableJPEG = FALSE; /* lossless encodings only: pixels are compared */
	v.client->GetPassword = get_password;
	v.client->sock = pair[0];
	v.client->listenSpecified = TRUE; /* the socket is ours already */
	free(v.client->serverHost);
	v.client->serverHost = strdup(argv[1]);
	if (!rfbInitClient(v.client, NULL, NULL)) {
		char reason[256];

		if (v.password && password_refused(&v, reason, sizeof(reason))) {
			fprintf(stderr, "vnc-client: the server refused the password: %s\n", reason);
			return 3;
		}
		fprintf(stderr, "vnc-client: the RFB handshake failed\n");
		return 1;
	}
	status = run(&v, argc - 2, argv + 2) ? 0 : 1;
	free(v.client->frameBuffer); /* the application's, says libvncclient */
	rfbClientCleanup(v.client);
	return status;
}
