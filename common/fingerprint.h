/*
 * Fingerprints of what a list holds (vmmd's etags): SHA-256 over a
 * sequence of byte strings, its first 128 bits in hex. A list's caller
 * keeps the list while the fingerprint stays the same, and the fields
 * hashed include names that users choose, so the hash must be one whose
 * collisions nobody can make: a non-cryptographic one (FNV, say) can be
 * steered into answering "unchanged" for a list that changed.
 */
#ifndef WEBKVM_COMMON_FINGERPRINT_H
#define WEBKVM_COMMON_FINGERPRINT_H

#include <stddef.h>

#define FINGERPRINT_HEX_SIZE 33 /* 32 hex digits and the NUL */

struct fingerprint {
	void *ctx; /* OpenSSL's EVP_MD_CTX; NULL when it could not be made */
};

void fingerprint_init(struct fingerprint *f);
void fingerprint_add(struct fingerprint *f, const void *p, size_t n);
/* A NUL-terminated string and the NUL: "a", "b" and "ab" differ. */
void fingerprint_add_str(struct fingerprint *f, const char *s);
/*
 * The fingerprint in hex, and f's resources freed: 0, or -1 (out of
 * memory or a failure of the library) with hex empty, for a list that
 * then has no fingerprint.
 */
int fingerprint_end(struct fingerprint *f, char hex[FINGERPRINT_HEX_SIZE]);

#endif
