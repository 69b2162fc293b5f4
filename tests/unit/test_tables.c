/* AML encoding, ACPI tables and the port bus. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/unit/unit.h"
#include "vmm/bus.h"
#include "vmm/x86/acpi.h"
#include "vmm/x86/aml.h"
#include "vmm/x86/layout.h"
#include "vmm/x86/mptable.h"

static void aml_integers_use_the_shortest_encoding(int *failed)
{
	static const struct { uint64_t v; uint8_t bytes[9]; size_t len; } cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 5, { 0x0a, 0x05 }, 2 },
		{ 0x1234, { 0x0b, 0x34, 0x12 }, 3 },
		{ 0x12345678, { 0x0c, 0x78, 0x56, 0x34, 0x12 }, 5 },
		{ 0x100000000ULL, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct aml a = { .len = 0 };

		aml_integer(&a, cases[i].v);
		CHECK_EQ(a.len, cases[i].len);
		CHECK(memcmp(a.data, cases[i].bytes, cases[i].len) == 0);
	}
}

static void aml_package_length_grows_at_63_bytes(int *failed)
{
	/* A scope around n bytes: 4 for the name, the rest filler. */
	static const struct { size_t body; uint8_t lead; size_t pkglen_bytes; } cases[] = {
		{ 58, 0x3f, 1 },  /* 1 + 4 + 58 = 63 */
		{ 59, 0x41, 2 },  /* 2 + 4 + 59 = 65 = 0x41 */
		{ 4000, 0x40 | ((2 + 4 + 4000) & 0xf), 2 },  /* 2 bytes reach 4095 */
		{ 5000, 0x80 | ((3 + 4 + 5000) & 0xf), 3 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct aml *body = calloc(1, sizeof(*body)), *a = calloc(1, sizeof(*a));

		memset(body->data, 0xa3, cases[i].body);
		body->len = cases[i].body;
		aml_scope(a, "TEST", body);
		CHECK_EQ(a->data[0], 0x10);
		CHECK_EQ(a->data[1], cases[i].lead);
		CHECK_EQ(a->len, 1 + cases[i].pkglen_bytes + 4 + cases[i].body);
		free(body);
		free(a);
	}
}

static void aml_overflow_is_reported(int *failed)
{
	struct aml *a = calloc(1, sizeof(*a));
	uint8_t junk[AML_MAX / 2 + 1] = { 0 };

	aml_bytes(a, junk, sizeof(junk));
	CHECK(!a->overflow);
	aml_bytes(a, junk, sizeof(junk));
	CHECK(a->overflow);
	free(a);
}

static void aml_names_are_single_segments(int *failed)
{
	struct aml a = { .len = 0 };

	aml_namestring(&a, "\\_SB_");
	CHECK_EQ(a.len, 5);
	CHECK(memcmp(a.data, "\\_SB_", 5) == 0);
	aml_namestring(&a, "KB");
	CHECK(memcmp(a.data + 5, "KB__", 4) == 0);
	CHECK(!a.overflow);
	aml_namestring(&a, "_SB_.COM1"); /* a path is not a segment */
	CHECK(a.overflow);
	a.overflow = 0;
	aml_namestring(&a, "TOOLONG");
	CHECK(a.overflow);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void check_tables(int *failed, unsigned int ncpus)
{
	struct guest_mem mem;
	uint64_t rsdp_gpa;
	uint8_t *rsdp, *xsdt;
	unsigned int lapics = 0;

	CHECK_EQ(mem_init(&mem, 16 * MiB), 0);
	CHECK_EQ(acpi_build(&mem, ncpus, &rsdp_gpa), 0);
	rsdp = mem_ptr(&mem, rsdp_gpa, 36);
	CHECK(rsdp_gpa % 16 == 0 && rsdp_gpa >= LAYOUT_ACPI && rsdp_gpa < LAYOUT_ACPI_END);
	CHECK(memcmp(rsdp, "RSD PTR ", 8) == 0);
	CHECK_EQ(sum(rsdp, 20), 0);
	CHECK_EQ(sum(rsdp, 36), 0);
	xsdt = mem_ptr(&mem, get_le64(rsdp + 24), 36);
	CHECK(memcmp(xsdt, "XSDT", 4) == 0);
	CHECK_EQ(sum(xsdt, get_le32(xsdt + 4)), 0);
	for (uint32_t off = 36; off < get_le32(xsdt + 4); off += 8) {
		uint8_t *t = mem_ptr(&mem, get_le64(xsdt + off), 36);

		CHECK_EQ(sum(t, get_le32(t + 4)), 0);
		if (memcmp(t, "FACP", 4) == 0) {
			uint8_t *dsdt = mem_ptr(&mem, get_le64(t + 140), 36);

			CHECK_EQ(get_le32(t + 4), 276);
			CHECK(memcmp(dsdt, "DSDT", 4) == 0);
			CHECK_EQ(sum(dsdt, get_le32(dsdt + 4)), 0);
			CHECK(memmem(dsdt, get_le32(dsdt + 4), "_S5_", 4) != NULL);
			CHECK(memmem(dsdt, get_le32(dsdt + 4), "PNP0501", 7) != NULL);
		}
		if (memcmp(t, "APIC", 4) == 0)
			for (uint32_t e = 44; e < get_le32(t + 4); e += t[e + 1])
				lapics += t[e] == 0;
	}
	CHECK_EQ(lapics, ncpus);
	mem_destroy(&mem);
}

static void acpi_tables_checksum_for_1_and_254_cpus(int *failed)
{
	check_tables(failed, 1);
	check_tables(failed, 254);
}

/*
 * Find the floating pointer as a guest does (MP spec §4: 16-byte steps in
 * 0xf0000-0xfffff), check both checksums, and count what the table says.
 */
static void check_mptable(int *failed, unsigned int ncpus)
{
	struct guest_mem mem;
	uint8_t *mpf = NULL, *mpc, *e, *end, ioapic = 0xff;
	unsigned int cpus = 0, boot = 0, isa_irqs = 0, lints = 0, entries = 0;
	int isa_bus = -1, pci_bus = -1;

	CHECK_EQ(mem_init(&mem, 16 * MiB), 0);
	memset(mem_ptr(&mem, 0, 1 * MiB), 0xa5, 1 * MiB); /* what a reboot leaves */
	CHECK_EQ(mptable_build(&mem, ncpus, 0x00100f42, 0x178bfbff), 0);
	for (uint64_t a = 0xf0000; a < 0x100000 && !mpf; a += 16) {
		uint8_t *p = mem_ptr(&mem, a, 16);

		if (memcmp(p, "_MP_", 4) == 0 && p[8] == 1 && sum(p, 16) == 0)
			mpf = p;
	}
	CHECK(mpf != NULL);
	if (!mpf)
		return;
	CHECK_EQ(mpf[9], 4);
	CHECK_EQ(mpf[11], 0); /* a table, not a default configuration */
	mpc = mem_ptr(&mem, get_le32(mpf + 4), 44);
	CHECK(memcmp(mpc, "PCMP", 4) == 0);
	CHECK_EQ(mpc[6], 4);
	CHECK_EQ(sum(mpc, get_le16(mpc + 4)), 0);
	CHECK_EQ(get_le32(mpc + 36), LAYOUT_LAPIC);
	end = mpc + get_le16(mpc + 4);
	CHECK(get_le32(mpf + 4) + get_le16(mpc + 4) <= LAYOUT_BIOS_END);
	for (e = mpc + 44; e < end; entries++) {
		switch (e[0]) {
		case 0:
			CHECK_EQ(e[1], cpus); /* APIC ID = vCPU index */
			CHECK(e[3] & 1);
			boot += !!(e[3] & 2);
			CHECK_EQ(get_le32(e + 4), 0x00100f42);
			cpus++;
			e += 20;
			break;
		case 1:
			if (memcmp(e + 2, "ISA   ", 6) == 0)
				isa_bus = e[1];
			if (memcmp(e + 2, "PCI   ", 6) == 0)
				pci_bus = e[1];
			e += 8;
			break;
		case 2:
			ioapic = e[1];
			CHECK_EQ(get_le32(e + 4), LAYOUT_IOAPIC);
			e += 8;
			break;
		case 3:
			CHECK_EQ(e[4], isa_bus);
			CHECK_EQ(e[6], ioapic);
			CHECK_EQ(e[5], e[7]); /* identity, as KVM routes ISA IRQs */
			if (e[5] == IRQ_SCI)
				CHECK_EQ(get_le16(e + 2), 0x000d);
			isa_irqs++;
			e += 8;
			break;
		case 4:
			CHECK_EQ(e[6], 0xff);
			CHECK_EQ(e[1], e[7] == 0 ? 3 : 1); /* ExtINT on LINT0, NMI on LINT1 */
			lints++;
			e += 8;
			break;
		default:
			CHECK(!"unknown entry type");
			e = end;
		}
	}
	CHECK(e == end);
	CHECK_EQ(entries, get_le16(mpc + 34));
	CHECK_EQ(cpus, ncpus);
	CHECK_EQ(boot, 1);
	CHECK_EQ(pci_bus, 0);
	CHECK(isa_bus > 0);
	CHECK_EQ(ioapic, ncpus); /* the ID the MADT gives it */
	CHECK_EQ(isa_irqs, 15);
	CHECK_EQ(lints, 2);
	mem_destroy(&mem);
}

static void mptable_describes_1_and_254_cpus(int *failed)
{
	check_mptable(failed, 1);
	check_mptable(failed, 254);
}

static void mptable_refuses_255_cpus(int *failed)
{
	struct guest_mem mem;

	CHECK_EQ(mem_init(&mem, 16 * MiB), 0);
	CHECK(mptable_build(&mem, 255, 0, 0) < 0);
	mem_destroy(&mem);
}

static void io_record(void *opaque, uint16_t offset, bool is_write, uint8_t *data,
		      unsigned int len)
{
	*(int *)opaque = offset + (is_write ? 1000 : 0);
}

static void bus_dispatches_and_refuses_overlaps(int *failed)
{
	struct bus bus = { .ndevices = 0 };
	uint8_t d[4] = { 0 };
	int seen = -1;

	CHECK_EQ(bus_add(&bus, "a", 0x100, 8, io_record, &seen), 0);
	CHECK(bus_add(&bus, "b", 0x107, 2, io_record, &seen) < 0);
	CHECK_EQ(bus_add(&bus, "c", 0x108, 2, io_record, &seen), 0);
	bus_pio(&bus, 0x103, true, d, 1);
	CHECK_EQ(seen, 1003);
	bus_pio(&bus, 0x200, false, d, 4);
	CHECK_EQ(get_le32(d), 0xffffffff); /* nobody there: the bus floats high */
}

const struct unit_test aml_tests[] = {
	{ "aml_integers_use_the_shortest_encoding", aml_integers_use_the_shortest_encoding },
	{ "aml_package_length_grows_at_63_bytes", aml_package_length_grows_at_63_bytes },
	{ "aml_overflow_is_reported", aml_overflow_is_reported },
	{ "aml_names_are_single_segments", aml_names_are_single_segments },
	{ NULL, NULL },
};

const struct unit_test acpi_tests[] = {
	{ "acpi_tables_checksum_for_1_and_254_cpus", acpi_tables_checksum_for_1_and_254_cpus },
	{ "mptable_describes_1_and_254_cpus", mptable_describes_1_and_254_cpus },
	{ "mptable_refuses_255_cpus", mptable_refuses_255_cpus },
	{ NULL, NULL },
};

const struct unit_test bus_tests[] = {
	{ "bus_dispatches_and_refuses_overlaps", bus_dispatches_and_refuses_overlaps },
	{ NULL, NULL },
};
