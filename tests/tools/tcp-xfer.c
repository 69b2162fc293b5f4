/*
 * tcp-xfer: TCP throughput, integrity and round trips between a host and
 * a guest, small enough to go into a test initramfs with its libraries.
 *
 *   tcp-xfer recv PORT SEED             take one connection, read to EOF,
 *                                       check the bytes against SEED's stream
 *   tcp-xfer send HOST PORT MIB SEED    send MIB MiB of SEED's stream
 *   tcp-xfer echo PORT                  take one connection, echo it
 *   tcp-xfer rr HOST PORT COUNT         COUNT one-byte round trips
 *
 * Each prints one line of KEY=VALUE words: RECV ok=1 bytes= seconds= mbps=,
 * SENT bytes= seconds= mbps=, RR count= median_us= mean_us=.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "tcp-xfer: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The byte stream of a seed: xorshift64, one byte per step. */
static uint8_t next_byte(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s >> 24;
}

static int listen_accept(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
		die("cannot listen");
	printf("LISTENING port=%d\n", port);
	fflush(stdout);
	c = accept(l, NULL, NULL);
	if (c < 0)
		die("cannot accept");
	close(l);
	return c;
}

static int connect_to(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcp-xfer: '%s' is not an IPv4 address\n", host);
		exit(1);
	}
	/* The listener may not be up yet: try for 20 s. */
	for (int i = 0; i < 200; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s < 0)
			die("socket");
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return s;
		close(s);
		usleep(100000);
	}
	die("cannot connect");
	return -1;
}

static int do_recv(int port, uint64_t seed)
{
	static uint8_t buf[CHUNK];
	int c = listen_accept(port);
	uint64_t total = 0, s = seed;
	double t0 = now(), dt;
	int ok = 1;
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && ok; i++)
			if (buf[i] != next_byte(&s)) {
				fprintf(stderr, "tcp-xfer: byte %llu differs\n",
					(unsigned long long)(total + i));
				ok = 0;
			}
		total += n;
	}
	if (n < 0)
		die("read");
	dt = now() - t0;
	close(c);
	printf("RECV ok=%d bytes=%llu seconds=%.3f mbps=%.1f\n", ok, (unsigned long long)total, dt,
	       total * 8 / dt / 1e6);
	return ok ? 0 : 1;
}

static int do_send(const char *host, int port, uint64_t mib, uint64_t seed)
{
	static uint8_t buf[CHUNK];
	int c = connect_to(host, port);
	uint64_t total = mib << 20, sent = 0, s = seed;
	double t0 = now(), dt;

	while (sent < total) {
		size_t len = total - sent < CHUNK ? total - sent : CHUNK, off = 0;

		for (size_t i = 0; i < len; i++)
			buf[i] = next_byte(&s);
		while (off < len) {
			ssize_t n = write(c, buf + off, len - off);

			if (n < 0)
				die("write");
			off += n;
		}
		sent += len;
	}
	shutdown(c, SHUT_WR);
	while (read(c, buf, sizeof(buf)) > 0) {
		/* wait until the receiver has read everything and closed */
	}
	dt = now() - t0;
	close(c);
	printf("SENT bytes=%llu seconds=%.3f mbps=%.1f\n", (unsigned long long)sent, dt,
	       sent * 8 / dt / 1e6);
	return 0;
}

static int do_echo(int port)
{
	int c = listen_accept(port), one = 1;
	char b[4096];
	ssize_t n;

	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while ((n = read(c, b, sizeof(b))) > 0)
		if (write(c, b, n) != n)
			die("write");
	close(c);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int do_rr(const char *host, int port, int count)
{
	int c = connect_to(host, port), one = 1;
	double *t = calloc(count, sizeof(*t)), sum = 0;
	char b = 'x';

	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int i = 0; i < count; i++) {
		double t0 = now();

		if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1)
			die("round trip");
		t[i] = (now() - t0) * 1e6;
		sum += t[i];
	}
	close(c);
	qsort(t, count, sizeof(*t), cmp_double);
	printf("RR count=%d median_us=%.1f mean_us=%.1f\n", count, t[count / 2], sum / count);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), strtoull(argv[3], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0),
			       strtoull(argv[5], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "echo"))
		return do_echo(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "rr") && atoi(argv[4]) > 0)
		return do_rr(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: tcp-xfer recv PORT SEED | send HOST PORT MIB SEED | echo PORT | "
			"rr HOST PORT COUNT\n");
	return 2;
}
