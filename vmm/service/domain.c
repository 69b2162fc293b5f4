/*
 * Domains: their definitions on disk, and the vmm process of each one that
 * runs.
 *
 * NOTES
 * - Definitions live in STATE/domains/NAME.xml (written atomically),
 *   autostart marks in STATE/autostart/NAME.
 * - A running VM has a folder RUN/vms/NAME with its control, serial and
 *   VNC sockets, vmm's log, the console's bounded log (serial.log, kept
 *   after the VM ends) and a file "pid" holding "PID ID". vmm runs in
 *   a session of its own, so it outlives vmmd; a new vmmd finds it by that
 *   file, checks it on the control socket (the name and pid must match)
 *   and adopts it.
 * - Each running VM has two fds in the main loop: a pidfd, readable when
 *   the process ends, and a control connection on which vmm announces why
 *   it ends (vm.event). Together they give the state: an announced end is
 *   "shut off", an unannounced one "crashed". The exit status is known
 *   only for vmm processes this vmmd started.
 * - vmm runs as the VM user (--vm-user, "webkvm-vm" when it exists) once
 *   it has opened what the VM needs; the run folder is that user's.
 * - Start waits (bounded) for vmm to say the guest runs, through a pipe
 *   (--ready-fd); an early exit gives vmm's last log line as the error.
 */
#include "vmm/service/vmmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/mac.h"
#include "common/sock.h"
#include "vmm/service/netdev.h"

#define START_TIMEOUT_MS 60000
#define CONTROL_TIMEOUT_MS 10000
#define EVENT_LINE_MAX 4096

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

const char *domain_state_name(enum domain_state s)
{
	switch (s) {
	case DOMAIN_RUNNING:
		return "running";
	case DOMAIN_PAUSED:
		return "paused";
	case DOMAIN_CRASHED:
		return "crashed";
	case DOMAIN_SHUTOFF:
		break;
	}
	return "shut off";
}

static void run_path(const struct vmmd *d, const struct domain *dom, const char *file, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/vms/%s/%s", d->run_dir, dom->def->name, file);
}

struct domain *domain_find(struct vmmd *d, const char *name)
{
	for (unsigned int i = 0; i < d->ndomains; i++)
		if (strcmp(d->domains[i]->def->name, name) == 0)
			return d->domains[i];
	return NULL;
}

static struct domain *domain_find_uuid(struct vmmd *d, const char *uuid)
{
	for (unsigned int i = 0; i < d->ndomains; i++)
		if (strcmp(d->domains[i]->def->uuid, uuid) == 0)
			return d->domains[i];
	return NULL;
}

static struct domain *domain_new(struct domain_def *def)
{
	struct domain *dom = calloc(1, sizeof(*dom));

	if (!dom)
		return NULL;
	dom->def = def;
	dom->id = -1;
	dom->pidfd = (struct watch){ .kind = FD_PIDFD, .fd = -1, .owner = dom };
	dom->events_conn = (struct watch){ .kind = FD_EVENTS, .fd = -1, .owner = dom };
	snprintf(dom->reason, sizeof(dom->reason), "unknown");
	return dom;
}

static int domain_add(struct vmmd *d, struct domain *dom)
{
	struct domain **p = realloc(d->domains, (d->ndomains + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	d->domains = p;
	d->domains[d->ndomains++] = dom;
	return 0;
}

static int load_one(struct vmmd *d, const char *name, const char *xml, size_t len, char *err,
		    size_t errlen)
{
	struct domain_def *def;
	struct domain *dom;

	if (domain_def_parse(&def, xml, len, err, errlen) < 0)
		return -EINVAL;
	if (strcmp(def->name, name) != 0 || domain_find(d, def->name) ||
	    domain_find_uuid(d, def->uuid)) {
		domain_def_free(def);
		return error_set(err, errlen, -EINVAL, "the name or uuid inside does not fit");
	}
	dom = domain_new(def);
	if (!dom || domain_add(d, dom) < 0) {
		free(dom);
		domain_def_free(def);
		return error_set(err, errlen, -ENOMEM, "out of memory");
	}
	dom->autostart = store_marked(d, "autostart", def->name);
	return 0;
}

int domains_load(struct vmmd *d)
{
	return store_load(d, "domains", DOMAIN_XML_MAX, load_one);
}

int domain_define(struct vmmd *d, const char *xml, size_t len, struct domain **ret,
		  const char **code, char *err, size_t errlen)
{
	struct domain_def *def;
	struct domain *dom, *same_uuid;
	char *text;
	int r;

	*code = "invalid-xml";
	if (domain_def_parse(&def, xml, len, err, errlen) < 0)
		return -1;
	dom = domain_find(d, def->name);
	same_uuid = domain_find_uuid(d, def->uuid);
	*code = "domain-exists";
	if (dom && strcmp(dom->def->uuid, def->uuid) != 0 && def->uuid_given) {
		error_set(err, errlen, -EEXIST, "a VM named %s exists with another uuid (%s)",
			  def->name, dom->def->uuid);
		goto fail;
	}
	if (same_uuid && same_uuid != dom) {
		error_set(err, errlen, -EEXIST, "uuid %s belongs to the VM %s", def->uuid,
			  same_uuid->def->name);
		goto fail;
	}
	if (dom && strcmp(dom->def->uuid, def->uuid) != 0) {
		/* a redefinition without a uuid keeps the VM's */
		if (domain_def_set_uuid(def, dom->def->uuid) < 0) {
			*code = "internal-error";
			error_set(err, errlen, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	text = domain_def_format(def);
	if (!text) {
		*code = "internal-error";
		error_set(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	r = store_save(d, "domains", def->name, text, err, errlen);
	free(text);
	if (r < 0) {
		*code = "io-error";
		goto fail;
	}
	if (dom) {
		/* a running VM keeps what it started with until it starts again */
		domain_def_free(dom->def);
		dom->def = def;
	} else {
		dom = domain_new(def);
		if (!dom || domain_add(d, dom) < 0) {
			free(dom);
			store_remove(d, "domains", def->name, err, errlen);
			*code = "internal-error";
			error_set(err, errlen, -ENOMEM, "out of memory");
			goto fail;
		}
		snprintf(dom->reason, sizeof(dom->reason), "unknown");
	}
	*ret = dom;
	return 0;
fail:
	domain_def_free(def);
	return -1;
}

int domain_undefine(struct vmmd *d, struct domain *dom, const char **code, char *err,
		    size_t errlen)
{
	if (dom->pid) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "%s is %s; destroy it first", dom->def->name,
			  domain_state_name(dom->state));
		return -1;
	}
	if (store_remove(d, "domains", dom->def->name, err, errlen) < 0) {
		*code = "io-error";
		return -1;
	}
	store_mark(d, "autostart", dom->def->name, false, err, errlen);
	for (unsigned int i = 0; i < d->ndomains; i++) {
		if (d->domains[i] == dom) {
			d->domains[i] = d->domains[--d->ndomains];
			break;
		}
	}
	domain_def_free(dom->def);
	line_buf_free(&dom->events);
	stats_ring_free(dom->history);
	free(dom);
	return 0;
}

int domain_set_autostart(struct vmmd *d, struct domain *dom, bool on, char *err, size_t errlen)
{
	int r = store_mark(d, "autostart", dom->def->name, on, err, errlen);

	if (r == 0)
		dom->autostart = on;
	return r;
}

/* Remove the run folder's files. */
static void clean_run_dir(struct vmmd *d, struct domain *dom)
{
	static const char *const files[] = { "control.sock", "serial.sock", "vnc.sock", "pid" };
	char path[4096];

	for (unsigned int i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		run_path(d, dom, files[i], path, sizeof(path));
		unlink(path);
	}
}

/* The process is gone (or never ran): forget it. */
static void domain_stopped(struct vmmd *d, struct domain *dom, enum domain_state state,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void domain_stopped(struct vmmd *d, struct domain *dom, enum domain_state state,
			   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dom->reason, sizeof(dom->reason), fmt, ap);
	va_end(ap);
	dom->state = state;
	if (dom->pidfd.fd >= 0)
		vmmd_unwatch(d, &dom->pidfd);
	if (dom->events_conn.fd >= 0)
		vmmd_unwatch(d, &dom->events_conn);
	line_buf_free(&dom->events);
	clean_run_dir(d, dom);
	dom->pid = 0;
	dom->id = -1;
	dom->child = false;
	dom->destroying = false;
	dom->exit_reason[0] = '\0';
}

/* Connect the event listener; the process's fds are set by the caller. */
static int connect_events(struct vmmd *d, struct domain *dom)
{
	char path[4096];
	int fd;

	run_path(d, dom, "control.sock", path, sizeof(path));
	fd = unix_connect(path);
	if (fd < 0)
		return fd;
	fd_set_nonblock(fd, 1);
	line_buf_init(&dom->events, EVENT_LINE_MAX);
	dom->events_conn.fd = fd;
	return vmmd_watch(d, &dom->events_conn);
}

static int write_pid_file(struct vmmd *d, struct domain *dom)
{
	char path[4096], text[64];

	run_path(d, dom, "pid", path, sizeof(path));
	snprintf(text, sizeof(text), "%d %d\n", (int)dom->pid, dom->id);
	return write_file_atomic(path, text, strlen(text), 0600);
}

/* The last line vmm logged, for an error message. */
static void last_log_line(struct vmmd *d, struct domain *dom, char *buf, size_t len)
{
	char path[4096];
	void *data;
	size_t n;
	char *text, *end, *start;

	snprintf(buf, len, "no message");
	run_path(d, dom, "vmm.log", path, sizeof(path));
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
	run_path(d, dom, "serial.sock", path, sizeof(path));
	ADD("--serial=unix:%s", path);
	run_path(d, dom, "serial.log", path, sizeof(path));
	ADD("--serial-log=%s", path);
	run_path(d, dom, "control.sock", path, sizeof(path));
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
		ADD("--net=fd=%u,mac=%s", 4 + i, mac);
	}
	if (def->rng)
		ADD("--rng");
	if (def->vnc) {
		run_path(d, dom, "vnc.sock", path, sizeof(path));
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
	run_path(d, dom, "vmm.log", path, sizeof(path));
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

/* Wait for vmm's ready byte. 1 ready, 0 it ended first, -errno. */
static int wait_ready(int ready_fd, int pidfd)
{
	struct pollfd fds[1] = { { .fd = ready_fd, .events = POLLIN } };
	char c;
	int r;

	(void)pidfd;
	do
		r = poll(fds, 1, START_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	r = read(ready_fd, &c, 1);
	return r == 1 ? 1 : 0;
}

int domain_start(struct vmmd *d, struct domain *dom, const char **code, char *err,
		 size_t errlen)
{
	char *argv[64] = { 0 }, path[4096], last[512];
	int pipefd[2] = { -1, -1 }, taps[DOMAIN_MAX_IFACES], r, ret = -1;
	siginfo_t si;
	pid_t pid;

	for (unsigned int i = 0; i < DOMAIN_MAX_IFACES; i++)
		taps[i] = -1;
	if (dom->pid) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "%s is already %s", dom->def->name,
			  domain_state_name(dom->state));
		return -1;
	}
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
	clean_run_dir(d, dom);
	run_path(d, dom, "vmm.log", path, sizeof(path));
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
	dom->pid = pid;
	dom->child = true;
	dom->pidfd.fd = pidfd_open_(pid);
	r = wait_ready(pipefd[0], dom->pidfd.fd);
	if (r <= 0) {
		if (r < 0)
			kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (dom->pidfd.fd >= 0)
			close(dom->pidfd.fd);
		dom->pidfd.fd = -1;
		dom->pid = 0;
		dom->child = false;
		last_log_line(d, dom, last, sizeof(last));
		clean_run_dir(d, dom);
		error_set(err, errlen, -EIO, "%s did not start: %s", dom->def->name,
			  r < 0 ? "vmm gave no sign within the time limit" : last);
		goto out;
	}
	dom->id = d->next_id++;
	dom->state = DOMAIN_RUNNING;
	stats_ring_free(dom->history);
	dom->history = NULL;
	snprintf(dom->reason, sizeof(dom->reason), "booted");
	if (dom->pidfd.fd < 0 || vmmd_watch(d, &dom->pidfd) < 0 || connect_events(d, dom) < 0 ||
	    write_pid_file(d, dom) < 0) {
		/* without supervision the VM must not run */
		log_error("%s: cannot supervise the vmm process (%s); ending it", dom->def->name,
			  strerror(errno));
		kill(pid, SIGKILL);
		if (dom->pidfd.fd < 0) {
			waitpid(pid, NULL, 0);
		} else {
			waitid(P_PIDFD, dom->pidfd.fd, &si, WEXITED);
		}
		domain_stopped(d, dom, DOMAIN_SHUTOFF, "failed");
		error_set(err, errlen, -EIO, "%s cannot be supervised", dom->def->name);
		goto out;
	}
	log_info("%s started (id %d, pid %d)", dom->def->name, dom->id, (int)pid);
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

int domain_control(struct vmmd *d, struct domain *dom, const char *method,
		   json_object **ret_result, const char **code, char *err, size_t errlen)
{
	char path[4096], vcode[64];
	int fd, r;

	*ret_result = NULL;
	if (!dom->pid) {
		*code = "invalid-state";
		error_set(err, errlen, -EINVAL, "%s is not running", dom->def->name);
		return -1;
	}
	/* the events connection is not used: its replies would mix with events */
	run_path(d, dom, "control.sock", path, sizeof(path));
	fd = unix_connect(path);
	if (fd < 0) {
		*code = "vmm-unreachable";
		error_set(err, errlen, fd, "cannot reach %s's vmm: %s", dom->def->name,
			  strerror(-fd));
		return -1;
	}
	r = jsonrpc_call(fd, method, NULL, CONTROL_TIMEOUT_MS, ret_result, vcode, sizeof(vcode),
			 err, errlen);
	close(fd);
	if (r != 0) {
		*code = "vmm-unreachable";
		return -1;
	}
	return 0;
}

int domain_destroy(struct vmmd *d, struct domain *dom, const char **code, char *err,
		   size_t errlen)
{
	siginfo_t si;

	if (!dom->pid) {
		*code = "invalid-state";
		error_set(err, errlen, -EINVAL, "%s is not running", dom->def->name);
		return -1;
	}
	dom->destroying = true;
	dom->rebooting = false;
	if (syscall(SYS_pidfd_send_signal, dom->pidfd.fd, SIGKILL, NULL, 0) < 0 &&
	    errno != ESRCH) {
		*code = "internal-error";
		error_set(err, errlen, -errno, "cannot end %s: %s", dom->def->name, strerror(errno));
		return -1;
	}
	/* wait for it, so that destroy returns with the VM gone */
	if (dom->child) {
		waitid(P_PIDFD, dom->pidfd.fd, &si, WEXITED);
	} else {
		struct pollfd p = { .fd = dom->pidfd.fd, .events = POLLIN };

		poll(&p, 1, CONTROL_TIMEOUT_MS);
	}
	log_info("%s destroyed", dom->def->name);
	domain_stopped(d, dom, DOMAIN_SHUTOFF, "destroyed");
	return 0;
}

/* Read what vmm announced; remember why it ends. */
void domain_events_ready(struct vmmd *d, struct domain *dom)
{
	ssize_t n;
	char *line;

	(void)d;
	for (;;) {
		n = line_buf_fill(&dom->events, dom->events_conn.fd);
		while ((line = line_buf_next(&dom->events))) {
			json_object *o = json_tokener_parse(line), *params;
			const char *method, *reason;

			if (o && json_get_string(o, "method", &method) &&
			    strcmp(method, "vm.event") == 0 &&
			    json_object_object_get_ex(o, "params", &params) &&
			    json_get_string(params, "reason", &reason))
				snprintf(dom->exit_reason, sizeof(dom->exit_reason), "%s", reason);
			json_object_put(o);
		}
		if (n <= 0)
			break;
	}
	if (n != -EAGAIN)
		vmmd_unwatch(d, &dom->events_conn); /* closed: the pidfd tells the rest */
}

void domain_pidfd_ready(struct vmmd *d, struct domain *dom)
{
	char how[96] = "";
	bool announced, rebooting = dom->rebooting;
	siginfo_t si;
	const char *code;
	char err[512];

	if (dom->events_conn.fd >= 0)
		domain_events_ready(d, dom);
	if (dom->child) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, dom->pidfd.fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
			return;
		if (si.si_code == CLD_EXITED)
			snprintf(how, sizeof(how), "vmm exited with status %d", si.si_status);
		else
			snprintf(how, sizeof(how), "vmm was killed by signal %d (%s)", si.si_status,
				 strsignal(si.si_status));
	} else {
		snprintf(how, sizeof(how), "the vmm process ended");
	}
	announced = dom->exit_reason[0] && strcmp(dom->exit_reason, "error") != 0;
	/*
	 * vmm ends with status 0 only when its guest powered off (or rebooted
	 * under --no-reboot). A guest that does so at once can end before vmm
	 * took vmmd's connection, and its event then reached no one.
	 */
	if (dom->child && si.si_code == CLD_EXITED && si.si_status == 0)
		announced = true;
	dom->rebooting = false;
	if (dom->destroying) {
		domain_stopped(d, dom, DOMAIN_SHUTOFF, "destroyed");
	} else if (announced) {
		log_info("%s shut down (%s)", dom->def->name, dom->exit_reason);
		domain_stopped(d, dom, DOMAIN_SHUTOFF, "shutdown");
		if (rebooting && domain_start(d, dom, &code, err, sizeof(err)) < 0)
			log_error("%s: reboot failed: %s", dom->def->name, err);
	} else {
		log_warn("%s crashed: %s", dom->def->name, how);
		domain_stopped(d, dom, DOMAIN_CRASHED, "%s", how);
		if (dom->def->on_crash == ACTION_RESTART &&
		    domain_start(d, dom, &code, err, sizeof(err)) < 0)
			log_error("%s: restart after the crash failed: %s", dom->def->name, err);
	}
}

/* Is the process in RUN/vms/NAME ours and alive? Then supervise it again. */
static void adopt(struct vmmd *d, struct domain *dom)
{
	char path[4096], code[64], err[256];
	json_object *status = NULL;
	const char *name, *state;
	int64_t vpid;
	void *buf;
	size_t len;
	int pid, id, fd = -1;

	run_path(d, dom, "pid", path, sizeof(path));
	if (read_file(path, 64, &buf, &len) < 0)
		return;
	if (sscanf(buf, "%d %d", &pid, &id) != 2 || pid <= 1) {
		free(buf);
		clean_run_dir(d, dom);
		return;
	}
	free(buf);
	dom->pidfd.fd = pidfd_open_(pid);
	run_path(d, dom, "control.sock", path, sizeof(path));
	if (dom->pidfd.fd >= 0)
		fd = unix_connect(path);
	if (fd < 0 || jsonrpc_call(fd, "vm.status", NULL, CONTROL_TIMEOUT_MS, &status, code,
				   sizeof(code), err, sizeof(err)) != 0 ||
	    !json_get_string(status, "name", &name) || strcmp(name, dom->def->name) != 0 ||
	    !json_get_int64(status, "pid", &vpid) || vpid != pid ||
	    !json_get_string(status, "state", &state)) {
		log_warn("%s: no running vmm answers for pid %d; its run folder is cleared",
			 dom->def->name, pid);
		if (fd >= 0)
			close(fd);
		if (dom->pidfd.fd >= 0)
			close(dom->pidfd.fd);
		dom->pidfd.fd = -1;
		json_object_put(status);
		clean_run_dir(d, dom);
		return;
	}
	close(fd);
	dom->pid = pid;
	dom->id = id;
	dom->child = false;
	dom->state = strcmp(state, "paused") == 0 ? DOMAIN_PAUSED : DOMAIN_RUNNING;
	snprintf(dom->reason, sizeof(dom->reason), "adopted");
	json_object_put(status);
	if (id >= d->next_id)
		d->next_id = id + 1;
	if (vmmd_watch(d, &dom->pidfd) < 0 || connect_events(d, dom) < 0) {
		log_error("%s: cannot supervise pid %d again", dom->def->name, pid);
		return;
	}
	log_info("%s adopted (id %d, pid %d, %s)", dom->def->name, id, pid,
		 domain_state_name(dom->state));
}

void domains_adopt(struct vmmd *d)
{
	for (unsigned int i = 0; i < d->ndomains; i++)
		adopt(d, d->domains[i]);
}

void domains_autostart(struct vmmd *d)
{
	const char *code;
	char err[512];

	for (unsigned int i = 0; i < d->ndomains; i++) {
		struct domain *dom = d->domains[i];

		if (dom->autostart && !dom->pid && domain_start(d, dom, &code, err, sizeof(err)) < 0)
			log_error("autostart: %s", err);
	}
}

void domains_release(struct vmmd *d)
{
	for (unsigned int i = 0; i < d->ndomains; i++) {
		struct domain *dom = d->domains[i];

		vmmd_unwatch(d, &dom->pidfd);
		vmmd_unwatch(d, &dom->events_conn);
		line_buf_free(&dom->events);
		domain_def_free(dom->def);
		stats_ring_free(dom->history);
		free(dom);
	}
	free(d->domains);
	d->domains = NULL;
	d->ndomains = 0;
}
