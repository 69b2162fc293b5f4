/* One VM: its page, its live state, and the power actions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/audit.h"
#include "fcgi/domxml.h"
#include "fcgi/pages.h"
#include "fcgi/quota.h"
#include "fcgi/response.h"
#include "fcgi/tags.h"
#include "fcgi/storage.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

int page_vm(struct request *r)
{
	json_object *ctx = json_object_new_object(), *xml = NULL, *log = NULL, *xmlstr, *text;
	struct vm_decor decor = { 0 };
	char code[64], err[256];

	vm_decorate(r->vm, &r->rights, &decor);
	vm_decor_free(&decor);
	if (json_object_get_string(json_object_object_get(r->vm, "reason")) &&
	    !strcmp(json_object_get_string(json_object_object_get(r->vm, "reason")), "unknown"))
		json_object_object_del(r->vm, "reason"); /* never ran since vmmd knows it */
	json_object_object_add(ctx, "vm", json_object_get(r->vm));
	/* what page_vm_clone lets through */
	json_object_object_add(ctx, "may_clone", json_object_new_boolean(
		r->session.admin ||
		(r->session.may_create && vm_owner(r->db, r->vm_uuid) == r->session.user_id)));
	/* what page_vm_delete lets through with the disks (templates aside) */
	json_object_object_add(ctx, "may_delete_disks", json_object_new_boolean(
		r->session.admin || vm_owner(r->db, r->vm_uuid) == r->session.user_id));
	{
		json_object *tags = tags_of(r->db, r->vm_uuid);
		struct buf joined = BUF_INIT(1024);

		for (size_t i = 0; i < json_object_array_length(tags); i++)
			buf_printf(&joined, "%s%s", i ? ", " : "",
				   json_object_get_string(json_object_array_get_idx(tags, i)));
		json_object_object_add(ctx, "tags_text",
				       json_object_new_string(joined.data ? joined.data : ""));
		buf_free(&joined);
		json_object_object_add(ctx, "tags", tags);
	}
	/* the definition names host paths: for those who may change the VM */
	if (r->rights.change &&
	    vmmd_call_vm(r->vmmd, "domain.dumpxml", r->args[0], &xml, code, sizeof(code), err,
			 sizeof(err)) == 0 &&
	    json_object_object_get_ex(xml, "xml", &xmlstr)) {
		char *description = domxml_text(json_object_get_string(xmlstr), "description");
		int64_t kib = 0;

		json_object_object_add(ctx, "xml", json_object_get(xmlstr));
		json_object_object_add(ctx, "description", json_object_new_string(description ? description : ""));
		free(description);
		json_get_int64(r->vm, "max_memory_kib", &kib);
		json_object_object_add(ctx, "disks", vm_disks_for_page(r));
		json_object *volumes = all_volumes(r);

		/* a user is offered only the volumes no one uses (page_vm_disk_attach checks it) */
		if (!r->session.admin) {
			json_object *free_ones = json_object_new_array();

			for (size_t i = 0; i < json_object_array_length(volumes); i++) {
				json_object *v = json_object_array_get_idx(volumes, i);

				if (!volume_taken(volumes, v))
					json_object_array_add(free_ones, json_object_get(v));
			}
			json_object_put(volumes);
			volumes = free_ones;
		}
		/* the form offers volumes by name: their host paths stay out of the answer (and the API's) */
		for (size_t i = 0; i < json_object_array_length(volumes); i++) {
			json_object_object_del(json_object_array_get_idx(volumes, i), "path");
			json_object_object_del(json_object_array_get_idx(volumes, i), "backing");
		}

		json_object_object_add(ctx, "has_volumes",
				       json_object_new_boolean(json_object_array_length(volumes) > 0));
		json_object_object_add(ctx, "volumes", volumes);
		json_object_object_add(ctx, "memory_mib", json_object_new_int64(kib / 1024));
		json_object_object_add(ctx, "interfaces",
				       domxml_interfaces(json_object_get_string(xmlstr)));
		vm_interfaces_for_page(r, ctx);
	}
	if (r->rights.console &&
	    vmmd_call_vm(r->vmmd, "domain.console_log", r->args[0], &log, code, sizeof(code), err,
			 sizeof(err)) == 0 &&
	    json_object_object_get_ex(log, "text", &text) && json_object_get_string_len(text) > 0)
		json_object_object_add(ctx, "console_log", json_object_get(text));
	json_object_put(xml);
	json_object_put(log);
	{
		/* the guest's addresses, from the DHCP leases of its networks */
		json_object *addr = NULL, *list;

		if (vmmd_call_vm(r->vmmd, "domain.ifaddr", r->args[0], &addr, code, sizeof(code), err,
				 sizeof(err)) == 0 &&
		    json_object_object_get_ex(addr, "interfaces", &list) &&
		    json_object_array_length(list) > 0)
			json_object_object_add(ctx, "addresses", json_object_get(list));
		json_object_put(addr);
	}
	json_object_object_add(ctx, "nav_instances", json_object_new_boolean(1));
	return respond_page(r, "instance", r->args[0], ctx);
}

int page_vm_json(struct request *r)
{
	json_object *out = json_object_new_object();
	static const char *const keys[] = { "state", "reason", "st", "cpu_time_ns" };
	struct vm_decor decor = { 0 };

	vm_decorate(r->vm, &r->rights, &decor);
	vm_decor_free(&decor);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_object *v;

		if (json_object_object_get_ex(r->vm, keys[k], &v))
			json_object_object_add(out, keys[k], json_object_get(v));
	}
	return respond_json(r, 200, out);
}

/* The last part of the path names the action: /instance/NAME/ACTION. */
int page_vm_power(struct request *r)
{
	static const struct {
		const char *action, *method, *done;
		bool asks_vmm; /* vmmd passes it to the VM's vmm, and waits for its answer */
	} actions[] = {
		{ "start", "domain.start", "started", false },
		{ "shutdown", "domain.shutdown", "asked to shut down", true },
		{ "reboot", "domain.reboot", "asked to reboot", true },
		{ "destroy", "domain.destroy", "forced off", false },
		{ "suspend", "domain.suspend", "suspended", true },
		{ "resume", "domain.resume", "resumed", true },
	};
	const char *action = strrchr(r->path, '/') + 1;
	char code[64], err[512], back[VM_NAME_MAX + 16];
	json_object *res = NULL;
	bool responding = true;

	const char *from = params_get(&r->form, "from");

	/* back to the list when the button was there */
	snprintf(back, sizeof(back), "%s%s", from && !strcmp(from, "list") ? "/instances" : "/instance/",
		 from && !strcmp(from, "list") ? "" : r->args[0]);
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(action, actions[i].action))
			continue;
		/*
		 * A vmm that lets requests time out (stopped, or still
		 * starting) would hold this worker for vmmd's whole wait, and
		 * a few clicks would hold them all: refused at once.
		 */
		json_get_bool(r->vm, "responding", &responding);
		if (actions[i].asks_vmm && !responding) {
			audit_log(r, action, r->args[0], "not responding");
			return respond_redirect_error(r, back,
						      "%s is not responding (its vmm does not answer, or it "
						      "is still starting). Force off works now; or try "
						      "again later.",
						      r->args[0]);
		}
		if (vmmd_call_vm(r->vmmd, actions[i].method, r->args[0], &res, code, sizeof(code), err,
				 sizeof(err)) < 0) {
			audit_log(r, action, r->args[0], err);
			return respond_vmmd_refused(r, back, code, err);
		}
		json_object_put(res);
		audit_log(r, action, r->args[0], "ok");
		return respond_redirect(r, back, "%s was %s.", r->args[0], actions[i].done);
	}
	return respond_error(r, 404, "There is no action %s.", action);
}

/*
 * vmmd's samples as points for the VM's graphs: CPU in percent of its
 * vCPUs, memory in MiB, disk and network in KiB/s, between two samples.
 */
int page_vm_stats_json(struct request *r)
{
	json_object *stats = NULL, *history, *points, *out;
	char code[64], err[256];
	int64_t vcpus = 1, t0 = 0, cpu0 = 0, disk0 = 0, net0 = 0;
	bool responding = true;
	size_t n;

	/* a vmm that lets requests time out would hold this worker for each poll */
	json_get_bool(r->vm, "responding", &responding);
	if (!responding ||
	    vmmd_call_vm(r->vmmd, "domain.stats", r->args[0], &stats, code, sizeof(code), err,
			 sizeof(err)) < 0)
		return respond_json(r, 200, json_object_new_object()); /* not running: no graphs */
	json_get_int64(r->vm, "vcpus", &vcpus);
	points = json_object_new_array();
	n = json_object_object_get_ex(stats, "history", &history) ? json_object_array_length(history) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(history, i), *p;
		int64_t t = 0, cpu = 0, rss = 0, rd = 0, wr = 0, rx = 0, tx = 0;
		double dt;

		json_get_int64(s, "time_ms", &t);
		json_get_int64(s, "cpu_time_ns", &cpu);
		json_get_int64(s, "rss_bytes", &rss);
		json_get_int64(s, "rd_bytes", &rd);
		json_get_int64(s, "wr_bytes", &wr);
		json_get_int64(s, "net_rx_bytes", &rx);
		json_get_int64(s, "net_tx_bytes", &tx);
		dt = (double)(t - t0) / 1000.0;
		if (i > 0 && dt > 0) {
			p = json_object_new_object();
			json_object_object_add(p, "t", json_object_new_int64(t));
			json_object_object_add(p, "cpu", json_object_new_double(
				100.0 * (double)(cpu - cpu0) / 1e9 / dt / (double)(vcpus > 0 ? vcpus : 1)));
			json_object_object_add(p, "mem_mib", json_object_new_int64(rss >> 20));
			json_object_object_add(p, "disk_kibs", json_object_new_double(
				(double)(rd + wr - disk0) / 1024.0 / dt));
			json_object_object_add(p, "net_kibs", json_object_new_double(
				(double)(rx + tx - net0) / 1024.0 / dt));
			json_object_array_add(points, p);
		}
		t0 = t, cpu0 = cpu, disk0 = rd + wr, net0 = rx + tx;
	}
	json_object_put(stats);
	out = json_object_new_object();
	json_object_object_add(out, "points", points);
	return respond_json(r, 200, out);
}
