/* A minimal unit-test harness: each suite is a table of named functions. */
#ifndef WEBKVM_TESTS_UNIT_H
#define WEBKVM_TESTS_UNIT_H

#include <stdio.h>

struct unit_test {
	const char *name;
	void (*fn)(int *failed);
};

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                    \
			*failed = 1;                                                 \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		long long a_ = (long long)(a), b_ = (long long)(b);                  \
		if (a_ != b_) {                                                      \
			fprintf(stderr, "    %s:%d: %s is %lld (%#llx), expected %lld (%#llx)\n", \
				__FILE__, __LINE__, #a, a_, a_, b_, b_);            \
			*failed = 1;                                                 \
		}                                                                    \
	} while (0)

extern const struct unit_test serial_tests[];
extern const struct unit_test i8042_tests[];
extern const struct unit_test rtc_tests[];
extern const struct unit_test pm_tests[];
extern const struct unit_test aml_tests[];
extern const struct unit_test acpi_tests[];
extern const struct unit_test bus_tests[];
extern const struct unit_test virtq_tests[];
extern const struct unit_test mem_tests[];
extern const struct unit_test template_tests[];
extern const struct unit_test image_tests[];
extern const struct unit_test params_tests[];
extern const struct unit_test router_tests[];
extern const struct unit_test quota_tests[];
extern const struct unit_test handshake_tests[];

#endif
