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
	if (ch->kind != CHARDEV_STDIO) {
		if (ch->out_fd >= 0)
			close(ch->out_fd);
		if (ch->in_fd >= 0 && ch->in_fd != ch->out_fd)
			close(ch->in_fd);
		/* in_fd == -1 after a half-close: out_fd still owns the socket */
	}
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

void chardev_write(struct chardev *ch, const void *buf, size_t len)
{
	pthread_mutex_lock(&ch->lock);
	if (ch->log_path && ch->log_fd >= 0)
		log_output(ch, buf, len);
	if (ch->out_fd >= 0) {
		if (ch->kind == CHARDEV_UNIX) {
			if (send(ch->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN && errno != EINTR) {
				close(ch->out_fd);
				ch->out_fd = ch->in_fd = -1;
			}
		} else {
			write_all(ch->out_fd, buf, len);
		}
	}
	pthread_mutex_unlock(&ch->lock);
}

void chardev_accept(struct chardev *ch)
{
	int fd = accept4(ch->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	pthread_mutex_lock(&ch->lock);
	if (ch->out_fd >= 0)
		close(ch->out_fd);
	ch->out_fd = ch->in_fd = fd;
	pthread_mutex_unlock(&ch->lock);
}

void chardev_input_closed(struct chardev *ch)
{
	/*
	 * A socket client that stops sending may still be reading: keep
	 * sending it guest output until a write fails or a new client comes.
	 */
	pthread_mutex_lock(&ch->lock);
	ch->in_fd = -1;
	pthread_mutex_unlock(&ch->lock);
}
