#include <argon2.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "common/error.h"
#include "fcgi/password.h"

#define T_COST 2
#define M_COST (19 * 1024)
#define LANES 1
#define SALT_LEN 16
#define HASH_LEN 32

static int fill_random(void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = getrandom(b, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int random_hex(char *ret, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t bytes[64];
	int r;

	if (n > sizeof(bytes))
		return -EINVAL;
	r = fill_random(bytes, n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		ret[2 * i] = digits[bytes[i] >> 4];
		ret[2 * i + 1] = digits[bytes[i] & 15];
	}
	ret[2 * n] = '\0';
	return 0;
}

int password_check_new(const char *password, char *err, size_t errlen)
{
	size_t len = strlen(password);

	if (len < PASSWORD_MIN_LEN)
		return error_set(err, errlen, -EINVAL,
				 "A password needs at least %d characters.", PASSWORD_MIN_LEN);
	if (len > PASSWORD_MAX_LEN)
		return error_set(err, errlen, -EINVAL,
				 "A password may have at most %d characters.", PASSWORD_MAX_LEN);
	return 0;
}

int password_hash(const char *password, char ret_encoded[PASSWORD_HASH_MAX])
{
	uint8_t salt[SALT_LEN];
	int r = fill_random(salt, sizeof(salt));

	if (r < 0)
		return r;
	if (argon2id_hash_encoded(T_COST, M_COST, LANES, password, strlen(password), salt,
				  sizeof(salt), HASH_LEN, ret_encoded, PASSWORD_HASH_MAX) != ARGON2_OK)
		return -ENOMEM;
	return 0;
}

bool password_verify(const char *encoded, const char *password)
{
	/* the hash of a password nobody has, with the same parameters */
	static const char decoy[] = "$argon2id$v=19$m=19456,t=2,p=1$"
				    "c29tZXNhbHRzb21lc2FsdA$"
				    "u3BNIs2eef2mTecphBKZ2+b/aZDHPkybyM+QiFWExdk";
	size_t len = strlen(password);

	if (len > PASSWORD_MAX_LEN)
		len = PASSWORD_MAX_LEN; /* the same work for any length past it */
	if (!encoded) {
		argon2id_verify(decoy, password, len);
		return false;
	}
	return argon2id_verify(encoded, password, len) == ARGON2_OK;
}

int password_generate(char ret[21])
{
	/* no 0/O, 1/l/I: it is read off a terminal and typed in */
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const size_t n = sizeof(alphabet) - 1;
	size_t i = 0;

	while (i < 20) {
		uint8_t b[32];
		int r = fill_random(b, sizeof(b));

		if (r < 0)
			return r;
		for (size_t j = 0; j < sizeof(b) && i < 20; j++)
			if (b[j] < 256 - 256 % n) /* no modulo bias */
				ret[i++] = alphabet[b[j] % n];
	}
	ret[20] = '\0';
	return 0;
}
