/*
 * Which host files a caller may hand a guest.
 *
 * NOTES
 * - vmm opens a VM's files as root before it gives root up, so a
 *   definition that names a host file hands the guest that file. Root
 *   (uid 0) may name any file. Any other caller, such as the portal in
 *   group webkvm, may name only volumes of started pools, and for kernels
 *   and initrds also files under the folders the admin gave with
 *   --kernel-dir. Otherwise a compromised portal could boot a guest on
 *   /etc/shadow.
 * - The host files of a definition are its kernel, its initrd, its disks
 *   (domain_xml.c accepts no other: consoles are vmmd's own sockets, the
 *   rng backend is one of two fixed devices, <emulator> is kept for
 *   dumpxml and never run) and, since vmm follows them, the backing chain
 *   of each qcow2 disk.
 * - A volume is a regular file directly in a started pool's folder: the
 *   file's folder, resolved (realpath), must be the pool's folder,
 *   resolved, and the file itself is looked at from there without
 *   following a symlink (fstatat, AT_SYMLINK_NOFOLLOW). So a symlink in a
 *   pool is never a volume, wherever it points, as vol.list does not list
 *   one either.
 * - A file under a kernel folder is resolved whole (realpath): a symlink
 *   there may point within the folder, not out of it.
 * - Checked whenever a definition is stored for such a caller (define,
 *   clone, attach-disk, detach-disk: the whole definition) and at each
 *   start, since a pool may have stopped or a file changed meanwhile.
 * - Pools: a caller other than root may define one only in a folder under
 *   a --pool-root; else it could make /etc a pool and its files volumes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/image_mark.h"
#include "vmm/disk/image.h"
#include "vmm/service/vmmd.h"

#define BACKING_MAX_DEPTH 16 /* as vmm's qcow2 code */
#define NOT_ALLOWED "path-not-allowed"

bool hostfile_is_volume(const struct vmmd *d, const char *path)
{
	char dir[PATH_MAX], rdir[PATH_MAX], rpool[PATH_MAX];
	const char *base = strrchr(path, '/');
	struct stat st;

	if (path[0] != '/' || !base || !volume_name_valid(base + 1) ||
	    (size_t)(base - path) >= sizeof(dir))
		return false;
	snprintf(dir, sizeof(dir), "%.*s", base == path ? 1 : (int)(base - path), path);
	if (!realpath(dir, rdir))
		return false;
	for (unsigned int i = 0; i < d->npools; i++) {
		const struct pool *p = d->pools[i];
		int dfd;
		bool regular;

		if (!p->active || !realpath(p->def->path, rpool) || strcmp(rdir, rpool) != 0)
			continue;
		dfd = open(rpool, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		regular = fstatat(dfd, base + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			  S_ISREG(st.st_mode);
		close(dfd);
		if (regular)
			return true;
	}
	return false;
}

/* Is path (resolved) strictly inside one of dirs (each resolved)? */
static bool under_dirs(const char *path, const char *const *dirs, unsigned int ndirs)
{
	char rdir[PATH_MAX];

	for (unsigned int i = 0; i < ndirs; i++) {
		size_t n;

		if (!realpath(dirs[i], rdir))
			continue;
		n = strlen(rdir);
		if (n == 1)
			n = 0; /* "/" */
		if (strncmp(path, rdir, n) == 0 && path[n] == '/' && path[n + 1])
			return true;
	}
	return false;
}

static bool in_kernel_dir(const struct vmmd *d, const char *path)
{
	char rpath[PATH_MAX];
	struct stat st;

	return d->nkernel_dirs && realpath(path, rpath) && stat(rpath, &st) == 0 &&
	       S_ISREG(st.st_mode) && under_dirs(rpath, d->kernel_dirs, d->nkernel_dirs);
}

static int check_boot_file(const struct vmmd *d, const char *what, const char *path, char *err,
			   size_t errlen)
{
	if (hostfile_is_volume(d, path) || in_kernel_dir(d, path))
		return 0;
	return error_set(err, errlen, -EPERM,
			 "%s %s is not a volume of a started pool nor a file in a kernel folder "
			 "(vmmd --kernel-dir); only root may name other host files",
			 what, path);
}

/* Whether path is marked as made a qcow2 (common/image_mark.h). */
static bool made_qcow2(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	bool qcow2 = fd >= 0 && image_mark_get(fd) == 1;

	if (fd >= 0)
		close(fd);
	return qcow2;
}

/* vmm opens a qcow2 disk's backing chain too: each file in it must be a volume. */
static int check_backing(const struct vmmd *d, const char *disk, char *err, size_t errlen)
{
	char path[PATH_MAX], next[PATH_MAX], dir[PATH_MAX], why[256];
	struct image_info info;
	bool named_qcow2 = true; /* the disk's driver says so; then each backing format */

	snprintf(path, sizeof(path), "%s", disk);
	for (unsigned int depth = 0;; depth++) {
		if (image_probe(path, &info, why, sizeof(why)) < 0)
			return error_set(err, errlen, -EPERM,
					 "disk %s: its backing chain cannot be checked (%s); only "
					 "root may name such files",
					 disk, why);
		/* a file made raw has a guest's first bytes: not a qcow2 header to follow */
		if (named_qcow2 && info.marked && !info.qcow2)
			return error_set(err, errlen, -EPERM,
					 "disk %s: %s was made as a raw image and is not read as a qcow2",
					 disk, path);
		if (!info.qcow2 || !info.backing[0])
			return 0;
		if (depth == BACKING_MAX_DEPTH)
			return error_set(err, errlen, -EPERM,
					 "disk %s has a backing chain deeper than %d files", disk,
					 BACKING_MAX_DEPTH);
		/* as vmm reads the name: relative to the image's own folder */
		if (info.backing[0] == '/') {
			snprintf(next, sizeof(next), "%s", info.backing);
		} else {
			const char *slash = strrchr(path, '/');

			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
			if ((size_t)snprintf(next, sizeof(next), "%s/%s", dir, info.backing) >=
			    sizeof(next))
				return error_set(err, errlen, -EPERM,
						 "disk %s has a backing file name too long", disk);
		}
		if (!hostfile_is_volume(d, next))
			return error_set(err, errlen, -EPERM,
					 "disk %s has the backing file %s, which is not a volume of "
					 "a started pool; only root may name other host files",
					 disk, info.backing);
		/* a backing file said to be raw is opened as raw: the chain ends there */
		if (strcmp(info.backing_format, "raw") == 0)
			return 0;
		named_qcow2 = strcmp(info.backing_format, "qcow2") == 0;
		snprintf(path, sizeof(path), "%s", next);
	}
}

int hostfile_check_domain(const struct vmmd *d, const struct domain_def *def, uid_t uid,
			  const char **code, char *err, size_t errlen)
{
	if (uid == 0)
		return 0;
	*code = NOT_ALLOWED;
	if (check_boot_file(d, "kernel", def->kernel, err, errlen) < 0 ||
	    (def->initrd && check_boot_file(d, "initrd", def->initrd, err, errlen) < 0))
		return -1;
	for (unsigned int i = 0; i < def->ndisks; i++) {
		const struct domain_disk *k = &def->disks[i];

		if (!hostfile_is_volume(d, k->file))
			return error_set(err, errlen, -1,
					 "disk %s is not a volume of a started pool; only root may "
					 "name other host files",
					 k->file);
		/* its guest would write the header of a qcow2 that vmmd and vmm go by */
		if (k->format == DISK_FORMAT_RAW && !k->readonly && made_qcow2(k->file))
			return error_set(err, errlen, -1,
					 "disk %s was made as a qcow2 image and is not written as raw",
					 k->file);
		if (k->format == DISK_FORMAT_QCOW2 && check_backing(d, k->file, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int hostfile_check_pool(const struct vmmd *d, const char *path, uid_t uid, const char **code,
			char *err, size_t errlen)
{
	char rpath[PATH_MAX], dir[PATH_MAX], rdir[PATH_MAX];
	const char *base = strrchr(path, '/');

	if (uid == 0)
		return 0;
	*code = NOT_ALLOWED;
	/* the folder may not exist yet (pool.start makes it): then its parent must */
	if (!realpath(path, rpath)) {
		snprintf(dir, sizeof(dir), "%.*s", base == path ? 1 : (int)(base - path), path);
		if (!realpath(dir, rdir) ||
		    (size_t)snprintf(rpath, sizeof(rpath), "%s/%s", strcmp(rdir, "/") ? rdir : "",
				     base + 1) >= sizeof(rpath))
			rpath[0] = '\0';
	}
	if (rpath[0] && under_dirs(rpath, d->pool_roots, d->npool_roots))
		return 0;
	return error_set(err, errlen, -1,
			 "pool folder %s is not under a folder for pools (vmmd --pool-root); only "
			 "root may make other host folders pools",
			 path);
}
