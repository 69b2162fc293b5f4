/*
 * The few changes the portal makes to a VM's definition itself (vCPUs,
 * memory, title, description), on vmmd's dumpxml with libxml2, without
 * network access or entity expansion; vmmd checks the result again.
 */
#ifndef WEBKVM_FCGI_DOMXML_H
#define WEBKVM_FCGI_DOMXML_H

#include <stddef.h>
#include <stdint.h>

struct vm_settings {
	int64_t vcpus;
	int64_t memory_mib;
	const char *title;       /* "" removes it */
	const char *description; /* "" removes it */
};

/* What the create page makes a VM from: paths are volumes vmmd gave. */
struct new_vm {
	const char *name;
	int64_t vcpus;
	int64_t memory_mib;
	const char *kernel;
	const char *initrd;    /* NULL: none */
	const char *cmdline;   /* "" : none */
	const char *disk;
	const char *disk_format;
	const char *network;   /* NULL: no NIC */
};

/* A libvirt domain definition for v, every value escaped by libxml2; the caller frees it. */
char *domxml_build(const struct new_vm *v);

/* The definition xml with settings applied, in *ret (the caller frees it). */
int domxml_apply(const char *xml, const struct vm_settings *s, char **ret, char *err, size_t errlen);
/* The name a definition gives (into name, len bytes). */
int domxml_name(const char *xml, char *name, size_t len, char *err, size_t errlen);
/* The VM's disks: [{target, file, format, readonly}]; the caller owns it. */
struct json_object *domxml_disks(const char *xml);
/* Its interfaces: [{mac, type ("network" or "bridge"), source, link_down}]. */
struct json_object *domxml_interfaces(const char *xml);
/* The text of the top-level element tag (title, description), or NULL; the caller frees it. */
char *domxml_text(const char *xml, const char *tag);

#endif
