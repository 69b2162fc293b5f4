/*
 * webkvm-websockify: the console proxy's command line, its socket and its
 * event loop. NOTES
 * - SIGTERM and SIGINT: no new connection is taken; each open console
 *   gets a close (1001, going away), and the process ends once all are
 *   closed or after a grace time.
 * - It runs as the portal's user (it reads the portal's database), never
 *   as root.
 * - --target (the benchmark's fixed TCP target, no tickets) is refused
 *   unless the proxy listens on loopback: no client anywhere else ever
 *   reaches a fixed target without a ticket.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sock.h"
#include "fcgi/db.h"
#include "websockify/proxy.h"

#define SWEEP_MS 250
#define STOP_GRACE_MS 3000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: webkvm-websockify [OPTIONS]\n"
		"The console proxy: browsers' websockets (through nginx) to VMs' screens and\n"
		"serial ports, opened with the portal's tickets.\n\n"
		"  --listen PATH             unix socket to listen on (default %s)\n"
		"  --state-dir DIR           the portal's state folder, with its database (default %s)\n"
		"  --vmmd PATH               vmmd's socket (default %s)\n"
		"  --max-connections N       connections at once (default 10000)\n"
		"  --max-per-user N          consoles one user may have open at once (default 16)\n"
		"  --idle-timeout SECONDS    close a console with no traffic for this long (default 3600)\n"
		"  --handshake-timeout MS    for the client's whole request (default 10000)\n"
		"  --check-interval MS       how often an open console's session and right are checked\n"
		"                            again (default 1000)\n"
		"  --listen 127.0.0.1:PORT --target 127.0.0.1:PORT\n"
		"                            benchmarks only: every websocket goes to this TCP target,\n"
		"                            without tickets; only on loopback\n",
		RUNSTATEDIR "/webkvm-portal/websockify.sock", LOCALSTATEDIR "/lib/webkvm-portal",
		RUNSTATEDIR "/webkvm/vmmd.sock");
}

static int parse_int(const char *opt, const char *s, int min, int max, int *ret)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s || v < min || v > max) {
		log_error("%s takes %d to %d, not '%s'", opt, min, max, s);
		return -1;
	}
	*ret = (int)v;
	return 0;
}

/* 127.0.0.1:PORT (loopback only): a listening TCP socket, or -errno. */
static int listen_loopback(const char *spec)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(spec, ':');
	char host[32];
	int fd, one = 1, port;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return -EINVAL;
	port = atoi(colon + 1);
	if (port < 1 || port > 65535)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int add_fd(struct proxy *px, int fd, struct endpoint *ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ep };

	return epoll_ctl(px->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void begin_stop(struct proxy *px)
{
	struct conn *c, *next;

	px->stopping = true;
	px->stop_deadline = mono_ms() + STOP_GRACE_MS;
	epoll_ctl(px->epfd, EPOLL_CTL_DEL, px->listen_fd, NULL);
	for (c = px->conns; c; c = next) {
		next = c->next;
		conn_close_now(c, 1001, "the console proxy is stopping");
	}
}

static int run(struct proxy *px)
{
	struct epoll_event evs[256];
	long long next_sweep = mono_ms() + SWEEP_MS;

	for (;;) {
		long long now = mono_ms();
		int n, timeout = next_sweep > now ? (int)(next_sweep - now) : 0;

		if (px->stopping && (!px->conns || now >= px->stop_deadline))
			return 0;
		n = epoll_wait(px->epfd, evs, 256, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct endpoint *ep = evs[i].data.ptr;

			if (ep == &px->ep_listen) {
				conn_accept(px);
			} else if (ep == &px->ep_signal) {
				struct signalfd_siginfo si;

				if (read(px->signal_fd, &si, sizeof(si)) == sizeof(si) && !px->stopping) {
					log_info("signal %u: closing %d connections", si.ssi_signo, px->nconns);
					begin_stop(px);
				}
			} else {
				/* one closed earlier in this batch is on the dead list: ignored */
				conn_event(ep->c, ep->backend, evs[i].events);
			}
		}
		now = mono_ms();
		if (now >= next_sweep) {
			conn_sweep(px, now);
			next_sweep = now + SWEEP_MS;
		}
		conn_reap(px);
		/* after many connections went, their memory goes back to the system */
		if (px->freed_since_trim >= 1000 || (px->freed_since_trim && !px->conns)) {
			malloc_trim(0);
			px->freed_since_trim = 0;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "vmmd", required_argument, NULL, 'v' },
		{ "target", required_argument, NULL, 'T' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "max-per-user", required_argument, NULL, 'u' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "check-interval", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct proxy px; /* its scratch buffer is large: not on the stack */
	const char *listen_path = RUNSTATEDIR "/webkvm-portal/websockify.sock";
	int idle_s = 3600, c;
	char db_path[4096], err[512];
	sigset_t sigs;
	struct rlimit rl;

	log_setup("webkvm-websockify", LOG_LEVEL_INFO);
	px.cfg = (struct proxy_config){
		.state_dir = LOCALSTATEDIR "/lib/webkvm-portal",
		.vmmd_socket = RUNSTATEDIR "/webkvm/vmmd.sock",
		.max_connections = 10000,
		.max_per_user = 16,
		.handshake_timeout_ms = 10000,
		.check_interval_ms = 1000,
		.vmmd_timeout_ms = 3000,
	};
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'l': listen_path = optarg; break;
		case 'd': px.cfg.state_dir = optarg; break;
		case 'v': px.cfg.vmmd_socket = optarg; break;
		case 'T': px.cfg.target = optarg; break;
		case 'm': bad = parse_int("--max-connections", optarg, 1, 1000000, &px.cfg.max_connections); break;
		case 'u': bad = parse_int("--max-per-user", optarg, 1, 10000, &px.cfg.max_per_user); break;
		case 'i': bad = parse_int("--idle-timeout", optarg, 0, 7 * 86400, &idle_s); break;
		case 'H': bad = parse_int("--handshake-timeout", optarg, 100, 600000, &px.cfg.handshake_timeout_ms); break;
		case 'c': bad = parse_int("--check-interval", optarg, 100, 60000, &px.cfg.check_interval_ms); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	px.cfg.idle_timeout_ms = idle_s * 1000;
	if (geteuid() == 0) {
		log_error("webkvm-websockify does not run as root: run it as the portal's user (webkvm)");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	if (px.cfg.target) {
		px.listen_fd = listen_loopback(listen_path);
		if (px.listen_fd == -EINVAL) {
			log_error("--target is for benchmarks: it needs --listen 127.0.0.1:PORT (loopback), not '%s'",
				  listen_path);
			return 2;
		}
	} else {
		if (listen_path[0] != '/') {
			log_error("--listen takes a unix socket's path (a TCP port only with --target)");
			return 2;
		}
		if ((size_t)snprintf(db_path, sizeof(db_path), "%s/portal.db", px.cfg.state_dir) >=
		    sizeof(db_path)) {
			log_error("the state folder's name is too long");
			return 2;
		}
		umask(077);
		if (db_open(db_path, &px.db, err, sizeof(err)) < 0) {
			log_error("%s", err);
			return 1;
		}
		/* nginx's user reaches the socket through its folder's group */
		umask(0);
		px.listen_fd = unix_listen(listen_path, 1024);
		umask(077);
	}
	if (px.listen_fd < 0) {
		log_error("cannot listen on %s: %s", listen_path, strerror(-px.listen_fd));
		return 1;
	}
	/* each connection takes two descriptors: as many as the limit allows */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY &&
		    (rlim_t)px.cfg.max_connections * 2 + 32 > rl.rlim_cur) {
			int fit = rl.rlim_cur > 64 ? (int)((rl.rlim_cur - 32) / 2) : 1;

			log_warn("--max-connections %d needs %d descriptors, and the limit is %llu: %d connections at most",
				 px.cfg.max_connections, px.cfg.max_connections * 2 + 32,
				 (unsigned long long)rl.rlim_cur, fit);
			px.cfg.max_connections = fit;
		}
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	px.signal_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	px.epfd = epoll_create1(EPOLL_CLOEXEC);
	px.ep_listen = (struct endpoint){ NULL, false };
	px.ep_signal = (struct endpoint){ NULL, false };
	if (px.signal_fd < 0 || px.epfd < 0 || add_fd(&px, px.listen_fd, &px.ep_listen) < 0 ||
	    add_fd(&px, px.signal_fd, &px.ep_signal) < 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	log_info("listening on %s%s%s", listen_path, px.cfg.target ? ", every websocket to " : "",
		 px.cfg.target ? px.cfg.target : "");
	c = run(&px);
	close(px.listen_fd);
	if (!px.cfg.target)
		unlink(listen_path);
	if (px.db)
		db_close(px.db);
	log_info("stopped");
	return c;
}
