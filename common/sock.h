/* Unix stream sockets. */
#ifndef WEBKVM_COMMON_SOCK_H
#define WEBKVM_COMMON_SOCK_H

/*
 * Listen on path (a stale socket file there is replaced), non-blocking and
 * close-on-exec. fd or -errno.
 */
int unix_listen(const char *path, int backlog);
/* Connect to path (blocking, close-on-exec). fd or -errno. */
int unix_connect(const char *path);

#endif
