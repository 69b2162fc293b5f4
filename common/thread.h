/* Threads that vmm starts for vCPUs and devices. */
#ifndef WEBKVM_COMMON_THREAD_H
#define WEBKVM_COMMON_THREAD_H

#include <pthread.h>

/* The stack each such thread gets. */
#define THREAD_STACK_SIZE (1024 * 1024)

/* Start fn(arg) on a new thread with a THREAD_STACK_SIZE stack. 0 or -errno. */
int thread_start(pthread_t *ret, void *(*fn)(void *), void *arg);

#endif
