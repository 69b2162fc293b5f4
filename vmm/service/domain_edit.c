/*
 * Changes to a domain's definition that go beyond redefining it: cloning
 * (as virt-clone does), attaching and detaching disks and interfaces,
 * an interface's link state, and removing a VM's storage with its
 * definition.
 *
 * NOTES
 * - Each change edits a copy of the document, formats it and goes through
 *   domain_define, so the result is checked (with the host files the
 *   caller may name) and stored like any other definition; on any failure
 *   the old definition stays.
 * - A clone gets a new uuid and new MAC addresses (52:54:00, as libvirt
 *   makes them). Its writable disks are copied next to the originals as
 *   NEW.EXT, then NEW-vdb.EXT, ...; or, as overlays, each becomes a new
 *   qcow2 NEW.qcow2, NEW-vdb.qcow2, ... whose backing file is the
 *   original (a linked clone: it reads through to the original, which
 *   must not change from then on, as a template's disk). Read-only disks
 *   are shared. Files made before a failure are removed.
 * - Disk and interface changes apply to the definition; a running VM
 *   sees them at its next start (no hot plug). An interface is named by
 *   its MAC, as virsh detach-interface and domif-setlink do; a new one
 *   gets its MAC from the parser (52:54:00, kept in the definition).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/mac.h"
#include "vmm/disk/image.h"
#include "vmm/service/vmmd.h"
#include "vmm/service/xml.h"

/* Format doc and define it for caller uid. Takes doc. */
static int define_doc(struct vmmd *d, xmlDocPtr doc, uid_t uid, struct domain **ret,
		      const char **code, char *err, size_t errlen)
{
	char *text = xml_format(doc);
	int r;

	xmlFreeDoc(doc);
	if (!text) {
		*code = "internal-error";
		error_set(err, errlen, -ENOMEM, "out of memory");
		return -1;
	}
	r = domain_define(d, text, strlen(text), uid, ret, code, err, errlen);
	free(text);
	return r;
}

static xmlDocPtr copy_doc(const struct domain *dom, const char **code, char *err, size_t errlen)
{
	xmlDocPtr doc = xmlCopyDoc(dom->def->doc, 1);

	if (!doc) {
		*code = "internal-error";
		error_set(err, errlen, -ENOMEM, "out of memory");
	}
	return doc;
}

/* The clone's path for disk number i (its source src). */
static void clone_path(const char *src, const char *new_name, unsigned int i, const char *target,
		       bool overlay, char *out, size_t len)
{
	char dir[4096];
	const char *base = strrchr(src, '/') + 1, *dot = strrchr(base, '.');
	const char *ext = overlay ? ".qcow2" : dot && dot != base ? dot : "";

	snprintf(dir, sizeof(dir), "%s", src);
	if (i == 0)
		snprintf(out, len, "%s/%s%s", dirname(dir), new_name, ext);
	else
		snprintf(out, len, "%s/%s-%s%s", dirname(dir), new_name, target, ext);
}

/* What the disk's driver says its file is (libvirt's default: raw). */
static bool driver_says_qcow2(xmlNodePtr disk)
{
	const char *type = xml_attr(xml_child(disk, "driver"), "type");

	return type && strcmp(type, "qcow2") == 0;
}

/*
 * A new qcow2 at path over the image at backing, as big as it, and the
 * disk's driver says qcow2. The backing file is the format the disk's
 * driver says, never what its first bytes say (a raw disk's guest wrote
 * them), and a raw one as big as its file.
 */
static int make_overlay(xmlNodePtr disk, const char *backing, const char *path, char *err,
			size_t errlen)
{
	xmlNodePtr driver = xml_child(disk, "driver");
	bool qcow2 = driver_says_qcow2(disk);
	struct image_info info;
	struct stat st;

	if (image_probe(backing, &info, err, errlen) < 0)
		return -1;
	if (!qcow2 && info.qcow2) {
		if (stat(backing, &st) < 0)
			return error_set(err, errlen, -errno, "cannot read %s: %s", backing, strerror(errno));
		info.capacity = (uint64_t)st.st_size;
	}
	if (image_create_qcow2(path, info.capacity, backing, qcow2 ? "qcow2" : "raw", err, errlen) < 0)
		return -1;
	if (!driver) {
		driver = xmlNewChild(disk, NULL, (const xmlChar *)"driver", NULL);
		if (driver)
			xmlSetProp(driver, (const xmlChar *)"name", (const xmlChar *)"qemu");
	}
	if (!driver || !xmlSetProp(driver, (const xmlChar *)"type", (const xmlChar *)"qcow2")) {
		error_set(err, errlen, -ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

struct domain_clone {
	struct domain *source;         /* its copying counts this clone */
	char name[DOMAIN_NAME_MAX + 1]; /* the clone's */
	xmlDocPtr doc;                 /* the clone's definition */
	uid_t uid;
	unsigned int nmade, ncopies;
	char made[DOMAIN_MAX_DISKS][4096];  /* the files made for it */
	int in[DOMAIN_MAX_DISKS], out[DOMAIN_MAX_DISKS]; /* each copy's ends */
};

unsigned int domain_clone_files(const struct domain_clone *cl, int *fds)
{
	for (unsigned int i = 0; i < cl->ncopies; i++) {
		fds[2 * i] = cl->in[i];
		fds[2 * i + 1] = cl->out[i];
	}
	return 2 * cl->ncopies;
}

void domain_clone_close_files(struct domain_clone *cl)
{
	for (unsigned int i = 0; i < cl->ncopies; i++) {
		if (cl->in[i] >= 0)
			close(cl->in[i]);
		if (cl->out[i] >= 0)
			close(cl->out[i]);
		cl->in[i] = cl->out[i] = -1;
	}
}

void domain_clone_free(struct domain_clone *cl)
{
	if (!cl)
		return;
	domain_clone_close_files(cl);
	while (cl->nmade)
		unlink(cl->made[--cl->nmade]);
	if (cl->doc)
		xmlFreeDoc(cl->doc);
	if (cl->source)
		cl->source->copying--;
	free(cl);
}

bool domain_clone_copies(const struct domain_clone *cl)
{
	return cl->ncopies > 0;
}

int domain_clone_copy(void *arg)
{
	struct domain_clone *cl = arg;

	for (unsigned int i = 0; i < cl->ncopies; i++) {
		int r = image_copy_fd(cl->in[i], cl->out[i]);

		if (r < 0)
			return -r;
	}
	return 0;
}

int domain_clone_prepare(struct vmmd *d, struct domain *dom, const char *new_name, bool overlay,
			 uid_t uid, struct domain_clone **ret, const char **code, char *err,
			 size_t errlen)
{
	struct domain_clone *cl;
	xmlNodePtr root, n, devices;
	unsigned int ndisk = 0;

	if (dom->pid && dom->state != DOMAIN_PAUSED) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "%s is %s; shut it down (or pause it) to clone it",
			  dom->def->name, domain_state_name(dom->state));
		return -1;
	}
	if (!domain_name_valid(new_name)) {
		*code = "invalid-params";
		error_set(err, errlen, -EINVAL, "'%s' is not a VM name", new_name);
		return -1;
	}
	if (domain_find(d, new_name)) {
		*code = "domain-exists";
		error_set(err, errlen, -EEXIST, "a VM named %s exists", new_name);
		return -1;
	}
	/* before anything is copied: a copy of a host file would be one too */
	if (hostfile_check_domain(d, dom->def, uid, code, err, errlen) < 0)
		return -1;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		goto nomem;
	cl->uid = uid;
	snprintf(cl->name, sizeof(cl->name), "%s", new_name);
	cl->source = dom;
	dom->copying++;
	cl->doc = copy_doc(dom, code, err, errlen);
	if (!cl->doc)
		goto fail;
	root = xmlDocGetRootElement(cl->doc);
	xmlNodeSetContent(xml_child(root, "name"), (const xmlChar *)new_name);
	n = xml_child(root, "uuid");
	if (n) {
		xmlUnlinkNode(n);
		xmlFreeNode(n);
	}
	devices = xml_child(root, "devices");
	for (n = devices ? devices->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, "interface") == 0) {
			xmlNodePtr mac = xml_child(n, "mac");
			char addr[MAC_STRLEN];
			uint8_t m[6];

			mac_random(m);
			mac_format(m, addr);
			if (!mac)
				mac = xmlNewChild(n, NULL, (const xmlChar *)"mac", NULL);
			if (!mac || !xmlSetProp(mac, (const xmlChar *)"address", (const xmlChar *)addr))
				goto nomem;
		} else if (strcmp((const char *)n->name, "disk") == 0) {
			xmlNodePtr source = xml_child(n, "source");
			const char *file = xml_attr(source, "file");
			const char *target = xml_attr(xml_child(n, "target"), "dev");
			char *path = cl->made[cl->nmade];

			if (!file || !target || xml_child(n, "readonly"))
				continue; /* shared, as virt-clone shares read-only disks */
			clone_path(file, new_name, ndisk++, target, overlay, path, sizeof(cl->made[0]));
			if (overlay ? make_overlay(n, file, path, err, errlen)
				    : image_copy_open(file, path, driver_says_qcow2(n), &cl->in[cl->ncopies],
						      &cl->out[cl->ncopies], err, errlen)) {
				*code = "io-error";
				goto fail;
			}
			cl->nmade++;
			if (!overlay)
				cl->ncopies++;
			if (!xmlSetProp(source, (const xmlChar *)"file", (const xmlChar *)path))
				goto nomem;
		}
	}
	*ret = cl;
	return 0;
nomem:
	*code = "internal-error";
	error_set(err, errlen, -ENOMEM, "out of memory");
fail:
	domain_clone_free(cl);
	return -1;
}

int domain_clone_define(struct vmmd *d, struct domain_clone *cl, int status, struct domain **ret,
			const char **code, char *err, size_t errlen)
{
	int r;

	if (status != 0) {
		*code = "io-error";
		error_set(err, errlen, -EIO, "cannot copy the disks of %s: %s", cl->source->def->name,
			  status < 255 ? strerror(status) : "the copy was stopped");
		domain_clone_free(cl);
		return -1;
	}
	/* the name was free when the copy began; a VM made since keeps it */
	if (domain_find(d, cl->name)) {
		*code = "domain-exists";
		error_set(err, errlen, -EEXIST, "a VM named %s was made while the disks were copied",
			  cl->name);
		domain_clone_free(cl);
		return -1;
	}
	r = define_doc(d, cl->doc, cl->uid, ret, code, err, errlen);
	cl->doc = NULL;
	if (r == 0)
		cl->nmade = 0; /* the clone's now */
	domain_clone_free(cl);
	return r;
}

int domain_attach_disk(struct vmmd *d, struct domain *dom, const struct domain_disk *disk,
		       uid_t uid, const char **code, char *err, size_t errlen)
{
	xmlNodePtr root, devices, n, sub;
	struct domain *out;
	xmlDocPtr doc;

	for (unsigned int i = 0; i < dom->def->ndisks; i++) {
		if (strcmp(dom->def->disks[i].target, disk->target) == 0) {
			*code = "invalid-params";
			error_set(err, errlen, -EEXIST, "%s already has a disk %s", dom->def->name,
				  disk->target);
			return -1;
		}
	}
	doc = copy_doc(dom, code, err, errlen);
	if (!doc)
		return -1;
	root = xmlDocGetRootElement(doc);
	devices = xml_child(root, "devices");
	if (!devices)
		devices = xmlNewChild(root, NULL, (const xmlChar *)"devices", NULL);
	n = devices ? xmlNewChild(devices, NULL, (const xmlChar *)"disk", NULL) : NULL;
	if (!n)
		goto nomem;
	xmlSetProp(n, (const xmlChar *)"type", (const xmlChar *)"file");
	xmlSetProp(n, (const xmlChar *)"device", (const xmlChar *)"disk");
	sub = xmlNewChild(n, NULL, (const xmlChar *)"driver", NULL);
	if (!sub)
		goto nomem;
	xmlSetProp(sub, (const xmlChar *)"name", (const xmlChar *)"qemu");
	xmlSetProp(sub, (const xmlChar *)"type",
		   (const xmlChar *)(disk->format == DISK_FORMAT_QCOW2 ? "qcow2" : "raw"));
	if (disk->cache != DISK_CACHE_DEFAULT)
		xmlSetProp(sub, (const xmlChar *)"cache",
			   (const xmlChar *)(disk->cache == DISK_CACHE_NONE ? "none" : "writeback"));
	sub = xmlNewChild(n, NULL, (const xmlChar *)"source", NULL);
	if (!sub)
		goto nomem;
	xmlSetProp(sub, (const xmlChar *)"file", (const xmlChar *)disk->file);
	sub = xmlNewChild(n, NULL, (const xmlChar *)"target", NULL);
	if (!sub)
		goto nomem;
	xmlSetProp(sub, (const xmlChar *)"dev", (const xmlChar *)disk->target);
	xmlSetProp(sub, (const xmlChar *)"bus", (const xmlChar *)"virtio");
	if (disk->readonly && !xmlNewChild(n, NULL, (const xmlChar *)"readonly", NULL))
		goto nomem;
	/* xmlNewTextChild escapes the text */
	if (disk->serial &&
	    !xmlNewTextChild(n, NULL, (const xmlChar *)"serial", (const xmlChar *)disk->serial))
		goto nomem;
	return define_doc(d, doc, uid, &out, code, err, errlen);
nomem:
	xmlFreeDoc(doc);
	*code = "internal-error";
	error_set(err, errlen, -ENOMEM, "out of memory");
	return -1;
}

int domain_detach_disk(struct vmmd *d, struct domain *dom, const char *target, uid_t uid,
		       const char **code, char *err, size_t errlen)
{
	xmlNodePtr devices, n;
	struct domain *out;
	xmlDocPtr doc = copy_doc(dom, code, err, errlen);

	if (!doc)
		return -1;
	devices = xml_child(xmlDocGetRootElement(doc), "devices");
	for (n = devices ? devices->children : NULL; n; n = n->next) {
		const char *dev;

		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "disk") != 0)
			continue;
		dev = xml_attr(xml_child(n, "target"), "dev");
		if (dev && strcmp(dev, target) == 0) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			return define_doc(d, doc, uid, &out, code, err, errlen);
		}
	}
	xmlFreeDoc(doc);
	*code = "invalid-params";
	error_set(err, errlen, -ENOENT, "%s has no disk %s", dom->def->name, target);
	return -1;
}

/* The <interface> element of doc whose MAC is mac, or NULL. */
static xmlNodePtr find_iface(xmlDocPtr doc, const uint8_t mac[6])
{
	xmlNodePtr devices = xml_child(xmlDocGetRootElement(doc), "devices");

	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		const char *addr;
		uint8_t m[6];

		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "interface") != 0)
			continue;
		addr = xml_attr(xml_child(n, "mac"), "address");
		if (addr && mac_parse(addr, m) == 0 && memcmp(m, mac, 6) == 0)
			return n;
	}
	return NULL;
}

static int no_iface(const struct domain *dom, const uint8_t mac[6], const char **code, char *err,
		    size_t errlen)
{
	char text[MAC_STRLEN];

	mac_format(mac, text);
	*code = "no-interface";
	return error_set(err, errlen, -ENOENT, "%s has no interface with MAC %s", dom->def->name,
			 text);
}

int domain_attach_iface(struct vmmd *d, struct domain *dom, const struct domain_iface *f,
			bool have_mac, uid_t uid, const char **code, char *err, size_t errlen)
{
	const char *kind = f->type == IFACE_NETWORK ? "network" : "bridge";
	xmlNodePtr devices, n, sub;
	struct domain *out;
	char text[MAC_STRLEN];
	xmlDocPtr doc;

	if (dom->def->nifaces == DOMAIN_MAX_IFACES) {
		*code = "invalid-params";
		return error_set(err, errlen, -ENOSPC, "%s has %d interfaces, the most a VM may have",
				 dom->def->name, DOMAIN_MAX_IFACES);
	}
	if (have_mac) {
		for (unsigned int i = 0; i < dom->def->nifaces; i++) {
			if (memcmp(dom->def->ifaces[i].mac, f->mac, 6) == 0) {
				mac_format(f->mac, text);
				*code = "invalid-params";
				return error_set(err, errlen, -EEXIST, "%s has an interface with MAC %s already",
						 dom->def->name, text);
			}
		}
	}
	doc = copy_doc(dom, code, err, errlen);
	if (!doc)
		return -1;
	devices = xml_child(xmlDocGetRootElement(doc), "devices");
	if (!devices)
		devices = xmlNewChild(xmlDocGetRootElement(doc), NULL, (const xmlChar *)"devices", NULL);
	n = devices ? xmlNewChild(devices, NULL, (const xmlChar *)"interface", NULL) : NULL;
	if (!n)
		goto nomem;
	xmlSetProp(n, (const xmlChar *)"type", (const xmlChar *)kind);
	if (have_mac) {
		mac_format(f->mac, text);
		sub = xmlNewChild(n, NULL, (const xmlChar *)"mac", NULL);
		if (!sub || !xmlSetProp(sub, (const xmlChar *)"address", (const xmlChar *)text))
			goto nomem;
	}
	sub = xmlNewChild(n, NULL, (const xmlChar *)"source", NULL);
	if (!sub || !xmlSetProp(sub, (const xmlChar *)kind, (const xmlChar *)f->source))
		goto nomem;
	sub = xmlNewChild(n, NULL, (const xmlChar *)"model", NULL);
	if (!sub || !xmlSetProp(sub, (const xmlChar *)"type", (const xmlChar *)"virtio"))
		goto nomem;
	if (f->link_down) {
		sub = xmlNewChild(n, NULL, (const xmlChar *)"link", NULL);
		if (!sub || !xmlSetProp(sub, (const xmlChar *)"state", (const xmlChar *)"down"))
			goto nomem;
	}
	return define_doc(d, doc, uid, &out, code, err, errlen);
nomem:
	xmlFreeDoc(doc);
	*code = "internal-error";
	return error_set(err, errlen, -ENOMEM, "out of memory");
}

int domain_detach_iface(struct vmmd *d, struct domain *dom, const uint8_t mac[6], uid_t uid,
			const char **code, char *err, size_t errlen)
{
	xmlDocPtr doc = copy_doc(dom, code, err, errlen);
	struct domain *out;
	xmlNodePtr n;

	if (!doc)
		return -1;
	n = find_iface(doc, mac);
	if (!n) {
		xmlFreeDoc(doc);
		return no_iface(dom, mac, code, err, errlen);
	}
	xmlUnlinkNode(n);
	xmlFreeNode(n);
	return define_doc(d, doc, uid, &out, code, err, errlen);
}

int domain_set_iface_link(struct vmmd *d, struct domain *dom, const uint8_t mac[6], bool up,
			  uid_t uid, const char **code, char *err, size_t errlen)
{
	xmlDocPtr doc = copy_doc(dom, code, err, errlen);
	struct domain *out;
	xmlNodePtr n, link;

	if (!doc)
		return -1;
	n = find_iface(doc, mac);
	if (!n) {
		xmlFreeDoc(doc);
		return no_iface(dom, mac, code, err, errlen);
	}
	link = xml_child(n, "link");
	if (!link)
		link = xmlNewChild(n, NULL, (const xmlChar *)"link", NULL);
	if (!link || !xmlSetProp(link, (const xmlChar *)"state", (const xmlChar *)(up ? "up" : "down"))) {
		xmlFreeDoc(doc);
		*code = "internal-error";
		return error_set(err, errlen, -ENOMEM, "out of memory");
	}
	return define_doc(d, doc, uid, &out, code, err, errlen);
}

/* Is path directly inside a started pool's folder? */
static bool in_started_pool(struct vmmd *d, const char *path)
{
	for (unsigned int i = 0; i < d->npools; i++) {
		const struct pool *p = d->pools[i];
		size_t n = strlen(p->def->path);

		if (p->active && strncmp(path, p->def->path, n) == 0 && path[n] == '/' &&
		    !strchr(path + n + 1, '/'))
			return true;
	}
	return false;
}

/* Why file, a disk of dom, stays when dom goes with its storage (in why), or NULL. */
static const char *keep_reason(struct vmmd *d, const struct domain *dom, const char *file,
			       char *why, size_t len)
{
	char who[600];

	if (!in_started_pool(d, file))
		return "is not a volume of a started pool";
	for (unsigned int i = 0; i < d->ndomains; i++) {
		const struct domain *other = d->domains[i];

		for (unsigned int k = 0; other != dom && k < other->def->ndisks; k++) {
			if (strcmp(other->def->disks[k].file, file) == 0) {
				snprintf(why, len, "is a disk of the VM %s too", other->def->name);
				return why;
			}
		}
		if (other != dom && ((other->def->kernel && !strcmp(other->def->kernel, file)) ||
				     (other->def->initrd && !strcmp(other->def->initrd, file)))) {
			snprintf(why, len, "is the kernel or initrd of the VM %s", other->def->name);
			return why;
		}
	}
	/* the overlays on it would lose every block they did not write themselves */
	if (volume_is_backing_file(d, file, who, sizeof(who))) {
		snprintf(why, len, "is the backing file of the volume %s", who);
		return why;
	}
	return NULL;
}

/* Is file one of only's strings (only NULL: every file is)? */
static bool among(json_object *only, const char *file)
{
	if (!only)
		return true;
	for (size_t i = 0; i < json_object_array_length(only); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(only, i)), file))
			return true;
	return false;
}

void domain_storage_to_remove(struct vmmd *d, const struct domain *dom, json_object *only,
			      json_object *doomed, json_object *kept, json_object *why)
{
	for (unsigned int i = 0; i < dom->def->ndisks; i++) {
		const char *file = dom->def->disks[i].file, *reason;
		char text[700];

		/* the same file twice is one disk */
		if (among(doomed, file) || json_object_object_get_ex(why, file, NULL))
			continue;
		reason = among(only, file) ? keep_reason(d, dom, file, text, sizeof(text))
					   : "is not among the files to remove";
		if (reason) {
			json_object_array_add(kept, json_object_new_string(file));
			json_object_object_add(why, file, json_object_new_string(reason));
		} else {
			json_object_array_add(doomed, json_object_new_string(file));
		}
	}
}
