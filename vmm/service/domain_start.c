/*
 * Starting a VM: its taps, vmm's command line, the fork, and the wait for
 * vmm to say that the guest runs, which the main loop does not sit in.
 *
 * NOTES
 * - vmm gets a pipe as --ready-fd and writes one byte to it once the guest
 *   runs. The start is under way until then: the VM shows as running (its
 *   vmm is a process to supervise from the fork on, with its pidfd
 *   watched and its pid file written) but not responding, and the request
 *   that asked for the start waits for the byte, vmm's end, or
 *   START_TIMEOUT_MS (then vmm is killed). Everyone else is served
 *   meanwhile.
 * - A vmm that ends before its byte failed to start: the VM gets back its
 *   state from before, and the error is vmm's last log line.
 * - Each start checks the definition's host files again for the caller
 *   (a pool may have stopped since, or root wrote the definition); a
 *   restart that vmmd makes itself (reboot, on_crash) does so for the
 *   caller of the start it follows.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/mac.h"
#include "vmm/service/netdev.h"
#include "vmm/service/vmmd.h"

#define START_TIMEOUT_MS 60000

/* The last line vmm logged, for an error message. */
static void last_log_line(struct vmmd *d, struct domain *dom, char *buf, size_t len)
{
	char path[4096];
	void *data;
	size_t n;
	char *text, *end, *start;

	snprintf(buf, len, "no message");
	domain_run_path(d, dom, "vmm.log", path, sizeof(path));
	if (read_file(path, 1 << 20, &data, &n) < 0)
		return;
	text = data;
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	end = text + n;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	if (end > start)
		snprintf(buf, len, "%.*s", (int)(end - start), start);
	free(data);
}

/* Build vmm's command line. Strings are malloc'ed into args (freed by the caller). */
static int build_argv(struct vmmd *d, struct domain *dom, char **argv, unsigned int max)
{
	const struct domain_def *def = dom->def;
	unsigned int n = 0;
	char path[4096];

#define ADD(...)                                                         \
	do {                                                             \
		if (n + 1 >= max || asprintf(&argv[n], __VA_ARGS__) < 0) \
			return -ENOMEM;                                  \
		n++;                                                     \
	} while (0)
	ADD("%s", d->vmm_path);
	ADD("run");
	ADD("--name=%s", def->name);
	ADD("--kernel=%s", def->kernel);
	if (def->initrd)
		ADD("--initrd=%s", def->initrd);
	if (def->cmdline)
		ADD("--cmdline=%s", def->cmdline);
	ADD("--memory=%llu", (unsigned long long)((def->memory_kib + 1023) / 1024));
	ADD("--cpus=%u", def->vcpus);
	domain_run_path(d, dom, "serial.sock", path, sizeof(path));
	ADD("--serial=unix:%s", path);
	domain_run_path(d, dom, "serial.log", path, sizeof(path));
	ADD("--serial-log=%s", path);
	domain_run_path(d, dom, "control.sock", path, sizeof(path));
	ADD("--control=unix:%s", path);
	ADD("--ready-fd=3");
	if (d->vm_user)
		ADD("--user=%s", d->vm_user);
	if (def->on_reboot == ACTION_DESTROY)
		ADD("--no-reboot");
	for (unsigned int i = 0; i < def->ndisks; i++) {
		const struct domain_disk *k = &def->disks[i];

		ADD("--disk=%s,format=%s%s%s%s%s", k->file,
		    k->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw", k->readonly ? ",readonly" : "",
		    k->cache == DISK_CACHE_NONE ? ",cache=none"
		    : k->cache == DISK_CACHE_WRITEBACK ? ",cache=writeback"
						       : "",
		    k->serial ? ",serial=" : "", k->serial ? k->serial : "");
	}
	for (unsigned int i = 0; i < def->nifaces; i++) {
		char mac[MAC_STRLEN];

		mac_format(def->ifaces[i].mac, mac);
		ADD("--net=fd=%u,mac=%s%s", 4 + i, mac, def->ifaces[i].link_down ? ",link=down" : "");
	}
	if (def->rng)
		ADD("--rng");
	if (def->vnc) {
		domain_run_path(d, dom, "vnc.sock", path, sizeof(path));
		ADD("--vnc=unix:%s", path);
	}
#undef ADD
	argv[n] = NULL;
	return 0;
}

static void close_taps(int *taps)
{
	for (unsigned int i = 0; i < DOMAIN_MAX_IFACES; i++) {
		if (taps[i] >= 0)
			close(taps[i]);
		taps[i] = -1;
	}
}

/* A tap on the right bridge for each interface, in taps[]. 0, or -1 with nothing left open. */
static int open_taps(struct vmmd *d, struct domain *dom, int *taps, const char **code, char *err,
		     size_t errlen)
{
	const struct domain_def *def = dom->def;

	memset(dom->tap_names, 0, sizeof(dom->tap_names));
	for (unsigned int i = 0; i < def->nifaces; i++) {
		const struct domain_iface *f = &def->ifaces[i];
		const char *bridge = f->source;
		char name[IFNAMSIZ];

		if (f->type == IFACE_NETWORK) {
			struct network *net = network_find(d, f->source);

			*code = "no-network";
			if (!net || !net->active) {
				error_set(err, errlen, -ENOENT, "%s: network '%s' is not %s",
					  def->name, f->source, net ? "started" : "defined");
				close_taps(taps);
				return -1;
			}
			bridge = net->def->bridge;
		}
		taps[i] = netdev_tap_on_bridge(bridge, f->mac, name, err, errlen);
		if (taps[i] < 0) {
			close_taps(taps);
			return -1;
		}
		snprintf(dom->tap_names[i], sizeof(dom->tap_names[i]), "%s", name);
		log_debug("%s: interface %u is %s on %s", def->name, i, name, bridge);
	}
	return 0;
}

/* In the child: vmm gets ready_fd as fd 3 and the taps as fds 4, 5, ... */
static void child_exec(struct vmmd *d, struct domain *dom, char **argv, int ready_fd,
		       const int *taps, unsigned int ntaps)
{
	char path[4096];
	sigset_t none;
	int fd, high[1 + DOMAIN_MAX_IFACES];

	/* a session of its own: vmm outlives vmmd and its terminal */
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	domain_run_path(d, dom, "vmm.log", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	/* Move them out of the way first, so that no dup2 closes another. */
	high[0] = fcntl(ready_fd, F_DUPFD_CLOEXEC, 100);
	for (unsigned int i = 0; i < ntaps; i++)
		high[1 + i] = fcntl(taps[i], F_DUPFD_CLOEXEC, 100);
	for (unsigned int i = 0; i <= ntaps; i++) {
		if (high[i] < 0 || dup2(high[i], 3 + i) < 0) {
			fprintf(stderr, "vmmd: cannot pass fds to vmm: %s\n", strerror(errno));
			_exit(127);
		}
	}
	execv(argv[0], argv);
	fprintf(stderr, "vmmd: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}


/* End vmm (through its pidfd, so that a reused pid is never hit). */
static void kill_vmm(struct domain *dom)
{
	syscall(SYS_pidfd_send_signal, dom->pidfd.fd, SIGKILL, NULL, 0);
}

int domain_start(struct vmmd *d, struct domain *dom, uid_t uid, struct deferred *q,
		 const char **code, char *err, size_t errlen)
{
	char *argv[64] = { 0 }, path[4096];
	int pipefd[2] = { -1, -1 }, taps[DOMAIN_MAX_IFACES], pidfd, ret = -1;
	pid_t pid;

	for (unsigned int i = 0; i < DOMAIN_MAX_IFACES; i++)
		taps[i] = -1;
	if (dom->pid) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "%s is already %s", dom->def->name,
			  dom->starting ? "starting" : domain_state_name(dom->state));
		return -1;
	}
	/* a copy under way (for a clone of it, or of a volume it has) must not see it write */
	if (dom->copying) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "the disks of %s are being copied for a clone; wait "
			  "until that is done", dom->def->name);
		return -1;
	}
	for (unsigned int i = 0; i < dom->def->ndisks; i++) {
		if (job_on_file(d, dom->def->disks[i].file)) {
			*code = "invalid-state";
			error_set(err, errlen, -EBUSY, "the disk %s of %s is being copied; wait until "
				  "that is done", dom->def->disks[i].file, dom->def->name);
			return -1;
		}
	}
	if (hostfile_check_domain(d, dom->def, uid, code, err, errlen) < 0)
		return -1;
	*code = "start-failed";
	snprintf(path, sizeof(path), "%s/vms/%s", d->run_dir, dom->def->name);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		error_set(err, errlen, -errno, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	/* vmm, once it is the VM user, rotates its console log and removes its sockets here */
	if (d->vm_user && chown(path, d->vm_uid, d->vm_gid) < 0) {
		error_set(err, errlen, -errno, "cannot give %s to %s: %s", path, d->vm_user,
			  strerror(errno));
		return -1;
	}
	domain_clean_run_dir(d, dom);
	domain_run_path(d, dom, "vmm.log", path, sizeof(path));
	truncate(path, 0);
	if (open_taps(d, dom, taps, code, err, errlen) < 0)
		goto out;
	if (build_argv(d, dom, argv, sizeof(argv) / sizeof(argv[0])) < 0) {
		error_set(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		error_set(err, errlen, -errno, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		error_set(err, errlen, -errno, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(pipefd[0]);
		child_exec(d, dom, argv, pipefd[1], taps, dom->def->nifaces);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	/* The taps are vmm's now: they go away with it. */
	close_taps(taps);
	/* without supervision the VM must not run */
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	dom->pidfd.fd = pidfd;
	dom->ready.fd = pipefd[0];
	if (pidfd < 0 || fd_set_nonblock(pipefd[0], 1) < 0 || vmmd_watch(d, &dom->pidfd) < 0 ||
	    vmmd_watch(d, &dom->ready) < 0) {
		error_set(err, errlen, -errno, "%s cannot be supervised: %s", dom->def->name,
			  strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		vmmd_unwatch(d, &dom->pidfd);
		vmmd_unwatch(d, &dom->ready);
		pipefd[0] = -1;
		goto out;
	}
	pipefd[0] = -1;
	dom->prev_state = dom->state;
	snprintf(dom->prev_reason, sizeof(dom->prev_reason), "%s", dom->reason);
	dom->pid = pid;
	dom->child = true;
	dom->id = d->next_id++;
	dom->state = DOMAIN_RUNNING;
	snprintf(dom->reason, sizeof(dom->reason), "starting");
	dom->starting = true;
	dom->start_timed_out = false;
	dom->start_deadline_ms = vmmd_now_ms() + START_TIMEOUT_MS;
	dom->start_q = q;
	dom->start_uid = uid;
	dom->cpu_time_ns = 0;
	stats_ring_free(dom->history);
	dom->history = NULL;
	/* so that a vmmd that comes after this one finds it, even mid-start */
	if (domain_write_pid_file(d, dom) < 0)
		log_warn("%s: cannot write its pid file: %s", dom->def->name, strerror(errno));
	log_debug("%s: vmm started (pid %d); waiting for its guest to run", dom->def->name,
		  (int)pid);
	ret = 0;
out:
	for (unsigned int i = 0; argv[i]; i++)
		free(argv[i]);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	close_taps(taps);
	return ret;
}

/* vmm said the guest runs. */
static void start_done(struct vmmd *d, struct domain *dom)
{
	struct deferred *q = dom->start_q;

	dom->start_q = NULL;
	dom->starting = false;
	snprintf(dom->reason, sizeof(dom->reason), "booted");
	if (domain_connect_events(d, dom) < 0 &&
	    poll(&(struct pollfd){ .fd = dom->pidfd.fd, .events = POLLIN }, 1, 0) == 0) {
		/* it runs, and vmmd would not hear how it ends: it must not run */
		log_error("%s: cannot connect to its vmm's control socket; ending it", dom->def->name);
		dom->kill_reason = "failed";
		kill_vmm(dom);
		if (q)
			vmmd_answer_error(d, q, "start-failed", "%s cannot be supervised",
					  dom->def->name);
		return;
	}
	/* (a guest that powered off at once has ended already: its pidfd tells that next) */
	log_info("%s started (id %d, pid %d)", dom->def->name, dom->id, (int)dom->pid);
	if (dom->events_conn.fd >= 0)
		stats_sample(d, dom);
	if (q)
		api_domain_done(d, q, dom, NULL, NULL);
}

void domain_ready(struct vmmd *d, struct domain *dom)
{
	char c;
	ssize_t n;

	if (!dom->starting || dom->ready.fd < 0)
		return;
	n = read(dom->ready.fd, &c, 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	vmmd_unwatch(d, &dom->ready);
	/* without the byte vmm is ending: its pidfd tells the rest */
	if (n == 1)
		start_done(d, dom);
}

void domain_start_failed(struct vmmd *d, struct domain *dom, const char *how)
{
	struct deferred *q = dom->start_q;
	char why[512];

	if (dom->start_timed_out)
		snprintf(why, sizeof(why), "vmm gave no sign within the time limit");
	else if (dom->kill_reason)
		snprintf(why, sizeof(why), "it was %s before its guest ran", dom->kill_reason);
	else
		last_log_line(d, dom, why, sizeof(why));
	log_debug("%s: vmm ended before its guest ran (%s)", dom->def->name, how);
	dom->start_q = NULL;
	/* the id goes back when no other start took one since */
	if (dom->id == d->next_id - 1)
		d->next_id--;
	domain_stopped(d, dom, dom->prev_state, "%s", dom->prev_reason);
	if (q)
		vmmd_answer_error(d, q, "start-failed", "%s did not start: %s", dom->def->name, why);
	else
		log_error("%s did not start: %s", dom->def->name, why);
}

void domain_start_expire(struct vmmd *d, struct domain *dom)
{
	log_warn("%s: vmm gave no sign within %d s; ending it", dom->def->name,
		 START_TIMEOUT_MS / 1000);
	dom->start_timed_out = true;
	kill_vmm(dom);
}
