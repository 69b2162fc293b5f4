/* The instances list: every VM the user may see, searchable and sortable. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonrpc.h"
#include "fcgi/format.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/tags.h"
#include "fcgi/template.h"
#include "fcgi/vmlist.h"

enum sort_key { SORT_NAME, SORT_STATE, SORT_VCPUS, SORT_MEMORY, SORT_ADDRESS, SORT_AUTOSTART };
static const char *const sort_names[] = { "name", "state", "vcpus", "memory", "address",
					  "autostart" };

struct sort {
	enum sort_key key;
	bool descending;
};

/* A VM's first IPv4 address as a number; past every address when it has none. */
static int64_t first_address(json_object *vm)
{
	json_object *arr;
	const char *text;
	struct in_addr a;

	if (!json_object_object_get_ex(vm, "addresses", &arr) ||
	    !json_object_is_type(arr, json_type_array) || !json_object_array_length(arr) ||
	    !(text = json_object_get_string(json_object_array_get_idx(arr, 0))) ||
	    inet_pton(AF_INET, text, &a) != 1)
		return INT64_C(1) << 32;
	return ntohl(a.s_addr);
}

static int compare(const void *a, const void *b, void *arg)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	const struct sort *s = arg;
	const char *sx = "", *sy = "", *nx = "", *ny = "";
	int64_t ix = 0, iy = 0;
	int c = 0;

	json_get_string(x, "name", &nx);
	json_get_string(y, "name", &ny);
	switch (s->key) {
	case SORT_STATE:
		json_get_string(x, "state", &sx);
		json_get_string(y, "state", &sy);
		c = strcmp(sx, sy);
		break;
	case SORT_VCPUS:
	case SORT_MEMORY:
		json_get_int64(x, s->key == SORT_VCPUS ? "vcpus" : "memory_kib", &ix);
		json_get_int64(y, s->key == SORT_VCPUS ? "vcpus" : "memory_kib", &iy);
		c = ix < iy ? -1 : ix > iy;
		break;
	case SORT_ADDRESS:
		ix = first_address(x);
		iy = first_address(y);
		c = ix < iy ? -1 : ix > iy;
		break;
	case SORT_AUTOSTART: {
		bool bx = false, by = false;

		json_get_bool(x, "autostart", &bx);
		json_get_bool(y, "autostart", &by);
		c = (int)bx - (int)by;
		break;
	}
	default:
		break;
	}
	if (!c)
		c = strcmp(nx, ny);
	return s->descending ? -c : c;
}

/* The query's sort (sort=name|state|vcpus|memory|address|autostart, order=asc|desc). */
static struct sort sort_of(struct request *r)
{
	const char *key = params_get(&r->query, "sort"), *order = params_get(&r->query, "order");
	struct sort s = { SORT_NAME, order && !strcmp(order, "desc") };

	for (size_t i = 0; key && i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
		if (!strcmp(key, sort_names[i]))
			s.key = (enum sort_key)i;
	return s;
}

/* q is part of the VM's name or of one of its addresses. */
static bool matches(json_object *vm, const char *name, const char *q)
{
	json_object *arr;

	if (strcasestr(name, q))
		return true;
	if (!json_object_object_get_ex(vm, "addresses", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(arr, i));

		if (a && strstr(a, q))
			return true;
	}
	return false;
}

static bool has_tag(json_object *vm, const char *tag)
{
	json_object *tags;

	if (!json_object_object_get_ex(vm, "tags", &tags))
		return false;
	for (size_t i = 0; i < json_object_array_length(tags); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(tags, i)), tag))
			return true;
	return false;
}

/* The list after the query's filters (q: part of the name or an address, state, tag) and sort. */
static json_object *filtered(struct request *r, json_object *all, const struct sort *s)
{
	const char *q = params_get(&r->query, "q"), *state = params_get(&r->query, "state");
	const char *tag = params_get(&r->query, "tag");
	json_object *out = json_object_new_array();
	size_t n = json_object_array_length(all);
	json_object **v;

	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return out;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(all, i);
		const char *name = "", *st = "";

		json_get_string(vm, "name", &name);
		json_get_string(vm, "state", &st);
		if (q && *q && !matches(vm, name, q))
			continue;
		if (state && *state && strcmp(state, st))
			continue;
		if (tag && *tag && !has_tag(vm, tag))
			continue;
		v[m++] = vm;
	}
	qsort_r(v, m, sizeof(*v), compare, (void *)s);
	for (size_t i = 0; i < m; i++)
		json_object_array_add(out, json_object_get(v[i]));
	free(v);
	return out;
}

int page_home(struct request *r)
{
	return respond_redirect(r, "/instances", NULL);
}

/* The column headers' links: the same filters, this column, the other order when it is the current one. */
static json_object *columns(struct request *r, const struct sort *s)
{
	const char *q = params_get(&r->query, "q"), *state = params_get(&r->query, "state");
	const char *tag = params_get(&r->query, "tag");
	json_object *cols = json_object_new_object();

	for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++) {
		json_object *c = json_object_new_object();
		bool current = s->key == (enum sort_key)i;
		struct buf href = BUF_INIT(4096);

		buf_printf(&href, "/instances?sort=%s&order=%s", sort_names[i],
			   current && !s->descending ? "desc" : "asc");
		if (q && *q) {
			buf_puts(&href, "&q=");
			url_encode(&href, q);
		}
		if (state && *state) {
			buf_puts(&href, "&state=");
			url_encode(&href, state);
		}
		if (tag && *tag) {
			buf_puts(&href, "&tag=");
			url_encode(&href, tag);
		}
		json_object_object_add(c, "href", json_object_new_string(href.data ? href.data : "/instances"));
		buf_free(&href);
		json_object_object_add(c, "current", json_object_new_boolean(current));
		json_object_object_add(c, "aria_sort", json_object_new_string(
			s->descending ? "descending" : "ascending"));
		json_object_object_add(c, "arrow", json_object_new_string(
			!current ? "" : s->descending ? "\u2193" : "\u2191"));
		json_object_object_add(cols, sort_names[i], c);
	}
	return cols;
}

/*
 * Everything the rows are made from, exactly: vmmd's list by its etag
 * (a fingerprint of its whole text), the caller's rights ("*" for an
 * admin) and the query's filters and sort. The rows' template sees
 * nothing else (not the page's context), so equal keys make equal rows.
 */
static void rows_key(struct request *r, json_object *mine, json_object *tags, const struct sort *s,
		     struct buf *key)
{
	const char *q = params_get(&r->query, "q"), *state = params_get(&r->query, "state");
	const char *tag = params_get(&r->query, "tag");
	size_t len = 1, tags_len = 0;
	const char *tags_text = json_object_to_json_string_length(tags, JSON_C_TO_STRING_PLAIN, &tags_len);
	const char *rights = mine ? json_object_to_json_string_length(mine, JSON_C_TO_STRING_PLAIN, &len)
				  : "*";

	buf_puts(key, r->vmmd->domains_etag);
	buf_putc(key, '\0');
	buf_append(key, rights, len);
	buf_putc(key, '\0');
	buf_printf(key, "%d %d", (int)s->key, s->descending);
	buf_putc(key, '\0');
	buf_puts(key, q ? q : "");
	buf_putc(key, '\0');
	buf_puts(key, state ? state : "");
	buf_putc(key, '\0');
	buf_puts(key, tag ? tag : "");
	buf_putc(key, '\0');
	buf_append(key, tags_text, tags_len);
}

/* Each VM's tags (or none: the objects are kept from view to view, so each view sets them). */
static void add_tags(json_object *all, json_object *tags)
{
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *vm = json_object_array_get_idx(all, i), *list;
		const char *uuid = "";

		json_get_string(vm, "uuid", &uuid);
		if (json_object_object_get_ex(tags, uuid, &list))
			json_object_object_add(vm, "tags", json_object_get(list));
		else
			json_object_object_del(vm, "tags");
	}
}

/*
 * The rows of the list, from the worker's kept ones when they were made
 * from the same inputs (a page viewed again, by anyone with the same
 * rights, while no VM changed), else made and kept. counts: total, shown.
 */
static const struct buf *rows(struct request *r, const struct sort *s, int64_t counts[2])
{
	json_object *domains, *mine, *all, *list, *ctx, *tags;
	struct buf key = BUF_INIT(PAGE_MAX), html = BUF_INIT(PAGE_MAX);
	const struct buf *kept = NULL;
	bool keep;

	if (vmlist_inputs(r, &domains, &mine) < 0)
		return NULL;
	tags = tags_all(r->db);
	if (!tags) {
		json_object_put(mine);
		json_object_put(domains);
		respond_error(r, 500, "The portal's database failed.");
		return NULL;
	}
	/* only a list vmmd gave an etag for, which the link keeps, can be known again */
	keep = domains == r->vmmd->domains;
	if (keep) {
		rows_key(r, mine, tags, s, &key);
		kept = fragment_find(r->rows, &key);
	}
	if (kept) {
		memcpy(counts, r->rows->counts, sizeof(r->rows->counts));
		goto out;
	}
	all = vmlist_decorated(domains, mine);
	add_tags(all, tags);
	list = filtered(r, all, s);
	counts[0] = (int64_t)json_object_array_length(all);
	counts[1] = (int64_t)json_object_array_length(list);
	json_object_put(all);
	ctx = json_object_new_object();
	json_object_object_add(ctx, "vms", list);
	if (tpl_render(r->app->templates, "instance_rows", ctx, &html) < 0 || html.error) {
		json_object_put(ctx);
		respond_error(r, 500, "The list of VMs could not be made.");
		goto out;
	}
	json_object_put(ctx);
	fragment_keep(r->rows, keep ? &key : NULL, &html, counts);
	kept = &r->rows->html;
out:
	buf_free(&key);
	buf_free(&html);
	json_object_put(tags);
	json_object_put(mine);
	json_object_put(domains);
	return kept;
}

/*
 * The API's list: each VM the caller sees, after the same filters and sort
 * as the page's; its text kept like the page's rows, for the same inputs.
 */
static int vms_api(struct request *r, const struct sort *s)
{
	static const char *const keys[] = { "name", "uuid", "title", "state", "responding", "vcpus",
					    "memory_kib", "autostart", "addresses", "tags", "can" };
	json_object *domains, *mine, *all, *list, *tags, *out, *vms;
	struct buf key = BUF_INIT(PAGE_MAX), text = BUF_INIT(PAGE_MAX);
	const struct buf *kept = NULL;
	int64_t counts[FRAGMENT_COUNTS] = { 0 };
	const char *json;
	size_t len;

	if (vmlist_inputs(r, &domains, &mine) < 0)
		return -1;
	tags = tags_all(r->db);
	if (!tags) {
		json_object_put(mine);
		json_object_put(domains);
		return respond_error(r, 500, "The portal's database failed.");
	}
	if (domains == r->vmmd->domains) {
		rows_key(r, mine, tags, s, &key);
		kept = fragment_find(r->api_list, &key);
	}
	if (kept)
		goto out;
	all = vmlist_decorated(domains, mine);
	add_tags(all, tags);
	list = filtered(r, all, s);
	vms = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *vm = json_object_array_get_idx(list, i), *o = json_object_new_object(), *v;

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (json_object_object_get_ex(vm, keys[k], &v))
				json_object_object_add(o, keys[k], json_object_get(v));
		json_object_array_add(vms, o);
	}
	out = json_object_new_object();
	json_object_object_add(out, "total", json_object_new_int64((int64_t)json_object_array_length(all)));
	json_object_object_add(out, "vms", vms);
	json = json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN, &len);
	buf_append(&text, json, len);
	json_object_put(out);
	json_object_put(list);
	json_object_put(all);
	if (text.error) {
		respond_error(r, 500, "The list of VMs could not be made.");
		goto fail;
	}
	fragment_keep(r->api_list, domains == r->vmmd->domains ? &key : NULL, &text, counts);
	kept = &r->api_list->html;
out:
	buf_reset(&r->body);
	buf_append(&r->body, kept->data ? kept->data : "", kept->len);
	r->status = 200;
	r->content_type = "application/json";
fail:
	buf_free(&key);
	buf_free(&text);
	json_object_put(tags);
	json_object_put(mine);
	json_object_put(domains);
	return kept ? r->body.error : -1;
}

int page_vms(struct request *r)
{
	const char *q = params_get(&r->query, "q"), *state = params_get(&r->query, "state");
	const char *tag = params_get(&r->query, "tag");
	static const char *const state_names[] = { "running", "paused", "shut off", "crashed" };
	struct sort s = sort_of(r);
	const struct buf *html;
	json_object *ctx, *states;
	int64_t counts[2];

	if (r->api)
		return vms_api(r, &s);
	html = rows(r, &s, counts);
	if (!html)
		return -1;
	ctx = json_object_new_object();
	json_object_object_add(ctx, "total", json_object_new_int64(counts[0]));
	json_object_object_add(ctx, "shown", json_object_new_int64(counts[1]));
	json_object_object_add(ctx, "has_any", json_object_new_boolean(counts[0] > 0));
	json_object_object_add(ctx, "has_vms", json_object_new_boolean(counts[1] > 0));
	json_object_object_add(ctx, "rows", json_object_new_string_len(html->data ? html->data : "",
									 (int)html->len));
	json_object_object_add(ctx, "q", json_object_new_string(q ? q : ""));
	if (tag && *tag) /* "" is a true section in our templates */
		json_object_object_add(ctx, "tag", json_object_new_string(tag));
	json_object_object_add(ctx, "sort", json_object_new_string(sort_names[s.key]));
	json_object_object_add(ctx, "order", json_object_new_string(s.descending ? "desc" : "asc"));
	json_object_object_add(ctx, "columns", columns(r, &s));
	states = json_object_new_array();
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "value", json_object_new_string(state_names[i]));
		json_object_object_add(o, "selected",
				       json_object_new_boolean(state && !strcmp(state, state_names[i])));
		json_object_array_add(states, o);
	}
	json_object_object_add(ctx, "states", states);
	json_object_object_add(ctx, "nav_instances", json_object_new_boolean(1));
	return respond_page(r, "instances", "Instances", ctx);
}

/* For the list's script: each VM's state, by name. */
int page_vms_json(struct request *r)
{
	json_object *all = vmlist_visible(r), *out;
	size_t n;

	if (!all)
		return -1;
	out = json_object_new_object();
	n = json_object_array_length(all);
	for (size_t i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(all, i), *o = json_object_new_object();
		static const char *const keys[] = { "state", "st", "addresses" };
		const char *name = "";

		json_get_string(vm, "name", &name);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			json_object *v;

			if (json_object_object_get_ex(vm, keys[k], &v))
				json_object_object_add(o, keys[k], json_object_get(v));
		}
		json_object_object_add(out, name, o);
	}
	json_object_put(all);
	return respond_json(r, 200, out);
}
