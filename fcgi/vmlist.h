/*
 * The VMs a user may see, from vmmd's domain.list, with what the pages
 * show for each: shared by the instances page and its JSON.
 */
#ifndef WEBKVM_FCGI_VMLIST_H
#define WEBKVM_FCGI_VMLIST_H

#include <json-c/json.h>

#include "fcgi/app.h"

/* An array of VM objects the caller owns; NULL with an answer made on failure. */
json_object *vmlist_visible(struct request *r);
/* Add what a page shows for vm: state badge, what may be done now, memory in words. */
void vm_decorate(json_object *vm, const struct vm_rights *rights);
bool vm_name_valid(const char *name);

#endif
