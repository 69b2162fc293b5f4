/*
 * vmmd's files under its state folder: definitions (KIND/NAME.xml, each
 * written whole or not at all) and marks (empty files such as
 * autostart/NAME).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "vmm/service/vmmd.h"

void store_path(const struct vmmd *d, const char *kind, const char *name, const char *suffix,
		char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s%s", d->state_dir, kind, name, suffix);
}

int store_save(const struct vmmd *d, const char *kind, const char *name, const char *text,
	       char *err, size_t errlen)
{
	char path[4096];
	int r;

	store_path(d, kind, name, ".xml", path, sizeof(path));
	r = write_file_atomic(path, text, strlen(text), 0600);
	if (r < 0)
		return error_set(err, errlen, r, "cannot write %s: %s", path, strerror(-r));
	return 0;
}

int store_remove(const struct vmmd *d, const char *kind, const char *name, char *err,
		 size_t errlen)
{
	char path[4096];

	store_path(d, kind, name, ".xml", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return error_set(err, errlen, -errno, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

int store_mark(const struct vmmd *d, const char *kind, const char *name, bool on, char *err,
	       size_t errlen)
{
	char path[4096];
	int fd;

	store_path(d, kind, name, "", path, sizeof(path));
	if (on) {
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return error_set(err, errlen, -errno, "cannot create %s: %s", path,
					 strerror(errno));
		close(fd);
	} else if (unlink(path) < 0 && errno != ENOENT) {
		return error_set(err, errlen, -errno, "cannot remove %s: %s", path, strerror(errno));
	}
	return 0;
}

bool store_marked(const struct vmmd *d, const char *kind, const char *name)
{
	char path[4096];

	store_path(d, kind, name, "", path, sizeof(path));
	return access(path, F_OK) == 0;
}

int store_load(struct vmmd *d, const char *kind, size_t max,
	       int (*add)(struct vmmd *d, const char *name, const char *xml, size_t len, char *err,
			  size_t errlen))
{
	char dirpath[4096];
	struct dirent *e;
	DIR *dir;
	int r = 0;

	snprintf(dirpath, sizeof(dirpath), "%s/%s", d->state_dir, kind);
	dir = opendir(dirpath);
	if (!dir)
		return -errno;
	while (r != -ENOMEM && (e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		char err[512], file[4096 + 256 + 2], name[256];
		void *buf;
		size_t len;

		if (n < 5 || strcmp(e->d_name + n - 4, ".xml") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dirpath, e->d_name);
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4), e->d_name);
		r = read_file(file, max, &buf, &len);
		if (r < 0) {
			log_error("cannot read %s: %s", file, strerror(-r));
			continue;
		}
		r = add(d, name, buf, len, err, sizeof(err));
		free(buf);
		if (r < 0)
			log_error("%s: %s; left alone", file, err);
	}
	closedir(dir);
	return r == -ENOMEM ? r : 0;
}
