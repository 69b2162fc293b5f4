#include "common/fingerprint.h"

#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

void fingerprint_init(struct fingerprint *f)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	f->ctx = ctx;
}

void fingerprint_add(struct fingerprint *f, const void *p, size_t n)
{
	if (f->ctx && EVP_DigestUpdate(f->ctx, p, n) != 1) {
		EVP_MD_CTX_free(f->ctx);
		f->ctx = NULL;
	}
}

void fingerprint_add_str(struct fingerprint *f, const char *s)
{
	fingerprint_add(f, s, strlen(s) + 1);
}

int fingerprint_end(struct fingerprint *f, char hex[FINGERPRINT_HEX_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int ok = f->ctx && EVP_DigestFinal_ex(f->ctx, md, &len) == 1 && len >= 16;

	EVP_MD_CTX_free(f->ctx);
	f->ctx = NULL;
	hex[0] = '\0';
	if (!ok)
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
