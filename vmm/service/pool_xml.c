/*
 * Storage pool definitions (libvirt's pool XML, type "dir").
 *
 * NOTES
 * - capacity, allocation and available are what libvirt prints; they are
 *   accepted on input and ignored (vmmd measures them).
 * - permissions are accepted and kept; the folder is made 0711 root.
 */
#include "vmm/service/pool_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "vmm/service/domain_xml.h"

static const struct xml_rule pool_rules[] = {
	{ "pool", "type", 0 },
	{ "pool/name", NULL, XML_RULE_TEXT },
	{ "pool/uuid", NULL, XML_RULE_TEXT },
	{ "pool/capacity", "unit", XML_RULE_TEXT },
	{ "pool/allocation", "unit", XML_RULE_TEXT },
	{ "pool/available", "unit", XML_RULE_TEXT },
	{ "pool/source", NULL, 0 },
	{ "pool/target", NULL, 0 },
	{ "pool/target/path", NULL, XML_RULE_TEXT },
	{ "pool/target/permissions", NULL, 0 },
	{ "pool/target/permissions/mode", NULL, XML_RULE_TEXT },
	{ "pool/target/permissions/owner", NULL, XML_RULE_TEXT },
	{ "pool/target/permissions/group", NULL, XML_RULE_TEXT },
	{ "pool/target/permissions/label", NULL, XML_RULE_TEXT },
	{ NULL, NULL, 0 },
};

static const struct xml_definition pool_kind = {
	.root = "pool", .type = "dir", .type_note = "webkvm has type 'dir'",
	.rules = pool_rules, .max = POOL_XML_MAX, .noun = "pool",
};

bool volume_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static bool path_valid(const char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/' || n < 2 || n > 1024 || p[n - 1] == '/')
		return false;
	for (const char *s = p; *s; s++) {
		if ((unsigned char)*s < 0x20)
			return false;
		if (*s == '/' && (s[1] == '/' || (s[1] == '.' && (s[2] == '/' || s[2] == '\0')) ||
				  (s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == '\0'))))
			return false;
	}
	return true;
}

int pool_def_parse(struct pool_def **ret, const char *xml, size_t len, char *err, size_t errlen)
{
	struct pool_def *def;
	xmlNodePtr root;
	int r = -EINVAL;

	*ret = NULL;
	def = calloc(1, sizeof(*def));
	if (!def)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	def->doc = xml_parse_definition(&pool_kind, xml, len, def->name, def->uuid,
					&def->uuid_given, err, errlen);
	if (!def->doc)
		goto fail;
	root = xmlDocGetRootElement(def->doc);
	def->path = xml_text(xml_child(xml_child(root, "target"), "path"));
	if (!def->path || !path_valid(def->path)) {
		error_set(err, errlen, r,
			  "<target><path> '%s' is not an absolute folder path without '.' or '..' parts",
			  def->path ? def->path : "");
		goto fail;
	}
	*ret = def;
	return 0;
fail:
	pool_def_free(def);
	return r;
}

void pool_def_free(struct pool_def *def)
{
	if (!def)
		return;
	if (def->doc)
		xmlFreeDoc(def->doc);
	free(def);
}

char *pool_def_format(const struct pool_def *def)
{
	return xml_format(def->doc);
}

int pool_def_set_uuid(struct pool_def *def, const char *uuid)
{
	return xml_set_uuid(def->doc, uuid, def->uuid);
}
