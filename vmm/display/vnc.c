/*
 * VNC server.
 *
 * NOTES
 * - libvncserver speaks RFB; vmm owns the sockets. The vnc thread accepts
 *   viewers on our own listening socket and hands each to libvncserver,
 *   which in its threaded mode serves every viewer on two threads of its
 *   own: a viewer that stalls, sends garbage or hangs up mid-message
 *   holds up no one else. We keep each viewer's thread id and join it
 *   once it is done (libvncserver never does).
 * - Viewers read a shadow copy, never guest memory. Every refresh the vnc
 *   thread asks KVM which framebuffer pages the guest wrote, compares
 *   only those rows with the shadow, copies what differs and marks that
 *   rectangle: a still screen costs one ioctl a refresh and sends nothing.
 *   Without a dirty log (no VM at the moment, or a KVM without it) the
 *   whole screen is compared. The refresh slows down while nothing
 *   changes, as QEMU's does, and speeds up again on a change or on a
 *   viewer's input; with no viewer there is none at all (the dirty log
 *   keeps what happened meanwhile).
 * - Keys: a plain key event names a keysym, mapped on a US layout
 *   (keymap.c); QEMU's extended key event names the key itself, so the
 *   guest's own layout applies. libvncserver has no server side of the
 *   extension; a protocol extension of ours adds it.
 * - Pointer: to the virtio tablet once its driver runs, else as relative
 *   motion to the PS/2 mouse.
 * - The VM under the screen changes on a guest reset; input goes nowhere
 *   between vnc_detach() and the next vnc_attach().
 * - libvncserver is loaded by vnc_start (vncserver.c), so that a VM
 *   without a screen does not carry it.
 */
#include "vmm/display/vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/util.h"
#include "vmm/display/keymap.h"
#include "vmm/display/vncserver.h"
#include "vmm/virtio/input.h"

#define VNC_REFRESH_MS 30       /* while the screen changes */
#define VNC_REFRESH_IDLE_MS 240 /* the slowest, after a while of no change */
#define VNC_MAX_VIEWERS 16
#define VNC_PASSWORD_MAX 64
#define QEMU_EXT_KEY_EVENT_LEN 12 /* type, subtype, down (2), keysym (4), keycode (4) */

/* RFB pointer button mask */
#define RFB_BUTTON_LEFT 0x01
#define RFB_BUTTON_MIDDLE 0x02
#define RFB_BUTTON_RIGHT 0x04
#define RFB_WHEEL_UP 0x08
#define RFB_WHEEL_DOWN 0x10

struct vnc {
	struct vncserver rfb;        /* the library, loaded by vnc_start */
	rfbScreenInfoPtr screen;
	struct framebuffer *fb;
	uint8_t *shadow;            /* what viewers see (screen->frameBuffer) */
	uint64_t *dirty;            /* page bitmap from the dirty log */
	int listen_fd;
	char *unix_path;            /* to unlink at the end */
	int stop_fd;
	int input_fd;               /* eventfd: a viewer typed or moved */
	pthread_t thread;
	bool thread_started;
	pthread_t viewers[VNC_MAX_VIEWERS];
	unsigned int nviewers;
	char password[VNC_PASSWORD_MAX + 1];
	char *password_list[2];
	rfbProtocolExtension ext_key;
	int ext_key_encodings[2];
	bool ext_key_registered;
	/* Where input goes, and the pointer as the guest last saw it. */
	pthread_mutex_t input_lock;
	struct i8042 *kbd;
	struct virtio_input *tablet;
	int pointer_x, pointer_y;
	int pointer_mask;
};

/* libvncserver's log lines go to ours, at debug level: they are chatty. */
static void vnc_log(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = 0;
	log_debug("vnc: %s", line);
}

int vnc_parse_options(char *arg, struct vnc_options *o, char *err, size_t errlen)
{
	char *opt = strchr(arg, ',');

	memset(o, 0, sizeof(*o));
	if (opt)
		*opt++ = 0;
	if (strncmp(arg, "unix:", 5) == 0 && arg[5]) {
		o->unix_path = arg + 5;
		if (strlen(o->unix_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return error_set(err, errlen, -EINVAL, "--vnc: the socket path %s is too long",
					 o->unix_path);
	} else if (strncmp(arg, "tcp:", 4) == 0) {
		const char *host = arg + 4, *colon = strrchr(host, ':');
		size_t hlen;

		if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(o->tcp_port) ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1))
			return error_set(err, errlen, -EINVAL, "--vnc tcp:%s is not tcp:HOST:PORT", host);
		hlen = colon - host;
		if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
			host++;
			hlen -= 2;
		}
		if (hlen == 0 || hlen >= sizeof(o->tcp_host))
			return error_set(err, errlen, -EINVAL, "--vnc tcp:%s is not tcp:HOST:PORT", host);
		memcpy(o->tcp_host, host, hlen);
		memcpy(o->tcp_port, colon + 1, strlen(colon + 1) + 1);
	} else {
		return error_set(err, errlen, -EINVAL, "--vnc %s is not unix:PATH or tcp:HOST:PORT", arg);
	}
	while (opt && *opt) {
		char *next = strchr(opt, ',');

		if (next)
			*next++ = 0;
		if (strncmp(opt, "password=", 9) == 0 && opt[9])
			o->password_file = opt + 9;
		else
			return error_set(err, errlen, -EINVAL, "--vnc: unknown option %s", opt);
		opt = next;
	}
	return 0;
}

/* The first line of the password file; VNC authentication uses 8 characters of it. */
static int read_password(struct vnc *vnc, const char *path, char *err, size_t errlen)
{
	void *data = NULL;
	char *buf;
	size_t len;
	int r = read_file(path, VNC_PASSWORD_MAX + 2, &data, &len);

	if (r < 0)
		return error_set(err, errlen, r, "cannot read the VNC password file %s: %s", path,
				 r == -EFBIG ? "longer than a password" : strerror(-r));
	buf = data;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			len = i;
			break;
		}
	}
	if (len == 0 || len > VNC_PASSWORD_MAX || memchr(buf, 0, len)) {
		free(buf);
		return error_set(err, errlen, -EINVAL,
				 "the VNC password file %s must hold one line of 1 to %d characters",
				 path, VNC_PASSWORD_MAX);
	}
	memcpy(vnc->password, buf, len);
	vnc->password[len] = 0;
	free(buf);
	vnc->password_list[0] = vnc->password;
	vnc->password_list[1] = NULL;
	return 0;
}

static int listen_unix(struct vnc *vnc, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	/* A socket left by an earlier run is replaced; any other file is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return error_set(err, errlen, -EEXIST,
					 "--vnc: %s exists and is not a socket", path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_set(err, errlen, -errno, "cannot create a socket: %s", strerror(errno));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
		int r = -errno;

		close(fd);
		return error_set(err, errlen, r, "cannot listen on %s: %s", path, strerror(-r));
	}
	vnc->listen_fd = fd;
	vnc->unix_path = strdup(path);
	return 0;
}

static int listen_tcp(struct vnc *vnc, const char *host, const char *port, char *err,
		      size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai;
	int fd, r, one = 1;

	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0)
		return error_set(err, errlen, -EINVAL, "--vnc: %s port %s is not a numeric address: %s",
				 host, port, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		freeaddrinfo(ai);
		return error_set(err, errlen, r, "cannot create a socket: %s", strerror(-r));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		freeaddrinfo(ai);
		return error_set(err, errlen, r, "cannot listen on %s port %s: %s", host, port,
				 strerror(-r));
	}
	freeaddrinfo(ai);
	vnc->listen_fd = fd;
	return 0;
}

/* Input */

/* The guest will likely redraw soon: refresh at full speed. */
static void input_arrived(struct vnc *vnc)
{
	uint64_t one = 1;

	if (write(vnc->input_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the vnc thread wakes anyway */
	}
}

static void deliver_key(struct vnc *vnc, unsigned int xt, bool down)
{
	if (!xt)
		return;
	pthread_mutex_lock(&vnc->input_lock);
	if (vnc->kbd)
		i8042_kbd_key(vnc->kbd, xt, down);
	pthread_mutex_unlock(&vnc->input_lock);
	input_arrived(vnc);
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc *vnc = cl->screen->screenData;

	deliver_key(vnc, keymap_xt_of_keysym(keysym), down);
}

/* RFB's button mask (left, middle, right) in the PS/2 and evdev order (left, right, middle). */
static unsigned int buttons_of_mask(int mask)
{
	return (mask & RFB_BUTTON_LEFT ? 1 : 0) | (mask & RFB_BUTTON_RIGHT ? 2 : 0) |
	       (mask & RFB_BUTTON_MIDDLE ? 4 : 0);
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc *vnc = cl->screen->screenData;
	unsigned int w = vnc->fb->width, h = vnc->fb->height;
	int wheel = (mask & RFB_WHEEL_UP ? 1 : 0) - (mask & RFB_WHEEL_DOWN ? 1 : 0);

	x = x < 0 ? 0 : x >= (int)w ? (int)w - 1 : x;
	y = y < 0 ? 0 : y >= (int)h ? (int)h - 1 : y;
	pthread_mutex_lock(&vnc->input_lock);
	if (vnc->tablet && virtio_input_ready(vnc->tablet)) {
		virtio_input_tablet_event(vnc->tablet,
					  (unsigned int)x * VIRTIO_INPUT_ABS_MAX / (w - 1),
					  (unsigned int)y * VIRTIO_INPUT_ABS_MAX / (h - 1),
					  buttons_of_mask(mask), wheel);
	} else if (vnc->kbd && (x != vnc->pointer_x || y != vnc->pointer_y ||
				(mask & 7) != (vnc->pointer_mask & 7))) {
		i8042_aux_motion(vnc->kbd, x - vnc->pointer_x, vnc->pointer_y - y,
				 buttons_of_mask(mask));
	}
	vnc->pointer_x = x;
	vnc->pointer_y = y;
	vnc->pointer_mask = mask;
	pthread_mutex_unlock(&vnc->input_lock);
	input_arrived(vnc);
}

/*
 * QEMU extended key event: the viewer asks with pseudo-encoding -258 and
 * the server confirms with an empty rectangle of that encoding. The
 * confirmation goes after the update that carries libvncserver's list of
 * supported messages (and after a pending size change, which goes alone):
 * a viewer that reads that list (libvncclient) would otherwise forget it.
 */
#define EXT_KEY_CONFIRM ((void *)1)

static rfbBool ext_key_enable(rfbClientPtr cl, void **data, int encoding)
{
	if (encoding != (int)rfbEncodingQemuExtendedKeyEvent)
		return FALSE;
	(void)data;
	log_debug("vnc: viewer %s has the extended key event", cl->host);
	/* Viewers ask for a whole screen after this, and the hook follows it. */
	pthread_mutex_lock(&cl->sendMutex);
	cl->clientData = EXT_KEY_CONFIRM;
	pthread_mutex_unlock(&cl->sendMutex);
	return TRUE;
}

/* After each update, with the client's send lock held. */
static void ext_key_confirm(rfbClientPtr cl, int result)
{
	static const uint8_t msg[4 + 12] = {
		rfbFramebufferUpdate, 0, 0, 1,       /* one rectangle */
		0, 0, 0, 0, 0, 0, 0, 0,              /* x, y, w, h: empty */
		0xff, 0xff, 0xfe, 0xfe,              /* encoding -258 */
	};

	struct vnc *vnc = cl->screen->screenData;

	if (!result || cl->clientData != EXT_KEY_CONFIRM || cl->enableSupportedMessages ||
	    cl->newFBSizePending)
		return;
	cl->clientData = NULL;
	if (vnc->rfb.rfbWriteExact(cl, (const char *)msg, sizeof(msg)) < 0)
		vnc->rfb.rfbCloseClient(cl);
}

/*
 * libvncserver 0.9.14 frees a viewer without the records of the
 * extensions it enabled (rfbDisableExtension() leaks them too); free ours
 * while the viewer still exists. Their data is always NULL.
 */
static void viewer_gone(rfbClientPtr cl)
{
	struct vnc *vnc = cl->screen->screenData;
	rfbExtensionData **p = &cl->extensions;

	while (*p) {
		rfbExtensionData *e = *p;

		if (e->extension == &vnc->ext_key) {
			*p = e->next;
			free(e);
		} else {
			p = &e->next;
		}
	}
}

static rfbBool ext_key_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
	struct vnc *vnc = cl->screen->screenData;
	uint8_t m[QEMU_EXT_KEY_EVENT_LEN];
	unsigned int xt;
	int n;
	(void)data;

	if (msg->type != rfbQemuEvent)
		return FALSE;
	n = vnc->rfb.rfbReadExact(cl, (char *)m + 1, sizeof(m) - 1);
	if (n <= 0) {
		vnc->rfb.rfbCloseClient(cl);
		return TRUE;
	}
	if (m[1] != 0) { /* only the key event of QEMU's messages (audio is 1) */
		vnc_log("viewer sent QEMU message %u, which this server lacks; closing it", m[1]);
		vnc->rfb.rfbCloseClient(cl);
		return TRUE;
	}
	xt = (uint32_t)m[8] << 24 | (uint32_t)m[9] << 16 | (uint32_t)m[10] << 8 | m[11];
	if (xt == 0 || xt > 0xff)
		xt = keymap_xt_of_keysym((uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 |
					 (uint32_t)m[6] << 8 | m[7]);
	deliver_key(vnc, xt, m[2] || m[3]);
	return TRUE;
}

/* The framebuffer */

static bool mark(struct vnc *vnc, int x0, int y0, int x1, int y1)
{
	if (x0 >= x1)
		return false;
	vnc->rfb.rfbMarkRectAsModified(vnc->screen, x0, y0, x1, y1);
	return true;
}

/* Copy what changed in rows [y0, y1) into the shadow and mark it; whether anything did. */
static bool refresh_rows(struct vnc *vnc, unsigned int y0, unsigned int y1)
{
	struct framebuffer *fb = vnc->fb;
	size_t row = (size_t)fb->width * FB_BYTES_PER_PIXEL;
	int bx0 = INT32_MAX, bx1 = -1, by0 = 0, by1 = 0;

	for (unsigned int y = y0; y < y1; y++) {
		const uint32_t *g = (const uint32_t *)(fb->mem + (size_t)y * fb->stride);
		uint32_t *s = (uint32_t *)(vnc->shadow + (size_t)y * row);
		unsigned int l = 0, r = fb->width;

		if (memcmp(g, s, row) == 0)
			continue;
		/* Bounded: the guest may write the old pixels back meanwhile. */
		while (l < r && g[l] == s[l])
			l++;
		while (r > l && g[r - 1] == s[r - 1])
			r--;
		if (l == r)
			continue;
		memcpy(s + l, g + l, (size_t)(r - l) * FB_BYTES_PER_PIXEL);
		if (bx1 < 0)
			by0 = y;
		by1 = y + 1;
		bx0 = MIN(bx0, (int)l);
		bx1 = MAX(bx1, (int)r);
	}
	return mark(vnc, bx0, by0, bx1, by1);
}

/* Whether the screen changed. */
static bool refresh(struct vnc *vnc)
{
	struct framebuffer *fb = vnc->fb;
	size_t visible = (size_t)fb->stride * fb->height;
	size_t pages = DIV_ROUND_UP(visible, FB_PAGE);
	bool changed = false;

	if (!framebuffer_take_dirty(fb, vnc->dirty))
		return refresh_rows(vnc, 0, fb->height);
	for (size_t p = 0; p < pages;) {
		size_t q;

		if (!(vnc->dirty[p / 64] >> (p % 64) & 1)) {
			p++;
			continue;
		}
		for (q = p + 1; q < pages && (vnc->dirty[q / 64] >> (q % 64) & 1); q++)
			;
		changed |= refresh_rows(vnc, p * FB_PAGE / fb->stride,
					MIN(DIV_ROUND_UP(q * FB_PAGE, fb->stride), (size_t)fb->height));
		p = q;
	}
	return changed;
}

/* Viewers */

static void reap_viewers(struct vnc *vnc, bool wait)
{
	for (unsigned int i = 0; i < vnc->nviewers;) {
		int r = wait ? pthread_join(vnc->viewers[i], NULL)
			     : pthread_tryjoin_np(vnc->viewers[i], NULL);

		if (r == 0)
			vnc->viewers[i] = vnc->viewers[--vnc->nviewers];
		else
			i++;
	}
}

static void accept_viewer(struct vnc *vnc)
{
	rfbClientPtr cl;
	int fd = accept4(vnc->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	reap_viewers(vnc, false);
	if (vnc->nviewers == VNC_MAX_VIEWERS) {
		log_warn("vnc: %d viewers already; refusing another", VNC_MAX_VIEWERS);
		close(fd);
		return;
	}
	cl = vnc->rfb.rfbNewClient(vnc->screen, fd); /* closes fd itself on failure */
	if (!cl)
		return;
	cl->clientGoneHook = viewer_gone;
	/* Our reference keeps cl alive until we have its thread id. */
	vnc->rfb.rfbIncrClientRef(cl);
	vnc->rfb.rfbStartOnHoldClient(cl);
	vnc->viewers[vnc->nviewers++] = cl->client_thread;
	vnc->rfb.rfbDecrClientRef(cl);
}

static void disconnect_viewers(struct vnc *vnc)
{
	rfbClientIteratorPtr it = vnc->rfb.rfbGetClientIterator(vnc->screen);
	rfbClientPtr cl;

	while ((cl = vnc->rfb.rfbClientIteratorNext(it))) {
		int sock = cl->sock;

		vnc->rfb.rfbCloseClient(cl);
		/* A thread blocked writing to a viewer that stopped reading wakes up. */
		if (sock >= 0)
			shutdown(sock, SHUT_RDWR);
	}
	vnc->rfb.rfbReleaseClientIterator(it);
	reap_viewers(vnc, true);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *vnc_thread(void *arg)
{
	struct vnc *vnc = arg;
	int interval = VNC_REFRESH_MS;
	int64_t next = now_ms();

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = vnc->stop_fd, .events = POLLIN },
			{ .fd = vnc->listen_fd, .events = POLLIN },
			{ .fd = vnc->input_fd, .events = POLLIN },
		};
		int64_t wait = next - now_ms();

		reap_viewers(vnc, false);
		if (poll(pfd, 3, vnc->nviewers == 0 ? -1 : wait < 0 ? 0 : (int)wait) < 0 &&
		    errno != EINTR) {
			log_error("vnc: cannot wait: %s", strerror(errno));
			return NULL;
		}
		if (pfd[0].revents)
			return NULL;
		if (pfd[1].revents & POLLIN) {
			accept_viewer(vnc);
			next = now_ms();
		}
		if (pfd[2].revents & POLLIN) {
			uint64_t v;

			if (read(vnc->input_fd, &v, sizeof(v)) > 0 && interval > VNC_REFRESH_MS) {
				interval = VNC_REFRESH_MS;
				next = MIN(next, now_ms() + VNC_REFRESH_MS);
			}
		}
		if (vnc->nviewers && now_ms() >= next) {
			interval = refresh(vnc) ? VNC_REFRESH_MS : MIN(interval * 2, VNC_REFRESH_IDLE_MS);
			next = now_ms() + interval;
		}
	}
}

static int setup_screen(struct vnc *vnc)
{
	struct framebuffer *fb = vnc->fb;
	rfbScreenInfoPtr s;

	*vnc->rfb.rfbLog = vnc_log;
	*vnc->rfb.rfbErr = vnc_log;
	s = vnc->rfb.rfbGetScreen(NULL, NULL, fb->width, fb->height, 8, 3, FB_BYTES_PER_PIXEL);
	if (!s)
		return -ENOMEM;
	vnc->screen = s;
	s->screenData = vnc;
	s->desktopName = "webkvm";
	s->frameBuffer = (char *)vnc->shadow;
	/* The guest's XRGB8888: blue in the lowest byte. */
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
	s->kbdAddEvent = on_key;
	s->ptrAddEvent = on_pointer;
	s->displayFinishedHook = ext_key_confirm;
	s->cursor = NULL;          /* the guest draws its own pointer */
	s->alwaysShared = TRUE;    /* several viewers at once */
	s->deferUpdateTime = 5;
	/* Our sockets: libvncserver neither listens nor runs its own loop. */
	s->autoPort = FALSE;
	s->port = 0;
	s->ipv6port = 0;
	s->socketState = RFB_SOCKET_READY;
	s->backgroundLoop = TRUE;  /* a thread pair per viewer */
	if (vnc->password_list[0]) {
		s->authPasswdData = vnc->password_list;
		s->passwordCheck = vnc->rfb.rfbCheckPasswordByList;
	}
	vnc->ext_key_encodings[0] = (int)rfbEncodingQemuExtendedKeyEvent;
	vnc->ext_key.pseudoEncodings = vnc->ext_key_encodings;
	vnc->ext_key.enablePseudoEncoding = ext_key_enable;
	vnc->ext_key.handleMessage = ext_key_message;
	vnc->rfb.rfbRegisterProtocolExtension(&vnc->ext_key);
	vnc->ext_key_registered = true;
	return 0;
}

int vnc_start(struct vnc **ret, const struct vnc_options *o, struct framebuffer *fb, char *err,
	      size_t errlen)
{
	struct vnc *vnc = calloc(1, sizeof(*vnc));
	int r;

	if (!vnc)
		return error_set(err, errlen, -ENOMEM, "out of memory for the VNC server");
	vnc->fb = fb;
	vnc->listen_fd = vnc->stop_fd = vnc->input_fd = -1;
	pthread_mutex_init(&vnc->input_lock, NULL);
	vnc->shadow = calloc((size_t)fb->width * fb->height, FB_BYTES_PER_PIXEL);
	vnc->dirty = calloc(framebuffer_bitmap_words(fb), sizeof(uint64_t));
	vnc->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vnc->input_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!vnc->shadow || !vnc->dirty || vnc->stop_fd < 0 || vnc->input_fd < 0) {
		r = error_set(err, errlen, -ENOMEM, "out of memory for the VNC server");
		goto fail;
	}
	if (o->password_file && (r = read_password(vnc, o->password_file, err, errlen)) < 0)
		goto fail;
	if ((r = vncserver_load(&vnc->rfb, err, errlen)) < 0)
		goto fail;
	r = o->unix_path ? listen_unix(vnc, o->unix_path, err, errlen)
			 : listen_tcp(vnc, o->tcp_host, o->tcp_port, err, errlen);
	if (r < 0)
		goto fail;
	r = setup_screen(vnc);
	if (r < 0) {
		error_set(err, errlen, r, "cannot set up the VNC server");
		goto fail;
	}
	r = -pthread_create(&vnc->thread, NULL, vnc_thread, vnc);
	if (r < 0) {
		error_set(err, errlen, r, "cannot start the VNC thread: %s", strerror(-r));
		goto fail;
	}
	vnc->thread_started = true;
	*ret = vnc;
	return 0;
fail:
	vnc_stop(vnc);
	return r;
}

void vnc_attach(struct vnc *vnc, struct i8042 *kbd, struct virtio_input *tablet)
{
	pthread_mutex_lock(&vnc->input_lock);
	vnc->kbd = kbd;
	vnc->tablet = tablet;
	pthread_mutex_unlock(&vnc->input_lock);
}

void vnc_detach(struct vnc *vnc)
{
	vnc_attach(vnc, NULL, NULL);
}

void vnc_stop(struct vnc *vnc)
{
	if (!vnc)
		return;
	if (vnc->thread_started) {
		uint64_t one = 1;

		if (write(vnc->stop_fd, &one, sizeof(one)) < 0)
			log_warn("vnc: cannot stop the VNC thread: %s", strerror(errno));
		pthread_join(vnc->thread, NULL);
	}
	if (vnc->listen_fd >= 0)
		close(vnc->listen_fd);
	if (vnc->unix_path) {
		unlink(vnc->unix_path);
		free(vnc->unix_path);
	}
	if (vnc->screen) {
		disconnect_viewers(vnc);
		vnc->rfb.rfbScreenCleanup(vnc->screen);
	}
	if (vnc->ext_key_registered)
		vnc->rfb.rfbUnregisterProtocolExtension(&vnc->ext_key);
	vncserver_unload(&vnc->rfb);
	if (vnc->stop_fd >= 0)
		close(vnc->stop_fd);
	if (vnc->input_fd >= 0)
		close(vnc->input_fd);
	pthread_mutex_destroy(&vnc->input_lock);
	free(vnc->shadow);
	free(vnc->dirty);
	free(vnc);
}
