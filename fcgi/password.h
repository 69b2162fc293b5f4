/*
 * Passwords: argon2id (RFC 9106) with OWASP's minimum parameters for it
 * (19 MiB, 2 passes, 1 lane), kept in argon2's encoded form, which carries
 * its parameters so that stronger ones can come later.
 */
#ifndef WEBKVM_FCGI_PASSWORD_H
#define WEBKVM_FCGI_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN_LEN 12
#define PASSWORD_MAX_LEN 1024
#define PASSWORD_HASH_MAX 128

/* A sentence in err when a new password is not acceptable; 0 when it is. */
int password_check_new(const char *password, char *err, size_t errlen);
int password_hash(const char *password, char ret_encoded[PASSWORD_HASH_MAX]);
/*
 * Whether password matches; with encoded NULL it does the same work
 * against a fixed hash and answers false, so that an unknown user costs
 * what a wrong password costs.
 */
bool password_verify(const char *encoded, const char *password);
/* A random password of 20 characters from an alphabet without look-alikes. */
int password_generate(char ret[21]);

/* n random bytes as 2n lowercase hex digits and a NUL (session ids, tokens). */
int random_hex(char *ret, size_t n);

#endif
