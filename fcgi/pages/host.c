/* The host: what it is, and its CPU and memory over the last samples. */
#include <stdio.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/format.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/vmmd.h"

static long uptime_seconds(void)
{
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");

	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = 0;
		fclose(f);
	}
	return (long)up;
}

/*
 * vmmd's samples as points for the graphs: the host's CPU use in percent
 * of all its CPUs between two samples, and the memory in use.
 */
static json_object *host_points(json_object *history)
{
	json_object *points = json_object_new_array();
	size_t n = history ? json_object_array_length(history) : 0;
	int64_t busy0 = 0, idle0 = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(history, i), *p;
		int64_t t = 0, busy = 0, idle = 0, mem = 0;

		json_get_int64(s, "time_ms", &t);
		json_get_int64(s, "cpu_time_ns", &busy);
		json_get_int64(s, "idle_ns", &idle);
		json_get_int64(s, "mem_used_kib", &mem);
		if (i > 0 && busy + idle > busy0 + idle0) {
			double total = (double)(busy - busy0) + (double)(idle - idle0);

			p = json_object_new_object();
			json_object_object_add(p, "t", json_object_new_int64(t));
			json_object_object_add(p, "cpu", json_object_new_double(
				100.0 * (double)(busy - busy0) / total));
			json_object_object_add(p, "mem_mib", json_object_new_int64(mem / 1024));
			json_object_array_add(points, p);
		}
		busy0 = busy, idle0 = idle;
	}
	return points;
}

int page_host(struct request *r)
{
	json_object *info = NULL, *ctx;
	char code[64], err[256], text[64];
	int64_t mem = 0, avail = 0;
	long up = uptime_seconds();

	if (vmmd_call(r->vmmd, "host.info", NULL, &info, code, sizeof(code), err, sizeof(err)) < 0)
		return respond_error(r, 502, "The VM service did not answer: %s", err);
	ctx = json_object_new_object();
	json_object_object_add(ctx, "host", json_object_get(info));
	json_get_int64(info, "memory_kib", &mem);
	json_get_int64(info, "memory_available_kib", &avail);
	format_kib(text, sizeof(text), mem);
	json_object_object_add(ctx, "memory", json_object_new_string(text));
	format_kib(text, sizeof(text), avail);
	json_object_object_add(ctx, "memory_available", json_object_new_string(text));
	snprintf(text, sizeof(text), "%ld days %02ld:%02ld", up / 86400, up / 3600 % 24, up / 60 % 60);
	json_object_object_add(ctx, "uptime", json_object_new_string(text));
	json_object_object_add(ctx, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(ctx, "nav_host", json_object_new_boolean(1));
	json_object_put(info);
	return respond_page(r, "host", "Host", ctx);
}

int page_host_json(struct request *r)
{
	json_object *info = NULL, *out, *history;
	char code[64], err[256];

	if (vmmd_call(r->vmmd, "host.info", NULL, &info, code, sizeof(code), err, sizeof(err)) < 0)
		return respond_error(r, 502, "The VM service did not answer: %s", err);
	out = json_object_new_object();
	json_object_object_get_ex(info, "history", &history);
	json_object_object_add(out, "points", host_points(history));
	json_object_object_add(out, "memory_kib",
			       json_object_get(json_object_object_get(info, "memory_kib")));
	json_object_put(info);
	return respond_json(r, 200, out);
}
