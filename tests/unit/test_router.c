/*
 * fcgi/router: route_match's rules for paths, and the rules every entry
 * of the route table (fcgi/routes.c) must keep, which router.c relies on.
 */
#include <string.h>

#include "fcgi/router.h"
#include "tests/unit/unit.h"

static void test_route_match(int *failed)
{
	static const struct {
		const char *pattern, *path;
		bool match;
		const char *arg0, *arg1;
	} rows[] = {
		{ "/instances", "/instances", true, NULL, NULL },
		{ "/instances", "/instances/", false, NULL, NULL },
		{ "/instances", "/instance", false, NULL, NULL },
		{ "/instances", "/INSTANCES", false, NULL, NULL },
		{ "/instances", "", false, NULL, NULL },
		{ "/instance/{}", "/instance/web1", true, "web1", NULL },
		{ "/instance/{}", "/instance/", false, NULL, NULL }, /* {} is never empty */
		{ "/instance/{}", "/instance/a/b", false, NULL, NULL }, /* nor more than one segment */
		{ "/instance/{}/start", "/instance/web1/start", true, "web1", NULL },
		{ "/instance/{}/start", "/instance/web1/stop", false, NULL, NULL },
		{ "/instance/{}/start", "/instance//start", false, NULL, NULL },
		{ "/instance/{}/start", "/instance/web1/start/", false, NULL, NULL },
		{ "/instance/{}/start", "/instance/web1", false, NULL, NULL },
		/* the segment is passed as it came: checking it is the handler's part */
		{ "/instance/{}", "/instance/..", true, "..", NULL },
		{ "/instance/{}", "/instance/%2e%2e", true, "%2e%2e", NULL },
		{ "/instance/{}", "/instance/a%2Fb", true, "a%2Fb", NULL },
		{ "/a/{}/b/{}", "/a/x/b/y", true, "x", "y" },
		{ "/a/{}/b/{}", "/a/x/b/", false, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *args[ROUTE_ARGS_MAX] = { NULL };
		char buf[256];
		bool m = route_match(rows[i].pattern, rows[i].path, buf, sizeof(buf), args);

		if (m != rows[i].match) {
			fprintf(stderr, "    row %zu: %s against %s: %s\n", i, rows[i].path,
				rows[i].pattern, m ? "matched" : "did not match");
			*failed = 1;
			continue;
		}
		if (!m)
			continue;
		if ((rows[i].arg0 && (!args[0] || strcmp(args[0], rows[i].arg0))) ||
		    (rows[i].arg1 && (!args[1] || strcmp(args[1], rows[i].arg1)))) {
			fprintf(stderr, "    row %zu: %s gave arguments '%s' '%s'\n", i, rows[i].path,
				args[0] ? args[0] : "(none)", args[1] ? args[1] : "(none)");
			*failed = 1;
		}
	}
}

/* An argument that does not fit the buffer is no match (never cut short). */
static void test_route_match_bounds(int *failed)
{
	const char *args[ROUTE_ARGS_MAX] = { NULL };
	char buf[8];

	CHECK(route_match("/instance/{}", "/instance/1234567", buf, sizeof(buf), args));
	CHECK(!strcmp(args[0], "1234567"));
	CHECK(!route_match("/instance/{}", "/instance/12345678", buf, sizeof(buf), args));
	/* more {} than a route may pass */
	CHECK(!route_match("/{}/{}/{}", "/a/b/c", buf, sizeof(buf), args));
}

/*
 * The table's rules: a state change is a POST with an audit name and a
 * POST always changes state (router.c checks the CSRF token and Origin
 * of exactly those); a route on one VM names it in its first segment
 * after /instance/ and needs a right on it; no route that names a VM or
 * changes anything but logging in is open to anyone; an admin-only VM
 * route is an admin route; the host's shared things (networks, storage,
 * users, flavors, the audit log) are admins' alone; no two routes answer the same
 * method and path.
 */
static bool admins_alone(const char *pattern)
{
	static const char *const prefixes[] = { "/network", "/storage", "/pool/", "/users", "/user/",
						       "/flavor", "/audit" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(pattern, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void test_route_table_rules(int *failed)
{
	size_t n = 0;

	for (const struct route *rt = routes; rt->pattern; rt++, n++) {
		bool post = !strcmp(rt->method, "POST");
		bool names_vm = !strncmp(rt->pattern, "/instance/{}", 12);

		if (!post && strcmp(rt->method, "GET"))
			fprintf(stderr, "    %s %s: neither GET nor POST\n", rt->method, rt->pattern), *failed = 1;
		if (post != rt->changes_state || (post && !rt->action))
			fprintf(stderr, "    %s %s: a POST must change state and be audited, and only a POST\n",
				rt->method, rt->pattern), *failed = 1;
		if (names_vm != (rt->vm != VM_NONE))
			fprintf(stderr, "    %s %s: a route on one VM must need a right on it\n",
				rt->method, rt->pattern), *failed = 1;
		if (rt->access == ACCESS_ANYONE && (names_vm || strcmp(rt->pattern, "/login")))
			fprintf(stderr, "    %s %s: open to anyone\n", rt->method, rt->pattern), *failed = 1;
		if (rt->vm == VM_ADMIN && rt->access != ACCESS_ADMIN)
			fprintf(stderr, "    %s %s: an admin-only VM route open to users\n", rt->method,
				rt->pattern), *failed = 1;
		if (admins_alone(rt->pattern) && rt->access != ACCESS_ADMIN)
			fprintf(stderr, "    %s %s: the host's shared things are for admins alone\n",
				rt->method, rt->pattern), *failed = 1;
		/* self-service is making VMs and cloning one's own, nothing more */
		if (rt->access == ACCESS_CREATE && strcmp(rt->pattern, "/create") &&
		    strcmp(rt->pattern, "/instance/{}/clone"))
			fprintf(stderr, "    %s %s: open to users who may make VMs\n", rt->method,
				rt->pattern), *failed = 1;
		if (!rt->handler || rt->pattern[0] != '/')
			fprintf(stderr, "    %s %s: no handler or not a path\n", rt->method, rt->pattern), *failed = 1;
		for (const struct route *o = routes; o != rt; o++)
			if (!strcmp(o->method, rt->method) && !strcmp(o->pattern, rt->pattern))
				fprintf(stderr, "    %s %s: twice\n", rt->method, rt->pattern), *failed = 1;
	}
	CHECK(n > 30);
}

/* The JSON API offers every route but logging in and out, the account's pages and the consoles. */
static void test_route_in_api(int *failed)
{
	size_t offered = 0;

	/* the browsers' routes, by name: a new route is in the API unless it is added here */
	static const char *const browser_only_routes[] = {
		"GET /login", "POST /login", "POST /logout", "GET /account/password",
		"POST /account/password", "GET /account/tokens", "POST /account/tokens",
		"POST /account/token/{}/revoke", "GET /instance/{}/console/{}",
		"POST /instance/{}/console/{}/ticket.json",
	};

	for (const struct route *rt = routes; rt->pattern; rt++) {
		char key[128];
		bool browser_only = false;

		snprintf(key, sizeof(key), "%s %s", rt->method, rt->pattern);
		for (size_t i = 0; i < sizeof(browser_only_routes) / sizeof(browser_only_routes[0]); i++)
			browser_only |= !strcmp(key, browser_only_routes[i]);

		if (route_in_api(rt) == browser_only)
			fprintf(stderr, "    %s %s: %s the API\n", rt->method, rt->pattern,
				browser_only ? "in" : "not in"), *failed = 1;
		offered += route_in_api(rt);
	}
	CHECK(offered > 40);
}

const struct unit_test router_tests[] = {
	{ "route_in_api", test_route_in_api },
	{ "route_match", test_route_match },
	{ "route_match_bounds", test_route_match_bounds },
	{ "route_table_rules", test_route_table_rules },
	{ NULL, NULL },
};
