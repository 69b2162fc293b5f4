/*
 * Threads.
 *
 * NOTES
 * - 1 MiB of stack instead of glibc's 8 MiB. Where transparent huge pages
 *   are always on, an 8 MiB stack that happens to be 2 MiB-aligned has its
 *   top few KiB backed by a whole 2 MiB page; a stack smaller than 2 MiB
 *   holds no aligned 2 MiB range, so it never is. Nothing these threads
 *   run keeps large buffers on the stack.
 */
#include "common/thread.h"

#include <errno.h>

int thread_start(pthread_t *ret, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int r;

	if ((r = pthread_attr_init(&attr)) != 0)
		return -r;
	r = pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	if (r == 0)
		r = pthread_create(ret, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -r;
}
