/* The names people give things (VMs, pools, users): one rule, in one place. */
#ifndef WEBKVM_COMMON_NAME_H
#define WEBKVM_COMMON_NAME_H

#include <stdbool.h>
#include <stddef.h>

/*
 * 1 to max bytes of ASCII letters, digits, '-', '_', '.' and the
 * characters in also; not starting with '-' or '.': a name that is safe
 * as a file name, in a URL path segment and on a command line.
 */
bool name_valid(const char *name, size_t max, const char *also);

#endif
