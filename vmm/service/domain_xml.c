/*
 * Domain definitions: libvirt's domain XML, the subset webkvm runs.
 *
 * NOTES
 * - What virt-install writes for a kernel-boot VM is accepted as it is:
 *   features, clock, pm, cpu mode, emulator, USB controllers, a USB
 *   tablet, a video model and a memory balloon change nothing that webkvm
 *   can honour differently, so they are kept for dumpxml and otherwise
 *   mapped to our devices (graphics: the framebuffer and VNC; input: the
 *   virtio tablet that comes with it).
 * - What would change the guest in a way webkvm cannot honour is refused
 *   by name: another domain type, a disk that is not a virtio file disk, a
 *   network model that is not virtio, an unsupported value anywhere.
 * - Sizes follow libvirt: <memory> is in KiB unless unit says otherwise.
 */
#include "vmm/service/domain_xml.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/mac.h"
#include "vmm/service/xml.h"

static const struct xml_rule domain_rules[] = {
	{ "domain", "type id", 0 },
	{ "domain/name", NULL, XML_RULE_TEXT },
	{ "domain/uuid", NULL, XML_RULE_TEXT },
	{ "domain/title", NULL, XML_RULE_TEXT },
	{ "domain/description", NULL, XML_RULE_TEXT },
	{ "domain/metadata", NULL, XML_RULE_OPAQUE },
	{ "domain/memory", "unit", XML_RULE_TEXT },
	{ "domain/currentMemory", "unit", XML_RULE_TEXT },
	{ "domain/vcpu", "placement", XML_RULE_TEXT },
	{ "domain/os", NULL, 0 },
	{ "domain/os/type", "arch machine", XML_RULE_TEXT },
	{ "domain/os/kernel", NULL, XML_RULE_TEXT },
	{ "domain/os/initrd", NULL, XML_RULE_TEXT },
	{ "domain/os/cmdline", NULL, XML_RULE_TEXT },
	{ "domain/features", NULL, 0 },
	{ "domain/features/acpi", NULL, 0 },
	{ "domain/features/apic", NULL, 0 },
	{ "domain/features/pae", NULL, 0 },
	{ "domain/cpu", "mode check migratable", 0 },
	{ "domain/clock", "offset", 0 },
	{ "domain/clock/timer", "name tickpolicy present", XML_RULE_MANY },
	{ "domain/pm", NULL, 0 },
	{ "domain/pm/suspend-to-mem", "enabled", 0 },
	{ "domain/pm/suspend-to-disk", "enabled", 0 },
	{ "domain/on_poweroff", NULL, XML_RULE_TEXT },
	{ "domain/on_reboot", NULL, XML_RULE_TEXT },
	{ "domain/on_crash", NULL, XML_RULE_TEXT },
	{ "domain/devices", NULL, 0 },
	{ "domain/devices/emulator", NULL, XML_RULE_TEXT },
	{ "domain/devices/disk", "type device", XML_RULE_MANY },
	{ "domain/devices/disk/driver", "name type cache discard", 0 },
	{ "domain/devices/disk/source", "file", 0 },
	{ "domain/devices/disk/target", "dev bus", 0 },
	{ "domain/devices/disk/readonly", NULL, 0 },
	{ "domain/devices/disk/serial", NULL, XML_RULE_TEXT },
	{ "domain/devices/controller", "type index model", XML_RULE_MANY },
	{ "domain/devices/controller/master", "startport", 0 },
	{ "domain/devices/interface", "type", XML_RULE_MANY },
	{ "domain/devices/interface/source", "network bridge", 0 },
	{ "domain/devices/interface/mac", "address", 0 },
	{ "domain/devices/interface/model", "type", 0 },
	{ "domain/devices/interface/link", "state", 0 },
	{ "domain/devices/serial", "type", XML_RULE_MANY },
	{ "domain/devices/serial/target", "port", 0 },
	{ "domain/devices/console", "type", XML_RULE_MANY },
	{ "domain/devices/console/target", "type port", 0 },
	{ "domain/devices/input", "type bus", XML_RULE_MANY },
	{ "domain/devices/graphics", "type port autoport listen", 0 },
	{ "domain/devices/graphics/listen", "type address", 0 },
	{ "domain/devices/video", NULL, 0 },
	{ "domain/devices/video/model", "type vram heads primary", 0 },
	{ "domain/devices/rng", "model", 0 },
	{ "domain/devices/rng/backend", "model", XML_RULE_TEXT },
	{ "domain/devices/memballoon", "model", 0 },
	{ NULL, NULL, 0 },
};

static const struct xml_definition domain_kind = {
	.root = "domain", .type = "kvm", .type_note = "webkvm runs type 'kvm'",
	.rules = domain_rules, .max = DOMAIN_XML_MAX, .noun = "VM",
};

bool domain_name_valid(const char *name)
{
	return xml_name_valid(name);
}

/* One of the space-separated words, or -1. */
static int pick(const char *value, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(value, words[i]) == 0)
			return i;
	return -1;
}

#define ATTR_ONE_OF(err, errlen, node, attr, value, ...)                                          \
	({                                                                                         \
		static const char *const words_[] = { __VA_ARGS__, NULL };                         \
		int i_ = pick(value, words_);                                                      \
		if (i_ < 0)                                                                        \
			return error_set(err, errlen, -EINVAL, "unsupported %s '%s' on <%s>", attr, \
					 value, (const char *)(node)->name);                       \
		i_;                                                                                \
	})

/* A memory size in KiB from its text and unit, as libvirt reads them. */
static int parse_memory(xmlNodePtr node, uint64_t *ret_kib, char *err, size_t errlen)
{
	static const struct { const char *unit; uint64_t bytes; } units[] = {
		{ "b", 1 }, { "bytes", 1 }, { "KB", 1000 }, { "k", 1024 }, { "KiB", 1024 },
		{ "MB", 1000000 }, { "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "GB", 1000000000ULL }, { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
		{ "TB", 1000000000000ULL }, { "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
	};
	const char *text = xml_text(node), *unit = xml_attr(node, "unit");
	uint64_t mult = 1024, v;
	char *end;
	size_t i;

	if (unit) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(unit, units[i].unit) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return error_set(err, errlen, -EINVAL, "unsupported unit '%s' on <%s>", unit,
					 node->name);
		mult = units[i].bytes;
	}
	errno = 0;
	v = strtoull(text, &end, 10);
	if (!*text || *text == '-' || *end || errno || v == 0 || v > UINT64_MAX / mult)
		return error_set(err, errlen, -EINVAL, "<%s> '%s' is not a size", node->name, text);
	*ret_kib = v * mult / 1024;
	if (*ret_kib < 16 * 1024 || *ret_kib > (1ULL << 40) / 1024)
		return error_set(err, errlen, -EINVAL,
				 "<%s> must be from 16 MiB to 1 TiB", node->name);
	return 0;
}

static int parse_action(xmlNodePtr node, enum domain_action dflt, enum domain_action *ret,
			char *err, size_t errlen)
{
	const char *v;

	*ret = dflt;
	if (!node)
		return 0;
	v = xml_text(node);
	if (strcmp(v, "destroy") == 0)
		*ret = ACTION_DESTROY;
	else if (strcmp(v, "restart") == 0)
		*ret = ACTION_RESTART;
	else
		return error_set(err, errlen, -EINVAL, "unsupported <%s> '%s' (destroy or restart)",
				 node->name, v);
	return 0;
}

/* What vmm takes as a disk's serial (virtio-blk's ID), and no comma: it ends the option. */
static bool serial_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DOMAIN_SERIAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
			return false;
	return true;
}

static int parse_disk(struct domain_def *def, xmlNodePtr node, char *err, size_t errlen)
{
	struct domain_disk *d;
	xmlNodePtr driver = xml_child(node, "driver"), source = xml_child(node, "source"),
		   target = xml_child(node, "target"), serial = xml_child(node, "serial");
	const char *v;

	if (def->ndisks == DOMAIN_MAX_DISKS)
		return error_set(err, errlen, -EINVAL, "at most %d disks", DOMAIN_MAX_DISKS);
	d = &def->disks[def->ndisks];
	v = xml_attr(node, "type");
	if (v)
		ATTR_ONE_OF(err, errlen, node, "type", v, "file");
	v = xml_attr(node, "device");
	if (v)
		ATTR_ONE_OF(err, errlen, node, "device", v, "disk");
	if (driver) {
		if ((v = xml_attr(driver, "name")))
			ATTR_ONE_OF(err, errlen, driver, "name", v, "qemu");
		if ((v = xml_attr(driver, "type")))
			d->format = ATTR_ONE_OF(err, errlen, driver, "type", v, "raw", "qcow2");
		if ((v = xml_attr(driver, "cache")))
			d->cache = ATTR_ONE_OF(err, errlen, driver, "cache", v, "default", "none",
					       "writeback");
		if ((v = xml_attr(driver, "discard")))
			ATTR_ONE_OF(err, errlen, driver, "discard", v, "unmap", "ignore");
	}
	if (!source || !(d->file = xml_attr(source, "file")) || d->file[0] != '/')
		return error_set(err, errlen, -EINVAL,
				 "a <disk> needs <source file='...'/> with an absolute path");
	/* vmm's --disk=FILE,OPTION,...: a comma would end the name */
	if (strchr(d->file, ',') || strlen(d->file) > DOMAIN_PATH_MAX)
		return error_set(err, errlen, -EINVAL,
				 "disk file '%.64s' has a comma or is longer than %d bytes", d->file,
				 DOMAIN_PATH_MAX);
	if (!target || !(d->target = xml_attr(target, "dev")))
		return error_set(err, errlen, -EINVAL, "a <disk> needs <target dev='vdX'/>");
	if (strlen(d->target) != 3 || strncmp(d->target, "vd", 2) != 0 || d->target[2] < 'a' ||
	    d->target[2] > 'z')
		return error_set(err, errlen, -EINVAL,
				 "unsupported disk target '%s' (virtio disks are vda to vdz)", d->target);
	if ((v = xml_attr(target, "bus")))
		ATTR_ONE_OF(err, errlen, target, "bus", v, "virtio");
	for (unsigned int i = 0; i < def->ndisks; i++)
		if (strcmp(def->disks[i].target, d->target) == 0)
			return error_set(err, errlen, -EINVAL, "two disks have target %s", d->target);
	d->readonly = xml_child(node, "readonly") != NULL;
	if (serial) {
		d->serial = xml_text(serial);
		if (!serial_valid(d->serial))
			return error_set(err, errlen, -EINVAL,
					 "disk serial '%.64s' is not 1 to %d printable ASCII characters "
					 "without spaces or commas", d->serial, DOMAIN_SERIAL_MAX);
	}
	def->ndisks++;
	return 0;
}

static int parse_interface(struct domain_def *def, xmlNodePtr node, char *err, size_t errlen)
{
	struct domain_iface *f;
	xmlNodePtr source = xml_child(node, "source"), mac = xml_child(node, "mac"),
		   model = xml_child(node, "model"), link = xml_child(node, "link");
	const char *v = xml_attr(node, "type");

	if (def->nifaces == DOMAIN_MAX_IFACES)
		return error_set(err, errlen, -EINVAL, "at most %d interfaces", DOMAIN_MAX_IFACES);
	f = &def->ifaces[def->nifaces];
	if (!v)
		return error_set(err, errlen, -EINVAL, "an <interface> needs a type");
	f->type = ATTR_ONE_OF(err, errlen, node, "type", v, "network", "bridge");
	f->source = xml_attr(source, f->type == IFACE_NETWORK ? "network" : "bridge");
	if (!f->source || !*f->source || xml_attr(source, f->type == IFACE_NETWORK ? "bridge"
										   : "network"))
		return error_set(err, errlen, -EINVAL, "an <interface type='%s'> needs <source %s='...'/>",
				 v, f->type == IFACE_NETWORK ? "network" : "bridge");
	if (mac) {
		if (!(v = xml_attr(mac, "address")) || mac_parse(v, f->mac) < 0)
			return error_set(err, errlen, -EINVAL, "'%s' is not a unicast MAC address",
					 v ? v : "");
	} else {
		/* As libvirt does: a MAC made now and kept in the definition. */
		char addr[MAC_STRLEN];
		xmlNodePtr m;

		mac_random(f->mac);
		mac_format(f->mac, addr);
		m = xmlNewDocNode(node->doc, NULL, (const xmlChar *)"mac", NULL);
		if (!m || !xmlSetProp(m, (const xmlChar *)"address", (const xmlChar *)addr) ||
		    !(node->children ? xmlAddPrevSibling(node->children, m) : xmlAddChild(node, m))) {
			xmlFreeNode(m);
			return error_set(err, errlen, -ENOMEM, "out of memory");
		}
	}
	if (model && (v = xml_attr(model, "type")))
		ATTR_ONE_OF(err, errlen, model, "type", v, "virtio");
	if (link && (v = xml_attr(link, "state")))
		f->link_down = ATTR_ONE_OF(err, errlen, link, "state", v, "up", "down") == 1;
	def->nifaces++;
	return 0;
}

static int parse_devices(struct domain_def *def, xmlNodePtr devices, char *err, size_t errlen)
{
	const char *v;
	int r;

	for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
		const char *name = (const char *)n->name;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp(name, "disk") == 0) {
			if ((r = parse_disk(def, n, err, errlen)) < 0)
				return r;
		} else if (strcmp(name, "interface") == 0) {
			if ((r = parse_interface(def, n, err, errlen)) < 0)
				return r;
		} else if (strcmp(name, "controller") == 0) {
			if ((v = xml_attr(n, "type")))
				ATTR_ONE_OF(err, errlen, n, "type", v, "usb", "pci");
		} else if (strcmp(name, "serial") == 0 || strcmp(name, "console") == 0) {
			/* COM1, on a unix socket in the VM's run folder */
			if ((v = xml_attr(n, "type")))
				ATTR_ONE_OF(err, errlen, n, "type", v, "pty");
			xmlNodePtr t = xml_child(n, "target");

			if (t && (v = xml_attr(t, "port")) && strcmp(v, "0") != 0)
				return error_set(err, errlen, -EINVAL,
						 "unsupported serial port %s (only port 0, COM1)", v);
			if (t && (v = xml_attr(t, "type")))
				ATTR_ONE_OF(err, errlen, t, "type", v, "serial");
			def->serial = true;
		} else if (strcmp(name, "input") == 0) {
			if ((v = xml_attr(n, "type")))
				ATTR_ONE_OF(err, errlen, n, "type", v, "tablet", "mouse", "keyboard");
			if ((v = xml_attr(n, "bus")))
				ATTR_ONE_OF(err, errlen, n, "bus", v, "usb", "ps2", "virtio");
		} else if (strcmp(name, "graphics") == 0) {
			if (!(v = xml_attr(n, "type")))
				return error_set(err, errlen, -EINVAL, "a <graphics> needs a type");
			ATTR_ONE_OF(err, errlen, n, "type", v, "vnc");
			def->vnc = true;
		} else if (strcmp(name, "video") == 0) {
			xmlNodePtr m = xml_child(n, "model");

			if (m && (v = xml_attr(m, "type")))
				ATTR_ONE_OF(err, errlen, m, "type", v, "vga", "virtio", "bochs", "cirrus",
					    "qxl", "none");
		} else if (strcmp(name, "rng") == 0) {
			xmlNodePtr b = xml_child(n, "backend");

			if (!(v = xml_attr(n, "model")))
				return error_set(err, errlen, -EINVAL, "an <rng> needs a model");
			ATTR_ONE_OF(err, errlen, n, "model", v, "virtio");
			if (b && (v = xml_attr(b, "model")))
				ATTR_ONE_OF(err, errlen, b, "model", v, "random");
			if (b && (v = xml_text(b)) && *v)
				ATTR_ONE_OF(err, errlen, b, "source", v, "/dev/urandom", "/dev/random");
			def->rng = true;
		} else if (strcmp(name, "memballoon") == 0) {
			if ((v = xml_attr(n, "model")))
				ATTR_ONE_OF(err, errlen, n, "model", v, "virtio", "none");
		}
	}
	return 0;
}

int domain_def_parse(struct domain_def **ret, const char *xml, size_t len, char *err,
		     size_t errlen)
{
	struct domain_def *def;
	xmlNodePtr root, n, os, type;
	const char *v;
	char *end;
	unsigned long vcpus;
	int r = -EINVAL;

	*ret = NULL;
	def = calloc(1, sizeof(*def));
	if (!def)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	def->doc = xml_parse_definition(&domain_kind, xml, len, def->name, def->uuid,
					&def->uuid_given, err, errlen);
	if (!def->doc)
		goto fail;
	root = xmlDocGetRootElement(def->doc);
	def->title = xml_text(xml_child(root, "title"));
	def->description = xml_text(xml_child(root, "description"));

	if (!(n = xml_child(root, "memory"))) {
		error_set(err, errlen, r, "<memory> is missing");
		goto fail;
	}
	if ((r = parse_memory(n, &def->memory_kib, err, errlen)) < 0)
		goto fail;
	def->current_memory_kib = def->memory_kib;
	if ((n = xml_child(root, "currentMemory")) &&
	    (r = parse_memory(n, &def->current_memory_kib, err, errlen)) < 0)
		goto fail;
	r = -EINVAL;
	if (def->current_memory_kib != def->memory_kib) {
		error_set(err, errlen, r,
			  "<currentMemory> differs from <memory>: webkvm has no memory balloon");
		goto fail;
	}
	def->vcpus = 1;
	if ((n = xml_child(root, "vcpu"))) {
		v = xml_text(n);
		errno = 0;
		vcpus = strtoul(v, &end, 10);
		if (!*v || *v == '-' || *end || errno || vcpus < 1 || vcpus > 254) {
			error_set(err, errlen, r, "<vcpu> '%s' is not a count from 1 to 254", v);
			goto fail;
		}
		def->vcpus = vcpus;
		if ((v = xml_attr(n, "placement")) && strcmp(v, "static") != 0) {
			error_set(err, errlen, r, "unsupported placement '%s' on <vcpu>", v);
			goto fail;
		}
	}

	os = xml_child(root, "os");
	type = xml_child(os, "type");
	if (!type || strcmp(xml_text(type), "hvm") != 0) {
		error_set(err, errlen, r, "<os> needs <type>hvm</type>");
		goto fail;
	}
	if ((v = xml_attr(type, "arch")) && strcmp(v, "x86_64") != 0 && strcmp(v, "i686") != 0) {
		error_set(err, errlen, r, "unsupported arch '%s' on <type> (x86_64)", v);
		goto fail;
	}
	def->kernel = xml_text(xml_child(os, "kernel"));
	if (!def->kernel || def->kernel[0] != '/') {
		error_set(err, errlen, r,
			  "<os> needs <kernel> with an absolute path (webkvm boots a kernel directly)");
		goto fail;
	}
	def->initrd = xml_text(xml_child(os, "initrd"));
	if (def->initrd && def->initrd[0] != '/') {
		error_set(err, errlen, r, "<initrd> needs an absolute path");
		goto fail;
	}
	def->cmdline = xml_text(xml_child(os, "cmdline"));
	if ((n = xml_child(root, "cpu")) && (v = xml_attr(n, "mode")) &&
	    strcmp(v, "host-passthrough") != 0 && strcmp(v, "host-model") != 0) {
		error_set(err, errlen, r,
			  "unsupported cpu mode '%s' (the guest sees the host's CPU)", v);
		goto fail;
	}
	if ((n = xml_child(root, "clock")) && (v = xml_attr(n, "offset")) &&
	    strcmp(v, "utc") != 0) {
		error_set(err, errlen, r, "unsupported clock offset '%s' (the RTC keeps UTC)", v);
		goto fail;
	}
	if ((r = parse_action(xml_child(root, "on_poweroff"), ACTION_DESTROY, &def->on_poweroff,
			      err, errlen)) < 0 ||
	    (r = parse_action(xml_child(root, "on_reboot"), ACTION_RESTART, &def->on_reboot, err,
			      errlen)) < 0 ||
	    (r = parse_action(xml_child(root, "on_crash"), ACTION_DESTROY, &def->on_crash, err,
			      errlen)) < 0)
		goto fail;
	if (def->on_poweroff == ACTION_RESTART) {
		error_set(err, errlen, -EINVAL, "unsupported <on_poweroff> 'restart'");
		r = -EINVAL;
		goto fail;
	}
	if ((r = parse_devices(def, xml_child(root, "devices"), err, errlen)) < 0)
		goto fail;
	*ret = def;
	return 0;
fail:
	domain_def_free(def);
	return r;
}

void domain_def_free(struct domain_def *def)
{
	if (!def)
		return;
	if (def->doc)
		xmlFreeDoc(def->doc);
	free(def);
}

int domain_def_set_uuid(struct domain_def *def, const char *uuid)
{
	return xml_set_uuid(def->doc, uuid, def->uuid);
}

char *domain_def_format(const struct domain_def *def)
{
	return xml_format(def->doc);
}
