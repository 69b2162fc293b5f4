/*
 * vmmd: the main loop.
 *
 * NOTES
 * - One thread, one epoll set: the API socket, its clients, signals, and
 *   for each running VM its pidfd and its control connection.
 * - The API socket is RUN/vmmd.sock, mode 0660, group webkvm when that
 *   group exists. Each client's uid (SO_PEERCRED) goes into the log of
 *   what it changes.
 * - A request line may be DOMAIN_XML_MAX * 4 bytes (a definition escaped
 *   in JSON); a longer one gets an error and the connection is closed. A
 *   malformed request gets an error and the connection stays.
 * - Replies are written with a send timeout, so a client that does not
 *   read holds the service for at most that long and is then dropped.
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

#define API_MAX_LINE (4 * DOMAIN_XML_MAX)
#define MAX_CLIENTS 256
#define SEND_TIMEOUT_S 5

struct client {
	struct client *next;
	struct watch w;
	struct line_buf in;
	uid_t uid;
	int passed_fd;               /* sent with the request being read, or -1 */
};

struct loop {
	struct vmmd d;
	struct watch listen;
	struct watch signals;
	struct watch timer;          /* statistics samples */
	struct client *clients;
	unsigned int nclients;
	struct job *jobs;            /* requests that children finish */
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

static void new_client(struct loop *l)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	struct client *c;
	int fd = accept4(l->listen.fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (l->nclients >= MAX_CLIENTS) {
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
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->uid = cred.uid;
	c->passed_fd = -1;
	c->w = (struct watch){ .kind = FD_CLIENT, .fd = fd, .owner = c };
	line_buf_init(&c->in, API_MAX_LINE);
	if (vmmd_watch(&l->d, &c->w) < 0) {
		close(fd);
		line_buf_free(&c->in);
		free(c);
		return;
	}
	c->next = l->clients;
	l->clients = c;
	l->nclients++;
	log_debug("client uid %u connected", (unsigned int)c->uid);
}

static void drop_client(struct loop *l, struct client *c)
{
	for (struct client **p = &l->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	/* its jobs go on; their replies have nowhere to go */
	for (struct job *j = l->jobs; j; j = j->next)
		if (j->client == c)
			j->client = NULL;
	vmmd_unwatch(&l->d, &c->w);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	line_buf_free(&c->in);
	free(c);
	l->nclients--;
}

/* false when the client must go */
static bool serve_line(struct loop *l, struct client *c, const char *line)
{
	json_object *req, *params, *id, *reply;
	const char *method;
	bool is_error = false;
	int r;

	if (jsonrpc_parse_request(line, &req, &method, &params, &id, &reply) == 0) {
		struct job *job = NULL;
		json_object *res = api_call(&l->d, method, params, c->uid, &c->passed_fd, &job,
					    &is_error);

		if (job) {
			/* the reply comes when the job ends */
			job->client = c;
			job->id = id ? json_object_get(id) : NULL;
			job->next = l->jobs;
			l->jobs = job;
			json_object_put(req);
			if (c->passed_fd >= 0)
				close(c->passed_fd);
			c->passed_fd = -1;
			return vmmd_watch(&l->d, &job->pidfd) == 0;
		}
		reply = jsonrpc_reply(id, res, is_error);
		json_object_put(req);
	}
	if (c->passed_fd >= 0) {
		close(c->passed_fd); /* sent with a request that did not want it */
		c->passed_fd = -1;
	}
	r = jsonrpc_send(c->w.fd, reply);
	json_object_put(reply);
	return r == 0;
}

static void job_done(struct loop *l, struct job *job)
{
	siginfo_t si;
	json_object *reply;
	bool is_error = false;
	int status;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, job->pidfd.fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	status = si.si_code == CLD_EXITED ? si.si_status : 255;
	reply = jsonrpc_reply(job->id, job->finish(&l->d, job, status, &is_error), is_error);
	log_info("job for %s ended: %s", job->path, is_error ? "failed" : "done");
	if (job->client)
		jsonrpc_send(((struct client *)job->client)->w.fd, reply);
	json_object_put(reply);
	for (struct job **p = &l->jobs; *p; p = &(*p)->next) {
		if (*p == job) {
			*p = job->next;
			break;
		}
	}
	vmmd_unwatch(&l->d, &job->pidfd);
	json_object_put(job->id);
	free(job);
}

static void serve_client(struct loop *l, struct client *c)
{
	ssize_t n = line_buf_fill_fd(&c->in, c->w.fd, &c->passed_fd);
	char *line;

	if (n == -EAGAIN)
		return;
	if (n == -EMSGSIZE) {
		json_object *e = jsonrpc_error(NULL, JSONRPC_TOO_LARGE,
					       "a request is longer than %d bytes", API_MAX_LINE);

		jsonrpc_send(c->w.fd, e);
		json_object_put(e);
	}
	if (n <= 0) {
		drop_client(l, c);
		return;
	}
	while ((line = line_buf_next(&c->in))) {
		if (!serve_line(l, c, line)) {
			drop_client(l, c);
			return;
		}
	}
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

static int run(struct loop *l)
{
	struct epoll_event evs[32];

	for (;;) {
		int n = epoll_wait(l->d.epoll_fd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait failed: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			struct signalfd_siginfo si;

			/*
			 * Watches live in their domains; one handled earlier in this
			 * batch may have closed this fd. Clients are freed only by
			 * their own event.
			 */
			if (w->fd < 0)
				continue;
			switch (w->kind) {
			case FD_SIGNAL:
				if (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
					log_info("ending on signal %s; the VMs keep running",
						 strsignal(si.ssi_signo));
					return 0;
				}
				break;
			case FD_LISTEN:
				new_client(l);
				break;
			case FD_TIMER: {
				uint64_t ticks;

				if (read(w->fd, &ticks, sizeof(ticks)) == sizeof(ticks))
					stats_sample_all(&l->d);
				break;
			}
			case FD_CLIENT:
				serve_client(l, w->owner);
				break;
			case FD_PIDFD:
				domain_pidfd_ready(&l->d, w->owner);
				break;
			case FD_JOB:
				job_done(l, w->owner);
				break;
			case FD_EVENTS:
				domain_events_ready(&l->d, w->owner);
				break;
			}
		}
	}
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
	while (l->clients)
		drop_client(l, l->clients);
	while (l->jobs) {
		struct job *j = l->jobs;

		l->jobs = j->next;
		vmmd_unwatch(&l->d, &j->pidfd);
		json_object_put(j->id);
		free(j);
	}
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
	free(l);
	return status;
}
