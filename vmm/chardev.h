/*
 * The host side of a serial port: the terminal (stdio), a log file, or a
 * unix socket that up to CHARDEV_CLIENTS_MAX clients attach to at once.
 * Each client gets the guest's output from when it attached; what any of
 * them types reaches the guest; one leaving leaves the others attached.
 */
#ifndef WEBKVM_VMM_CHARDEV_H
#define WEBKVM_VMM_CHARDEV_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

enum chardev_kind { CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_UNIX };

#define CHARDEV_CLIENTS_MAX 8
/* what chardev_input_pollfds may fill */
#define CHARDEV_INPUTS_MAX CHARDEV_CLIENTS_MAX

struct chardev_client {
	int fd;               /* -1: a free slot */
	bool reading;         /* false once its input side ended (it may still read output) */
};

struct chardev {
	enum chardev_kind kind;
	pthread_mutex_t lock; /* guards the fds: output comes from vCPU threads */
	int out_fd;           /* stdio, file: where guest output goes, or -1 */
	int in_fd;            /* stdio: where guest input comes from, or -1 */
	struct chardev_client clients[CHARDEV_CLIENTS_MAX]; /* unix */
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

/*
 * Guest output, to every client. Never blocks on a socket: a slow client
 * loses bytes, and one whose socket failed is dropped.
 */
void chardev_write(struct chardev *ch, const void *buf, size_t len);

/* unix: accept a waiting client; past CHARDEV_CLIENTS_MAX it is closed at once. */
void chardev_accept(struct chardev *ch);

/*
 * What poll() watches for input: stdio's input when want_input, and each
 * client (for its input when want_input, else for its hang-up). How many.
 */
unsigned int chardev_input_pollfds(struct chardev *ch, struct pollfd *fds, bool want_input);
/*
 * After poll() on those: up to len bytes of pfd's input into buf, and how
 * many. 0 when there were none; a source whose input ended is not read
 * again, and a client that hung up is dropped (its slot is free).
 */
size_t chardev_input(struct chardev *ch, const struct pollfd *pfd, void *buf, size_t len);

#endif
