/*
 * Domain definitions: the subset of libvirt's domain XML that webkvm runs.
 * The document is kept as given (with a uuid added when it had none), so
 * that dumpxml gives back what was defined, including the elements that
 * change nothing for a webkvm VM.
 */
#ifndef WEBKVM_VMMD_DOMAIN_XML_H
#define WEBKVM_VMMD_DOMAIN_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMAIN_NAME_MAX 64
#define DOMAIN_UUID_LEN 36
#define DOMAIN_MAX_DISKS 24
#define DOMAIN_MAX_IFACES 8
#define DOMAIN_XML_MAX (1 << 20)
#define DOMAIN_SERIAL_MAX 20   /* virtio-blk's ID */
#define DOMAIN_PATH_MAX 4095   /* a disk file's name, as vmm's --disk takes it */

enum domain_action { ACTION_DESTROY, ACTION_RESTART };
enum domain_disk_format { DISK_FORMAT_RAW, DISK_FORMAT_QCOW2 };
enum domain_disk_cache { DISK_CACHE_DEFAULT, DISK_CACHE_NONE, DISK_CACHE_WRITEBACK };
enum domain_iface_type { IFACE_NETWORK, IFACE_BRIDGE };

struct domain_disk {
	const char *file;      /* these strings point into the document */
	const char *target;    /* vda, vdb, ... */
	const char *serial;    /* or NULL */
	enum domain_disk_format format;
	enum domain_disk_cache cache;
	bool readonly;
};

struct domain_iface {
	enum domain_iface_type type;
	const char *source;    /* the network's or the bridge's name */
	uint8_t mac[6];        /* made at definition when the XML had none */
	bool link_down;        /* <link state='down'/>: starts with its cable pulled */
};

struct domain_def {
	xmlDocPtr doc;
	char name[DOMAIN_NAME_MAX + 1];
	char uuid[DOMAIN_UUID_LEN + 1];
	bool uuid_given;                  /* the XML had one; else it was made */
	const char *title, *description;  /* or NULL */
	uint64_t memory_kib, current_memory_kib;
	unsigned int vcpus;
	const char *kernel, *initrd, *cmdline;  /* initrd and cmdline may be NULL */
	enum domain_action on_poweroff, on_reboot, on_crash;
	struct domain_disk disks[DOMAIN_MAX_DISKS];
	unsigned int ndisks;
	struct domain_iface ifaces[DOMAIN_MAX_IFACES];
	unsigned int nifaces;
	bool vnc, serial, rng;
};

/*
 * Parse and check a definition. 0, or -EINVAL with one sentence in err
 * that names what is wrong or unsupported. No network access, no DTD, no
 * entity expansion.
 */
int domain_def_parse(struct domain_def **ret, const char *xml, size_t len, char *err,
		     size_t errlen);
void domain_def_free(struct domain_def *def);
/* Replace the uuid (a redefinition without one keeps the VM's). 0 or -ENOMEM. */
int domain_def_set_uuid(struct domain_def *def, const char *uuid);
/* The document, formatted; malloc'ed. */
char *domain_def_format(const struct domain_def *def);

bool domain_name_valid(const char *name);

#endif
