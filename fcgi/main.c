/*
 * webkvm.fcgi: the portal, a FastCGI application behind nginx.
 *
 * NOTES
 * - Worker threads each accept on the shared listening socket with a
 *   request of their own; there is no lock around FCGX_Accept_r (Linux's
 *   accept is safe from many threads). nginx does not keep FastCGI
 *   connections (no fastcgi_keep_conn): libfcgi serves one connection at
 *   a time per request object, and a kept one would pin a worker to an
 *   idle nginx connection while requests wait on another.
 * - SIGTERM and SIGINT: the listening socket is shut down, which wakes
 *   every worker's accept; requests in flight finish, then it exits.
 * - Each worker has its own sqlite connection (WAL: readers never wait).
 * - It never runs as root.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "fcgi/account.h"
#include "fcgi/app.h"
#include "fcgi/db.h"
#include "fcgi/password.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/template.h"
#include "fcgi/vmmd.h"

#define THREADS_MAX 64

struct worker {
	pthread_t thread;
	const struct app *app;
	int listen_fd;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_keep keep = {
		.vmmd = { .socket = w->app->vmmd_socket, .timeout_ms = w->app->vmmd_timeout_ms, .fd = -1 },
		.page = BUF_INIT(PAGE_MAX),
		.rows = { .html = BUF_INIT(PAGE_MAX) },
		.api_list = { .html = BUF_INIT(PAGE_MAX) },
		.volumes = { .html = BUF_INIT(PAGE_MAX) },
	};
	FCGX_Request fcgx;
	char err[256];

	if (db_open(w->app->db_path, &keep.db, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return NULL;
	}
	if (FCGX_InitRequest(&fcgx, w->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("cannot set up a FastCGI request");
		db_close(keep.db);
		return NULL;
	}
	while (FCGX_Accept_r(&fcgx) == 0) {
		request_serve(w->app, &keep, &fcgx);
		FCGX_Finish_r(&fcgx);
	}
	buf_free(&keep.page);
	fragment_free(&keep.rows);
	fragment_free(&keep.api_list);
	fragment_free(&keep.volumes);
	vmmd_link_free(&keep.vmmd);
	FCGX_Free(&fcgx, 1);
	db_close(keep.db);
	return NULL;
}

static void usage(FILE *f)
{
	fputs("usage: webkvm.fcgi [OPTIONS]\n"
	      "       webkvm.fcgi [--state-dir DIR] --create-admin NAME\n"
	      "  --socket PATH      the FastCGI socket nginx connects to\n"
	      "                     (default " RUNSTATEDIR "/webkvm-portal/fcgi.sock)\n"
	      "  --state-dir DIR    the database (default " LOCALSTATEDIR "/lib/webkvm-portal)\n"
	      "  --templates DIR    the page templates (default " DATADIR "/webkvm/templates)\n"
	      "  --vmmd PATH        vmmd's socket (default " RUNSTATEDIR "/webkvm/vmmd.sock)\n"
	      "  --threads N        worker threads (default 8)\n"
	      "  --create-admin NAME  make an admin with a random password, print it, and exit\n"
	      "  --routes           print the route table and exit\n",
	      f);
}

/* --routes: "METHOD PATTERN WHO STATE VM-NEED" a line, for people and the tests' walk. */
static void print_routes(void)
{
	static const char *const who[] = { [ACCESS_ANYONE] = "anyone", [ACCESS_USER] = "user",
					   [ACCESS_CREATE] = "creator", [ACCESS_ADMIN] = "admin" };
	static const char *const need[] = { "-", "see", "power", "change", "remove", "console",
					    "admin" };

	for (const struct route *rt = routes; rt->pattern; rt++)
		printf("%s %s %s %s %s\n", rt->method, rt->pattern, who[rt->access],
		       rt->changes_state ? "changes" : "reads", need[rt->vm]);
}

/* --create-admin: the password is printed once; the account must change it. */
static int create_admin(const char *db_path, const char *name)
{
	char password[21], err[256];
	sqlite3 *db;
	int r;

	if (db_open(db_path, &db, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	r = password_generate(password);
	if (r == 0)
		r = account_create(db, name, true, password, true, NULL, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "no random numbers: %s", strerror(-r));
	db_close(db);
	if (r < 0) {
		log_error("cannot create the admin %s: %s", name, err);
		return 1;
	}
	printf("%s\n", password);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "templates", required_argument, NULL, 't' },
		{ "vmmd", required_argument, NULL, 'v' },
		{ "threads", required_argument, NULL, 'n' },
		{ "create-admin", required_argument, NULL, 'a' },
		{ "routes", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *socket_path = RUNSTATEDIR "/webkvm-portal/fcgi.sock";
	const char *state_dir = LOCALSTATEDIR "/lib/webkvm-portal";
	const char *template_dir = DATADIR "/webkvm/templates";
	const char *admin = NULL;
	struct app app = { .vmmd_socket = RUNSTATEDIR "/webkvm/vmmd.sock", .vmmd_timeout_ms = 5000 };
	struct worker workers[THREADS_MAX];
	struct tpl_set *templates;
	char db_path[4096], err[512];
	int nthreads = 8, listen_fd, c, started = 0, sig;
	sigset_t stop;

	log_setup("webkvm.fcgi", LOG_LEVEL_INFO);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': socket_path = optarg; break;
		case 'd': state_dir = optarg; break;
		case 't': template_dir = optarg; break;
		case 'v': app.vmmd_socket = optarg; break;
		case 'a': admin = optarg; break;
		case 'n': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1 || n > THREADS_MAX) {
				log_error("--threads takes 1 to %d", THREADS_MAX);
				return 2;
			}
			nthreads = (int)n;
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'r': print_routes(); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (geteuid() == 0) {
		log_error("webkvm.fcgi does not run as root: run it as the portal's user (webkvm)");
		return 1;
	}
	if ((size_t)snprintf(db_path, sizeof(db_path), "%s/portal.db", state_dir) >= sizeof(db_path)) {
		log_error("the state folder's name is too long");
		return 2;
	}
	app.state_dir = state_dir;
	app.db_path = db_path;
	umask(077);
	if (admin)
		return create_admin(db_path, admin);

	templates = tpl_set_new();
	if (!templates || tpl_set_load_dir(templates, template_dir, err, sizeof(err)) < 0) {
		log_error("cannot load the templates: %s", templates ? err : "out of memory");
		tpl_set_free(templates);
		return 1;
	}
	app.templates = templates;
	{
		sqlite3 *db; /* made and migrated once, before the workers open it */

		if (db_open(db_path, &db, err, sizeof(err)) < 0) {
			log_error("%s", err);
			tpl_set_free(templates);
			return 1;
		}
		db_close(db);
	}

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		log_error("cannot set up libfcgi");
		return 1;
	}
	unlink(socket_path);
	/* nginx's user reaches the socket through its folder's group (the setup's) */
	umask(0);
	listen_fd = FCGX_OpenSocket(socket_path, 128);
	umask(077);
	if (listen_fd < 0) {
		log_error("cannot listen on %s: %m", socket_path);
		return 1;
	}
	for (int i = 0; i < nthreads; i++) {
		workers[i] = (struct worker){ .app = &app, .listen_fd = listen_fd };
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			log_error("cannot start worker thread %d", i);
			break;
		}
		started++;
	}
	if (started == 0)
		return 1;
	log_info("listening on %s with %d threads", socket_path, started);
	sigwait(&stop, &sig);
	log_info("signal %d: finishing the requests in flight", sig);
	FCGX_ShutdownPending();
	shutdown(listen_fd, SHUT_RDWR);
	for (int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	close(listen_fd);
	unlink(socket_path);
	tpl_set_free(templates);
	return 0;
}
