/* The handlers of the route table, one file per page group under pages/. */
#ifndef WEBKVM_FCGI_PAGES_H
#define WEBKVM_FCGI_PAGES_H

#include <sqlite3.h>

#include "fcgi/app.h"

/* pages/login.c */
int page_login_form(struct request *r);
int page_login(struct request *r);
int page_logout(struct request *r);
int page_password_form(struct request *r);
int page_password(struct request *r);
/* pages/tokens.c */
int page_tokens(struct request *r);
int page_token_create(struct request *r);
int page_token_revoke(struct request *r);
/* pages/host.c */
int page_host(struct request *r);
int page_host_json(struct request *r);
/* pages/vms.c */
int page_home(struct request *r);
int page_vms(struct request *r);
int page_vms_json(struct request *r);
/* pages/vm.c */
int page_vm(struct request *r);
int page_vm_json(struct request *r);
int page_vm_power(struct request *r);
int page_vm_stats_json(struct request *r);
/* pages/vm_settings.c */
int page_vm_settings(struct request *r);
int page_vm_autostart(struct request *r);
int page_vm_xml(struct request *r);
int page_vm_tags(struct request *r);
int page_vm_clone(struct request *r);
int page_vm_delete(struct request *r);
/* What the portal keeps on a VM that was deleted: its rights, tags and owner. */
void vm_forget(sqlite3 *db, const char *uuid);
/* pages/vm_disks.c */
json_object *vm_disks_for_page(struct request *r);
int page_vm_disk_attach(struct request *r);
int page_vm_disk_detach(struct request *r);
int page_vm_disk_resize(struct request *r);
/* vm_interfaces.c: adds the interfaces' choices (iface_choices, has_iface_choices) to ctx */
void vm_interfaces_for_page(struct request *r, json_object *ctx);
int page_vm_iface_attach(struct request *r);
int page_vm_iface_detach(struct request *r);
int page_vm_iface_link(struct request *r);
/* vmmd's networks: [{name, state, ...}] (empty when vmmd does not answer). */
json_object *vmmd_networks(struct request *r);
/* The bridges of this host (as the portal sees it), by name. */
json_object *host_bridges(void);
/* pages/bulk.c */
int page_vms_bulk(struct request *r);
/* pages/defined.c: after a pool or network (prefix "pool" or "net") is defined from its form */
int define_followups(struct request *r, const char *kind, const char *name, const char *prefix,
		     bool autostart, bool start, const char *back);
/* pages/storage.c (admin) */
int page_storage(struct request *r);
int page_pool_create(struct request *r);
int page_pool(struct request *r);
int page_pool_start(struct request *r);
int page_pool_stop(struct request *r);
int page_pool_autostart(struct request *r);
int page_pool_delete(struct request *r);
int page_volume_create(struct request *r);
int page_volume_clone(struct request *r);
int page_volume_resize(struct request *r);
int page_volume_delete(struct request *r);
int page_volume_template(struct request *r);
int page_volume_upload(struct request *r);
/* pages/networks.c (admin) */
int page_networks(struct request *r);
int page_network_create(struct request *r);
int page_network(struct request *r);
int page_network_start(struct request *r);
int page_network_stop(struct request *r);
int page_network_autostart(struct request *r);
int page_network_delete(struct request *r);
/* pages/flavors.c */
json_object *flavors_list(sqlite3 *db);
int page_vm_console(struct request *r);
int page_vm_console_ticket(struct request *r);

int page_flavors(struct request *r);
int page_flavor_create(struct request *r);
int page_flavor_delete(struct request *r);
int page_flavor_update(struct request *r);
/* pages/create.c */
int page_create_form(struct request *r);
int page_create(struct request *r);
/* pages/users.c */
int page_users(struct request *r);
int page_user_create(struct request *r);
int page_user(struct request *r);
int page_user_update(struct request *r);
int page_user_password(struct request *r);
int page_user_quota(struct request *r);
int page_user_rights(struct request *r);
/* pages/audit.c */
int page_audit(struct request *r);

#endif
