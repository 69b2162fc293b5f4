/*
 * vmmd's files under its state folder: definitions (KIND/NAME.xml, each
 * written whole or not at all) and marks (empty files such as
 * autostart/NAME).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
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
