/*
 * vmmd: the service that keeps VM definitions, starts one vmm per running
 * VM and supervises it, and answers a JSON API on a unix socket.
 */
#ifndef WEBKVM_VMMD_VMMD_H
#define WEBKVM_VMMD_VMMD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/jsonrpc.h"
#include "vmm/service/domain_xml.h"
#include "vmm/service/network_xml.h"
#include "vmm/service/pool_xml.h"

/* One sample of a VM's or the host's counters (stats.c). */
#define STATS_SAMPLES 120
struct stats_sample {
	int64_t time_ms;                      /* wall clock */
	int64_t cpu_time_ns;                  /* VM: vmm's CPU time; host: busy time */
	int64_t idle_ns;                      /* host */
	int64_t mem_used_kib;                 /* host */
	int64_t rss_bytes;                    /* VM */
	int64_t rd_bytes, wr_bytes, rd_reqs, wr_reqs; /* VM: all its disks */
	int64_t net_rx_bytes, net_tx_bytes;           /* VM: all its NICs */
};
struct stats_ring;

enum domain_state { DOMAIN_SHUTOFF, DOMAIN_RUNNING, DOMAIN_PAUSED, DOMAIN_CRASHED };

/* What kind of fd woke the main loop. */
enum vmmd_fd_kind {
	FD_LISTEN, FD_SIGNAL, FD_TIMER, FD_CLIENT, FD_PIDFD, FD_EVENTS, FD_JOB,
	FD_EXCHANGE, /* a request to a vmm on its control socket, awaiting the answer */
	FD_READY,    /* a starting vmm's --ready-fd pipe */
};

/* One fd in the main loop's epoll set; epoll's data points here. */
struct watch {
	enum vmmd_fd_kind kind;
	int fd;
	void *owner;
};

struct vmmd;
struct domain;
struct client;

/*
 * A request whose reply comes later: when its vmm answers, its VM has
 * started or ended, or a child process is done. Whatever finishes it calls
 * vmmd_answer. Its client may leave meanwhile; the reply then goes nowhere.
 */
struct deferred {
	void *client;              /* the connection awaiting the reply; NULL once it left */
	json_object *id;           /* the request's id */
	uid_t uid;                 /* the caller */
	bool changes;              /* the outcome is logged with the caller's uid */
	char method[32];
	char name[DOMAIN_NAME_MAX + 1]; /* params.name, for the log */
	struct deferred *next;     /* in the list of whatever it waits for */
};

/* A request to a running VM's vmm on its control socket, under way (exchange.c). */
struct exchange {
	struct watch w;            /* FD_EXCHANGE: a connection of its own */
	struct domain *dom;
	char method[32];           /* vm.stats, vm.pause, ... */
	struct line_buf in;
	int64_t started_ms, deadline_ms;
	struct deferred *q;        /* the API request it serves, or NULL */
	/* vmm's result, or code and err when there is none (then result is NULL) */
	void (*done)(struct vmmd *d, struct exchange *x, json_object *result, const char *code,
		     const char *err);
	struct exchange *next;     /* in dom->exchanges */
};

struct domain {
	struct domain_def *def;
	bool autostart;
	enum domain_state state;
	char reason[128];          /* why it is in that state: "shutdown", "destroyed", ... */
	int id;                    /* while it runs; else -1 */
	pid_t pid;                 /* the vmm process, or 0 */
	struct watch pidfd;        /* readable when it ends; fd -1 when none */
	bool child;                /* started by this vmmd (not adopted): its status can be read */
	struct watch events_conn;  /* a control connection that hears vm.event; fd -1 when none */
	struct line_buf events;
	char exit_reason[32];      /* the reason the last vm.event gave */
	const char *kill_reason;   /* vmmd ended it on purpose: "destroyed" or "failed"; or NULL */
	bool rebooting;            /* start again once the guest has shut down */
	struct stats_ring *history; /* samples while it runs, or NULL */
	char tap_names[DOMAIN_MAX_IFACES][16]; /* each NIC's tap while it runs, "" if unknown */
	uid_t start_uid;           /* who started this run; a restart checks its files as them */

	/* A start under way: vmm runs but has not said that its guest runs. */
	bool starting;
	struct watch ready;        /* FD_READY: the read end of vmm's --ready-fd; fd -1 when none */
	int64_t start_deadline_ms;
	bool start_timed_out;
	struct deferred *start_q;  /* who asked for the start, or NULL */
	enum domain_state prev_state; /* given back when the start fails */
	char prev_reason[128];

	struct deferred *end_qs;   /* destroy requests that wait for the process to end */
	int64_t end_deadline_ms;   /* when they give up; 0 when none wait */

	unsigned int copying;      /* clones whose copies of its disks are under way */

	struct exchange *exchanges; /* requests to its vmm under way */
	unsigned int nexchanges;
	bool unanswered;           /* its vmm let the last request time out, and none since answered */
	bool sampling;             /* a statistics sample is under way */
	int64_t cpu_time_ns;       /* vmm's CPU time at the last vm.stats answer */
};

struct image_info;

struct pool {
	struct pool_def *def;
	bool active;
	bool autostart;
	/* what each volume's header said, by name, while its file is the same
	 * file of the same size and times (pool_volumes) */
	json_object *probes;
};

struct network {
	struct network_def *def;
	bool active;
	bool autostart;
};

/* A DHCP lease that a network's dnsmasq gave. */
struct network_lease {
	long long expiry;          /* seconds since the epoch; 0 for a static host */
	uint8_t mac[6];
	uint32_t ip;               /* host byte order */
	unsigned int prefix;
	const char *hostname;      /* or NULL */
};

/* The leases of every started network, sorted by MAC (lease_table_load). */
struct lease_entry {
	const char *network;       /* the network's name */
	uint8_t mac[6];
	uint32_t ip;               /* host byte order */
};

struct lease_table {
	struct lease_entry *v;
	size_t n, cap;
};

struct vmmd {
	const char *state_dir;     /* definitions */
	const char *run_dir;       /* sockets and per-VM run folders */
	const char *vmm_path;
	const char *vm_user;       /* vmm runs as this user, or NULL: as root */
	uid_t vm_uid;
	gid_t vm_gid;
	int epoll_fd;
	struct domain **domains;
	unsigned int ndomains;
	struct pool **pools;
	unsigned int npools;
	struct network **networks;
	unsigned int nnetworks;
	int next_id;
	struct stats_ring *host_history;
	/* Where callers other than root may name host files (hostfile.c). */
	const char **kernel_dirs;  /* --kernel-dir: kernels and initrds */
	unsigned int nkernel_dirs;
	const char **pool_roots;   /* --pool-root: folders of new pools */
	unsigned int npool_roots;
	struct client *clients;    /* API connections (client.c) */
	unsigned int nclients;
	struct job *jobs;          /* requests that children finish */
};

/* A monotonic clock in milliseconds, for deadlines. */
int64_t vmmd_now_ms(void);

/* domain.c */
int domains_load(struct vmmd *d);
struct domain *domain_find(struct vmmd *d, const char *name);
/*
 * Define or redefine from XML for caller uid, whose host files are checked
 * (hostfile.c). 0, or -1 with an error code and message.
 */
int domain_define(struct vmmd *d, const char *xml, size_t len, uid_t uid, struct domain **ret,
		  const char **code, char *err, size_t errlen);
int domain_undefine(struct vmmd *d, struct domain *dom, const char **code, char *err,
		    size_t errlen);
int domain_set_autostart(struct vmmd *d, struct domain *dom, bool on, char *err, size_t errlen);
/*
 * SIGKILL its vmm. 0, or -1 with code and err. q (or NULL) gets its reply
 * once the process has ended.
 */
int domain_destroy(struct vmmd *d, struct domain *dom, struct deferred *q, const char **code,
		   char *err, size_t errlen);
/* The pidfd or the event connection of dom is ready. */
void domain_pidfd_ready(struct vmmd *d, struct domain *dom);
void domain_events_ready(struct vmmd *d, struct domain *dom);
/* vmm says the guest is paused (or runs): the state, the reason and the pid file follow. */
void domain_set_paused(struct vmmd *d, struct domain *dom, bool paused, const char *reason);
/*
 * Does its vmm answer? false while a start is under way, while a request
 * to it has waited more than a second, and after one timed out until the
 * next is answered; true for a VM that does not run.
 */
bool domain_responding(const struct domain *dom, int64_t now_ms);
/* Expire the starts, destroys and vmm requests whose time is up; the next deadline or INT64_MAX. */
int64_t domains_expire(struct vmmd *d, int64_t now_ms);
/* After a restart: take over the vmm processes that still run. */
void domains_adopt(struct vmmd *d);
void domains_autostart(struct vmmd *d);
/* Forget every domain (vmmd ends): close its fds, leave its VM running. */
void domains_release(struct vmmd *d);
const char *domain_state_name(enum domain_state s);
/* For domain_start.c: RUN/vms/NAME/FILE; clear the run folder; the pid file; vm.event. */
void domain_run_path(const struct vmmd *d, const struct domain *dom, const char *file, char *buf,
		     size_t len);
void domain_clean_run_dir(struct vmmd *d, struct domain *dom);
int domain_write_pid_file(struct vmmd *d, struct domain *dom);
int domain_connect_events(struct vmmd *d, struct domain *dom);
/* The process is gone (or never ran): forget it; requests waiting on it get their replies. */
void domain_stopped(struct vmmd *d, struct domain *dom, enum domain_state state,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * domain_start.c: start dom for caller uid (its host files checked
 * again). 0 once vmm runs and the start goes on: q (or NULL) gets the reply
 * when vmm says the guest runs, or the start fails. Else -1 with code and
 * err, and nothing left running.
 */
int domain_start(struct vmmd *d, struct domain *dom, uid_t uid, struct deferred *q,
		 const char **code, char *err, size_t errlen);
/* The ready pipe of a starting dom is readable. */
void domain_ready(struct vmmd *d, struct domain *dom);
/* A starting dom's vmm ended (how: as its exit status says) before its guest ran. */
void domain_start_failed(struct vmmd *d, struct domain *dom, const char *how);
/* A start's time is up: its vmm is ended (the pidfd tells the rest). */
void domain_start_expire(struct vmmd *d, struct domain *dom);

/* exchange.c: requests to a running VM's vmm, answered later (see struct exchange). */
/*
 * A non-blocking connection to FILE in the VM's run folder, only when it
 * is a socket itself (not a link) whose listener is the VM's vmm: fd,
 * -ENOENT when it is not there, -EPERM when it is not the vmm's, -EAGAIN
 * when its backlog is full, or -errno.
 */
int vmm_connect_socket(const struct vmmd *d, const struct domain *dom, const char *file);
/* The same for its control socket. */
int vmm_connect(const struct vmmd *d, const struct domain *dom);
/* Send method; done gets the answer. 0, or -1 with code and err (then done is never called). */
int exchange_start(struct vmmd *d, struct domain *dom, const char *method,
		   void (*done)(struct vmmd *d, struct exchange *x, json_object *result,
				const char *code, const char *err),
		   struct deferred *q, const char **code, char *err, size_t errlen);
/* The same with params (a small object, copied into the request line; the caller keeps it). */
int exchange_start_with(struct vmmd *d, struct domain *dom, const char *method,
			json_object *params,
			void (*done)(struct vmmd *d, struct exchange *x, json_object *result,
				     const char *code, const char *err),
			struct deferred *q, const char **code, char *err, size_t errlen);
void exchange_ready(struct vmmd *d, struct exchange *x);
/* dom's vmm ended: take what it answered, fail the rest. */
void exchanges_end(struct vmmd *d, struct domain *dom);
/* Fail those past their deadline; the next deadline or INT64_MAX. */
int64_t exchanges_expire(struct vmmd *d, struct domain *dom, int64_t now_ms);
/* Forget them unanswered (vmmd ends). */
void exchanges_release(struct vmmd *d, struct domain *dom);

/*
 * hostfile.c: which host files a caller may hand a guest. 0, or -1 with
 * code "path-not-allowed" and a sentence that names the file and the rule.
 */
int hostfile_check_domain(const struct vmmd *d, const struct domain_def *def, uid_t uid,
			  const char **code, char *err, size_t errlen);
/* May caller uid define a pool in folder path? */
int hostfile_check_pool(const struct vmmd *d, const char *path, uid_t uid, const char **code,
			char *err, size_t errlen);
/* Is path a volume of a started pool (a regular file directly in its folder, no symlink)? */
bool hostfile_is_volume(const struct vmmd *d, const char *path);

/* domain_edit.c: definition changes, each checked and stored as a define is. */
/*
 * A clone of dom as new_name for caller uid, made in steps so that the
 * copies of its disks can run in a child: domain_clone_prepare makes each
 * overlay (overlay: each writable disk a qcow2 over the original, rather
 * than a copy) and each copy's empty file; domain_clone_copy copies (0 or
 * an errno); domain_clone_define defines the clone when status is 0 and
 * frees it. While copies are under way dom counts them in copying, and
 * may not start, resume or go. Until defined, a failure removes the files
 * made. prepare: 0 with *ret, or -1 with an error code and message.
 */
struct domain_clone;
int domain_clone_prepare(struct vmmd *d, struct domain *dom, const char *new_name, bool overlay,
			 uid_t uid, struct domain_clone **ret, const char **code, char *err,
			 size_t errlen);
bool domain_clone_copies(const struct domain_clone *cl); /* is there a disk to copy? */
int domain_clone_copy(void *cl);
int domain_clone_define(struct vmmd *d, struct domain_clone *cl, int status, struct domain **ret,
			const char **code, char *err, size_t errlen);
void domain_clone_free(struct domain_clone *cl); /* its files removed */
/* The copies' descriptors (in fds, room for 2 * DOMAIN_MAX_DISKS): their number. */
unsigned int domain_clone_files(const struct domain_clone *cl, int *fds);
/* Close them (in vmmd, once the child that copies has them). */
void domain_clone_close_files(struct domain_clone *cl);
int domain_attach_disk(struct vmmd *d, struct domain *dom, const struct domain_disk *disk,
		       uid_t uid, const char **code, char *err, size_t errlen);
int domain_detach_disk(struct vmmd *d, struct domain *dom, const char *target, uid_t uid,
		       const char **code, char *err, size_t errlen);
/* Interfaces, named by MAC; a new one gets f's MAC when have_mac, else a made one. */
int domain_attach_iface(struct vmmd *d, struct domain *dom, const struct domain_iface *f,
			bool have_mac, uid_t uid, const char **code, char *err, size_t errlen);
int domain_detach_iface(struct vmmd *d, struct domain *dom, const uint8_t mac[6], uid_t uid,
			const char **code, char *err, size_t errlen);
/* Keep <link state='up|down'/> in the definition (the running VM is told by the caller). */
int domain_set_iface_link(struct vmmd *d, struct domain *dom, const uint8_t mac[6], bool up,
			  uid_t uid, const char **code, char *err, size_t errlen);
/*
 * Which of dom's disks go with it: those (among only, an array of paths,
 * when not NULL) that are volumes of started pools and are its alone (no
 * other VM's disk, kernel or initrd, no volume's backing file), added to
 * doomed; the others to kept, each one's reason in why ({file: sentence}).
 */
void domain_storage_to_remove(struct vmmd *d, const struct domain *dom, json_object *only,
			      json_object *doomed, json_object *kept, json_object *why);

/* api_storage.c: is path the backing file of a volume of a started pool? That volume's "POOL/NAME" in who. */
bool volume_is_backing_file(struct vmmd *d, const char *path, char *who, size_t wholen);

/* pool.c: storage pools; functions that fail give a code and a sentence. */
int pools_load(struct vmmd *d);
void pools_autostart(struct vmmd *d);
void pools_release(struct vmmd *d);
struct pool *pool_find(struct vmmd *d, const char *name);
/* A caller other than root may define pools only under a --pool-root (hostfile.c). */
int pool_define(struct vmmd *d, const char *xml, size_t len, uid_t uid, struct pool **ret,
		const char **code, char *err, size_t errlen);
int pool_undefine(struct vmmd *d, struct pool *pool, const char **code, char *err,
		  size_t errlen);
int pool_start(struct vmmd *d, struct pool *pool, const char **code, char *err, size_t errlen);
int pool_stop(struct vmmd *d, struct pool *pool, const char **code, char *err, size_t errlen);
int pool_set_autostart(struct vmmd *d, struct pool *pool, bool on, char *err, size_t errlen);
/* Bytes of the pool's file system: its size, what is used, what is free. */
void pool_space(const struct pool *pool, uint64_t *capacity, uint64_t *allocation,
		uint64_t *available);
/* The path of volume name in pool, which must be started; the name is checked. */
int volume_path(const struct pool *pool, const char *name, char *buf, size_t len,
		const char **code, char *err, size_t errlen);
/*
 * Each regular file of the started pool's folder that is an image (a
 * qcow2 with a header vmmd reads, or raw), with what its header says. A
 * header is read again only when its file changed (device, inode, size,
 * modification or change time): a listing of 1,000 volumes costs 1,000
 * stats, not 1,000 opens and reads. Each comes with its id (pool_file_id).
 * 0 or -errno.
 */
int pool_volumes(const struct vmmd *d, struct pool *pool,
		 void (*fn)(void *opaque, const char *name, const char *id,
			    const struct image_info *info),
		 void *opaque);
/*
 * A file's format settled at first sight (vmm/disk/image.c keeps it with
 * the file): one without a mark gets the one the VMs' definitions give it
 * (raw if any VM has it as a raw disk: that guest writes its first bytes),
 * else what its header says now. info, what image_probe said of it, is
 * probed again when the mark changes it.
 */
void pool_settle_format(const struct vmmd *d, const char *path, struct image_info *info);
/*
 * Which file a volume is, beyond its pool and name: inode and birth time
 * (not the device, whose number may change at the next boot). A file
 * deleted and made again under its name is another volume. "-" when unknown.
 */
#define POOL_FILE_ID_MAX 64
void pool_file_id(const char *path, char *id, size_t len);

/* network.c: virtual networks; functions that fail give a code and a sentence. */
int networks_load(struct vmmd *d);
void networks_autostart(struct vmmd *d);
void networks_release(struct vmmd *d);
/* Define "default" (NAT, 192.168.122.0/24 or the next free /24) with autostart. */
int networks_make_default(struct vmmd *d);
struct network *network_find(struct vmmd *d, const char *name);
int network_define(struct vmmd *d, const char *xml, size_t len, struct network **ret,
		   const char **code, char *err, size_t errlen);
int network_undefine(struct vmmd *d, struct network *net, const char **code, char *err,
		     size_t errlen);
int network_start(struct vmmd *d, struct network *net, const char **code, char *err,
		  size_t errlen);
int network_stop(struct vmmd *d, struct network *net, const char **code, char *err,
		 size_t errlen);
int network_set_autostart(struct vmmd *d, struct network *net, bool on, char *err,
			  size_t errlen);
/* Each DHCP lease of a started network. 0 or -errno. */
int network_leases(const struct vmmd *d, const struct network *net,
		   void (*fn)(void *opaque, const struct network_lease *lease), void *opaque);
/* Every lease of the started networks, read once for a list of VMs. */
void lease_table_load(const struct vmmd *d, struct lease_table *t);
void lease_table_free(struct lease_table *t);
/* Up to max addresses leased to mac on the network named net; how many. */
size_t lease_table_find(const struct lease_table *t, const char *net, const uint8_t mac[6],
			uint32_t *ips, size_t max);

/* store.c: files under the state folder; KIND is "domains", "autostart", ... */
void store_path(const struct vmmd *d, const char *kind, const char *name, const char *suffix,
		char *buf, size_t len);
int store_save(const struct vmmd *d, const char *kind, const char *name, const char *text,
	       char *err, size_t errlen);
int store_remove(const struct vmmd *d, const char *kind, const char *name, char *err,
		 size_t errlen);
int store_mark(const struct vmmd *d, const char *kind, const char *name, bool on, char *err,
	       size_t errlen);
bool store_marked(const struct vmmd *d, const char *kind, const char *name);
/*
 * Hand each STATE/KIND/NAME.xml (at most max bytes) to add, which checks
 * it (its name must be NAME) and takes it. A definition add refuses is
 * logged and left alone; -ENOMEM from add ends the load.
 */
int store_load(struct vmmd *d, const char *kind, size_t max,
	       int (*add)(struct vmmd *d, const char *name, const char *xml, size_t len, char *err,
			  size_t errlen));

/*
 * A request that a child process finishes (a long copy), so that vmmd
 * serves everyone else meanwhile. When the child ends, finish builds the
 * reply from its exit status.
 */
struct job {
	struct watch pidfd;        /* FD_JOB */
	struct deferred *q;        /* the request it answers */
	json_object *(*finish)(struct vmmd *d, struct job *job, int status, bool *is_error);
	char path[4096];           /* what the job makes */
	char source[4096];         /* the file a copy reads, or "" */
	void *data;                /* the method's, freed by finish or release */
	void (*release)(struct vmmd *d, struct job *job); /* when vmmd ends before the job */
	struct job *next;          /* in d->jobs */
};

/*
 * api.c: answer one request from caller uid; a result or an error reply
 * (then *is_error). *passed_fd is a file descriptor the client sent with
 * it (or -1); a method that keeps it sets it to -1. A method whose reply
 * comes later returns NULL with *ret_later set: the client code fills in
 * who waits for it.
 */
json_object *api_call(struct vmmd *d, const char *method, json_object *params, uid_t peer_uid,
		      int *passed_fd, int *ret_reply_fd, struct deferred **ret_later, bool *is_error);
/* A domain's summary, as domain.list gives it. */
json_object *api_domain_summary(struct vmmd *d, struct domain *dom);
/* Reply to q: dom's summary, or the error code and err when code is not NULL. */
void api_domain_done(struct vmmd *d, struct deferred *q, struct domain *dom, const char *code,
		     const char *err);

/* client.c: API connections (the main loop hands them their events). */
void clients_accept(struct vmmd *d, int listen_fd);
void client_event(struct vmmd *d, struct client *c, uint32_t events);
/* Serve the requests that waited behind one that is done. */
void clients_resume(struct vmmd *d);
/* Drop clients that left a reply unread too long; the next deadline or INT64_MAX. */
int64_t clients_expire(struct vmmd *d, int64_t now_ms);
void clients_release(struct vmmd *d);
/* Send q's reply (taking res) if its client is still there, log it, free q. */
void vmmd_answer(struct vmmd *d, struct deferred *q, json_object *res, bool is_error);
void vmmd_answer_error(struct vmmd *d, struct deferred *q, const char *code, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));
/* Free q unanswered (vmmd ends); NULL is fine. */
void deferred_free(struct deferred *q);
void job_done(struct vmmd *d, struct job *job);
/* vmmd ends: each job's child is killed and its work given up. */
void jobs_release(struct vmmd *d);
/* Does a job's child write path, or copy it (so it must not change meanwhile)? */
bool job_on_file(const struct vmmd *d, const char *path);

/* stats.c */
/* Ask each running VM for its counters (answered later) and read the host's. */
void stats_sample_all(struct vmmd *d);
/* Ask one VM now (its first sample once it runs). */
void stats_sample(struct vmmd *d, struct domain *dom);
/* Keep a VM's sample from a vm.stats result. */
void stats_add_sample(struct domain *dom, json_object *stats);
/* The samples, oldest first (host: busy and idle time, memory; VM: CPU, RSS, disks). */
json_object *stats_history(const struct stats_ring *ring, bool host);
void stats_ring_free(struct stats_ring *ring);

/* host.c */
json_object *host_info(void);

/* main.c: add w (its fd set) to the main loop, or take it out and close its fd. */
int vmmd_watch(struct vmmd *d, struct watch *w);
void vmmd_unwatch(struct vmmd *d, struct watch *w);

#endif
