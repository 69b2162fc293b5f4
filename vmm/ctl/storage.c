/* vmmctl's pool-* and vol-* commands, shaped like virsh's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "vmm/ctl/ctl.h"

#define UPLOAD_TIMEOUT_MS (3600 * 1000)

static json_object *vol_params(const char *pool, const char *name)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "pool", json_object_new_string(pool));
	json_object_object_add(p, "name", json_object_new_string(name));
	return p;
}

static void print_bytes(const char *label, long long v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = v;
	int u = 0;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	printf("%-16s%.2f %s\n", label, d, units[u]);
}

static int pool_list(struct ctl *c, const struct args *a)
{
	json_object *res = call(c, "pool.list", NULL), *arr;

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_object_object_get_ex(res, "pools", &arr);
	printf(" %-20s %-10s %s\n", "Name", "State", "Autostart");
	printf("-------------------------------------------\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		json_object *v;
		bool active = strcmp(str(p, "state"), "active") == 0;

		if (!active && !a->all)
			continue;
		json_object_object_get_ex(p, "autostart", &v);
		printf(" %-20s %-10s %s\n", str(p, "name"), str(p, "state"),
		       json_object_get_boolean(v) ? "yes" : "no");
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

static int pool_info(struct ctl *c, const struct args *a)
{
	json_object *res = call(c, "pool.info", name_params(a->pos[0])), *v;

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_object_object_get_ex(res, "autostart", &v);
	printf("%-16s%s\n", "Name:", str(res, "name"));
	printf("%-16s%s\n", "UUID:", str(res, "uuid"));
	printf("%-16s%s\n", "State:", strcmp(str(res, "state"), "active") == 0 ? "running"
										  : "inactive");
	printf("%-16s%s\n", "Persistent:", "yes");
	printf("%-16s%s\n", "Autostart:", json_object_get_boolean(v) ? "yes" : "no");
	printf("%-16s%s\n", "Path:", str(res, "path"));
	if (strcmp(str(res, "state"), "active") == 0) {
		print_bytes("Capacity:", num(res, "capacity"));
		print_bytes("Allocation:", num(res, "allocation"));
		print_bytes("Available:", num(res, "available"));
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

static int pool_start(struct ctl *c, const struct args *a)
{
	return name_call(c, "pool.start", a->pos[0], "Pool", false, "started");
}

static int pool_destroy(struct ctl *c, const struct args *a)
{
	return name_call(c, "pool.stop", a->pos[0], "Pool", false, "destroyed");
}

static int pool_undefine(struct ctl *c, const struct args *a)
{
	return name_call(c, "pool.undefine", a->pos[0], "Pool", false, "has been undefined");
}

static int pool_define(struct ctl *c, const struct args *a)
{
	return define_from_file(c, "pool.define", a->pos[0], "Pool");
}

static int pool_dumpxml(struct ctl *c, const struct args *a)
{
	return print_xml(c, "pool.dumpxml", a->pos[0]);
}

static int pool_autostart(struct ctl *c, const struct args *a)
{
	return autostart_call(c, "pool.autostart", a->pos[0], "Pool", false, a->disable);
}

static int vol_list(struct ctl *c, const struct args *a)
{
	json_object *p = json_object_new_object(), *res, *arr;

	json_object_object_add(p, "pool", json_object_new_string(a->pos[0]));
	res = call(c, "vol.list", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_object_object_get_ex(res, "volumes", &arr);
	printf(" %-24s %s\n", "Name", "Path");
	printf("------------------------------------------------------------\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		printf(" %-24s %s\n", str(v, "name"), str(v, "path"));
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

static int vol_print(struct ctl *c, json_object *res, const char *done)
{
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	if (done) {
		printf("Vol %s %s\n\n", str(res, "name"), done);
	} else {
		printf("%-16s%s\n", "Name:", str(res, "name"));
		printf("%-16s%s\n", "Type:", "file");
		printf("%-16s%s\n", "Format:", str(res, "format"));
		print_bytes("Capacity:", num(res, "capacity"));
		print_bytes("Allocation:", num(res, "allocation"));
		if (*str(res, "backing"))
			printf("%-16s%s\n", "Backing:", str(res, "backing"));
		printf("\n");
	}
	json_object_put(res);
	return 0;
}

static int vol_create(struct ctl *c, const struct args *a)
{
	json_object *p;
	long long size;

	if (parse_size(a->pos[2], &size) < 0)
		return die("%s is not a size (a number with K, M, G or T)", a->pos[2]);
	p = vol_params(a->pos[0], a->pos[1]);
	json_object_object_add(p, "capacity", json_object_new_int64(size));
	if (a->format)
		json_object_object_add(p, "format", json_object_new_string(a->format));
	return vol_print(c, call(c, "vol.create", p), "created");
}

static int vol_clone(struct ctl *c, const struct args *a)
{
	json_object *p = vol_params(a->pool, a->pos[0]);

	json_object_object_add(p, "new_name", json_object_new_string(a->pos[1]));
	json_object_object_add(p, "overlay", json_object_new_boolean(a->overlay));
	return vol_print(c, call(c, "vol.clone", p), a->overlay ? "created on its backing volume"
							       : "cloned");
}

static int vol_resize(struct ctl *c, const struct args *a)
{
	json_object *p;
	long long size;

	if (parse_size(a->pos[1], &size) < 0)
		return die("%s is not a size (a number with K, M, G or T)", a->pos[1]);
	p = vol_params(a->pool, a->pos[0]);
	json_object_object_add(p, "capacity", json_object_new_int64(size));
	return vol_print(c, call(c, "vol.resize", p), "resized");
}

/* The file goes to vmmd as an open fd: only what this user can read is uploaded. */
static int vol_upload(struct ctl *c, const struct args *a)
{
	json_object *res;
	char code[64], err[1024];
	int fd = open(a->pos[1], O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return die("cannot open %s: %s", a->pos[1], strerror(errno));
	r = jsonrpc_call_fd(c->fd, "vol.upload", vol_params(a->pool, a->pos[0]), fd,
			    UPLOAD_TIMEOUT_MS, &res, code, sizeof(code), err, sizeof(err));
	close(fd);
	if (r != 0)
		return die("%s", err);
	return vol_print(c, res, "uploaded");
}

static int vol_delete(struct ctl *c, const struct args *a)
{
	json_object *res = call(c, "vol.delete", vol_params(a->pool, a->pos[0]));

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Vol %s deleted\n\n", a->pos[0]);
	json_object_put(res);
	return 0;
}

static int vol_info(struct ctl *c, const struct args *a)
{
	return vol_print(c, call(c, "vol.info", vol_params(a->pool, a->pos[0])), NULL);
}

const struct command storage_commands[] = {
	{ "pool-list", "--all", "pool-list [--all]", 0, pool_list },
	{ "pool-define", "", "pool-define FILE", 1, pool_define },
	{ "pool-start", "", "pool-start NAME", 1, pool_start },
	{ "pool-destroy", "", "pool-destroy NAME", 1, pool_destroy },
	{ "pool-undefine", "", "pool-undefine NAME", 1, pool_undefine },
	{ "pool-dumpxml", "", "pool-dumpxml NAME", 1, pool_dumpxml },
	{ "pool-info", "", "pool-info NAME", 1, pool_info },
	{ "pool-autostart", "--disable", "pool-autostart [--disable] NAME", 1, pool_autostart },
	{ "vol-list", "", "vol-list POOL", 1, vol_list },
	{ "vol-create", "--format", "vol-create POOL NAME SIZE [--format raw|qcow2]", 3, vol_create },
	{ "vol-create-as", "--format", "vol-create-as POOL NAME SIZE [--format raw|qcow2]", 3,
	  vol_create },
	{ "vol-clone", "--pool --overlay", "vol-clone VOL NEW --pool POOL [--overlay]", 2, vol_clone },
	{ "vol-resize", "--pool", "vol-resize VOL SIZE --pool POOL", 2, vol_resize },
	{ "vol-delete", "--pool", "vol-delete VOL --pool POOL", 1, vol_delete },
	{ "vol-info", "--pool", "vol-info VOL --pool POOL", 1, vol_info },
	{ "vol-upload", "--pool", "vol-upload VOL FILE --pool POOL", 2, vol_upload },
	{ NULL },
};
