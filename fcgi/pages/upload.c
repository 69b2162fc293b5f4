/*
 * Uploading a file into a storage pool (admins): an image, a kernel, an
 * initrd or an ISO, of any size.
 *
 * nginx hands the body on as it arrives (no copy in its own temporary
 * files); the portal writes it to a nameless file in its state folder
 * (O_TMPFILE: a cut connection, a full disk or a crash leaves nothing
 * behind), runs of zeros as holes, and hands the open file to vmmd's
 * vol.upload, which copies it into the pool under the name given (its own
 * rules for names, never a path) and refuses a qcow2 that reads another
 * file outside the pool. The name comes in the query (?name=NAME); the
 * CSRF token, since there is no form, in X-CSRF-Token.
 *
 * An upload holds a worker for as long as it runs: at most UPLOAD_SLOTS
 * run at once, so the pages stay served.
 */
#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/name.h"
#include "fcgi/audit.h"
#include "fcgi/format.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define VOLUME_NAME_MAX 255
#define UPLOAD_MAX (1LL << 40)          /* 1 TiB */
#define UPLOAD_CHUNK (1 << 20)
#define UPLOAD_SLOTS 2
#define UPLOAD_LOCK_FILE "uploads.lock"
#define COPY_MIN_BYTES_PER_S (20LL << 20) /* vmmd's copy is given time for at least this */

/*
 * One of the UPLOAD_SLOTS: an open file description lock on one byte of
 * the state folder's uploads.lock (released with the fd, or a crash).
 * The fd, -EBUSY when all are taken, or -errno.
 */
static int upload_slot(const struct app *app)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", app->state_dir, UPLOAD_LOCK_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < UPLOAD_SLOTS; i++) {
		struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = i, .l_len = 1 };

		if (fcntl(fd, F_OFD_SETLK, &lk) == 0)
			return fd;
		if (errno != EAGAIN && errno != EACCES) {
			int e = errno;

			close(fd);
			return -e;
		}
	}
	close(fd);
	return -EBUSY;
}

static bool all_zero(const char *buf, size_t n)
{
	return n == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0);
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The request's body in a nameless file of the state folder, rewound: the
 * fd, or -1 with a sentence in err (and the file gone with its fd).
 */
static int receive_file(struct request *r, char *err, size_t errlen)
{
	long long left = r->file_length;
	char *buf;
	int fd, ret = 0;

	fd = open(r->app->state_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "The portal cannot keep the upload: %s.", strerror(errno));
		return -1;
	}
	buf = malloc(UPLOAD_CHUNK);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "Out of memory.");
		return -1;
	}
	while (left > 0) {
		int want = left < UPLOAD_CHUNK ? (int)left : UPLOAD_CHUNK;
		int n = FCGX_GetStr(buf, want, r->file_body);

		if (n <= 0) {
			snprintf(err, errlen, "The upload ended after %lld of %lld bytes; nothing was kept.",
				 r->file_length - left, r->file_length);
			ret = -1;
			break;
		}
		/* zeros become a hole: a sparse image stays sparse on its way */
		if (all_zero(buf, (size_t)n))
			ret = lseek(fd, n, SEEK_CUR) < 0 ? -errno : 0;
		else
			ret = write_all(fd, buf, (size_t)n);
		if (ret < 0) {
			snprintf(err, errlen, "The portal could not keep the upload: %s; nothing was kept.",
				 strerror(-ret));
			break;
		}
		left -= n;
	}
	free(buf);
	if (ret == 0 && (ftruncate(fd, r->file_length) < 0 || lseek(fd, 0, SEEK_SET) < 0)) {
		snprintf(err, errlen, "The portal could not keep the upload: %s; nothing was kept.",
			 strerror(errno));
		ret = -1;
	}
	if (ret < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int page_volume_upload(struct request *r)
{
	const char *name = params_get(&r->query, "name");
	char back[VM_NAME_MAX + 8], object[VM_NAME_MAX + VOLUME_NAME_MAX + 2], code[64], err[512];
	char size[32];
	json_object *params, *res = NULL;
	long long timeout;
	int slot, fd, ret;

	if (!vm_name_valid(r->args[0]))
		return respond_error(r, 404, "There is no pool named %s.", r->args[0]);
	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	if (!name || !name_valid(name, VOLUME_NAME_MAX, "+"))
		return respond_redirect_error(r, back, "A volume's name has 1 to %d letters, digits, '-', '_', '.' "
					      "or '+', and does not start with '-' or '.'.", VOLUME_NAME_MAX);
	snprintf(object, sizeof(object), "%s/%s", r->args[0], name);
	if (r->file_length <= 0 || r->file_length > UPLOAD_MAX)
		return respond_redirect_error(r, back, "An upload has 1 byte to 1 TiB.");
	/* a name taken or a pool not started: said before the bytes come */
	params = json_object_new_object();
	json_object_object_add(params, "pool", json_object_new_string(r->args[0]));
	json_object_object_add(params, "name", json_object_new_string(name));
	if (vmmd_call(r->vmmd, "vol.info", json_object_get(params), &res, code, sizeof(code), err,
		      sizeof(err)) == 0 || strcmp(code, "no-volume")) {
		json_object_put(params);
		json_object_put(res);
		if (!code[0])
			snprintf(err, sizeof(err), "The pool %s has a volume named %s already.", r->args[0], name);
		audit_log(r, "upload volume", object, err);
		return respond_redirect_error(r, back, "%s", err);
	}
	slot = upload_slot(r->app);
	if (slot < 0) {
		json_object_put(params);
		audit_log(r, "upload volume", object, "refused: busy");
		if (slot == -EBUSY)
			return respond_redirect_error(r, back, "%d uploads are running; try again when one is done.",
						      UPLOAD_SLOTS);
		return respond_error(r, 500, "The portal's upload lock failed: %s.", strerror(-slot));
	}
	fd = receive_file(r, err, sizeof(err));
	if (fd < 0) {
		close(slot);
		json_object_put(params);
		audit_log(r, "upload volume", object, err);
		return respond_redirect_error(r, back, "%s", err);
	}
	timeout = 60000 + r->file_length / COPY_MIN_BYTES_PER_S * 1000;
	ret = vmmd_call_fd(r->vmmd, "vol.upload", params, fd, timeout > INT_MAX ? INT_MAX : (int)timeout,
			   &res, code, sizeof(code), err, sizeof(err));
	close(fd);
	close(slot);
	if (ret < 0) {
		audit_log(r, "upload volume", object, err);
		return respond_redirect_error(r, back, "%s", err);
	}
	json_object_put(res);
	audit_log(r, "upload volume", object, "ok");
	format_kib(size, sizeof(size), r->file_length / 1024);
	return respond_redirect(r, back, "%s was uploaded (%s).", name, size);
}
