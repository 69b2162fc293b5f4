/* What the pages offer from vmmd's pools and networks: volumes, never paths. */
#ifndef WEBKVM_FCGI_STORAGE_H
#define WEBKVM_FCGI_STORAGE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "fcgi/app.h"

/*
 * Every volume of every started pool: [{pool, name, path, format, label,
 * capacity, backing, vms}], label POOL/NAME; vms the VMs with a disk on
 * it. every_volume, for a count that must not miss one: NULL, with vmmd's
 * code and a sentence, when a list fails. all_volumes, for what a page
 * offers: the pools that could be listed.
 */
json_object *every_volume(struct request *r, char *code, size_t codelen, char *err, size_t errlen);
json_object *all_volumes(struct request *r);
/* The names of the started pools (method pool.list, key pools) or networks. */
json_object *started_names(struct request *r, const char *method, const char *key);
/* The volume of volumes whose label a form chose, or NULL (borrowed). */
json_object *chosen_volume(json_object *volumes, const char *label);
/* A vol.* call on POOL/NAME with extra params (taken; may be NULL): 0, or -1/-errno with err. */
int vol_call(struct request *r, const char *method, const char *pool, const char *name,
	     json_object *extra, char *err, size_t errlen);
/* The volume whose path is path, or NULL (borrowed). */
json_object *volume_of_path(json_object *volumes, const char *path);

/*
 * Whether vol (of volumes) is a disk of some VM or the backing file of
 * another volume: another user's data, or the base of their overlays.
 * Only an admin gives such a volume to a VM.
 */
bool volume_taken(json_object *volumes, json_object *vol);

#endif
