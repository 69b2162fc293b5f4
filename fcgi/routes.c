/*
 * Every address the portal answers, in one table: the method, the path
 * ({} is one segment, passed to the handler), the handler, who may call
 * it, whether it changes state (POST only, with the session's CSRF token
 * and this site's Origin; audited), and what a route on one VM needs on
 * that VM. router.c enforces all of it before a handler runs.
 */
#include <stddef.h>

#include "fcgi/pages.h"
#include "fcgi/router.h"

#define GET(path, fn, who, vm) { "GET", path, fn, who, false, vm, NULL, false }
#define POST(path, fn, who, vm, action) { "POST", path, fn, who, true, vm, action, false }
#define UPLOAD(path, fn, who, action) { "POST", path, fn, who, true, VM_NONE, action, true }

const struct route routes[] = {
	GET("/", page_home, ACCESS_USER, VM_NONE),
	GET("/login", page_login_form, ACCESS_ANYONE, VM_NONE),
	POST("/login", page_login, ACCESS_ANYONE, VM_NONE, "login"),
	POST("/logout", page_logout, ACCESS_USER, VM_NONE, "logout"),
	GET("/account/password", page_password_form, ACCESS_USER, VM_NONE),
	POST("/account/password", page_password, ACCESS_USER, VM_NONE, "change password"),
	GET("/account/tokens", page_tokens, ACCESS_USER, VM_NONE),
	POST("/account/tokens", page_token_create, ACCESS_USER, VM_NONE, "create token"),
	POST("/account/token/{}/revoke", page_token_revoke, ACCESS_USER, VM_NONE, "revoke token"),

	GET("/host", page_host, ACCESS_USER, VM_NONE),
	GET("/host.json", page_host_json, ACCESS_USER, VM_NONE),

	GET("/instances", page_vms, ACCESS_USER, VM_NONE),
	GET("/instances.json", page_vms_json, ACCESS_USER, VM_NONE),
	/* each VM ticked is checked for the action's right on it by the handler */
	POST("/instances/bulk", page_vms_bulk, ACCESS_USER, VM_NONE, "bulk"),
	GET("/instance/{}", page_vm, ACCESS_USER, VM_SEE),
	GET("/instance/{}/state.json", page_vm_json, ACCESS_USER, VM_SEE),
	GET("/instance/{}/stats.json", page_vm_stats_json, ACCESS_USER, VM_SEE),
	POST("/instance/{}/start", page_vm_power, ACCESS_USER, VM_POWER, "start"),
	POST("/instance/{}/shutdown", page_vm_power, ACCESS_USER, VM_POWER, "shutdown"),
	POST("/instance/{}/reboot", page_vm_power, ACCESS_USER, VM_POWER, "reboot"),
	POST("/instance/{}/destroy", page_vm_power, ACCESS_USER, VM_POWER, "force off"),
	POST("/instance/{}/suspend", page_vm_power, ACCESS_USER, VM_POWER, "suspend"),
	POST("/instance/{}/resume", page_vm_power, ACCESS_USER, VM_POWER, "resume"),
	POST("/instance/{}/settings", page_vm_settings, ACCESS_USER, VM_CHANGE, "settings"),
	/* starting with the host is a power action */
	POST("/instance/{}/autostart", page_vm_autostart, ACCESS_USER, VM_POWER, "autostart"),
	POST("/instance/{}/disk/attach", page_vm_disk_attach, ACCESS_USER, VM_CHANGE, "attach disk"),
	POST("/instance/{}/disk/detach", page_vm_disk_detach, ACCESS_USER, VM_CHANGE, "detach disk"),
	POST("/instance/{}/disk/resize", page_vm_disk_resize, ACCESS_USER, VM_CHANGE, "resize disk"),
	POST("/instance/{}/interface/attach", page_vm_iface_attach, ACCESS_USER, VM_CHANGE,
	     "attach interface"),
	POST("/instance/{}/interface/detach", page_vm_iface_detach, ACCESS_USER, VM_CHANGE,
	     "detach interface"),
	POST("/instance/{}/interface/link", page_vm_iface_link, ACCESS_USER, VM_CHANGE, "link"),
	POST("/instance/{}/xml", page_vm_xml, ACCESS_ADMIN, VM_ADMIN, "edit xml"),
	POST("/instance/{}/tags", page_vm_tags, ACCESS_ADMIN, VM_ADMIN, "set tags"),
	/* a user allowed to make VMs clones their own (the handler checks it) */
	POST("/instance/{}/clone", page_vm_clone, ACCESS_CREATE, VM_CHANGE, "clone"),
	POST("/instance/{}/delete", page_vm_delete, ACCESS_USER, VM_REMOVE, "delete"),
	/* {} is vnc or serial; the console proxy takes the ticket (websockify/) */
	GET("/instance/{}/console/{}", page_vm_console, ACCESS_USER, VM_CONSOLE),
	POST("/instance/{}/console/{}/ticket.json", page_vm_console_ticket, ACCESS_USER, VM_CONSOLE,
	     "console ticket"),

	GET("/create", page_create_form, ACCESS_CREATE, VM_NONE),
	POST("/create", page_create, ACCESS_CREATE, VM_NONE, "create"),
	GET("/flavors", page_flavors, ACCESS_ADMIN, VM_NONE),
	POST("/flavors", page_flavor_create, ACCESS_ADMIN, VM_NONE, "create flavor"),
	POST("/flavor/{}", page_flavor_update, ACCESS_ADMIN, VM_NONE, "change flavor"),
	POST("/flavor/{}/delete", page_flavor_delete, ACCESS_ADMIN, VM_NONE, "delete flavor"),

	GET("/storage", page_storage, ACCESS_ADMIN, VM_NONE),
	POST("/storage", page_pool_create, ACCESS_ADMIN, VM_NONE, "create pool"),
	GET("/pool/{}", page_pool, ACCESS_ADMIN, VM_NONE),
	POST("/pool/{}/start", page_pool_start, ACCESS_ADMIN, VM_NONE, "start pool"),
	POST("/pool/{}/stop", page_pool_stop, ACCESS_ADMIN, VM_NONE, "stop pool"),
	POST("/pool/{}/autostart", page_pool_autostart, ACCESS_ADMIN, VM_NONE, "pool autostart"),
	POST("/pool/{}/delete", page_pool_delete, ACCESS_ADMIN, VM_NONE, "delete pool"),
	POST("/pool/{}/volume/create", page_volume_create, ACCESS_ADMIN, VM_NONE, "create volume"),
	POST("/pool/{}/volume/clone", page_volume_clone, ACCESS_ADMIN, VM_NONE, "clone volume"),
	POST("/pool/{}/volume/resize", page_volume_resize, ACCESS_ADMIN, VM_NONE, "resize volume"),
	POST("/pool/{}/volume/delete", page_volume_delete, ACCESS_ADMIN, VM_NONE, "delete volume"),
	POST("/pool/{}/volume/template", page_volume_template, ACCESS_ADMIN, VM_NONE, "template volume"),
	/* ?name=NAME; the body is the file (fcgi/pages/upload.c) */
	UPLOAD("/pool/{}/upload", page_volume_upload, ACCESS_ADMIN, "upload volume"),

	GET("/networks", page_networks, ACCESS_ADMIN, VM_NONE),
	POST("/networks", page_network_create, ACCESS_ADMIN, VM_NONE, "create network"),
	GET("/network/{}", page_network, ACCESS_ADMIN, VM_NONE),
	POST("/network/{}/start", page_network_start, ACCESS_ADMIN, VM_NONE, "start network"),
	POST("/network/{}/stop", page_network_stop, ACCESS_ADMIN, VM_NONE, "stop network"),
	POST("/network/{}/autostart", page_network_autostart, ACCESS_ADMIN, VM_NONE,
	     "network autostart"),
	POST("/network/{}/delete", page_network_delete, ACCESS_ADMIN, VM_NONE, "delete network"),

	GET("/users", page_users, ACCESS_ADMIN, VM_NONE),
	POST("/users", page_user_create, ACCESS_ADMIN, VM_NONE, "create user"),
	GET("/user/{}", page_user, ACCESS_ADMIN, VM_NONE),
	POST("/user/{}", page_user_update, ACCESS_ADMIN, VM_NONE, "change user"),
	POST("/user/{}/password", page_user_password, ACCESS_ADMIN, VM_NONE, "reset password"),
	POST("/user/{}/rights", page_user_rights, ACCESS_ADMIN, VM_NONE, "set rights"),
	POST("/user/{}/quota", page_user_quota, ACCESS_ADMIN, VM_NONE, "set quota"),

	GET("/audit", page_audit, ACCESS_ADMIN, VM_NONE),
	{ 0 },
};
