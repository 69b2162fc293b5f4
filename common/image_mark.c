/* The format an image file was made as, kept with the file (image_mark.h). */
#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include "common/image_mark.h"

int image_mark_get(int fd)
{
	char v[8];
	ssize_t n = fgetxattr(fd, IMAGE_MARK_XATTR, v, sizeof(v));

	if (n < 0)
		return errno == ERANGE ? -ENODATA : -errno;
	if (n == 5 && !memcmp(v, "qcow2", 5))
		return 1;
	if (n == 3 && !memcmp(v, "raw", 3))
		return 0;
	return -ENODATA;
}

int image_mark_set(int fd, bool qcow2, int flags)
{
	if (fsetxattr(fd, IMAGE_MARK_XATTR, qcow2 ? "qcow2" : "raw", qcow2 ? 5 : 3, flags) < 0)
		return -errno;
	return 0;
}
