/*
 * A growable byte buffer with a maximum size, for output that grows from
 * what a browser or vmmd sent (pages, JSON). The data is always followed by
 * a NUL, so buf.data can be used as a C string when the content has none.
 * Appending past the maximum, or out of memory, fails with -E2BIG or
 * -ENOMEM and leaves the buffer as it was; the first failure also sticks
 * in buf.error, so a writer may append many pieces and check once.
 */
#ifndef WEBKVM_COMMON_BUF_H
#define WEBKVM_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;   /* NUL-terminated; NULL until the first append */
	size_t len;   /* bytes in data, without the NUL */
	size_t cap;   /* bytes allocated */
	size_t max;   /* largest len allowed */
	int error;    /* first failure (-E2BIG, -ENOMEM), or 0 */
};

#define BUF_INIT(maximum) { .max = (maximum) }

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Empty it, keeping the memory and the maximum, and clear the error. */
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Take the data out (the caller frees it); the buffer is left empty. */
char *buf_steal(struct buf *b);

#endif
