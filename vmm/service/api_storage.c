/*
 * The API's storage methods: pool.list, pool.define, pool.undefine,
 * pool.start, pool.stop, pool.dumpxml, pool.info, pool.autostart,
 * vol.list, vol.create, vol.clone, vol.delete, vol.info, vol.resize,
 * vol.upload. Volumes are named by params.pool and params.name.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fingerprint.h"
#include "common/log.h"
#include "common/util.h"
#include "vmm/disk/image.h"
#include "vmm/service/api.h"

static struct pool *param_pool(struct api_ctx *c, const char *key)
{
	const char *name = api_string(c, key);
	struct pool *pool;

	if (!name)
		return NULL;
	pool = pool_find(c->d, name);
	if (!pool)
		api_fail(c, "no-pool", "no pool named '%s'", name);
	return pool;
}

static json_object *pool_summary(struct pool *pool)
{
	json_object *o = json_object_new_object();
	uint64_t cap, alloc, avail;

	pool_space(pool, &cap, &alloc, &avail);
	json_object_object_add(o, "name", json_object_new_string(pool->def->name));
	json_object_object_add(o, "uuid", json_object_new_string(pool->def->uuid));
	json_object_object_add(o, "state",
			       json_object_new_string(pool->active ? "active" : "inactive"));
	json_object_object_add(o, "autostart", json_object_new_boolean(pool->autostart));
	json_object_object_add(o, "path", json_object_new_string(pool->def->path));
	json_object_object_add(o, "capacity", json_object_new_int64(cap));
	json_object_object_add(o, "allocation", json_object_new_int64(alloc));
	json_object_object_add(o, "available", json_object_new_int64(avail));
	return o;
}

json_object *api_pool_list(struct api_ctx *c)
{
	json_object *arr = json_object_new_array(), *o = json_object_new_object();

	for (unsigned int i = 0; i < c->d->npools; i++)
		json_object_array_add(arr, pool_summary(c->d->pools[i]));
	json_object_object_add(o, "pools", arr);
	return o;
}

json_object *api_pool_define(struct api_ctx *c)
{
	const char *xml = api_string(c, "xml");
	struct pool *pool;
	bool only_new = false;
	struct pool_def *def;

	if (!xml)
		return NULL;
	/* params.new: define a pool of a name not yet taken, never change one */
	if (json_object_object_get_ex(c->params, "new", NULL) &&
	    !json_get_bool(c->params, "new", &only_new))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.new is not true or false");
	if (only_new && pool_def_parse(&def, xml, strlen(xml), c->err, sizeof(c->err)) == 0) {
		pool = pool_find(c->d, def->name);
		pool_def_free(def);
		if (pool)
			return api_fail(c, "pool-exists", "a pool named %s exists already",
					pool->def->name);
	}
	if (pool_define(c->d, xml, strlen(xml), c->uid, &pool, &c->code, c->err,
				sizeof(c->err)) < 0)
		return NULL;
	return pool_summary(pool);
}

json_object *api_pool_undefine(struct api_ctx *c)
{
	struct pool *pool = param_pool(c, "name");

	if (!pool || pool_undefine(c->d, pool, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return json_object_new_object();
}

json_object *api_pool_start(struct api_ctx *c)
{
	struct pool *pool = param_pool(c, "name");

	if (!pool || pool_start(c->d, pool, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return pool_summary(pool);
}

/* The first running VM with a disk in the pool's folder, or NULL. */
static const char *pool_running_user(const struct vmmd *d, const struct pool *pool)
{
	size_t n = strlen(pool->def->path);

	for (unsigned int i = 0; i < d->ndomains; i++) {
		const struct domain *dom = d->domains[i];

		for (unsigned int k = 0; dom->pid && k < dom->def->ndisks; k++)
			if (strncmp(dom->def->disks[k].file, pool->def->path, n) == 0 &&
			    dom->def->disks[k].file[n] == '/')
				return dom->def->name;
	}
	return NULL;
}

json_object *api_pool_stop(struct api_ctx *c)
{
	struct pool *pool = param_pool(c, "name");
	const char *vm = pool && pool->active ? pool_running_user(c->d, pool) : NULL;

	if (vm)
		return api_fail(c, "invalid-state", "the running VM %s has a disk in the pool %s", vm,
				pool->def->name);
	if (!pool || pool_stop(c->d, pool, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return pool_summary(pool);
}

json_object *api_pool_dumpxml(struct api_ctx *c)
{
	struct pool *pool = param_pool(c, "name");

	return pool ? api_xml(c, pool_def_format(pool->def)) : NULL;
}

json_object *api_pool_info(struct api_ctx *c)
{
	struct pool *pool = param_pool(c, "name");

	return pool ? pool_summary(pool) : NULL;
}

json_object *api_pool_autostart(struct api_ctx *c)
{
	struct pool *pool = param_pool(c, "name");
	bool on = true;

	if (!pool)
		return NULL;
	if (json_object_object_get_ex(c->params, "enable", NULL) &&
	    !json_get_bool(c->params, "enable", &on))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.enable is not true or false");
	if (pool_set_autostart(c->d, pool, on, c->err, sizeof(c->err)) < 0) {
		c->code = "io-error";
		return NULL;
	}
	return pool_summary(pool);
}

/* The volume params.pool / params.name names: its path in buf, or false with the error. */
static bool param_volume(struct api_ctx *c, const char *key, struct pool **ret_pool, char *buf,
			 size_t len)
{
	struct pool *pool = param_pool(c, "pool");
	const char *name = pool ? api_string(c, key) : NULL;

	if (!name)
		return false;
	if (volume_path(pool, name, buf, len, &c->code, c->err, sizeof(c->err)) < 0)
		return false;
	if (ret_pool)
		*ret_pool = pool;
	return true;
}

/*
 * Every disk's file, each to the VMs with a disk on it ([{name, running}]),
 * in one pass over the VMs: a listing of many volumes looks each up.
 */
static json_object *disk_users(const struct vmmd *d)
{
	json_object *map = json_object_new_object();

	for (unsigned int i = 0; i < d->ndomains; i++) {
		const struct domain *dom = d->domains[i];

		for (unsigned int k = 0; k < dom->def->ndisks; k++) {
			const char *file = dom->def->disks[k].file;
			json_object *vms, *v;
			bool listed = false;

			/* a VM once for a file, however many of its disks have it */
			for (unsigned int j = 0; j < k && !listed; j++)
				listed = strcmp(dom->def->disks[j].file, file) == 0;
			if (listed)
				continue;
			if (!json_object_object_get_ex(map, file, &vms)) {
				vms = json_object_new_array();
				json_object_object_add(map, file, vms);
			}
			v = json_object_new_object();
			json_object_object_add(v, "name", json_object_new_string(dom->def->name));
			json_object_object_add(v, "running", json_object_new_boolean(dom->pid != 0));
			json_object_array_add(vms, v);
		}
	}
	return map;
}


/* A volume's summary from its id and header (info); vms from users (disk_users), when given. */
static json_object *volume_json(const char *path, const char *id, const struct image_info *info,
				json_object *users)
{
	json_object *o = json_object_new_object(), *vms = NULL;
	const char *name = strrchr(path, '/') + 1;

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "format", json_object_new_string(info->qcow2 ? "qcow2" : "raw"));
	json_object_object_add(o, "capacity", json_object_new_int64(info->capacity));
	json_object_object_add(o, "allocation", json_object_new_int64(info->allocation));
	if (info->backing[0]) {
		json_object_object_add(o, "backing", json_object_new_string(info->backing));
		if (info->backing_format[0])
			json_object_object_add(o, "backing_format",
					       json_object_new_string(info->backing_format));
	}
	if (users) {
		json_object_object_get_ex(users, path, &vms);
		json_object_object_add(o, "vms", vms ? json_object_get(vms) : json_object_new_array());
	}
	return o;
}

static json_object *volume_info(struct api_ctx *c, const char *path)
{
	struct image_info info;
	char id[POOL_FILE_ID_MAX];
	json_object *users, *o;

	if (image_probe(path, &info, c->err, sizeof(c->err)) < 0) {
		c->code = access(path, F_OK) == 0 ? "invalid-image" : "no-volume";
		if (strcmp(c->code, "no-volume") == 0)
			api_fail(c, "no-volume", "no volume named '%s'", strrchr(path, '/') + 1);
		return NULL;
	}
	users = c->d ? disk_users(c->d) : NULL;
	pool_file_id(path, id, sizeof(id));
	o = volume_json(path, id, &info, users);
	json_object_put(users);
	return o;
}

struct list_ctx {
	const struct pool *pool;
	json_object *users;
	json_object *arr;
	struct fingerprint etag; /* of every field listed */
};

static void add_volume(void *opaque, const char *name, const char *id,
		       const struct image_info *info)
{
	struct list_ctx *l = opaque;
	json_object *o, *vms;
	char path[4096];
	uint64_t n[3] = { info->qcow2, info->capacity, info->allocation };

	snprintf(path, sizeof(path), "%s/%s", l->pool->def->path, name);
	o = volume_json(path, id, info, l->users);
	json_object_array_add(l->arr, o);
	fingerprint_add_str(&l->etag, name);
	fingerprint_add(&l->etag, n, sizeof(n));
	fingerprint_add_str(&l->etag, id);
	fingerprint_add_str(&l->etag, info->backing);
	fingerprint_add_str(&l->etag, info->backing_format);
	vms = json_object_object_get(o, "vms");
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		json_object *vm = json_object_array_get_idx(vms, i);
		uint8_t running = json_object_get_boolean(json_object_object_get(vm, "running"));

		fingerprint_add_str(&l->etag, json_object_get_string(json_object_object_get(vm, "name")));
		fingerprint_add(&l->etag, &running, 1);
	}
	fingerprint_add(&l->etag, "", 1); /* where one volume ends */
}

/*
 * {"volumes": [...], "etag": E}, E a fingerprint of every field listed; for
 * params.unless = E, {"etag": E, "unchanged": true} and no list (as
 * domain.list does), so that a page viewed again costs neither side the
 * list's text.
 */
json_object *api_vol_list(struct api_ctx *c)
{
	struct pool *pool = param_pool(c, "pool");
	struct list_ctx l = { .pool = pool };
	const char *unless = NULL;
	json_object *o;
	char etag[FINGERPRINT_HEX_SIZE];
	int r;

	if (!pool)
		return NULL;
	if (!pool->active)
		return api_fail(c, "invalid-state", "the pool %s is not started", pool->def->name);
	l.arr = json_object_new_array();
	l.users = disk_users(c->d);
	fingerprint_init(&l.etag);
	r = pool_volumes(c->d, pool, add_volume, &l);
	json_object_put(l.users);
	/* without a fingerprint, the list alone: used once, never unchanged */
	if (fingerprint_end(&l.etag, etag) < 0)
		etag[0] = '\0';
	if (r < 0) {
		json_object_put(l.arr);
		return api_fail(c, "io-error", "cannot read %s: %s", pool->def->path, strerror(-r));
	}
	o = json_object_new_object();
	if (etag[0])
		json_object_object_add(o, "etag", json_object_new_string(etag));
	json_get_string(c->params, "unless", &unless);
	if (etag[0] && unless && !strcmp(unless, etag)) {
		json_object_put(l.arr);
		json_object_object_add(o, "unchanged", json_object_new_boolean(true));
		return o;
	}
	json_object_object_add(o, "volumes", l.arr);
	return o;
}

static bool param_size(struct api_ctx *c, uint64_t *ret)
{
	int64_t v;

	if (!json_get_int64(c->params, "capacity", &v) || v <= 0 || (uint64_t)v > IMAGE_MAX_SIZE) {
		api_fail(c, JSONRPC_INVALID_PARAMS,
			 "params.capacity must be a size in bytes from 1 to %llu",
			 (unsigned long long)IMAGE_MAX_SIZE);
		return false;
	}
	*ret = v;
	return true;
}

json_object *api_vol_create(struct api_ctx *c)
{
	const char *format = "raw";
	char path[4096];
	uint64_t size;
	int r;

	if (!param_volume(c, "name", NULL, path, sizeof(path)) || !param_size(c, &size))
		return NULL;
	if (json_object_object_get_ex(c->params, "format", NULL) &&
	    (!json_get_string(c->params, "format", &format) ||
	     (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0)))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.format must be raw or qcow2");
	r = strcmp(format, "qcow2") == 0
		    ? image_create_qcow2(path, size, NULL, NULL, c->err, sizeof(c->err))
		    : image_create_raw(path, size, c->err, sizeof(c->err));
	if (r < 0) {
		c->code = r == -EEXIST ? "volume-exists" : "io-error";
		return NULL;
	}
	return volume_info(c, path);
}

/* A copy that a child makes (vol.clone, vol.upload): from in to out. */
struct volume_copy {
	int in, out;
	int64_t size;       /* a stream's size said, or -1 */
	bool stream;        /* in is a pipe or a socket, not a file */
};

static int volume_copy_work(void *arg)
{
	struct volume_copy *v = arg;
	/* a stream of a size said is that size or nothing; one without, to its end */
	int r = v->stream && v->size >= 0 ? image_copy_stream(v->in, v->out, v->size)
					  : image_copy_fd(v->in, v->out);

	return r < 0 ? -r : 0;
}

/* vmmd ends before the copy (its child killed): the half-made volume goes. */
static void volume_copy_release(struct vmmd *d, struct job *job)
{
	(void)d;
	unlink(job->path);
}

/*
 * A copy's job from source (a volume, or NULL for a stream) to path that
 * ends with finish; 0, or -1 with the error set and path removed.
 */
static int volume_copy_start(struct api_ctx *c, const char *source, const char *path,
			     struct volume_copy *v,
			     json_object *(*finish)(struct vmmd *, struct job *, int, bool *))
{
	struct job *job = calloc(1, sizeof(*job));
	int r;

	if (!job) {
		api_fail(c, JSONRPC_INTERNAL, "out of memory");
		r = -1;
	} else {
		int keep[2] = { v->in, v->out };

		snprintf(job->path, sizeof(job->path), "%s", path);
		snprintf(job->source, sizeof(job->source), "%s", source ? source : "");
		job->finish = finish;
		job->release = volume_copy_release;
		r = api_job(c, job, volume_copy_work, v, keep, 2);
		if (r < 0)
			free(job);
	}
	close(v->out);
	if (r < 0)
		unlink(path);
	return r;
}

/* The volume a copy made, or the reason there is none (and no file). */
static json_object *copy_made(struct vmmd *d, struct job *job, int status, bool *is_error)
{
	struct api_ctx c = { .d = d };
	json_object *res;

	if (status != 0) {
		unlink(job->path);
		*is_error = true;
		return jsonrpc_error(NULL, "io-error", "cannot copy into %s: %s", job->path,
				     status < 255 ? strerror(status) : "the copy was stopped");
	}
	res = volume_info(&c, job->path);
	if (!res) {
		unlink(job->path);
		*is_error = true;
		return jsonrpc_error(NULL, c.code ? c.code : "io-error", "%s", c.err);
	}
	return res;
}

/*
 * vol.clone: params.name is the source, params.new_name the copy; params.overlay
 * makes a qcow2 on it. A copy is made by a child (it may take minutes), and
 * the reply comes when it is done.
 */
json_object *api_vol_clone(struct api_ctx *c)
{
	char src[4096], dst[4096];
	struct volume_copy v = { .size = -1 };
	struct image_info info;
	bool overlay = false;
	int r;

	if (!param_volume(c, "name", NULL, src, sizeof(src)) ||
	    !param_volume(c, "new_name", NULL, dst, sizeof(dst)))
		return NULL;
	if (json_object_object_get_ex(c->params, "overlay", NULL) &&
	    !json_get_bool(c->params, "overlay", &overlay))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.overlay is not true or false");
	if (image_probe(src, &info, c->err, sizeof(c->err)) < 0) {
		c->code = "no-volume";
		return NULL;
	}
	pool_settle_format(c->d, src, &info);
	r = overlay ? image_create_qcow2(dst, info.capacity, src, info.qcow2 ? "qcow2" : "raw",
					 c->err, sizeof(c->err))
		    : image_copy_open(src, dst, info.qcow2, &v.in, &v.out, c->err, sizeof(c->err));
	if (r < 0) {
		c->code = r == -EEXIST ? "volume-exists" : "io-error";
		return NULL;
	}
	if (overlay)
		return volume_info(c, dst);
	volume_copy_start(c, src, dst, &v, copy_made);
	close(v.in);
	return NULL;
}

/* Is path a disk of a VM that runs? */
static const char *used_by_running_vm(struct vmmd *d, const char *path)
{
	for (unsigned int i = 0; i < d->ndomains; i++) {
		struct domain *dom = d->domains[i];

		for (unsigned int k = 0; dom->pid && k < dom->def->ndisks; k++)
			if (strcmp(dom->def->disks[k].file, path) == 0)
				return dom->def->name;
	}
	return NULL;
}

struct backing_search {
	const struct pool *pool;
	const char *path;   /* the volume that may be a backing file */
	char *who;          /* the first volume found on it, "POOL/NAME" */
	size_t wholen;
};

static void check_backing(void *opaque, const char *name, const char *id,
			  const struct image_info *info)
{
	struct backing_search *b = opaque;
	char full[4096 + 4096 + 2];

	if (b->who[0] || !info->backing[0])
		return;
	/* a relative backing file is relative to the overlay's folder */
	if (info->backing[0] != '/')
		snprintf(full, sizeof(full), "%s/%s", b->pool->def->path, info->backing);
	else
		snprintf(full, sizeof(full), "%s", info->backing);
	if (strcmp(full, b->path) == 0)
		snprintf(b->who, b->wholen, "%s/%s", b->pool->def->name, name);
}

bool volume_is_backing_file(struct vmmd *d, const char *path, char *who, size_t wholen)
{
	struct backing_search b = { .path = path, .who = who, .wholen = wholen };

	who[0] = '\0';
	for (unsigned int i = 0; i < d->npools && !who[0]; i++) {
		if (!d->pools[i]->active)
			continue;
		b.pool = d->pools[i];
		pool_volumes(d, d->pools[i], check_backing, &b);
	}
	return who[0] != '\0';
}

json_object *api_vol_delete(struct api_ctx *c)
{
	char overlay[600];
	const char *vm;
	char path[4096];
	struct image_info info;

	if (!param_volume(c, "name", NULL, path, sizeof(path)))
		return NULL;
	if (image_probe(path, &info, c->err, sizeof(c->err)) < 0 && access(path, F_OK) < 0)
		return api_fail(c, "no-volume", "no volume named '%s'", strrchr(path, '/') + 1);
	vm = used_by_running_vm(c->d, path);
	if (vm)
		return api_fail(c, "invalid-state", "the running VM %s uses %s", vm, path);
	if (job_on_file(c->d, path))
		return api_fail(c, "invalid-state", "%s is being copied; wait until that is done", path);
	/* the overlays on it would lose every block they did not write themselves */
	if (volume_is_backing_file(c->d, path, overlay, sizeof(overlay)))
		return api_fail(c, "invalid-state", "%s is the backing file of the volume %s",
				strrchr(path, '/') + 1, overlay);
	if (unlink(path) < 0)
		return api_fail(c, "io-error", "cannot remove %s: %s", path, strerror(errno));
	return json_object_new_object();
}

json_object *api_vol_info(struct api_ctx *c)
{
	char path[4096];

	if (!param_volume(c, "name", NULL, path, sizeof(path)))
		return NULL;
	return volume_info(c, path);
}

json_object *api_vol_resize(struct api_ctx *c)
{
	const char *vm;
	char path[4096];
	uint64_t size;

	if (!param_volume(c, "name", NULL, path, sizeof(path)) || !param_size(c, &size))
		return NULL;
	if (access(path, F_OK) < 0)
		return api_fail(c, "no-volume", "no volume named '%s'", strrchr(path, '/') + 1);
	vm = used_by_running_vm(c->d, path);
	if (vm)
		return api_fail(c, "invalid-state", "the running VM %s uses %s", vm, path);
	if (job_on_file(c->d, path))
		return api_fail(c, "invalid-state", "%s is being copied; wait until that is done", path);
	if (image_resize(path, size, c->err, sizeof(c->err)) < 0) {
		c->code = "invalid-params";
		return NULL;
	}
	return volume_info(c, path);
}

/*
 * An uploaded image reads no file outside its pool: a qcow2 whose backing
 * file is elsewhere (or nowhere), or that keeps its data in another file,
 * would hand a VM (run by root) someone else's file. 0, or -1 with err.
 */
static int upload_check(const char *path, char *err, size_t errlen)
{
	struct image_info info;
	char dir[4096], target[8300], *real_dir, *real;
	const char *slash = strrchr(path, '/');
	size_t n;
	int r = 0;

	if (image_probe(path, &info, err, errlen) < 0)
		return -1;
	if (!info.qcow2)
		return 0;
	if (info.external_data || info.data_file[0])
		return error_set(err, errlen, -EPERM, "the qcow2 image keeps its data in another file%s%s; "
				 "an upload may not", info.data_file[0] ? " " : "", info.data_file);
	if (!info.backing[0])
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (info.backing[0] == '/')
		snprintf(target, sizeof(target), "%s", info.backing);
	else
		snprintf(target, sizeof(target), "%s/%s", dir, info.backing);
	real_dir = realpath(dir, NULL);
	real = realpath(target, NULL);
	n = real_dir ? strlen(real_dir) : 0;
	if (!real_dir || !real || strncmp(real, real_dir, n) || real[n] != '/' || strchr(real + n + 1, '/'))
		r = error_set(err, errlen, -EPERM, "the qcow2 image's backing file %s is not a volume of "
			      "its pool", info.backing);
	free(real_dir);
	free(real);
	return r;
}

static json_object *upload_done(struct vmmd *d, struct job *job, int status, bool *is_error)
{
	char err[1024];

	if (status == EPIPE) {
		unlink(job->path);
		*is_error = true;
		return jsonrpc_error(NULL, "upload-cut", "the upload ended before all its bytes "
				     "came; nothing was kept");
	}
	/*
	 * an upload is what its header says (a listing meanwhile may have
	 * marked the file at first sight from a part of it), then checked
	 */
	if (status == 0) {
		int r = image_mark_as_header(job->path);

		if (r < 0 && r != -EOPNOTSUPP)
			log_error("vol.upload: cannot mark %s with its format: %s", job->path, strerror(-r));
	}
	if (status == 0 && upload_check(job->path, err, sizeof(err)) < 0) {
		unlink(job->path);
		*is_error = true;
		return jsonrpc_error(NULL, "invalid-image", "%s; nothing was kept", err);
	}
	return copy_made(d, job, status, is_error);
}

/*
 * vol.upload: a new volume with the bytes of the file the client sent with
 * the request (SCM_RIGHTS), so that only files the client itself can read
 * go in. The file may be a pipe the client writes into as the bytes come:
 * with params.size exactly that many bytes, or nothing is kept; without,
 * all there are until it closes. A child process
 * copies; the reply comes when it is done. A qcow2 that reads another
 * file outside the pool is removed again (upload_check).
 */
json_object *api_vol_upload(struct api_ctx *c)
{
	struct volume_copy v = { .in = *c->passed_fd, .size = -1 };
	char path[4096];
	struct stat st;

	if (!param_volume(c, "name", NULL, path, sizeof(path)))
		return NULL;
	if (v.in < 0)
		return api_fail(c, JSONRPC_INVALID_PARAMS,
				"vol.upload needs the file sent with the request (SCM_RIGHTS)");
	if (fstat(v.in, &st) < 0 || S_ISDIR(st.st_mode) ||
	    (fcntl(v.in, F_GETFL) & O_ACCMODE) == O_WRONLY)
		return api_fail(c, JSONRPC_INVALID_PARAMS, "the file sent is not readable data");
	if (json_object_object_get_ex(c->params, "size", NULL) &&
	    (!json_get_int64(c->params, "size", &v.size) || v.size < 0 ||
	     (uint64_t)v.size > IMAGE_MAX_SIZE))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.size is not a size in bytes");
	v.stream = !S_ISREG(st.st_mode);
	v.out = image_create_file(path, c->err, sizeof(c->err));
	if (v.out < 0) {
		c->code = v.out == -EEXIST ? "volume-exists" : "io-error";
		return NULL;
	}
	volume_copy_start(c, NULL, path, &v, upload_done);
	return NULL;
}
