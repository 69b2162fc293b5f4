#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

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

/* <name>text</name> under parent, text escaped (xmlNewTextChild escapes; xmlNewChild would not). */
static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

char *domxml_build(const struct new_vm *v)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"domain"), os, devices, n;
	xmlChar *out = NULL;
	char num[32], *copy;
	int len = 0;

	xmlDocSetRootElement(doc, root);
	xmlSetProp(root, (const xmlChar *)"type", (const xmlChar *)"kvm");
	add(root, "name", v->name);
	snprintf(num, sizeof(num), "%lld", (long long)v->memory_mib);
	xmlSetProp(add(root, "memory", num), (const xmlChar *)"unit", (const xmlChar *)"MiB");
	xmlSetProp(add(root, "currentMemory", num), (const xmlChar *)"unit", (const xmlChar *)"MiB");
	snprintf(num, sizeof(num), "%lld", (long long)v->vcpus);
	add(root, "vcpu", num);
	os = xmlNewChild(root, NULL, (const xmlChar *)"os", NULL);
	xmlSetProp(add(os, "type", "hvm"), (const xmlChar *)"arch", (const xmlChar *)"x86_64");
	add(os, "kernel", v->kernel);
	if (v->initrd)
		add(os, "initrd", v->initrd);
	if (v->cmdline && *v->cmdline)
		add(os, "cmdline", v->cmdline);
	devices = xmlNewChild(root, NULL, (const xmlChar *)"devices", NULL);
	n = xmlNewChild(devices, NULL, (const xmlChar *)"disk", NULL);
	xmlSetProp(n, (const xmlChar *)"type", (const xmlChar *)"file");
	xmlSetProp(n, (const xmlChar *)"device", (const xmlChar *)"disk");
	xmlSetProp(xmlNewChild(n, NULL, (const xmlChar *)"driver", NULL), (const xmlChar *)"type",
		   (const xmlChar *)v->disk_format);
	xmlSetProp(xmlNewChild(n, NULL, (const xmlChar *)"source", NULL), (const xmlChar *)"file",
		   (const xmlChar *)v->disk);
	xmlNodePtr target = xmlNewChild(n, NULL, (const xmlChar *)"target", NULL);
	xmlSetProp(target, (const xmlChar *)"dev", (const xmlChar *)"vda");
	xmlSetProp(target, (const xmlChar *)"bus", (const xmlChar *)"virtio");
	if (v->network) {
		n = xmlNewChild(devices, NULL, (const xmlChar *)"interface", NULL);
		xmlSetProp(n, (const xmlChar *)"type", (const xmlChar *)"network");
		xmlSetProp(xmlNewChild(n, NULL, (const xmlChar *)"source", NULL),
			   (const xmlChar *)"network", (const xmlChar *)v->network);
		xmlSetProp(xmlNewChild(n, NULL, (const xmlChar *)"model", NULL), (const xmlChar *)"type",
			   (const xmlChar *)"virtio");
	}
	xmlSetProp(xmlNewChild(devices, NULL, (const xmlChar *)"console", NULL),
		   (const xmlChar *)"type", (const xmlChar *)"pty");
	xmlSetProp(xmlNewChild(devices, NULL, (const xmlChar *)"graphics", NULL),
		   (const xmlChar *)"type", (const xmlChar *)"vnc");
	n = xmlNewChild(devices, NULL, (const xmlChar *)"rng", NULL);
	xmlSetProp(n, (const xmlChar *)"model", (const xmlChar *)"virtio");
	xmlSetProp(add(n, "backend", "/dev/urandom"), (const xmlChar *)"model", (const xmlChar *)"random");
	xmlDocDumpFormatMemory(doc, &out, &len, 1);
	xmlFreeDoc(doc);
	if (!out)
		return NULL;
	copy = strdup((const char *)out);
	xmlFree(out);
	return copy;
}

static const char *attr(xmlNodePtr n, const char *name, char *buf, size_t len)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;

	snprintf(buf, len, "%s", v ? (const char *)v : "");
	xmlFree(v);
	return buf;
}

json_object *domxml_disks(const char *xml)
{
	char err[64], file[4096], target[32], format[16];
	json_object *out = json_object_new_array();
	xmlDocPtr doc = parse(xml, err, sizeof(err));
	xmlNodePtr devices;

	if (!doc)
		return out;
	devices = child(xmlDocGetRootElement(doc), "devices");
	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		json_object *d;

		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)"disk"))
			continue;
		d = json_object_new_object();
		json_object_object_add(d, "target", json_object_new_string(
			attr(child(n, "target"), "dev", target, sizeof(target))));
		json_object_object_add(d, "file", json_object_new_string(
			attr(child(n, "source"), "file", file, sizeof(file))));
		attr(child(n, "driver"), "type", format, sizeof(format));
		json_object_object_add(d, "format", json_object_new_string(*format ? format : "raw"));
		json_object_object_add(d, "readonly", json_object_new_boolean(child(n, "readonly") != NULL));
		json_object_array_add(out, d);
	}
	xmlFreeDoc(doc);
	return out;
}

json_object *domxml_interfaces(const char *xml)
{
	char err[64], mac[32], type[16], source[80], state[8];
	json_object *out = json_object_new_array();
	xmlDocPtr doc = parse(xml, err, sizeof(err));
	xmlNodePtr devices;

	if (!doc)
		return out;
	devices = child(xmlDocGetRootElement(doc), "devices");
	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		json_object *f;

		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)"interface"))
			continue;
		attr(n, "type", type, sizeof(type));
		f = json_object_new_object();
		json_object_object_add(f, "mac", json_object_new_string(
			attr(child(n, "mac"), "address", mac, sizeof(mac))));
		json_object_object_add(f, "type", json_object_new_string(type));
		json_object_object_add(f, "source", json_object_new_string(
			attr(child(n, "source"), strcmp(type, "bridge") ? "network" : "bridge", source,
			     sizeof(source))));
		attr(child(n, "link"), "state", state, sizeof(state));
		json_object_object_add(f, "link_down", json_object_new_boolean(!strcmp(state, "down")));
		json_object_array_add(out, f);
	}
	xmlFreeDoc(doc);
	return out;
}
