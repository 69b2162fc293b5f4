#include "common/ct.h"

#include <string.h>

bool token_equal(const char *a, const char *b)
{
	size_t len;
	/* volatile: the compiler may not stop the loop at the first difference */
	volatile unsigned char diff = 0;

	if (!a || !b)
		return false;
	len = strlen(a);
	if (len == 0 || len != strlen(b)) /* lengths are not secret */
		return false;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}
