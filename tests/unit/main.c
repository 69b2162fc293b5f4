/*
 * Unit tests of vmm's device models and table builders, and of the
 * portal's template engine, request parsing and route table, without KVM.
 * Prints "PASS name" or "FAIL name" per test; exits 1 if any failed.
 * An argument runs only the tests whose name contains it. A test that
 * runs longer than TEST_TIMEOUT seconds (a walker that loops forever on
 * a hostile ring) ends the run with SIGALRM, which counts as a failure.
 */
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"

#define TEST_TIMEOUT 60

static const struct unit_test *const suites[] = {
	serial_tests, i8042_tests, rtc_tests, pm_tests, aml_tests, acpi_tests, bus_tests,
	virtq_tests, mem_tests, template_tests, params_tests, router_tests, handshake_tests, image_tests,
	quota_tests,
};

int main(int argc, char **argv)
{
	int any_failed = 0;

	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (const struct unit_test *t = suites[s]; t->name; t++) {
			int failed = 0;

			if (argc > 1 && !strstr(t->name, argv[1]))
				continue;
			alarm(TEST_TIMEOUT);
			t->fn(&failed);
			alarm(0);
			printf("%s %s\n", failed ? "FAIL" : "PASS", t->name);
			fflush(stdout);
			any_failed |= failed;
		}
	}
	return any_failed;
}
