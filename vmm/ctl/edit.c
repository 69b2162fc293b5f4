/* vmmctl's commands that change a definition: clone, attach-disk, detach-disk, undefine. */
#include <stdio.h>
#include <string.h>

#include "vmm/ctl/ctl.h"

static int cmd_clone(struct ctl *c, const struct args *a)
{
	json_object *p = name_params(a->pos[0]), *res;

	json_object_object_add(p, "new_name", json_object_new_string(a->pos[1]));
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
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			printf("Storage '%s' is not a volume of a started pool; kept.\n",
			       json_object_get_string(json_object_array_get_idx(arr, i)));
	printf("Domain '%s' has been undefined\n\n", a->pos[0]);
	json_object_put(res);
	return 0;
}

const struct command edit_commands[] = {
	{ "clone", "", "clone NAME NEW-NAME", 2, cmd_clone },
	{ "attach-disk", "--subdriver --format --mode --serial --cache --persistent --config",
	  "attach-disk NAME SOURCE TARGET [--subdriver raw|qcow2] [--mode readonly] "
	  "[--serial S] [--cache none|writeback] [--persistent]", 3, cmd_attach_disk },
	{ "detach-disk", "--persistent --config", "detach-disk NAME TARGET [--persistent]", 2,
	  cmd_detach_disk },
	{ "undefine", "--remove-all-storage", "undefine NAME [--remove-all-storage]", 1,
	  cmd_undefine },
	{ NULL },
};
