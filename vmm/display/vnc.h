/*
 * The VM's screen, keyboard and mouse over VNC (RFB, served by
 * libvncserver): viewers on a unix socket or a TCP port.
 */
#ifndef WEBKVM_VMM_DISPLAY_VNC_H
#define WEBKVM_VMM_DISPLAY_VNC_H

#include <stddef.h>

#include "vmm/display/framebuffer.h"
#include "vmm/hw/i8042.h"

struct virtio_input;
struct vnc;

struct vnc_options {
	const char *unix_path;      /* listen here, or */
	char tcp_host[64];          /* numeric address */
	char tcp_port[8];
	const char *password_file;  /* VNC authentication with its first line */
};

/* "unix:PATH" or "tcp:HOST:PORT", then ",password=FILE". 0 or -EINVAL with err. */
int vnc_parse_options(char *arg, struct vnc_options *o, char *err, size_t errlen);

/* Listen and serve fb until vnc_stop(). 0 or -errno with err. */
int vnc_start(struct vnc **ret, const struct vnc_options *o, struct framebuffer *fb, char *err,
	      size_t errlen);
/* Where viewers' input goes: the running VM's devices (tablet may be NULL). */
void vnc_attach(struct vnc *vnc, struct i8042 *kbd, struct virtio_input *tablet);
/* The VM is going away: drop input until the next attach. */
void vnc_detach(struct vnc *vnc);
/* Disconnect every viewer, stop listening and free everything. */
void vnc_stop(struct vnc *vnc);

#endif
