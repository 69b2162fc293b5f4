/*
 * Checking libvirt-style XML: a safe parse, and a table of the elements and
 * attributes a kind of definition may use. Anything else is an error that
 * names it: webkvm never silently drops part of a definition.
 */
#ifndef WEBKVM_VMMD_XML_H
#define WEBKVM_VMMD_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#define XML_RULE_TEXT 1u  /* the element may hold text */
#define XML_RULE_MANY 2u  /* it may appear more than once */
#define XML_RULE_OPAQUE 4u /* anything may be inside it (kept as it is) */

struct xml_rule {
	const char *path;   /* from the root: "domain/devices/disk/source" */
	const char *attrs;  /* allowed attribute names, space-separated, or NULL */
	unsigned int flags;
};

/*
 * Parse len bytes without network access, DTD or entity expansion (a
 * document with a DOCTYPE is refused), blank text dropped. NULL with a
 * sentence in err.
 */
xmlDocPtr xml_parse(const char *buf, size_t len, const char *root_name, char *err,
		    size_t errlen);
/* Every element and attribute is in rules, and appears as often as allowed. 0 or -EINVAL. */
int xml_check(xmlNodePtr root, const struct xml_rule *rules, char *err, size_t errlen);

/* Pointers into the document, or NULL when absent. */
const char *xml_attr(xmlNodePtr node, const char *name);
const char *xml_text(xmlNodePtr node);
xmlNodePtr xml_child(xmlNodePtr node, const char *name);
/* The next sibling element called name after node, or NULL. */
xmlNodePtr xml_next(xmlNodePtr node, const char *name);

#define XML_UUID_LEN 36

/*
 * The definition's <uuid>, a sibling after name_node: checked and kept in
 * lower case (*given), or made (random, version 4) and inserted.
 */
int xml_take_uuid(xmlDocPtr doc, xmlNodePtr name_node, char uuid[XML_UUID_LEN + 1], bool *given,
		  char *err, size_t errlen);
void xml_uuid_generate(char uuid[XML_UUID_LEN + 1]);

/* What every kind of definition starts with. */
struct xml_definition {
	const char *root;          /* "domain", "pool" */
	const char *type;          /* the one root type attribute webkvm runs: "kvm", "dir"; NULL: none */
	const char *type_note;     /* said when another type is given */
	const struct xml_rule *rules;
	size_t max;                /* bytes */
	const char *noun;          /* "VM", "pool" */
};

/*
 * Parse (xml_parse) and check (xml_check) a definition, its root's type,
 * its <name> (a name as NAME_MAX letters, digits, '-', '_', '.', '+')
 * and its <uuid> (xml_take_uuid). NULL with a sentence in err.
 */
#define XML_NAME_MAX 64
xmlDocPtr xml_parse_definition(const struct xml_definition *kind, const char *xml, size_t len,
			       char name[XML_NAME_MAX + 1], char uuid[XML_UUID_LEN + 1],
			       bool *uuid_given, char *err, size_t errlen);
bool xml_name_valid(const char *name);

/* Give the definition's <uuid> the text uuid and copy it to copy. 0 or -ENOMEM. */
int xml_set_uuid(xmlDocPtr doc, const char *uuid, char copy[XML_UUID_LEN + 1]);

/* The document, formatted with two-space indents; malloc'ed, or NULL. */
char *xml_format(xmlDocPtr doc);

#endif
