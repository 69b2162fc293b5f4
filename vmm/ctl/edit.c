/*
 * vmmctl's commands that change a definition: clone, attach-disk,
 * detach-disk, attach-interface, detach-interface, domif-setlink, undefine.
 */
#include <stdio.h>
#include <string.h>

#include "vmm/ctl/ctl.h"

static int cmd_clone(struct ctl *c, const struct args *a)
{
	json_object *p = name_params(a->pos[0]), *res;

	json_object_object_add(p, "new_name", json_object_new_string(a->pos[1]));
	json_object_object_add(p, "overlay", json_object_new_boolean(a->overlay));
	res = call(c, "domain.clone", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Clone '%s' created successfully.\n", a->pos[1]);
	json_object_put(res);
	return 0;
}

static int cmd_attach_disk(struct ctl *c, const struct args *a)
{
	json_object *p = name_params(a->pos[0]), *res;

	if (a->mode && strcmp(a->mode, "readonly") != 0)
		return die("--mode %s is not readonly", a->mode);
	json_object_object_add(p, "file", json_object_new_string(a->pos[1]));
	json_object_object_add(p, "target", json_object_new_string(a->pos[2]));
	if (a->format)
		json_object_object_add(p, "format", json_object_new_string(a->format));
	if (a->cache)
		json_object_object_add(p, "cache", json_object_new_string(a->cache));
	if (a->serial)
		json_object_object_add(p, "serial", json_object_new_string(a->serial));
	json_object_object_add(p, "readonly", json_object_new_boolean(a->mode != NULL));
	res = call(c, "domain.attach_disk", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Disk attached successfully\n\n");
	json_object_put(res);
	return 0;
}

static int cmd_detach_disk(struct ctl *c, const struct args *a)
{
	json_object *p = name_params(a->pos[0]), *res;

	json_object_object_add(p, "target", json_object_new_string(a->pos[1]));
	res = call(c, "domain.detach_disk", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Disk detached successfully\n\n");
	json_object_put(res);
	return 0;
}

/* attach-interface NAME network|bridge SOURCE [--mac MAC], as virsh has it. */
static int cmd_attach_interface(struct ctl *c, const struct args *a)
{
	json_object *p, *res;

	if (strcmp(a->pos[1], "network") != 0 && strcmp(a->pos[1], "bridge") != 0)
		return die("the interface type is network or bridge, not '%s'", a->pos[1]);
	p = name_params(a->pos[0]);
	json_object_object_add(p, a->pos[1], json_object_new_string(a->pos[2]));
	if (a->mac)
		json_object_object_add(p, "mac", json_object_new_string(a->mac));
	res = call(c, "domain.attach_interface", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Interface attached successfully\n\n");
	json_object_put(res);
	return 0;
}

static int cmd_detach_interface(struct ctl *c, const struct args *a)
{
	json_object *p, *res;

	if (!a->mac)
		return die("detach-interface needs --mac MAC");
	p = name_params(a->pos[0]);
	json_object_object_add(p, "mac", json_object_new_string(a->mac));
	res = call(c, "domain.detach_interface", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Interface detached successfully\n\n");
	json_object_put(res);
	return 0;
}

/* domif-setlink NAME MAC up|down: at once when the VM runs, and kept. */
static int cmd_domif_setlink(struct ctl *c, const struct args *a)
{
	json_object *p, *res;

	if (strcmp(a->pos[2], "up") != 0 && strcmp(a->pos[2], "down") != 0)
		return die("the link state is up or down, not '%s'", a->pos[2]);
	p = name_params(a->pos[0]);
	json_object_object_add(p, "mac", json_object_new_string(a->pos[1]));
	json_object_object_add(p, "up", json_object_new_boolean(a->pos[2][0] == 'u'));
	res = call(c, "domain.set_link", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Device updated successfully\n\n");
	json_object_put(res);
	return 0;
}

static int cmd_undefine(struct ctl *c, const struct args *a)
{
	json_object *p = name_params(a->pos[0]), *res, *arr;

	json_object_object_add(p, "remove_storage", json_object_new_boolean(a->remove_all_storage));
	res = call(c, "domain.undefine", p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	if (json_object_object_get_ex(res, "removed", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			printf("Volume '%s' removed.\n",
			       json_object_get_string(json_object_array_get_idx(arr, i)));
	if (a->remove_all_storage && json_object_object_get_ex(res, "kept", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			const char *file = json_object_get_string(json_object_array_get_idx(arr, i));
			const char *why = json_object_get_string(
				json_object_object_get(json_object_object_get(res, "why"), file));

			printf("Storage '%s' %s; kept.\n", file, why ? why : "stays");
		}
	printf("Domain '%s' has been undefined\n\n", a->pos[0]);
	json_object_put(res);
	return 0;
}

const struct command edit_commands[] = {
	{ "clone", "--overlay", "clone NAME NEW-NAME [--overlay]", 2, cmd_clone },
	{ "attach-disk", "--subdriver --format --mode --serial --cache --persistent --config",
	  "attach-disk NAME SOURCE TARGET [--subdriver raw|qcow2] [--mode readonly] "
	  "[--serial S] [--cache none|writeback] [--persistent]", 3, cmd_attach_disk },
	{ "detach-disk", "--persistent --config", "detach-disk NAME TARGET [--persistent]", 2,
	  cmd_detach_disk },
	{ "attach-interface", "--mac --persistent --config",
	  "attach-interface NAME network|bridge SOURCE [--mac MAC] [--persistent]", 3,
	  cmd_attach_interface },
	{ "detach-interface", "--mac --persistent --config",
	  "detach-interface NAME network|bridge --mac MAC [--persistent]", 2, cmd_detach_interface },
	{ "domif-setlink", "--persistent --config", "domif-setlink NAME MAC up|down", 3,
	  cmd_domif_setlink },
	{ "undefine", "--remove-all-storage", "undefine NAME [--remove-all-storage]", 1,
	  cmd_undefine },
	{ NULL },
};
