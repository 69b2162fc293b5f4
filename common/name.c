#include <string.h>

#include "common/name.h"

bool name_valid(const char *name, size_t max, const char *also)
{
	size_t n = strlen(name);

	if (n == 0 || n > max || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || (c && strchr(also, c))))
			return false;
	}
	return true;
}
