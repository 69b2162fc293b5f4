/* Quotas: each limit at its edge, no limit, and shrinking below a lowered quota. */
#include <string.h>

#include "fcgi/quota.h"
#include "tests/unit/unit.h"

#define GIB (1LL << 30)

static void test_quota_edges(int *failed)
{
	struct quota q = { 3, 4, 2048, 20 };
	struct quota_use before = { 2, 3, 1536, 10 * GIB };
	struct quota_use after;
	char why[256];

	/* the last that fits, in each dimension */
	after = (struct quota_use){ 3, 4, 2048, 20 * GIB };
	CHECK(quota_allows(&q, &before, &after, why, sizeof(why)));
	/* one more of each, alone, is refused, naming that quota */
	after = (struct quota_use){ 4, 4, 2048, 20 * GIB };
	CHECK(!quota_allows(&q, &before, &after, why, sizeof(why)) && strstr(why, "3 VMs"));
	after = (struct quota_use){ 3, 5, 2048, 20 * GIB };
	CHECK(!quota_allows(&q, &before, &after, why, sizeof(why)) && strstr(why, "4 vCPUs"));
	after = (struct quota_use){ 3, 4, 2049, 20 * GIB };
	CHECK(!quota_allows(&q, &before, &after, why, sizeof(why)) && strstr(why, "memory quota of 2048"));
	after = (struct quota_use){ 3, 4, 2048, 20 * GIB + 1 };
	CHECK(!quota_allows(&q, &before, &after, why, sizeof(why)) && strstr(why, "disk quota of 20 GiB"));
}

static void test_quota_none_and_lowered(int *failed)
{
	struct quota none = { -1, -1, -1, -1 }, zero = { 0, 0, 0, 0 };
	struct quota_use before = { 5, 10, 10000, 100 * GIB };
	struct quota_use bigger = { 500, 1000, 1000000, 10000 * GIB };
	struct quota_use smaller = { 5, 8, 4096, 100 * GIB };
	char why[256];

	CHECK(quota_allows(&none, &before, &bigger, why, sizeof(why)));
	/* over a lowered quota: what does not grow passes, any growth is refused */
	CHECK(quota_allows(&zero, &before, &smaller, why, sizeof(why)));
	CHECK(quota_allows(&zero, &before, &before, why, sizeof(why)));
	smaller.vcpus = 11;
	CHECK(!quota_allows(&zero, &before, &smaller, why, sizeof(why)));
}

const struct unit_test quota_tests[] = {
	{ "quota_edges", test_quota_edges },
	{ "quota_none_and_lowered", test_quota_none_and_lowered },
	{ NULL, NULL },
};
