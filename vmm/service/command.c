/*
 * Short host commands.
 *
 * NOTES
 * - The command's standard input and error are memory files, not pipes:
 *   a program that daemonizes (dnsmasq) may keep them open after the
 *   process we wait for has exited, and a pipe would then never end.
 * - The sbin folders are added to PATH, since vmmd's own PATH may lack
 *   them when it is started by hand.
 */
#include "vmm/service/command.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"

static void child(const char *const argv[], int in, int errfd)
{
	const char *path = getenv("PATH");
	char newpath[4096];
	sigset_t none;

	/* vmmd blocks the signals it reads from a signalfd; the command must not */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(newpath, sizeof(newpath), "%s%s/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin",
		 path ? path : "", path ? ":" : "");
	setenv("PATH", newpath, 1);
	if (dup2(in, 0) < 0 || dup2(errfd, 2) < 0 || dup2(errfd, 1) < 0)
		_exit(127);
	execvp(argv[0], (char *const *)argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int command_run(const char *const argv[], const char *input, char *err, size_t errlen)
{
	int in = -1, errfd = -1, status, r = -1;
	char buf[512];
	ssize_t n;
	pid_t pid;

	in = memfd_create("command-input", MFD_CLOEXEC);
	errfd = memfd_create("command-errors", MFD_CLOEXEC);
	if (in < 0 || errfd < 0) {
		error_set(err, errlen, -errno, "cannot run %s: %s", argv[0], strerror(errno));
		goto out;
	}
	if (input && (write_all(in, input, strlen(input)) < 0 || lseek(in, 0, SEEK_SET) < 0)) {
		error_set(err, errlen, -errno, "cannot run %s: %s", argv[0], strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		error_set(err, errlen, -errno, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, in, errfd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			error_set(err, errlen, -errno, "cannot wait for %s: %s", argv[0],
				  strerror(errno));
			goto out;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		r = 0;
		goto out;
	}
	n = pread(errfd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (buf[0])
		error_set(err, errlen, -EIO, "%s", buf);
	else if (WIFEXITED(status))
		error_set(err, errlen, -EIO, "%s failed (exit %d)", argv[0], WEXITSTATUS(status));
	else
		error_set(err, errlen, -EIO, "%s was killed by signal %d", argv[0],
			  WTERMSIG(status));
out:
	if (in >= 0)
		close(in);
	if (errfd >= 0)
		close(errfd);
	return r;
}
