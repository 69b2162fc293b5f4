/*
 * Checking libvirt-style XML.
 *
 * NOTES
 * - libxml2 does not load a DTD or substitute entities unless asked; we
 *   refuse any DOCTYPE, so only the five predefined entities exist.
 * - Comments are allowed and kept; processing instructions are refused.
 */
#include "vmm/service/xml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/error.h"
#include "common/name.h"

#define XML_MAX_DEPTH 16

static bool blank(const xmlChar *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* Whitespace between elements is layout, not content: drop it everywhere. */
static void drop_blank_text(xmlNodePtr node)
{
	xmlNodePtr c = node->children, next;

	for (; c; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE && blank(c->content)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			drop_blank_text(c);
		}
	}
}

xmlDocPtr xml_parse(const char *buf, size_t len, const char *root_name, char *err,
		    size_t errlen)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	const xmlError *e;

	if (len > INT32_MAX) {
		error_set(err, errlen, -EINVAL, "the XML is too large");
		return NULL;
	}
	xmlResetLastError();
	doc = xmlReadMemory(buf, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!doc) {
		e = xmlGetLastError();
		if (e && e->message) {
			char msg[256];
			size_t n;

			snprintf(msg, sizeof(msg), "%s", e->message);
			n = strlen(msg);
			while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
				msg[--n] = '\0';
			error_set(err, errlen, -EINVAL, "malformed XML at line %d: %s", e->line, msg);
		} else {
			error_set(err, errlen, -EINVAL, "malformed XML");
		}
		return NULL;
	}
	if (doc->intSubset || doc->extSubset) {
		error_set(err, errlen, -EINVAL, "a DOCTYPE is not allowed in a definition");
		xmlFreeDoc(doc);
		return NULL;
	}
	root = xmlDocGetRootElement(doc);
	if (root)
		drop_blank_text(root);
	if (!root || strcmp((const char *)root->name, root_name) != 0) {
		error_set(err, errlen, -EINVAL, "the root element is <%s>, not <%s>",
			  root ? (const char *)root->name : "", root_name);
		xmlFreeDoc(doc);
		return NULL;
	}
	if (root->ns) {
		error_set(err, errlen, -EINVAL, "the root element <%s> is in a namespace", root_name);
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static const struct xml_rule *find_rule(const struct xml_rule *rules, const char *path)
{
	for (; rules->path; rules++)
		if (strcmp(rules->path, path) == 0)
			return rules;
	return NULL;
}

static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	while (list && *list) {
		const char *end = strchrnul(list, ' ');

		if ((size_t)(end - list) == n && strncmp(list, word, n) == 0)
			return true;
		list = *end ? end + 1 : end;
	}
	return false;
}

static int check_element(xmlNodePtr node, const char *parent_path, const struct xml_rule *rules,
			 int depth, char *err, size_t errlen)
{
	char path[512];
	const struct xml_rule *rule;

	if (snprintf(path, sizeof(path), "%s%s%s", parent_path, *parent_path ? "/" : "",
		     (const char *)node->name) >= (int)sizeof(path) ||
	    depth > XML_MAX_DEPTH)
		return error_set(err, errlen, -EINVAL, "the XML is nested too deeply");
	rule = find_rule(rules, path);
	if (!rule || node->ns)
		return error_set(err, errlen, -EINVAL, "unsupported element <%s>%s%s%s",
				 node->name, node->parent && node->parent->type == XML_ELEMENT_NODE
						     ? " in <"
						     : "",
				 node->parent && node->parent->type == XML_ELEMENT_NODE
					 ? (const char *)node->parent->name
					 : "",
				 node->parent && node->parent->type == XML_ELEMENT_NODE ? ">" : "");
	if (rule->flags & XML_RULE_OPAQUE)
		return 0;
	for (xmlAttrPtr a = node->properties; a; a = a->next)
		if (a->ns || !word_in(rule->attrs, (const char *)a->name))
			return error_set(err, errlen, -EINVAL, "unsupported attribute %s on <%s>",
					 a->name, node->name);
	for (xmlNodePtr c = node->children; c; c = c->next) {
		int r;

		switch (c->type) {
		case XML_ELEMENT_NODE:
			{
				char child_path[600];
				const struct xml_rule *cr;

				snprintf(child_path, sizeof(child_path), "%s/%s", path, c->name);
				cr = find_rule(rules, child_path);
				if (cr && !(cr->flags & XML_RULE_MANY) &&
				    xml_next(c, (const char *)c->name))
					return error_set(err, errlen, -EINVAL,
							 "<%s> appears more than once in <%s>", c->name,
							 node->name);
			}
			r = check_element(c, path, rules, depth + 1, err, errlen);
			if (r < 0)
				return r;
			break;
		case XML_TEXT_NODE:
			if (!(rule->flags & XML_RULE_TEXT))
				return error_set(err, errlen, -EINVAL, "unexpected text in <%s>",
						 node->name);
			break;
		case XML_COMMENT_NODE:
			break;
		default:
			return error_set(err, errlen, -EINVAL, "unsupported XML content in <%s>",
					 node->name);
		}
	}
	return 0;
}

int xml_check(xmlNodePtr root, const struct xml_rule *rules, char *err, size_t errlen)
{
	return check_element(root, "", rules, 0, err, errlen);
}

const char *xml_attr(xmlNodePtr node, const char *name)
{
	for (xmlAttrPtr a = node ? node->properties : NULL; a; a = a->next)
		if (!a->ns && strcmp((const char *)a->name, name) == 0)
			return a->children && a->children->type == XML_TEXT_NODE
				       ? (const char *)a->children->content
				       : "";
	return NULL;
}

const char *xml_text(xmlNodePtr node)
{
	if (!node)
		return NULL;
	for (xmlNodePtr c = node->children; c; c = c->next)
		if (c->type == XML_TEXT_NODE)
			return (const char *)c->content;
	return "";
}

xmlNodePtr xml_child(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

xmlNodePtr xml_next(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr c = node->next; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

static bool uuid_valid(const char *s)
{
	if (strlen(s) != XML_UUID_LEN)
		return false;
	for (int i = 0; i < XML_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

void xml_uuid_generate(char out[XML_UUID_LEN + 1])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, 0, sizeof(b)); /* getrandom on 16 bytes does not fail after boot */
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, XML_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

int xml_take_uuid(xmlDocPtr doc, xmlNodePtr name_node, char uuid[XML_UUID_LEN + 1], bool *given,
		  char *err, size_t errlen)
{
	xmlNodePtr u = xml_child(name_node->parent, "uuid");

	*given = u != NULL;
	if (u) {
		const char *v = xml_text(u);

		if (!uuid_valid(v))
			return error_set(err, errlen, -EINVAL, "'%s' is not a UUID", v);
		for (int i = 0; i <= XML_UUID_LEN; i++)
			uuid[i] = v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i];
		/* kept in lower case, as libvirt writes it */
		xmlNodeSetContent(u, (const xmlChar *)uuid);
		return 0;
	}
	xml_uuid_generate(uuid);
	u = xmlNewDocNode(doc, NULL, (const xmlChar *)"uuid", (const xmlChar *)uuid);
	if (!u || !xmlAddNextSibling(name_node, u))
		return error_set(err, errlen, -ENOMEM, "out of memory");
	return 0;
}

bool xml_name_valid(const char *name)
{
	return name_valid(name, XML_NAME_MAX, "+");
}

xmlDocPtr xml_parse_definition(const struct xml_definition *kind, const char *xml, size_t len,
			       char name[XML_NAME_MAX + 1], char uuid[XML_UUID_LEN + 1],
			       bool *uuid_given, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlNodePtr root, n;
	const char *v;

	if (len > kind->max) {
		error_set(err, errlen, -EINVAL, "the XML is larger than %zu bytes", kind->max);
		return NULL;
	}
	doc = xml_parse(xml, len, kind->root, err, errlen);
	if (!doc)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (xml_check(root, kind->rules, err, errlen) < 0)
		goto fail;
	if (!kind->type) {
		/* a kind without a type attribute (network) */
	} else if (!(v = xml_attr(root, "type"))) {
		error_set(err, errlen, -EINVAL, "<%s> needs type='%s'", kind->root, kind->type);
		goto fail;
	} else if (strcmp(v, kind->type) != 0) {
		error_set(err, errlen, -EINVAL, "unsupported %s type '%s' (%s)", kind->root, v,
			  kind->type_note);
		goto fail;
	}
	n = xml_child(root, "name");
	if (!n || !xml_name_valid(xml_text(n))) {
		error_set(err, errlen, -EINVAL,
			  "<name> '%s' is not a %s name (1 to %d letters, digits, '-', '_', '.', '+', "
			  "not starting with '.' or '-')",
			  n ? xml_text(n) : "", kind->noun, XML_NAME_MAX);
		goto fail;
	}
	snprintf(name, XML_NAME_MAX + 1, "%s", xml_text(n));
	if (xml_take_uuid(doc, n, uuid, uuid_given, err, errlen) < 0)
		goto fail;
	return doc;
fail:
	xmlFreeDoc(doc);
	return NULL;
}

int xml_set_uuid(xmlDocPtr doc, const char *uuid, char copy[XML_UUID_LEN + 1])
{
	xmlNodePtr u = xml_child(xmlDocGetRootElement(doc), "uuid");

	if (!u)
		return -ENOMEM;
	xmlNodeSetContent(u, (const xmlChar *)uuid);
	snprintf(copy, XML_UUID_LEN + 1, "%s", uuid);
	return 0;
}

char *xml_format(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlBufferPtr buf = xmlBufferCreate();
	char *s = NULL;

	if (!buf)
		return NULL;
	/* the root element alone: no XML declaration, as libvirt prints */
	if (xmlNodeDump(buf, doc, root, 0, 1) >= 0) {
		size_t n = xmlBufferLength(buf);

		s = malloc(n + 2);
		if (s) {
			memcpy(s, xmlBufferContent(buf), n);
			s[n] = '\n';
			s[n + 1] = '\0';
		}
	}
	xmlBufferFree(buf);
	return s;
}
