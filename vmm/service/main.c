/*
 * vmmd: the main loop.
 *
 * NOTES
 * - One thread, one epoll set: the API socket, its clients (client.c),
 *   signals, the statistics timer, and for each running VM its pidfd, its
 *   events connection, a starting vmm's ready pipe and the requests to its
 *   vmm under way (exchange.c). No handler waits for a vmm or a client:
 *   what takes time finishes on a later event or deadline.
 * - One event per epoll_wait, so that a handler may free any watch (a
 *   client, an exchange) without a later event of the same batch pointing
 *   at freed memory; epoll still hands ready fds out in turn.
 * - The loop sleeps until the nearest deadline (a vmm's answer, a start,
 *   a destroy, a client's unread reply) and expires what passed.
 * - The API socket is RUN/vmmd.sock, mode 0660, group webkvm when that
 *   group exists.
 * - SIGTERM and SIGINT end vmmd and leave the VMs running; the next vmmd
 *   adopts them. One vmmd per run folder (a lock file says so).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/log.h"
#include "common/sock.h"
#include "vmm/service/vmmd.h"

struct loop {
	struct vmmd d;
	struct watch listen;
	struct watch signals;
	struct watch timer;          /* statistics samples */
};

int vmmd_watch(struct vmmd *d, struct watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

void vmmd_unwatch(struct vmmd *d, struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	w->fd = -1;
}

static void usage(FILE *out)
{
	fputs("Usage: vmmd [options]\n"
	      "\n"
	      "Keep VM definitions, run each VM in its own vmm process and supervise it,\n"
	      "and answer the JSON API on a unix socket. Runs as root.\n"
	      "\n"
	      "  --state-dir DIR   definitions (default " LOCALSTATEDIR "/lib/webkvm)\n"
	      "  --run-dir DIR     sockets and running VMs (default " RUNSTATEDIR "/webkvm)\n"
	      "  --socket PATH     the API socket (default RUN-DIR/vmmd.sock)\n"
	      "  --group NAME      the socket's group (default webkvm, when it exists)\n"
	      "  --vmm PATH        the vmm binary (default: beside vmmd, else " BINDIR "/vmm)\n"
	      "  --vm-user NAME    the user each vmm runs as once its files are open\n"
	      "                    (default webkvm-vm when it exists; \"root\" keeps root)\n"
	      "  --sample-interval SECONDS\n"
	      "                    how often statistics are sampled for graphs (default 5)\n"
	      "  --default-network on the first start (no networks folder yet), define the\n"
	      "                    NAT network \"default\" (192.168.122.0/24 when free) and\n"
	      "                    start it with vmmd, as libvirt's packages do\n"
	      "  --kernel-dir DIR  callers other than root may boot kernels and initrds\n"
	      "                    from files under DIR (repeatable); disks, and by default\n"
	      "                    kernels too, must be volumes of started pools\n"
	      "  --pool-root DIR   callers other than root may define pools in folders\n"
	      "                    under DIR (repeatable); by default only root defines pools\n"
	      "  -v, --verbose     more messages\n"
	      "  -h, --help        show this help\n",
	      out);
}

static int mkdirs(const char *base, const char *sub)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s%s%s", base, sub ? "/" : "", sub ? sub : "") >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, sub ? 0700 : 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static char *default_vmm(void)
{
	char self[PATH_MAX], *path = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if (asprintf(&path, "%s/vmm", dirname(self)) > 0 && access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return strdup(BINDIR "/vmm");
}

static int open_api_socket(struct loop *l, const char *path, const char *group, bool group_given)
{
	struct group *g = getgrnam(group);
	mode_t old = umask(0117);
	int fd = unix_listen(path, 64);

	umask(old);
	if (fd < 0) {
		log_error("cannot listen on %s: %s", path, strerror(-fd));
		return -1;
	}
	if (g) {
		if (chown(path, 0, g->gr_gid) < 0 && geteuid() == 0)
			log_warn("cannot give %s to group %s: %s", path, group, strerror(errno));
	} else if (group_given) {
		log_error("group %s does not exist", group);
		close(fd);
		return -1;
	} else {
		log_info("no group %s: only root can use %s", group, path);
	}
	chmod(path, 0660);
	l->listen = (struct watch){ .kind = FD_LISTEN, .fd = fd };
	return 0;
}

static int setup_signals(struct loop *l)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	l->signals.kind = FD_SIGNAL;
	l->signals.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return l->signals.fd < 0 ? -errno : 0;
}

static int lock_run_dir(const char *run_dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/vmmd.lock", run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* a record lock: it stays with this process, not with the children it forks */
	if (fcntl(fd, F_SETLK, &(struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET }) < 0) {
		log_error("another vmmd is running with the run folder %s", run_dir);
		close(fd);
		return -1;
	}
	return fd;
}

/* Expire what passed its deadline; the time to the next deadline in ms, or -1. */
static int expire(struct vmmd *d)
{
	int64_t now = vmmd_now_ms(), next = clients_expire(d, now), n = domains_expire(d, now);

	if (n < next)
		next = n;
	if (next == INT64_MAX)
		return -1;
	/* a millisecond late rather than early: a wait of 0 would spin */
	return next - now + 1 > 60000 ? 60000 : (int)(next - now + 1);
}

static int run(struct loop *l)
{
	struct vmmd *d = &l->d;
	struct epoll_event ev;

	for (;;) {
		int n = epoll_wait(d->epoll_fd, &ev, 1, expire(d));
		struct signalfd_siginfo si;
		struct watch *w;
		uint64_t ticks;

		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait failed: %s", strerror(errno));
			return 1;
		}
		if (n <= 0)
			continue;
		w = ev.data.ptr;
		switch (w->kind) {
		case FD_SIGNAL:
			if (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
				log_info("ending on signal %s; the VMs keep running",
					 strsignal(si.ssi_signo));
				return 0;
			}
			break;
		case FD_LISTEN:
			clients_accept(d, w->fd);
			break;
		case FD_TIMER:
			if (read(w->fd, &ticks, sizeof(ticks)) == sizeof(ticks))
				stats_sample_all(d);
			break;
		case FD_CLIENT:
			client_event(d, w->owner, ev.events);
			break;
		case FD_PIDFD:
			domain_pidfd_ready(d, w->owner);
			break;
		case FD_JOB:
			job_done(d, w->owner);
			break;
		case FD_EVENTS:
			domain_events_ready(d, w->owner);
			break;
		case FD_EXCHANGE:
			exchange_ready(d, w->owner);
			break;
		case FD_READY:
			domain_ready(d, w->owner);
			break;
		}
		/* requests that waited behind a finished one */
		clients_resume(d);
	}
}

/* Add an absolute folder (as given) to a list of them. 0 or -errno. */
static int add_dir(const char ***list, unsigned int *n, const char *dir)
{
	const char **p;

	if (dir[0] != '/')
		return -EINVAL;
	p = realloc(*list, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	p[(*n)++] = dir;
	*list = p;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 'S' },
		{ "group", required_argument, NULL, 'g' },
		{ "vmm", required_argument, NULL, 'm' },
		{ "sample-interval", required_argument, NULL, 'i' },
		{ "vm-user", required_argument, NULL, 'u' },
		{ "default-network", no_argument, NULL, 'N' },
		{ "kernel-dir", required_argument, NULL, 'k' },
		{ "pool-root", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct loop *l = calloc(1, sizeof(*l));
	const char *socket_path = NULL, *group = "webkvm";
	char *vmm = NULL, sockbuf[PATH_MAX];
	bool group_given = false, vm_user_given = false, default_network = false, first_start;
	char netdir[PATH_MAX];
	const char *vm_user = "webkvm-vm";
	struct passwd *pw;
	long interval = 5;
	int c, r, lock_fd, status;

	log_setup("vmmd", LOG_LEVEL_INFO);
	if (!l) {
		log_error("out of memory");
		return 1;
	}
	l->d.state_dir = LOCALSTATEDIR "/lib/webkvm";
	l->d.run_dir = RUNSTATEDIR "/webkvm";
	l->d.next_id = 1;
	while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (c) {
		case 's':
			l->d.state_dir = optarg;
			break;
		case 'r':
			l->d.run_dir = optarg;
			break;
		case 'S':
			socket_path = optarg;
			break;
		case 'g':
			group = optarg;
			group_given = true;
			break;
		case 'm':
			vmm = strdup(optarg);
			break;
		case 'i': {
			char *end;

			interval = strtol(optarg, &end, 10);
			if (*end || interval < 1 || interval > 3600) {
				log_error("--sample-interval %s is not 1 to 3600 seconds", optarg);
				return 1;
			}
			break;
		}
		case 'u':
			vm_user = optarg;
			vm_user_given = true;
			break;
		case 'N':
			default_network = true;
			break;
		case 'k':
			if (add_dir(&l->d.kernel_dirs, &l->d.nkernel_dirs, optarg) < 0) {
				log_error("--kernel-dir %s is not an absolute path", optarg);
				return 1;
			}
			break;
		case 'p':
			if (add_dir(&l->d.pool_roots, &l->d.npool_roots, optarg) < 0) {
				log_error("--pool-root %s is not an absolute path", optarg);
				return 1;
			}
			break;
		case 'v':
			log_setup("vmmd", LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("unknown option; see vmmd --help");
			return 1;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument %s; see vmmd --help", argv[optind]);
		return 1;
	}
	l->d.vmm_path = vmm ? vmm : default_vmm();
	pw = strcmp(vm_user, "root") == 0 ? NULL : getpwnam(vm_user);
	if (pw && pw->pw_uid != 0) {
		l->d.vm_user = vm_user;
		l->d.vm_uid = pw->pw_uid;
		l->d.vm_gid = pw->pw_gid;
	} else if (vm_user_given && strcmp(vm_user, "root") != 0) {
		log_error("--vm-user %s: no such user", vm_user);
		return 1;
	} else if (strcmp(vm_user, "root") != 0) {
		log_info("no user %s: VMs run as root", vm_user);
	}
	if (access(l->d.vmm_path, X_OK) < 0) {
		log_error("cannot run %s: %s", l->d.vmm_path, strerror(errno));
		return 1;
	}
	snprintf(netdir, sizeof(netdir), "%s/networks", l->d.state_dir);
	first_start = access(netdir, F_OK) < 0;
	if ((r = mkdirs(l->d.state_dir, NULL)) < 0 || (r = mkdirs(l->d.state_dir, "domains")) < 0 ||
	    (r = mkdirs(l->d.state_dir, "autostart")) < 0 ||
	    (r = mkdirs(l->d.state_dir, "pools")) < 0 ||
	    (r = mkdirs(l->d.state_dir, "pool-autostart")) < 0 ||
	    (r = mkdirs(l->d.state_dir, "networks")) < 0 ||
	    (r = mkdirs(l->d.state_dir, "network-autostart")) < 0 ||
	    (r = mkdirs(l->d.run_dir, NULL)) < 0 || (r = mkdirs(l->d.run_dir, "vms")) < 0 ||
	    (r = mkdirs(l->d.run_dir, "pools")) < 0 || (r = mkdirs(l->d.run_dir, "networks")) < 0) {
		log_error("cannot create the folders under %s and %s: %s", l->d.state_dir,
			  l->d.run_dir, strerror(-r));
		return 1;
	}
	lock_fd = lock_run_dir(l->d.run_dir);
	if (lock_fd < 0)
		return 1;
	if (!socket_path) {
		snprintf(sockbuf, sizeof(sockbuf), "%s/vmmd.sock", l->d.run_dir);
		socket_path = sockbuf;
	}
	l->d.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->d.epoll_fd < 0 || setup_signals(l) < 0) {
		log_error("cannot set up the main loop: %s", strerror(errno));
		return 1;
	}
	if (vmmd_watch(&l->d, &l->signals) < 0)
		return 1;
	l->timer.kind = FD_TIMER;
	l->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->timer.fd < 0 ||
	    timerfd_settime(l->timer.fd, 0,
			    &(struct itimerspec){ .it_interval = { .tv_sec = interval },
						  .it_value = { .tv_sec = interval } },
			    NULL) < 0 ||
	    vmmd_watch(&l->d, &l->timer) < 0) {
		log_error("cannot set up the statistics timer: %s", strerror(errno));
		return 1;
	}
	r = pools_load(&l->d);
	if (r < 0) {
		log_error("cannot read the pool definitions in %s: %s", l->d.state_dir, strerror(-r));
		return 1;
	}
	r = networks_load(&l->d);
	if (r < 0) {
		log_error("cannot read the network definitions in %s: %s", l->d.state_dir,
			  strerror(-r));
		return 1;
	}
	if (default_network && first_start)
		networks_make_default(&l->d);
	r = domains_load(&l->d);
	if (r < 0) {
		log_error("cannot read the definitions in %s: %s", l->d.state_dir, strerror(-r));
		return 1;
	}
	domains_adopt(&l->d);
	if (open_api_socket(l, socket_path, group, group_given) < 0 ||
	    vmmd_watch(&l->d, &l->listen) < 0)
		return 1;
	pools_autostart(&l->d);
	networks_autostart(&l->d);
	domains_autostart(&l->d);
	log_info("ready on %s (%u VMs, %u pools defined)", socket_path, l->d.ndomains,
		 l->d.npools);
	status = run(l);
	/* the socket goes; the VMs and their run folders stay for the next vmmd */
	unlink(socket_path);
	clients_release(&l->d);
	jobs_release(&l->d);
	vmmd_unwatch(&l->d, &l->listen);
	vmmd_unwatch(&l->d, &l->signals);
	vmmd_unwatch(&l->d, &l->timer);
	stats_ring_free(l->d.host_history);
	domains_release(&l->d);
	pools_release(&l->d);
	networks_release(&l->d);
	close(l->d.epoll_fd);
	close(lock_fd);
	free((char *)l->d.vmm_path);
	free(l->d.kernel_dirs);
	free(l->d.pool_roots);
	free(l);
	return status;
}
