/*
 * The host side of a serial port: the terminal (stdio), a log file, or a
 * unix socket that one client at a time can attach to.
 */
#ifndef WEBKVM_VMM_CHARDEV_H
#define WEBKVM_VMM_CHARDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

enum chardev_kind { CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_UNIX };

struct chardev {
	enum chardev_kind kind;
	pthread_mutex_t lock; /* guards out_fd and in_fd against a client switch */
	int out_fd;           /* where guest output goes, or -1 */
	int in_fd;            /* where guest input comes from, or -1 */
	int listen_fd;        /* unix: the listening socket */
	char *path;           /* unix: socket path, unlinked at close */
	bool tty_saved;       /* stdio: terminal mode to restore */
	struct termios saved_termios;
	int log_fd;           /* a copy of the output, or -1 */
	char *log_path;
	uint64_t log_size, log_max; /* past log_max the log moves to PATH.1 and starts again */
};

/* spec is "stdio", "file:PATH" or "unix:PATH". 0 or -errno; -EINVAL for a bad spec. */
int chardev_open(struct chardev *ch, const char *spec);
void chardev_close(struct chardev *ch);

/*
 * Also copy the output into the file at path, bounded: past max bytes it
 * becomes path.1 (replacing the one before) and a new file starts. 0 or -errno.
 */
int chardev_set_log(struct chardev *ch, const char *path, uint64_t max);

/* Guest output. Never blocks on a socket: a slow client loses bytes. */
void chardev_write(struct chardev *ch, const void *buf, size_t len);

/* unix: accept a waiting client, replacing the previous one. */
void chardev_accept(struct chardev *ch);
/* The input side reached end of file or failed: stop reading it. */
void chardev_input_closed(struct chardev *ch);

#endif
