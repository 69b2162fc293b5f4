/*
 * Who may open a console, asked of the portal's database, and the VM's
 * socket, asked of vmmd. NOTES
 * - The ticket is taken (deleted) before anything else is looked at, so a
 *   ticket that reached a wrong hand is spent by its first use, right or
 *   wrong; a refusal says why in general terms only.
 * - The session must be the one the ticket was issued to: a ticket that
 *   leaked (a log, a screen share) is of no use without the cookie, which
 *   page scripts cannot read.
 * - The right is the portal's, read at this moment and again every check
 *   interval while the console is open (admit_recheck).
 * - These calls block the loop for as long as sqlite and vmmd take: both
 *   are local, and vmmd answers domain.open_console without waiting on
 *   the VM (a stopped vmm's socket still accepts).
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ct.h"
#include "common/fd.h"
#include "common/jsonrpc.h"
#include "common/log.h"
#include "common/sock.h"
#include "fcgi/audit.h"
#include "fcgi/console_ticket.h"
#include "fcgi/rights.h"
#include "fcgi/session.h"
#include "websockify/proxy.h"

static void refuse(struct handshake *h, int status, const char *reason)
{
	h->status = status;
	h->reason = reason;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The benchmark's fixed target: 127.0.0.1:PORT, checked at start. */
static int connect_target(const char *target)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(target, ':');
	char host[64];
	int fd;

	if (!colon || (size_t)(colon - target) >= sizeof(host))
		return -EINVAL;
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int users_consoles(struct proxy *px, int64_t user_id)
{
	int n = 0;

	for (struct conn *c = px->conns; c; c = c->next)
		n += c->ticketed && c->user_id == user_id;
	return n;
}

/* domain.open_console: the VM's socket, or a refusal in h. */
static int open_console(struct proxy *px, const struct console_ticket *t, struct handshake *h)
{
	json_object *params = json_object_new_object(), *res = NULL;
	char code[64], err[256];
	const char *uuid;
	int link, fd = -1, r;

	link = unix_connect(px->cfg.vmmd_socket);
	if (link < 0) {
		json_object_put(params);
		log_error("cannot reach vmmd at %s: %s", px->cfg.vmmd_socket, strerror(-link));
		refuse(h, 502, "the VM service does not answer");
		return -1;
	}
	json_object_object_add(params, "name", json_object_new_string(t->vm_name));
	json_object_object_add(params, "kind", json_object_new_string(t->kind));
	r = jsonrpc_call_take_fd(link, "domain.open_console", params, px->cfg.vmmd_timeout_ms, &fd,
				 &res, code, sizeof(code), err, sizeof(err));
	close(link);
	if (r == -1) {
		log_info("vmmd refused the %s console of %s: %s", t->kind, t->vm_name, err);
		if (!strcmp(code, "no-domain"))
			refuse(h, 404, "the VM is gone");
		else if (!strcmp(code, "invalid-state"))
			refuse(h, 409, "the VM is not running");
		else if (!strcmp(code, "no-console"))
			refuse(h, 409, "the VM runs without a screen");
		else
			refuse(h, 502, "the VM's console cannot be reached");
	} else if (r < 0) {
		log_error("vmmd: domain.open_console %s: %s", t->vm_name, err);
		refuse(h, 502, "the VM service does not answer");
	} else if (fd < 0) {
		refuse(h, 502, "the VM service handed over no console");
	} else if (!json_get_string(res, "uuid", &uuid) || strcmp(uuid, t->vm_uuid)) {
		/* deleted and made anew under the same name since the ticket was issued */
		refuse(h, 404, "the VM is gone");
		close(fd);
		fd = -1;
	}
	json_object_put(res);
	if (fd >= 0 && fd_set_nonblock(fd, 1) < 0) {
		close(fd);
		fd = -1;
		refuse(h, 502, "the VM's console cannot be reached");
	}
	return fd;
}

void admit(struct proxy *px, struct conn *c, struct handshake *h)
{
	struct console_ticket t;
	struct session s = { 0 };
	struct vm_rights rights;
	time_t now = time(NULL);
	char object[sizeof(t.vm_name) + 16];
	int r;

	if (px->cfg.target) {
		/* the benchmark: no tickets, a fixed target given on the command line */
		c->backend = connect_target(px->cfg.target);
		if (c->backend < 0 || fd_set_nonblock(c->backend, 1) < 0)
			refuse(h, 502, "the target does not answer");
		return;
	}
	if (!h->ticket[0])
		return refuse(h, 403, "a console opens only with a ticket");
	r = ticket_take(px->db, h->ticket, wall_ms(), &t);
	if (r == -EIO)
		return refuse(h, 503, "the portal's database failed");
	if (r < 0)
		return refuse(h, 403, "the ticket is unknown, used or expired");
	snprintf(object, sizeof(object), "%s", t.vm_name);
	r = session_find(px->db, h->session, now, true, &s);
	if (r < 0 || !token_equal(s.id_hash, t.session_hash) || s.user_id != t.user_id) {
		session_clear(&s);
		refuse(h, 403, "the ticket belongs to another session, or the session ended");
		goto audit;
	}
	if (rights_get(px->db, &s, t.vm_uuid, &rights) < 0) {
		refuse(h, 503, "the portal's database failed");
		goto audit;
	}
	if (!rights.console) {
		refuse(h, 403, "the console right on this VM was taken away");
		goto audit;
	}
	if (users_consoles(px, s.user_id) >= px->cfg.max_per_user) {
		refuse(h, 503, "too many consoles are open for this user");
		goto audit;
	}
	c->backend = open_console(px, &t, h);
	if (c->backend < 0)
		goto audit;
	c->ticketed = true;
	snprintf(c->session_id, sizeof(c->session_id), "%s", h->session);
	c->user_id = s.user_id;
	snprintf(c->user, sizeof(c->user), "%s", s.user);
	snprintf(c->vm_uuid, sizeof(c->vm_uuid), "%s", t.vm_uuid);
	snprintf(c->vm_name, sizeof(c->vm_name), "%s", t.vm_name);
	snprintf(c->kind, sizeof(c->kind), "%s", t.kind);
	snprintf(c->address, sizeof(c->address), "%s", h->address);
	c->next_check = mono_ms() + px->cfg.check_interval_ms;
	log_info("console %s of %s opened for %s from %s", t.kind, t.vm_name, s.user,
		 h->address[0] ? h->address : "-");
audit:
	/* the ticket's user: whoever holds its session or not, it was issued to them */
	if (s.user_id || h->status) {
		char action[32];

		snprintf(action, sizeof(action), "open %s console", t.kind);
		audit_write(px->db, now, s.user_id ? s.user : "-", h->address, action, object,
			    h->status ? h->reason : "ok");
	}
	session_clear(&s);
}

const char *admit_recheck(struct proxy *px, struct conn *c)
{
	struct session s;
	struct vm_rights rights;
	int r;

	/* a console's traffic is not the user's activity: noVNC and xterm.js send on their own */
	r = session_find(px->db, c->session_id, time(NULL), false, &s);
	if (r == -EIO)
		return NULL; /* a database that failed once ends no console */
	if (r < 0)
		return "the session ended";
	r = rights_get(px->db, &s, c->vm_uuid, &rights);
	session_clear(&s);
	if (r < 0)
		return NULL;
	if (!rights.console)
		return "the console right on this VM was taken away";
	return NULL;
}
