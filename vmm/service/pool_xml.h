/*
 * Storage pool definitions: libvirt's pool XML, type "dir" (a folder of
 * image files). Kept as given, with a uuid added when it had none.
 */
#ifndef WEBKVM_VMMD_POOL_XML_H
#define WEBKVM_VMMD_POOL_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmm/service/xml.h"

#define POOL_NAME_MAX 64
#define POOL_XML_MAX (64 * 1024)

struct pool_def {
	xmlDocPtr doc;
	char name[POOL_NAME_MAX + 1];
	char uuid[XML_UUID_LEN + 1];
	bool uuid_given;
	const char *path;    /* the folder: absolute, no "." or ".." parts, not "/" */
};

/* 0, or -EINVAL with one sentence in err that names what is wrong. */
int pool_def_parse(struct pool_def **ret, const char *xml, size_t len, char *err, size_t errlen);
void pool_def_free(struct pool_def *def);
char *pool_def_format(const struct pool_def *def);
int pool_def_set_uuid(struct pool_def *def, const char *uuid);

/* A volume's name: 1 to 255 bytes, no '/', no control characters, not starting with '.'. */
bool volume_name_valid(const char *name);

#endif
