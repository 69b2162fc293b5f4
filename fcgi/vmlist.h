/*
 * The VMs a user may see, from vmmd's domain.list, with what the pages
 * show for each: shared by the instances page and its JSON.
 */
#ifndef WEBKVM_FCGI_VMLIST_H
#define WEBKVM_FCGI_VMLIST_H

#include <json-c/json.h>

#include "fcgi/app.h"

/*
 * What the pages show for a VM beyond vmmd's fields: "st" (the badge's
 * colour and which buttons apply now: running, paused, off,
 * not_responding), "can" (the caller's rights: power, change, remove,
 * console) and "memory" in words. st and can are shared among the VMs of
 * one answer (a few distinct objects, not one per VM: a list of 1,000 VMs
 * costs 1,000 fewer allocations per field).
 */
struct vm_decor {
	json_object *state[8];   /* by state class and whether vmm answers */
	json_object *rights[32]; /* by the five rights as bits */
};

void vm_decorate(json_object *vm, const struct vm_rights *rights, struct vm_decor *d);
void vm_decor_free(struct vm_decor *d);
/*
 * What a list is made from: vmmd's VMs (vmmd_domains: the worker's kept
 * list while vmmd's etag says it is current) and the caller's rights
 * (rights_of_user: NULL for an admin, who sees all). 0 with both for the
 * caller to put, or -1 with an answer made.
 */
int vmlist_inputs(struct request *r, json_object **domains, json_object **mine);
/* The VMs of domains that mine lets the caller see, decorated: an array the caller owns. */
json_object *vmlist_decorated(json_object *domains, json_object *mine);
/* Both: an array of decorated VM objects the caller owns; NULL with an answer made on failure. */
json_object *vmlist_visible(struct request *r);
bool vm_name_valid(const char *name);

#endif
