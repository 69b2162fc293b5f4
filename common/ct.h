/*
 * Comparisons whose time does not tell where secrets differ (lighttpd's
 * ck_memeq_const_time is the model): for CSRF tokens, session ids and
 * console tickets, which an attacker could otherwise guess byte by byte.
 */
#ifndef WEBKVM_COMMON_CT_H
#define WEBKVM_COMMON_CT_H

#include <stdbool.h>

/*
 * Whether the NUL-terminated tokens a and b are equal, in a time that
 * depends on their lengths only. A missing (NULL) or empty token equals
 * nothing, so a session without a token never matches a form without one.
 */
bool token_equal(const char *a, const char *b);

#endif
