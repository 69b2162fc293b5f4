/*
 * Error sentences for callers: a function that fails with -errno can also
 * leave one whole sentence for the user in a caller's buffer, and the
 * caller that knows the context logs it once.
 */
#ifndef WEBKVM_COMMON_ERROR_H
#define WEBKVM_COMMON_ERROR_H

#include <stddef.h>

/* Format the sentence into err (errlen bytes) and return r. */
int error_set(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
