/*
 * Domains: their definitions on disk, and the vmm process of each one that
 * runs.
 *
 * NOTES
 * - Definitions live in STATE/domains/NAME.xml (written atomically),
 *   autostart marks in STATE/autostart/NAME.
 * - A running VM has a folder RUN/vms/NAME with its control, serial and
 *   VNC sockets, vmm's log, the console's bounded log (serial.log, kept
 *   after the VM ends) and a file "pid" holding "PID ID STATE UID" (UID:
 *   who started it, as whom a restart checks its files). vmm runs
 *   in a session of its own, so it outlives vmmd; a new vmmd finds it by
 *   that file and adopts it when the listener on its control socket is
 *   that very process (SO_PEERCRED), which a stopped vmm shows as well as
 *   a running one; vm.status then refreshes its state, answered later.
 * - Each running VM has two fds in the main loop: a pidfd, readable when
 *   the process ends, and a control connection on which vmm announces why
 *   it ends (vm.event). Together they give the state: an announced end is
 *   "shut off", an unannounced one "crashed". The exit status is known
 *   only for vmm processes this vmmd started.
 * - vmmd never waits for a vmm: requests to it are exchanges (exchange.c),
 *   a start goes on in the loop (domain_start.c), and a destroy sends
 *   SIGKILL and answers once the pidfd says the process is gone.
 * - vmm runs as the VM user (--vm-user, "webkvm-vm" when it exists) once
 *   it has opened what the VM needs; the run folder is that user's.
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
#include <sys/socket.h>
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

#define END_TIMEOUT_MS 10000      /* a destroy's wait for the process to end */
#define RESPONDING_GRACE_MS 1000  /* a request to vmm may wait this long unremarked */
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

void domain_run_path(const struct vmmd *d, const struct domain *dom, const char *file, char *buf,
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
	dom->ready = (struct watch){ .kind = FD_READY, .fd = -1, .owner = dom };
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

int domain_define(struct vmmd *d, const char *xml, size_t len, uid_t uid, struct domain **ret,
		  const char **code, char *err, size_t errlen)
{
	struct domain_def *def;
	struct domain *dom, *same_uuid;
	char *text;
	int r;

	*code = "invalid-xml";
	if (domain_def_parse(&def, xml, len, err, errlen) < 0)
		return -1;
	if (hostfile_check_domain(d, def, uid, code, err, errlen) < 0)
		goto fail;
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
void domain_clean_run_dir(struct vmmd *d, struct domain *dom)
{
	static const char *const files[] = { "control.sock", "serial.sock", "vnc.sock", "pid" };
	char path[4096];

	for (unsigned int i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		domain_run_path(d, dom, files[i], path, sizeof(path));
		unlink(path);
	}
}

void domain_stopped(struct vmmd *d, struct domain *dom, enum domain_state state,
		    const char *fmt, ...)
{
	struct deferred *q;
	va_list ap;

	/* what vmm answered before it ended still counts, in the state it had */
	exchanges_end(d, dom);
	va_start(ap, fmt);
	vsnprintf(dom->reason, sizeof(dom->reason), fmt, ap);
	va_end(ap);
	dom->state = state;
	vmmd_unwatch(d, &dom->pidfd);
	vmmd_unwatch(d, &dom->events_conn);
	vmmd_unwatch(d, &dom->ready);
	line_buf_free(&dom->events);
	domain_clean_run_dir(d, dom);
	dom->pid = 0;
	dom->id = -1;
	dom->child = false;
	dom->kill_reason = NULL;
	dom->exit_reason[0] = '\0';
	dom->starting = false;
	dom->start_timed_out = false;
	dom->unanswered = false;
	dom->end_deadline_ms = 0;
	if ((q = dom->start_q)) {
		dom->start_q = NULL;
		vmmd_answer_error(d, q, "start-failed", "%s ended before its guest ran",
				  dom->def->name);
	}
	while ((q = dom->end_qs)) {
		dom->end_qs = q->next;
		api_domain_done(d, q, dom, NULL, NULL);
	}
}

int domain_connect_events(struct vmmd *d, struct domain *dom)
{
	int fd = vmm_connect(d, dom);

	if (fd < 0)
		return fd;
	line_buf_init(&dom->events, EVENT_LINE_MAX);
	dom->events_conn.fd = fd;
	return vmmd_watch(d, &dom->events_conn);
}

int domain_write_pid_file(struct vmmd *d, struct domain *dom)
{
	char path[4096], text[64];

	domain_run_path(d, dom, "pid", path, sizeof(path));
	snprintf(text, sizeof(text), "%d %d %s %u\n", (int)dom->pid, dom->id,
		 dom->state == DOMAIN_PAUSED ? "paused" : "running", (unsigned int)dom->start_uid);
	return write_file_atomic(path, text, strlen(text), 0600);
}

void domain_set_paused(struct vmmd *d, struct domain *dom, bool paused, const char *reason)
{
	if (!dom->pid || dom->starting)
		return;
	dom->state = paused ? DOMAIN_PAUSED : DOMAIN_RUNNING;
	if (reason)
		snprintf(dom->reason, sizeof(dom->reason), "%s", reason);
	/* so that the next vmmd adopts it in this state */
	if (domain_write_pid_file(d, dom) < 0)
		log_warn("%s: cannot write its pid file: %s", dom->def->name, strerror(errno));
}

int domain_destroy(struct vmmd *d, struct domain *dom, struct deferred *q, const char **code,
		   char *err, size_t errlen)
{
	if (!dom->pid) {
		*code = "invalid-state";
		error_set(err, errlen, -EINVAL, "%s is not running", dom->def->name);
		return -1;
	}
	if (syscall(SYS_pidfd_send_signal, dom->pidfd.fd, SIGKILL, NULL, 0) < 0 &&
	    errno != ESRCH) {
		*code = "internal-error";
		error_set(err, errlen, -errno, "cannot end %s: %s", dom->def->name, strerror(errno));
		return -1;
	}
	dom->kill_reason = "destroyed";
	dom->rebooting = false;
	/* the reply comes with the end, so that destroy returns with the VM gone */
	if (q) {
		q->next = dom->end_qs;
		dom->end_qs = q;
		if (!dom->end_deadline_ms)
			dom->end_deadline_ms = vmmd_now_ms() + END_TIMEOUT_MS;
	}
	return 0;
}

/* Read what vmm announced; remember why it ends. */
void domain_events_ready(struct vmmd *d, struct domain *dom)
{
	ssize_t n;
	char *line;

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
	bool announced, rebooting;
	siginfo_t si;
	const char *code;
	char err[512];

	/* a guest that ran and powered off at once: its ready byte came first */
	if (dom->starting)
		domain_ready(d, dom);
	if (dom->events_conn.fd >= 0)
		domain_events_ready(d, dom);
	/* what vmm answered before it ended, such as the power button of a reboot */
	exchanges_end(d, dom);
	rebooting = dom->rebooting;
	memset(&si, 0, sizeof(si));
	if (dom->child) {
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
	if (dom->starting) {
		domain_start_failed(d, dom, how);
		return;
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
	if (dom->kill_reason) {
		log_info("%s %s", dom->def->name, dom->kill_reason);
		domain_stopped(d, dom, DOMAIN_SHUTOFF, "%s", dom->kill_reason);
	} else if (announced) {
		log_info("%s shut down (%s)", dom->def->name, dom->exit_reason);
		domain_stopped(d, dom, DOMAIN_SHUTOFF, "shutdown");
		if (rebooting &&
		    domain_start(d, dom, dom->start_uid, NULL, &code, err, sizeof(err)) < 0)
			log_error("%s: reboot failed: %s", dom->def->name, err);
	} else {
		log_warn("%s crashed: %s", dom->def->name, how);
		domain_stopped(d, dom, DOMAIN_CRASHED, "%s", how);
		if (dom->def->on_crash == ACTION_RESTART &&
		    domain_start(d, dom, dom->start_uid, NULL, &code, err, sizeof(err)) < 0)
			log_error("%s: restart after the crash failed: %s", dom->def->name, err);
	}
}

bool domain_responding(const struct domain *dom, int64_t now)
{
	if (!dom->pid)
		return true;
	if (dom->starting || dom->unanswered)
		return false;
	for (const struct exchange *x = dom->exchanges; x; x = x->next)
		if (now - x->started_ms >= RESPONDING_GRACE_MS)
			return false;
	return true;
}

int64_t domains_expire(struct vmmd *d, int64_t now)
{
	int64_t next = INT64_MAX, n;

	for (unsigned int i = 0; i < d->ndomains; i++) {
		struct domain *dom = d->domains[i];
		struct deferred *q;

		if (dom->exchanges && (n = exchanges_expire(d, dom, now)) < next)
			next = n;
		if (dom->starting && !dom->start_timed_out) {
			if (dom->start_deadline_ms <= now)
				domain_start_expire(d, dom);
			else if (dom->start_deadline_ms < next)
				next = dom->start_deadline_ms;
		}
		if (dom->end_deadline_ms && dom->end_deadline_ms <= now) {
			/* still supervised: the pidfd will tell when it ends */
			log_warn("%s: vmm has not ended %d s after SIGKILL", dom->def->name,
				 END_TIMEOUT_MS / 1000);
			dom->end_deadline_ms = 0;
			while ((q = dom->end_qs)) {
				dom->end_qs = q->next;
				vmmd_answer_error(d, q, "vmm-unreachable",
						  "%s's vmm has not ended %d s after SIGKILL",
						  dom->def->name, END_TIMEOUT_MS / 1000);
			}
		} else if (dom->end_deadline_ms && dom->end_deadline_ms < next) {
			next = dom->end_deadline_ms;
		}
	}
	return next;
}

/* vmm's vm.status for an adopted VM: its state now. */
static void adopted_status(struct vmmd *d, struct exchange *x, json_object *status,
			   const char *code, const char *err)
{
	const char *state;

	(void)code;
	if (!status) {
		log_warn("%s: %s", x->dom->def->name, err);
		return;
	}
	if (json_get_string(status, "state", &state))
		domain_set_paused(d, x->dom, strcmp(state, "paused") == 0, NULL);
}

/* Is the process in RUN/vms/NAME ours and alive? Then supervise it again. */
static void adopt(struct vmmd *d, struct domain *dom)
{
	char path[4096], state[16] = "running", err[256];
	struct ucred cred;
	socklen_t credlen = sizeof(cred);
	const char *code;
	void *buf;
	size_t len;
	unsigned int uid = 0;
	int pid, id, fd = -ESRCH, n;

	domain_run_path(d, dom, "pid", path, sizeof(path));
	if (read_file(path, 64, &buf, &len) < 0)
		return;
	/* (a pid file of an older vmmd has no state and no uid: running, root's) */
	n = sscanf(buf, "%d %d %15s %u", &pid, &id, state, &uid);
	free(buf);
	if (n < 2 || pid <= 1) {
		domain_clean_run_dir(d, dom);
		return;
	}
	dom->pidfd.fd = pidfd_open_(pid);
	/* the socket's listener must be that very process, stopped or not (vmm_connect checks) */
	dom->pid = pid;
	if (dom->pidfd.fd >= 0)
		fd = vmm_connect(d, dom);
	dom->pid = 0;
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0 ||
	    cred.pid != pid) {
		log_warn("%s: no running vmm answers for pid %d; its run folder is cleared",
			 dom->def->name, pid);
		if (fd >= 0)
			close(fd);
		if (dom->pidfd.fd >= 0)
			close(dom->pidfd.fd);
		dom->pidfd.fd = -1;
		domain_clean_run_dir(d, dom);
		return;
	}
	close(fd);
	dom->pid = pid;
	dom->id = id;
	dom->child = false;
	dom->start_uid = uid;
	dom->state = strcmp(state, "paused") == 0 ? DOMAIN_PAUSED : DOMAIN_RUNNING;
	snprintf(dom->reason, sizeof(dom->reason), "adopted");
	if (id >= d->next_id)
		d->next_id = id + 1;
	if (vmmd_watch(d, &dom->pidfd) < 0 || domain_connect_events(d, dom) < 0) {
		log_error("%s: cannot supervise pid %d again", dom->def->name, pid);
		return;
	}
	if (exchange_start(d, dom, "vm.status", adopted_status, NULL, &code, err, sizeof(err)) < 0)
		log_warn("%s: %s", dom->def->name, err);
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

		/* as root: the admin's definitions (others' were checked when stored) */
		if (dom->autostart && !dom->pid &&
		    domain_start(d, dom, 0, NULL, &code, err, sizeof(err)) < 0)
			log_error("autostart: %s", err);
	}
}

void domains_release(struct vmmd *d)
{
	for (unsigned int i = 0; i < d->ndomains; i++) {
		struct domain *dom = d->domains[i];
		struct deferred *q;

		exchanges_release(d, dom);
		deferred_free(dom->start_q);
		while ((q = dom->end_qs)) {
			dom->end_qs = q->next;
			deferred_free(q);
		}
		vmmd_unwatch(d, &dom->pidfd);
		vmmd_unwatch(d, &dom->events_conn);
		vmmd_unwatch(d, &dom->ready);
		line_buf_free(&dom->events);
		domain_def_free(dom->def);
		stats_ring_free(dom->history);
		free(dom);
	}
	free(d->domains);
	d->domains = NULL;
	d->ndomains = 0;
}
