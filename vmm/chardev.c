#include "vmm/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/sock.h"

int chardev_open(struct chardev *ch, const char *spec)
{

	memset(ch, 0, sizeof(*ch));
	ch->out_fd = ch->in_fd = ch->listen_fd = ch->log_fd = -1;
	for (unsigned int i = 0; i < CHARDEV_CLIENTS_MAX; i++)
		ch->clients[i].fd = -1;
	pthread_mutex_init(&ch->lock, NULL);

	if (strcmp(spec, "stdio") == 0) {
		ch->kind = CHARDEV_STDIO;
		ch->out_fd = STDOUT_FILENO;
		ch->in_fd = STDIN_FILENO;
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &ch->saved_termios) == 0) {
			struct termios raw = ch->saved_termios;

			/* Raw input for the guest, but Ctrl-C still stops the VM. */
			cfmakeraw(&raw);
			raw.c_lflag |= ISIG;
			raw.c_oflag |= OPOST | ONLCR;
			tcsetattr(STDIN_FILENO, TCSANOW, &raw);
			ch->tty_saved = true;
		}
		return 0;
	}
	if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
		ch->kind = CHARDEV_FILE;
		ch->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		return ch->out_fd < 0 ? -errno : 0;
	}
	if (strncmp(spec, "unix:", 5) == 0 && spec[5]) {
		ch->kind = CHARDEV_UNIX;
		ch->listen_fd = unix_listen(spec + 5, 4);
		if (ch->listen_fd < 0)
			return ch->listen_fd;
		ch->path = strdup(spec + 5);
		return ch->path ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

void chardev_close(struct chardev *ch)
{
	if (ch->tty_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &ch->saved_termios);
	if (ch->kind == CHARDEV_FILE && ch->out_fd >= 0)
		close(ch->out_fd);
	for (unsigned int i = 0; i < CHARDEV_CLIENTS_MAX; i++)
		if (ch->clients[i].fd >= 0)
			close(ch->clients[i].fd);
	if (ch->listen_fd >= 0)
		close(ch->listen_fd);
	if (ch->path) {
		unlink(ch->path);
		free(ch->path);
	}
	if (ch->log_fd >= 0)
		close(ch->log_fd);
	free(ch->log_path);
	pthread_mutex_destroy(&ch->lock);
}

int chardev_set_log(struct chardev *ch, const char *path, uint64_t max)
{
	struct stat st;

	ch->log_path = strdup(path);
	if (!ch->log_path)
		return -ENOMEM;
	ch->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ch->log_fd < 0)
		return -errno;
	ch->log_size = fstat(ch->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	ch->log_max = max;
	return 0;
}

/* Called with the lock held. */
static void log_output(struct chardev *ch, const void *buf, size_t len)
{
	char old[4096 + 3];

	if (ch->log_size + len > ch->log_max) {
		snprintf(old, sizeof(old), "%s.1", ch->log_path);
		close(ch->log_fd);
		rename(ch->log_path, old);
		ch->log_fd = open(ch->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC |
						O_NOFOLLOW, 0600);
		ch->log_size = 0;
		if (ch->log_fd < 0)
			return; /* the log stops; the console goes on */
	}
	if (write_all(ch->log_fd, buf, len) == 0)
		ch->log_size += len;
}

/* Called with the lock held. */
static void drop_client(struct chardev_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->reading = false;
}

void chardev_write(struct chardev *ch, const void *buf, size_t len)
{
	pthread_mutex_lock(&ch->lock);
	if (ch->log_path && ch->log_fd >= 0)
		log_output(ch, buf, len);
	if (ch->out_fd >= 0)
		write_all(ch->out_fd, buf, len);
	for (unsigned int i = 0; i < CHARDEV_CLIENTS_MAX; i++) {
		struct chardev_client *c = &ch->clients[i];

		if (c->fd >= 0 && send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN && errno != EINTR)
			drop_client(c);
	}
	pthread_mutex_unlock(&ch->lock);
}

void chardev_accept(struct chardev *ch)
{
	int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	bool taken = false;

	if (fd < 0)
		return;
	pthread_mutex_lock(&ch->lock);
	for (unsigned int i = 0; i < CHARDEV_CLIENTS_MAX && !taken; i++) {
		if (ch->clients[i].fd < 0) {
			ch->clients[i] = (struct chardev_client){ .fd = fd, .reading = true };
			taken = true;
		}
	}
	pthread_mutex_unlock(&ch->lock);
	if (!taken)
		close(fd); /* full: the ones attached keep their console */
}

unsigned int chardev_input_pollfds(struct chardev *ch, struct pollfd *fds, bool want_input)
{
	unsigned int n = 0;

	pthread_mutex_lock(&ch->lock);
	if (ch->in_fd >= 0 && want_input)
		fds[n++] = (struct pollfd){ .fd = ch->in_fd, .events = POLLIN };
	/* every client, to hear it hang up even while its input is not wanted */
	for (unsigned int i = 0; i < CHARDEV_CLIENTS_MAX && n < CHARDEV_INPUTS_MAX; i++) {
		const struct chardev_client *c = &ch->clients[i];

		if (c->fd >= 0)
			fds[n++] = (struct pollfd){ .fd = c->fd,
						    .events = want_input && c->reading ? POLLIN : 0 };
	}
	pthread_mutex_unlock(&ch->lock);
	return n;
}

/* Called with the lock held: a client's input, or its end. */
static ssize_t client_input(struct chardev_client *c, short revents, void *buf, size_t len)
{
	ssize_t n;

	if (!(revents & POLLIN) || !c->reading || !len) {
		if (revents & (POLLHUP | POLLERR))
			drop_client(c); /* gone both ways: its slot is free again */
		return 0;
	}
	n = read(c->fd, buf, len);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/*
	 * Its input ended. Hung up: gone. Only its sending side shut: it may
	 * still read output, until a write to it fails.
	 */
	if (n < 0 || (revents & (POLLHUP | POLLERR)))
		drop_client(c);
	else
		c->reading = false;
	return 0;
}

size_t chardev_input(struct chardev *ch, const struct pollfd *pfd, void *buf, size_t len)
{
	ssize_t n = 0;

	if (!(pfd->revents & (POLLIN | POLLHUP | POLLERR)) || pfd->fd < 0)
		return 0;
	pthread_mutex_lock(&ch->lock);
	if (pfd->fd == ch->in_fd) {
		n = len ? read(pfd->fd, buf, len) : 0;
		if (len && (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)))
			ch->in_fd = -1; /* stdio's input ended: read no more */
	} else {
		/* the client by its fd, if it still is one: output may have dropped it since the poll */
		for (unsigned int i = 0; i < CHARDEV_CLIENTS_MAX; i++) {
			if (ch->clients[i].fd == pfd->fd) {
				n = client_input(&ch->clients[i], pfd->revents, buf, len);
				break;
			}
		}
	}
	pthread_mutex_unlock(&ch->lock);
	return n > 0 ? (size_t)n : 0;
}
