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
enum vmmd_fd_kind { FD_LISTEN, FD_SIGNAL, FD_TIMER, FD_CLIENT, FD_PIDFD, FD_EVENTS, FD_JOB };

/* One fd in the main loop's epoll set; epoll's data points here. */
struct watch {
	enum vmmd_fd_kind kind;
	int fd;
	void *owner;
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
	bool destroying;           /* vmmd ended it on purpose */
	bool rebooting;            /* start again once the guest has shut down */
	struct stats_ring *history; /* samples while it runs, or NULL */
	char tap_names[DOMAIN_MAX_IFACES][16]; /* each NIC's tap while it runs, "" if unknown */
};

struct pool {
	struct pool_def *def;
	bool active;
	bool autostart;
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
};

/* domain.c */
int domains_load(struct vmmd *d);
struct domain *domain_find(struct vmmd *d, const char *name);
/* Define or redefine from XML. 0, or -1 with an error code and message. */
int domain_define(struct vmmd *d, const char *xml, size_t len, struct domain **ret,
		  const char **code, char *err, size_t errlen);
int domain_undefine(struct vmmd *d, struct domain *dom, const char **code, char *err,
		    size_t errlen);
int domain_set_autostart(struct vmmd *d, struct domain *dom, bool on, char *err, size_t errlen);
int domain_start(struct vmmd *d, struct domain *dom, const char **code, char *err,
		 size_t errlen);
/* Ask vmm: method is a control method (vm.pause, ...). 0 or -1 with code and err. */
int domain_control(struct vmmd *d, struct domain *dom, const char *method,
		   json_object **ret_result, const char **code, char *err, size_t errlen);
int domain_destroy(struct vmmd *d, struct domain *dom, const char **code, char *err,
		   size_t errlen);
/* The pidfd or the event connection of dom is ready. */
void domain_pidfd_ready(struct vmmd *d, struct domain *dom);
void domain_events_ready(struct vmmd *d, struct domain *dom);
/* After a restart: take over the vmm processes that still run. */
void domains_adopt(struct vmmd *d);
void domains_autostart(struct vmmd *d);
/* Forget every domain (vmmd ends): close its fds, leave its VM running. */
void domains_release(struct vmmd *d);
const char *domain_state_name(enum domain_state s);

/* domain_edit.c: definition changes, each checked and stored as a define is. */
int domain_clone(struct vmmd *d, struct domain *dom, const char *new_name, struct domain **ret,
		 const char **code, char *err, size_t errlen);
int domain_attach_disk(struct vmmd *d, struct domain *dom, const struct domain_disk *disk,
		       const char **code, char *err, size_t errlen);
int domain_detach_disk(struct vmmd *d, struct domain *dom, const char *target, const char **code,
		       char *err, size_t errlen);
/* Delete the disks that are volumes of started pools; list what went and what stayed. */
int domain_remove_storage(struct vmmd *d, struct domain *dom, json_object *removed,
			  json_object *kept);

/* pool.c: storage pools; functions that fail give a code and a sentence. */
int pools_load(struct vmmd *d);
void pools_autostart(struct vmmd *d);
void pools_release(struct vmmd *d);
struct pool *pool_find(struct vmmd *d, const char *name);
int pool_define(struct vmmd *d, const char *xml, size_t len, struct pool **ret,
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
int pool_volumes(const struct pool *pool, void (*fn)(void *opaque, const char *name),
		 void *opaque);

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
	void *client;              /* the connection awaiting the reply; NULL once it left */
	json_object *id;           /* the request's id */
	json_object *(*finish)(struct vmmd *d, struct job *job, int status, bool *is_error);
	char path[4096];           /* what the job makes */
	struct job *next;
};

/*
 * api.c: answer one request; a result or an error reply (then *is_error).
 * *passed_fd is a file descriptor the client sent with it (or -1); a
 * method that keeps it sets it to -1. A method that starts a job returns
 * NULL with *ret_job set; the reply comes when it ends.
 */
json_object *api_call(struct vmmd *d, const char *method, json_object *params, uid_t peer_uid,
		      int *passed_fd, struct job **ret_job, bool *is_error);

/* stats.c */
void stats_sample_all(struct vmmd *d);
/* The samples, oldest first (host: busy and idle time, memory; VM: CPU, RSS, disks). */
json_object *stats_history(const struct stats_ring *ring, bool host);
void stats_ring_free(struct stats_ring *ring);

/* host.c */
json_object *host_info(void);

/* main.c: add w (its fd set) to the main loop, or take it out and close its fd. */
int vmmd_watch(struct vmmd *d, struct watch *w);
void vmmd_unwatch(struct vmmd *d, struct watch *w);

#endif
