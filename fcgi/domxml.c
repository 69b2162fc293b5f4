#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "fcgi/domxml.h"

static xmlDocPtr parse(const char *xml, char *err, size_t errlen)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!root || xmlStrcmp(root->name, (const xmlChar *)"domain")) {
		xmlFreeDoc(doc);
		error_set(err, errlen, -EINVAL, "The definition is not a <domain> in well-formed XML.");
		return NULL;
	}
	return doc;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)name))
			return n;
	return NULL;
}

/* Set <name>text</name> under root (made after <after> when missing); text "" removes it. */
static void set_text(xmlNodePtr root, const char *name, const char *text, const char *after)
{
	xmlNodePtr n = child(root, name);

	if (!*text) {
		if (n) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
		return;
	}
	if (!n) {
		xmlNodePtr prev = child(root, after);

		n = xmlNewNode(NULL, (const xmlChar *)name);
		if (prev)
			xmlAddNextSibling(prev, n);
		else
			xmlAddChild(root, n);
	}
	/* xmlNodeSetContent would take entity references: this escapes */
	xmlNodeSetContent(n, NULL);
	xmlNodeAddContent(n, (const xmlChar *)text);
}

static void set_memory(xmlNodePtr root, const char *name, int64_t mib)
{
	char text[32];
	xmlNodePtr n = child(root, name);

	if (!n)
		return;
	snprintf(text, sizeof(text), "%lld", (long long)mib);
	xmlSetProp(n, (const xmlChar *)"unit", (const xmlChar *)"MiB");
	xmlNodeSetContent(n, (const xmlChar *)text);
}

int domxml_apply(const char *xml, const struct vm_settings *s, char **ret, char *err, size_t errlen)
{
	xmlDocPtr doc = parse(xml, err, errlen);
	xmlNodePtr root, vcpu;
	xmlChar *out = NULL;
	int len = 0;
	char text[32];

	if (!doc)
		return -EINVAL;
	root = xmlDocGetRootElement(doc);
	vcpu = child(root, "vcpu");
	if (!vcpu || !child(root, "memory")) {
		xmlFreeDoc(doc);
		return error_set(err, errlen, -EINVAL, "The definition has no <vcpu> or <memory>.");
	}
	snprintf(text, sizeof(text), "%lld", (long long)s->vcpus);
	xmlNodeSetContent(vcpu, (const xmlChar *)text);
	set_memory(root, "memory", s->memory_mib);
	set_memory(root, "currentMemory", s->memory_mib);
	set_text(root, "title", s->title, "uuid");
	set_text(root, "description", s->description, "title");
	xmlDocDumpMemory(doc, &out, &len);
	xmlFreeDoc(doc);
	if (!out)
		return error_set(err, errlen, -ENOMEM, "Out of memory.");
	*ret = strdup((const char *)out);
	xmlFree(out);
	return *ret ? 0 : error_set(err, errlen, -ENOMEM, "Out of memory.");
}

int domxml_name(const char *xml, char *name, size_t len, char *err, size_t errlen)
{
	xmlDocPtr doc = parse(xml, err, errlen);
	xmlNodePtr n;
	xmlChar *text;

	if (!doc)
		return -EINVAL;
	n = child(xmlDocGetRootElement(doc), "name");
	text = n ? xmlNodeGetContent(n) : NULL;
	xmlFreeDoc(doc);
	if (!text)
		return error_set(err, errlen, -EINVAL, "The definition has no <name>.");
	snprintf(name, len, "%s", (const char *)text);
	xmlFree(text);
	return 0;
}

char *domxml_text(const char *xml, const char *tag)
{
	char err[64];
	xmlDocPtr doc = parse(xml, err, sizeof(err));
	xmlNodePtr n;
	xmlChar *text;
	char *copy;

	if (!doc)
		return NULL;
	n = child(xmlDocGetRootElement(doc), tag);
	text = n ? xmlNodeGetContent(n) : NULL;
	xmlFreeDoc(doc);
	copy = text ? strdup((const char *)text) : NULL;
	xmlFree(text);
	return copy;
}
