/*
 * Storage pools (folders of image files) and their volumes.
 *
 * NOTES
 * - Definitions in STATE/pools/NAME.xml, autostart marks in
 *   STATE/pool-autostart/NAME. A started pool is marked in
 *   RUN/pools/NAME, so it stays started across a vmmd restart (not across
 *   a host reboot: then autostart decides, as with libvirt).
 * - A volume is a regular file directly in the pool's folder. Names are
 *   checked (volume_name_valid) and files opened with O_NOFOLLOW, so a
 *   request cannot reach outside the pool.
 * - New files are created with O_EXCL: an existing volume is never
 *   overwritten.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "vmm/disk/image.h"
#include "vmm/service/vmmd.h"

static void active_mark(const struct vmmd *d, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pools/%s", d->run_dir, name);
}

struct pool *pool_find(struct vmmd *d, const char *name)
{
	for (unsigned int i = 0; i < d->npools; i++)
		if (strcmp(d->pools[i]->def->name, name) == 0)
			return d->pools[i];
	return NULL;
}

static struct pool *pool_find_uuid(struct vmmd *d, const char *uuid)
{
	for (unsigned int i = 0; i < d->npools; i++)
		if (strcmp(d->pools[i]->def->uuid, uuid) == 0)
			return d->pools[i];
	return NULL;
}

static int pool_add(struct vmmd *d, struct pool_def *def, struct pool **ret)
{
	struct pool **p = realloc(d->pools, (d->npools + 1) * sizeof(*p));
	struct pool *pool;

	if (!p)
		return -ENOMEM;
	d->pools = p;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->def = def;
	d->pools[d->npools++] = pool;
	*ret = pool;
	return 0;
}

static int load_one(struct vmmd *d, const char *name, const char *xml, size_t len, char *err,
		    size_t errlen)
{
	struct pool_def *def;
	struct pool *pool;
	char mark[4096];

	if (pool_def_parse(&def, xml, len, err, errlen) < 0)
		return -EINVAL;
	if (strcmp(def->name, name) != 0 || pool_find(d, def->name) ||
	    pool_find_uuid(d, def->uuid)) {
		pool_def_free(def);
		return error_set(err, errlen, -EINVAL, "the name or uuid inside does not fit");
	}
	if (pool_add(d, def, &pool) < 0) {
		pool_def_free(def);
		return error_set(err, errlen, -ENOMEM, "out of memory");
	}
	pool->autostart = store_marked(d, "pool-autostart", def->name);
	active_mark(d, def->name, mark, sizeof(mark));
	pool->active = access(mark, F_OK) == 0;
	return 0;
}

int pools_load(struct vmmd *d)
{
	return store_load(d, "pools", POOL_XML_MAX, load_one);
}

void pools_autostart(struct vmmd *d)
{
	const char *code;
	char err[512];

	for (unsigned int i = 0; i < d->npools; i++)
		if (d->pools[i]->autostart && !d->pools[i]->active &&
		    pool_start(d, d->pools[i], &code, err, sizeof(err)) < 0)
			log_error("pool autostart: %s", err);
}

void pools_release(struct vmmd *d)
{
	for (unsigned int i = 0; i < d->npools; i++) {
		pool_def_free(d->pools[i]->def);
		free(d->pools[i]);
	}
	free(d->pools);
	d->pools = NULL;
	d->npools = 0;
}

int pool_define(struct vmmd *d, const char *xml, size_t len, uid_t uid, struct pool **ret,
		const char **code, char *err, size_t errlen)
{
	struct pool_def *def;
	struct pool *pool, *same_uuid;
	char *text;
	int r;

	*code = "invalid-xml";
	if (pool_def_parse(&def, xml, len, err, errlen) < 0)
		return -1;
	if (hostfile_check_pool(d, def->path, uid, code, err, errlen) < 0)
		goto fail;
	pool = pool_find(d, def->name);
	same_uuid = pool_find_uuid(d, def->uuid);
	*code = "pool-exists";
	if (pool && strcmp(pool->def->uuid, def->uuid) != 0 && def->uuid_given) {
		error_set(err, errlen, -EEXIST, "a pool named %s exists with another uuid (%s)",
			  def->name, pool->def->uuid);
		goto fail;
	}
	if (same_uuid && same_uuid != pool) {
		error_set(err, errlen, -EEXIST, "uuid %s belongs to the pool %s", def->uuid,
			  same_uuid->def->name);
		goto fail;
	}
	for (unsigned int i = 0; i < d->npools; i++) {
		if (d->pools[i] != pool && strcmp(d->pools[i]->def->path, def->path) == 0) {
			error_set(err, errlen, -EEXIST, "the pool %s already has the folder %s",
				  d->pools[i]->def->name, def->path);
			goto fail;
		}
	}
	if (pool && pool->active && strcmp(pool->def->path, def->path) != 0) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "%s is started; stop it to change its folder",
			  def->name);
		goto fail;
	}
	*code = "internal-error";
	if (pool && strcmp(pool->def->uuid, def->uuid) != 0 &&
	    pool_def_set_uuid(def, pool->def->uuid) < 0) {
		error_set(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	text = pool_def_format(def);
	if (!text) {
		error_set(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	r = store_save(d, "pools", def->name, text, err, errlen);
	free(text);
	if (r < 0) {
		*code = "io-error";
		goto fail;
	}
	if (pool) {
		pool_def_free(pool->def);
		pool->def = def;
	} else if (pool_add(d, def, &pool) < 0) {
		store_remove(d, "pools", def->name, err, errlen);
		error_set(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	*ret = pool;
	return 0;
fail:
	pool_def_free(def);
	return -1;
}

int pool_undefine(struct vmmd *d, struct pool *pool, const char **code, char *err, size_t errlen)
{
	if (pool->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "%s is started; stop it first", pool->def->name);
		return -1;
	}
	if (store_remove(d, "pools", pool->def->name, err, errlen) < 0) {
		*code = "io-error";
		return -1;
	}
	store_mark(d, "pool-autostart", pool->def->name, false, err, errlen);
	for (unsigned int i = 0; i < d->npools; i++) {
		if (d->pools[i] == pool) {
			d->pools[i] = d->pools[--d->npools];
			break;
		}
	}
	pool_def_free(pool->def);
	json_object_put(pool->probes);
	free(pool);
	return 0;
}

int pool_start(struct vmmd *d, struct pool *pool, const char **code, char *err, size_t errlen)
{
	char mark[4096];
	struct stat st;
	int fd;

	*code = "pool-failed";
	if (pool->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "%s is already started", pool->def->name);
		return -1;
	}
	/* the folder is made if missing (libvirt's pool-build) */
	if (mkdir(pool->def->path, 0711) < 0 && errno != EEXIST) {
		error_set(err, errlen, -errno, "cannot create %s: %s", pool->def->path,
			  strerror(errno));
		return -1;
	}
	if (lstat(pool->def->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error_set(err, errlen, -ENOTDIR, "%s is not a folder", pool->def->path);
		return -1;
	}
	active_mark(d, pool->def->name, mark, sizeof(mark));
	fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set(err, errlen, -errno, "cannot create %s: %s", mark, strerror(errno));
		return -1;
	}
	close(fd);
	pool->active = true;
	return 0;
}

int pool_stop(struct vmmd *d, struct pool *pool, const char **code, char *err, size_t errlen)
{
	char mark[4096];

	if (!pool->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EINVAL, "%s is not started", pool->def->name);
		return -1;
	}
	active_mark(d, pool->def->name, mark, sizeof(mark));
	unlink(mark);
	pool->active = false;
	return 0;
}

int pool_set_autostart(struct vmmd *d, struct pool *pool, bool on, char *err, size_t errlen)
{
	int r = store_mark(d, "pool-autostart", pool->def->name, on, err, errlen);

	if (r == 0)
		pool->autostart = on;
	return r;
}

void pool_space(const struct pool *pool, uint64_t *capacity, uint64_t *allocation,
		uint64_t *available)
{
	struct statvfs sv;

	*capacity = *allocation = *available = 0;
	if (!pool->active || statvfs(pool->def->path, &sv) < 0)
		return;
	*capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
	*available = (uint64_t)sv.f_bavail * sv.f_frsize;
	*allocation = *capacity - (uint64_t)sv.f_bfree * sv.f_frsize;
}

int volume_path(const struct pool *pool, const char *name, char *buf, size_t len,
		const char **code, char *err, size_t errlen)
{
	if (!volume_name_valid(name)) {
		*code = "invalid-params";
		error_set(err, errlen, -EINVAL,
			  "'%s' is not a volume name (no '/', not starting with '.')", name);
		return -1;
	}
	if (!pool->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EINVAL, "the pool %s is not started", pool->def->name);
		return -1;
	}
	if (snprintf(buf, len, "%s/%s", pool->def->path, name) >= (int)len) {
		*code = "invalid-params";
		error_set(err, errlen, -ENAMETOOLONG, "the volume's path is too long");
		return -1;
	}
	return 0;
}

/* Each volume (a regular file, not hidden) in the pool's folder. */
/* What makes a file the same file with the same bytes, as far as its header goes. */
static void file_key(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%llx:%llx:%llx:%llx.%lx:%llx.%lx", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		 (unsigned long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* The portal's template marks hold for one file, not for a name. */
void pool_file_id(const char *path, char *id, size_t len)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &stx) < 0) {
		snprintf(id, len, "-");
		return;
	}
	if (stx.stx_mask & STATX_BTIME)
		snprintf(id, len, "%" PRIx64 ":%" PRId64 ".%09u", (uint64_t)stx.stx_ino,
			 (int64_t)stx.stx_btime.tv_sec, stx.stx_btime.tv_nsec);
	else
		snprintf(id, len, "%" PRIx64, (uint64_t)stx.stx_ino);
}

/* The format the VMs' definitions give the file st: 0 raw (if any has it raw), 1 qcow2, -1 none. */
static int declared_format(const struct vmmd *d, const struct stat *st)
{
	int format = -1;

	for (unsigned int i = 0; i < d->ndomains && format != 0; i++) {
		const struct domain_def *def = d->domains[i]->def;

		for (unsigned int k = 0; k < def->ndisks && format != 0; k++) {
			struct stat ds;

			if (stat(def->disks[k].file, &ds) == 0 && ds.st_dev == st->st_dev &&
			    ds.st_ino == st->st_ino)
				format = def->disks[k].format == DISK_FORMAT_QCOW2;
		}
	}
	return format;
}

void pool_settle_format(const struct vmmd *d, const char *path, struct image_info *info)
{
	struct stat st;
	int declared;
	char err[256];

	if (info->marked || stat(path, &st) < 0)
		return;
	declared = declared_format(d, &st);
	if (image_mark(path, declared >= 0 ? declared == 1 : info->qcow2) == 0 && declared >= 0 &&
	    (declared == 1) != info->qcow2 && image_probe(path, info, err, sizeof(err)) < 0)
		*info = (struct image_info){ .capacity = (uint64_t)st.st_size,
					     .allocation = (uint64_t)st.st_blocks * 512 };
}

/* The header of name (st its stat) and its id from the kept probes, or read and kept in next. */
static int probe(const struct vmmd *d, struct pool *pool, json_object *next, const char *name,
		 const struct stat *st, struct image_info *info, char *id, size_t idlen)
{
	char key[160], path[4096], err[256];
	json_object *kept = NULL;
	const char *s;

	file_key(st, key, sizeof(key));
	if (pool->probes && json_object_object_get_ex(pool->probes, name, &kept) &&
	    json_get_string(kept, "key", &s) && strcmp(s, key) == 0) {
		int64_t v = 0;

		memset(info, 0, sizeof(*info));
		json_get_int64(kept, "capacity", &v);
		info->capacity = (uint64_t)v;
		info->qcow2 = json_object_get_boolean(json_object_object_get(kept, "qcow2"));
		if (json_get_string(kept, "backing", &s))
			snprintf(info->backing, sizeof(info->backing), "%s", s);
		if (json_get_string(kept, "backing_format", &s))
			snprintf(info->backing_format, sizeof(info->backing_format), "%s", s);
		/* the space taken changes without a write to the header */
		info->allocation = (uint64_t)st->st_blocks * 512;
		snprintf(id, idlen, "%s", json_object_get_string(json_object_object_get(kept, "id")));
		json_object_object_add(next, name, json_object_get(kept));
		return 0;
	}
	if (snprintf(path, sizeof(path), "%s/%s", pool->def->path, name) >= (int)sizeof(path) ||
	    image_probe(path, info, err, sizeof(err)) < 0)
		return -1;
	/* first sight (the mark changes its ctime: the next listing probes it once more) */
	pool_settle_format(d, path, info);
	pool_file_id(path, id, idlen);
	kept = json_object_new_object();
	json_object_object_add(kept, "key", json_object_new_string(key));
	json_object_object_add(kept, "id", json_object_new_string(id));
	json_object_object_add(kept, "capacity", json_object_new_int64((int64_t)info->capacity));
	json_object_object_add(kept, "qcow2", json_object_new_boolean(info->qcow2));
	if (info->backing[0])
		json_object_object_add(kept, "backing", json_object_new_string(info->backing));
	if (info->backing_format[0])
		json_object_object_add(kept, "backing_format",
				       json_object_new_string(info->backing_format));
	json_object_object_add(next, name, kept);
	return 0;
}

int pool_volumes(const struct vmmd *d, struct pool *pool,
		 void (*fn)(void *opaque, const char *name, const char *id,
			    const struct image_info *info),
		 void *opaque)
{
	json_object *next = json_object_new_object();
	char id[POOL_FILE_ID_MAX];
	struct image_info info;
	struct dirent *e;
	DIR *dir = opendir(pool->def->path);
	int dfd;

	if (!dir) {
		json_object_put(next);
		return -errno;
	}
	dfd = dirfd(dir);
	while ((e = readdir(dir))) {
		struct stat st;

		if (e->d_name[0] == '.' ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    probe(d, pool, next, e->d_name, &st, &info, id, sizeof(id)) < 0)
			continue;
		fn(opaque, e->d_name, id, &info);
	}
	closedir(dir);
	/* only the files there now are kept */
	json_object_put(pool->probes);
	pool->probes = next;
	return 0;
}
