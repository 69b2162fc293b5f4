/*
 * Uploading a file into a storage pool (admins): an image, a kernel, an
 * initrd or an ISO, of any size.
 *
 * nginx hands the body on as it arrives (no copy in its own temporary
 * files); the portal hands vmmd's vol.upload the read end of a pipe and
 * writes the body into it as it comes, while vmmd's child writes it into
 * the pool under the name given (vmmd's rules for names, never a path),
 * runs of zeros as holes: the bytes are written to a disk once, and the
 * portal never holds the pool's file. vmmd keeps the volume only when
 * exactly Content-Length bytes came (a cut connection, a full disk, a
 * crash of either leaves nothing) and refuses a qcow2 that reads another
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/name.h"
#include "fcgi/audit.h"
#include "fcgi/format.h"
#include "fcgi/pages.h"
#include "fcgi/quota.h"
#include "fcgi/response.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define VOLUME_NAME_MAX 255
#define UPLOAD_MAX (1LL << 40)          /* 1 TiB */
#define UPLOAD_CHUNK (1 << 20)
#define UPLOAD_SLOTS 2
#define UPLOAD_LOCK_FILE "uploads.lock"
#define UPLOAD_WAIT_MS (6 * 3600 * 1000) /* nginx cuts a stalled client long before */

/*
 * One of the UPLOAD_SLOTS: an open file description lock on one byte of
 * the state folder's uploads.lock (released with the fd, or a crash).
 * The fd, -EBUSY when all are taken, or -errno.
 */
static int upload_slot(const struct app *app)
{
	int fd = state_lock_file(app, UPLOAD_LOCK_FILE);

	if (fd < 0)
		return fd;
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

/* vmmd's vol.upload, in a thread of its own while the worker feeds the pipe. */
struct upload_call {
	struct vmmd_link *vmmd;
	json_object *params; /* taken */
	int read_end;        /* sent to vmmd, then closed */
	int ret;
	char code[64], err[512];
};

static void *call_vmmd(void *arg)
{
	struct upload_call *c = arg;
	json_object *res = NULL;

	/* vmmd answers when its copy has every byte on the disk, or failed:
	 * a client that stalls is cut by nginx, which ends the stream */
	c->ret = vmmd_call_fd(c->vmmd, "vol.upload", c->params, c->read_end, UPLOAD_WAIT_MS, &res,
			      c->code, sizeof(c->code), c->err, sizeof(c->err));
	json_object_put(res);
	/* the last reader gone: a worker still writing hears it (EPIPE) */
	close(c->read_end);
	return NULL;
}

/* The whole of buf into the pipe by reference (vmsplice): 0 or -errno. */
static int splice_all(int pipe_fd, char *buf, size_t len)
{
	while (len > 0) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		ssize_t n = vmsplice(pipe_fd, &iov, 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The request's body into the pipe's write end (closed here): 0, -EPIPE
 * when vmmd stopped reading, or -EIO when the body ended early (with the
 * count in *got).
 *
 * The pipe takes the body's pages by reference (vmsplice), not a copy:
 * two halves of a ring, each as large as the pipe, filled in turn. A half
 * is refilled only once the other half is wholly in the pipe; the pipe
 * then holds nothing of the first, so vmmd has read every byte of it.
 * The ring is mapped, not allocated: pages the pipe still holds when it
 * is unmapped stay the pipe's, unchanged.
 */
static int pump(struct request *r, int write_end, long long *got)
{
	int cap = fcntl(write_end, F_GETPIPE_SZ);
	size_t half = cap > 0 ? (size_t)cap : 0;
	char *ring = half ? mmap(NULL, 2 * half, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
			  : MAP_FAILED;
	int ret = 0, i = 0;

	*got = 0;
	if (ring == MAP_FAILED)
		ret = half ? -errno : -EINVAL;
	for (; ret == 0 && *got < r->file_length; i ^= 1) {
		long long left = r->file_length - *got;
		size_t want = left < (long long)half ? (size_t)left : half, have = 0;
		char *buf = ring + (size_t)i * half;

		/* the pipe grew since: a half is no longer sure to be read */
		if (fcntl(write_end, F_GETPIPE_SZ) != cap) {
			ret = -EINVAL;
			break;
		}
		while (have < want) {
			int n = FCGX_GetStr(buf + have, (int)(want - have), r->file_body);

			if (n <= 0)
				break;
			have += (size_t)n;
		}
		ret = splice_all(write_end, buf, have);
		if (ret == 0)
			*got += (long long)have;
		if (ret == 0 && have < want)
			ret = -EIO;
	}
	if (ring != MAP_FAILED)
		munmap(ring, 2 * half);
	close(write_end);
	return ret;
}

int page_volume_upload(struct request *r)
{
	const char *name = params_get(&r->query, "name");
	char back[VM_NAME_MAX + 8], object[VM_NAME_MAX + VOLUME_NAME_MAX + 2], code[64], err[512];
	char size[32];
	json_object *params, *res = NULL;
	struct upload_call call;
	pthread_t thread;
	int slot, ret, pipe_fds[2];
	long long got;

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
	ret = vmmd_call(r->vmmd, "vol.info", json_object_get(params), &res, code, sizeof(code), err,
			sizeof(err));
	if (ret == 0 || strcmp(code, "no-volume")) {
		json_object_put(params);
		json_object_put(res);
		if (ret < 0) {
			audit_log(r, "upload volume", object, err);
			return respond_vmmd_refused(r, back, code, err);
		}
		snprintf(err, sizeof(err), "The pool %s has a volume named %s already.", r->args[0], name);
		audit_log(r, "upload volume", object, err);
		respond_refusal_kind(r, 409, "conflict");
		return respond_redirect_error(r, back, "%s", err);
	}
	slot = upload_slot(r->app);
	if (slot < 0) {
		json_object_put(params);
		audit_log(r, "upload volume", object, "refused: busy");
		respond_refusal_kind(r, 503, "busy");
		if (slot == -EBUSY)
			return respond_redirect_error(r, back, "%d uploads are running; try again when one is done.",
						      UPLOAD_SLOTS);
		return respond_error(r, 500, "The portal's upload lock failed: %s.", strerror(-slot));
	}
	if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
		close(slot);
		json_object_put(params);
		return respond_error(r, 500, "The portal cannot make a pipe: %s.", strerror(errno));
	}
	/* fewer wake-ups on both sides */
	fcntl(pipe_fds[1], F_SETPIPE_SZ, UPLOAD_CHUNK);
	json_object_object_add(params, "size", json_object_new_int64(r->file_length));
	call = (struct upload_call){ .vmmd = r->vmmd, .params = params, .read_end = pipe_fds[0] };
	if (pthread_create(&thread, NULL, call_vmmd, &call) != 0) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		close(slot);
		json_object_put(params);
		return respond_error(r, 500, "The portal cannot start the upload.");
	}
	ret = pump(r, pipe_fds[1], &got);
	pthread_join(thread, NULL);
	close(slot);
	if (ret == -EIO)
		snprintf(err, sizeof(err), "The upload ended after %lld of %lld bytes; nothing was kept.",
			 got, r->file_length);
	else if (call.ret < 0)
		snprintf(err, sizeof(err), "%s", call.err);
	else if (ret < 0)
		snprintf(err, sizeof(err), "The upload failed: %s; nothing was kept.", strerror(-ret));
	if (ret < 0 || call.ret < 0) {
		audit_log(r, "upload volume", object, err);
		if (ret != -EIO && call.ret < 0)
			return respond_vmmd_refused(r, back, call.code, err);
		return respond_redirect_error(r, back, "%s", err);
	}
	audit_log(r, "upload volume", object, "ok");
	format_kib(size, sizeof(size), r->file_length / 1024);
	return respond_redirect(r, back, "%s was uploaded (%s).", name, size);
}
