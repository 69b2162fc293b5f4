/*
 * Self-service under quotas. An admin lets a user make VMs of their own
 * and bounds them: number of VMs, vCPUs, memory and disk, each counted
 * over the VMs the user owns (the ones they made or cloned in the
 * portal), from what vmmd has defined now. A disk counts with its
 * capacity (an overlay as much as a copy).
 *
 * Every change that can raise a user's use (create, clone, a VM's vCPUs,
 * memory or disks) runs under that user's quota lock, from the count to
 * the change done: two requests racing each other are counted one after
 * the other, in any process of the portal.
 */
#ifndef WEBKVM_FCGI_QUOTA_H
#define WEBKVM_FCGI_QUOTA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "fcgi/app.h"

/* A user's limits; -1: no limit. */
struct quota {
	int64_t vms, vcpus, memory_mib, disk_gib;
};

/* What a user's VMs take. */
struct quota_use {
	int64_t vms, vcpus, memory_mib, disk_bytes;
};

/* The user's limits: 0, -ENOENT (no such user) or -EIO. */
int quota_get(sqlite3 *db, int64_t user_id, struct quota *ret);

/*
 * Wait for the user's quota lock (an open file description lock on byte
 * user_id of the state folder's quota.lock, so threads exclude each other
 * too, and a crash lets go): the fd to give quota_unlock, or -errno.
 */
int quota_lock(const struct app *app, int64_t user_id);
/*
 * A lock file of the state folder, opened (made when missing) for byte
 * locks of open file descriptions: the fd, or -errno.
 */
int state_lock_file(const struct app *app, const char *name);
void quota_unlock(int fd);

/*
 * What the user's VMs take now, leaving out the VM except_uuid (may be
 * NULL): 0, or -1 with a sentence in err (vmmd did not answer).
 */
int quota_usage(struct request *r, int64_t user_id, const char *except_uuid,
		struct quota_use *ret, char *err, size_t errlen);

/*
 * Whether going from before to after keeps within q: true, or false with a
 * sentence naming the quota in why. A value that does not grow is never
 * refused (an admin may have lowered a quota below what is used).
 */
bool quota_allows(const struct quota *q, const struct quota_use *before,
		  const struct quota_use *after, char *why, size_t len);

/*
 * What one of the user's VMs takes (a VM not theirs takes nothing): 0 or
 * -1 with err.
 */
int quota_vm_use(struct request *r, int64_t user_id, const char *uuid, struct quota_use *ret,
		 char *err, size_t errlen);

/*
 * Whether the user's VMs fit their quotas once the VM uuid takes vm_after
 * (uuid NULL: a VM added that takes vm_after). The caller holds the
 * user's quota lock. 0, or -1 with a sentence naming the quota in why.
 */
int quota_check(struct request *r, int64_t user_id, const char *uuid,
		const struct quota_use *vm_after, char *why, size_t len);

/*
 * Before a user (not an admin) changes a VM that a user owns: the owner's
 * quota lock taken, their id in *owner and what the VM takes now in *use.
 * The lock (for quota_unlock, after the change), QUOTA_NONE when no quota
 * bounds the change, or QUOTA_FAILED with a sentence in err.
 */
#define QUOTA_NONE (-1)
#define QUOTA_FAILED (-2)
int quota_lock_vm(struct request *r, int64_t *owner, struct quota_use *use, char *err, size_t errlen);

/*
 * A VM a user made (not an admin) is theirs: it counts against their
 * quotas, they have every right on it, and its writable disks (made for
 * it, by create or clone) are theirs to delete with it.
 */
void quota_give_vm(struct request *r, const char *uuid, const char *name);
/* The files made for a user's VM uuid (an array of paths). */
json_object *vm_made_disks(sqlite3 *db, const char *uuid);

/* The user who owns the VM (made it in the portal), or 0: none; -EIO. */
int64_t vm_owner(sqlite3 *db, const char *uuid);
int vm_owner_set(sqlite3 *db, const char *uuid, int64_t user_id);
int vm_owner_forget(sqlite3 *db, const char *uuid);

/*
 * What a user with the right to create may build on: a volume an admin
 * marked as a template, by its pool and name, and its file by vmmd's id
 * ("id" of a volume), so that a file made later under the name is none.
 */
bool volume_is_template(sqlite3 *db, const char *pool, const char *name, const char *id);
/* A pool's template marks: {name: id}. */
json_object *volume_templates(sqlite3 *db, const char *pool);
/* Is a volume of vmmd's list (name, id) marked in templates (volume_templates')? */
bool volume_in_templates(json_object *templates, json_object *volume);
int volume_template_set(sqlite3 *db, const char *pool, const char *name, const char *id,
			bool template);

#endif
