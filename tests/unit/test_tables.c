/* AML encoding, ACPI tables and the port bus. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "tests/unit/unit.h"
#include "vmm/bus.h"
#include "vmm/hw/pm.h"
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
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0xffff, { 0x0b, 0xff, 0xff }, 3 },
		{ 0xffffffff, { 0x0c, 0xff, 0xff, 0xff, 0xff }, 5 },
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
		{ 4089, 0x4f, 2 },  /* 2 + 4 + 4089 = 4095 */
		{ 4090, 0x81, 3 },  /* 3 + 4 + 4090 = 4097 = 0x1001 */
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
	/* at the edge: exactly AML_MAX bytes fit, one more does not */
	a = calloc(1, sizeof(*a));
	aml_bytes(a, junk, AML_MAX / 2);
	aml_bytes(a, junk, AML_MAX / 2);
	CHECK(!a->overflow);
	CHECK_EQ(a->len, AML_MAX);
	aml_byte(a, 0x42);
	CHECK(a->overflow);
	CHECK_EQ(a->len, AML_MAX);
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
	a.overflow = 0;
	aml_namestring(&a, "ABCDE");
	CHECK(a.overflow);
	a.overflow = 0;
	aml_namestring(&a, "A.B");
	CHECK(a.overflow);
	a.overflow = 0;
	aml_namestring(&a, "");
	CHECK(a.overflow);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* A table the RSDP or XSDT points to: in the ACPI area, whole, checksummed. */
static uint8_t *acpi_table(int *failed, struct guest_mem *mem, uint64_t gpa, const char *sig)
{
	uint8_t *t = mem_ptr(mem, gpa, 36);
	uint32_t len;

	if (!t || memcmp(t, sig, 4) != 0) {
		fprintf(stderr, "    no %s at %#llx\n", sig, (unsigned long long)gpa);
		*failed = 1;
		return NULL;
	}
	len = get_le32(t + 4);
	CHECK(len >= 36);
	CHECK(gpa >= LAYOUT_ACPI && gpa + len <= LAYOUT_ACPI_END);
	CHECK_EQ(sum(t, len), 0);
	CHECK(memcmp(t + 10, "WEBKVM", 6) == 0);
	return t;
}

/* §20.2.4 PkgLength at p: the length it gives; *ret_n its own size. */
static size_t pkglength(const uint8_t *p, size_t *ret_n)
{
	size_t n = p[0] >> 6, len = n ? p[0] & 0x0f : p[0] & 0x3f;

	for (size_t i = 0; i < n; i++)
		len |= (size_t)p[1 + i] << (4 + 8 * i);
	*ret_n = 1 + n;
	return len;
}

/* An AML integer at p (§20.2.3 ComputationalData); *ret_n its size. */
static uint64_t aml_int(const uint8_t *p, size_t *ret_n)
{
	switch (p[0]) {
	case 0x00: *ret_n = 1; return 0;
	case 0x01: *ret_n = 1; return 1;
	case 0x0a: *ret_n = 2; return p[1];
	case 0x0b: *ret_n = 3; return get_le16(p + 1);
	case 0x0c: *ret_n = 5; return get_le32(p + 1);
	}
	*ret_n = 1;
	return UINT64_MAX;
}

/*
 * The devices the DSDT must describe, with the resource template each
 * _CRS must hold, written from ACPI 6.5 §6.4 by hand (not by the
 * encoder under test).
 */
static const struct {
	const char *name, *hid;
	uint8_t crs[96];
	size_t crs_len;
} dsdt_devices[] = {
	{ "COM1", "PNP0501", { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* I/O 0x3f8, 8 */
			       0x22, 0x10, 0x00, /* IRQ 4 */
			       0x79, 0x00 }, 13 },
	{ "KBD_", "PNP0303", { 0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
			       0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,
			       0x22, 0x02, 0x00, /* IRQ 1 */
			       0x79, 0x00 }, 21 },
	{ "MOU_", "PNP0F13", { 0x22, 0x00, 0x10, /* IRQ 12 */
			       0x79, 0x00 }, 5 },
	{ "RTC_", "PNP0B00", { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02,
			       0x22, 0x00, 0x01, /* IRQ 8 */
			       0x79, 0x00 }, 13 },
	{ "PCI0", "PNP0A08", {
		/* Word bus number range 0-0, producer, fixed min and max */
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x00,
		0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08, /* config ports */
		/* Word I/O 0x0000-0x0cf7 and 0x0d00-0xffff, ISA and non-ISA ranges */
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c,
		0x00, 0x00, 0xf8, 0x0c,
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff,
		0x00, 0x00, 0x00, 0xf3,
		/* DWord memory 0xc0000000-0xdfffffff, read-write, non-cacheable */
		0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x20,
		0x79, 0x00 }, 84 },
};

/* Name (_CRS, Buffer () {...}) in a device body: the bytes, or NULL. */
static const uint8_t *device_crs(const uint8_t *dev, size_t len, size_t *ret_len)
{
	const uint8_t *p = memmem(dev, len, "\x08_CRS\x11", 6);
	size_t n, pkg, size, m;

	if (!p)
		return NULL;
	p += 6;
	pkg = pkglength(p, &n);
	size = aml_int(p + n, &m);
	if (p + pkg > dev + len || n + m + size != pkg)
		return NULL;
	*ret_len = size;
	return p + n + m;
}

/* The DSDT: \_S5 first, then \_SB with exactly the devices above. The S5 SLP_TYP. */
static unsigned int check_dsdt(int *failed, const uint8_t *dsdt)
{
	const uint8_t *body = dsdt + 36, *end = dsdt + get_le32(dsdt + 4), *p, *sb_end;
	size_t n, m, len, ndev = 0;
	uint64_t typ_a, typ_b;

	CHECK_EQ(dsdt[8], 2); /* revision 2: 64-bit integers */
	/* Name (_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 }) */
	CHECK(memcmp(body, "\x08_S5_\x12", 6) == 0);
	p = body + 6;
	len = pkglength(p, &n);
	CHECK_EQ(p[n], 4);
	typ_a = aml_int(p + n + 1, &m);
	typ_b = aml_int(p + n + 1 + m, &m);
	CHECK_EQ(typ_a, PM_SLP_TYP_S5);
	CHECK_EQ(typ_b, PM_SLP_TYP_S5);
	p += len;
	/* Scope (\_SB) { Device ... } to the end of the table */
	CHECK_EQ(p[0], 0x10);
	len = pkglength(p + 1, &n);
	sb_end = p + 1 + len;
	CHECK(sb_end == end);
	CHECK(memcmp(p + 1 + n, "\\_SB_", 5) == 0);
	p += 1 + n + 5;
	while (p < sb_end && p < end && ndev < ARRAY_SIZE(dsdt_devices)) {
		const uint8_t *crs;
		uint8_t hid[16] = "\x08_HID\x0d";
		size_t crs_len = 0;

		if (p[0] != 0x5b || p[1] != 0x82) {
			fprintf(stderr, "    DSDT: not a device at offset %zu\n", (size_t)(p - dsdt));
			*failed = 1;
			return typ_a;
		}
		len = pkglength(p + 2, &n);
		if (memcmp(p + 2 + n, dsdt_devices[ndev].name, 4) != 0) {
			fprintf(stderr, "    DSDT: device %.4s where %s was expected\n", p + 2 + n,
				dsdt_devices[ndev].name);
			*failed = 1;
		}
		memcpy(hid + 6, dsdt_devices[ndev].hid, 8);
		CHECK(memmem(p + 2, len, hid, 14) != NULL);
		if (strcmp(dsdt_devices[ndev].name, "PCI0") == 0) /* PCI Express, and PCI for older OSes */
			CHECK(memmem(p + 2, len, "\x08_CID\x0dPNP0A03", 13) != NULL);
		crs = device_crs(p + 2 + n + 4, len - n - 4, &crs_len);
		if (!crs || crs_len != dsdt_devices[ndev].crs_len ||
		    memcmp(crs, dsdt_devices[ndev].crs, crs_len) != 0) {
			fprintf(stderr, "    DSDT: %s's _CRS is not as expected\n", dsdt_devices[ndev].name);
			*failed = 1;
		}
		p += 2 + len;
		ndev++;
	}
	CHECK_EQ(ndev, ARRAY_SIZE(dsdt_devices));
	CHECK(p == sb_end);
	return typ_a;
}

static void check_fadt(int *failed, struct guest_mem *mem, const uint8_t *t, uint8_t **ret_dsdt)
{
	uint32_t flags = get_le32(t + 112);
	uint8_t *facs;

	CHECK_EQ(get_le32(t + 4), 276);
	CHECK_EQ(t[8], 6);   /* FADT revision 6 */
	CHECK_EQ(t[131], 5); /* minor version: ACPI 6.5 */
	CHECK_EQ(get_le16(t + 46), IRQ_SCI);
	CHECK_EQ(get_le32(t + 48), 0); /* no SMI_CMD: always in ACPI mode */
	/* PM1a event and control blocks, PM timer: where hw/pm is, and their sizes */
	CHECK_EQ(get_le32(t + 56), PORT_ACPI_PM1_EVT);
	CHECK_EQ(get_le32(t + 60), 0); /* no PM1b */
	CHECK_EQ(get_le32(t + 64), PORT_ACPI_PM1_CNT);
	CHECK_EQ(get_le32(t + 76), PORT_ACPI_PM_TMR);
	CHECK_EQ(t[88], 4);
	CHECK_EQ(t[89], 2);
	CHECK_EQ(t[91], 4);
	/* the extended blocks say the same, in system I/O space */
	static const struct { unsigned int off, legacy, len; } gas[] = {
		{ 148, 56, 88 }, { 172, 64, 89 }, { 208, 76, 91 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(gas); i++) {
		CHECK_EQ(t[gas[i].off], 1);
		CHECK_EQ(t[gas[i].off + 1], 8 * t[gas[i].len]);
		CHECK_EQ(get_le64(t + gas[i].off + 4), get_le32(t + gas[i].legacy));
	}
	CHECK_EQ(flags & (1u << 20), 0);     /* not HW_REDUCED_ACPI: PM blocks are real */
	CHECK_EQ(flags & (1u << 4), 0);      /* a fixed-feature power button (hw/pm) */
	CHECK(flags & (1u << 5));            /* no fixed-feature sleep button */
	CHECK(flags & (1u << 8));            /* a 32-bit PM timer */
	CHECK(flags & (1u << 0));            /* WBINVD works */
	CHECK_EQ(get_le16(t + 109) & 3, 3);  /* legacy devices and an 8042 */
	CHECK_EQ(t[108], 0x32);              /* the RTC's century register */
	/* DSDT and FACS, in their 32- and 64-bit fields alike */
	CHECK_EQ(get_le64(t + 140), get_le32(t + 40));
	CHECK_EQ(get_le64(t + 132), get_le32(t + 36));
	facs = mem_ptr(mem, get_le32(t + 36), 64);
	CHECK(facs && memcmp(facs, "FACS", 4) == 0 && get_le32(facs + 4) == 64);
	CHECK_EQ(get_le32(t + 36) % 64, 0);
	*ret_dsdt = acpi_table(failed, mem, get_le64(t + 140), "DSDT");
}

static void check_madt(int *failed, const uint8_t *t, unsigned int ncpus)
{
	uint32_t len = get_le32(t + 4), e;
	unsigned int lapics = 0, ioapics = 0, sci_overrides = 0, overrides = 0, nmis = 0;

	CHECK_EQ(get_le32(t + 36), LAYOUT_LAPIC);
	CHECK_EQ(get_le32(t + 40) & 1, 1); /* PC-AT compatible: 8259s present */
	for (e = 44; e + 2 <= len && t[e + 1] >= 2 && e + t[e + 1] <= len; e += t[e + 1]) {
		const uint8_t *x = t + e;

		switch (x[0]) {
		case 0: /* processor local APIC: UID and APIC ID = vCPU index, enabled */
			CHECK_EQ(x[1], 8);
			CHECK_EQ(x[2], lapics);
			CHECK_EQ(x[3], lapics);
			CHECK_EQ(get_le32(x + 4) & 1, 1);
			lapics++;
			break;
		case 1: /* the IOAPIC: the ID after the CPUs', GSI base 0 */
			CHECK_EQ(x[1], 12);
			CHECK_EQ(x[2], ncpus);
			CHECK_EQ(get_le32(x + 4), LAYOUT_IOAPIC);
			CHECK_EQ(get_le32(x + 8), 0);
			ioapics++;
			break;
		case 2: /* interrupt source override: the SCI, level, active high */
			CHECK_EQ(x[1], 10);
			CHECK_EQ(x[2], 0);
			if (x[3] == IRQ_SCI) {
				CHECK_EQ(get_le32(x + 4), IRQ_SCI);
				CHECK_EQ(get_le16(x + 8), 0x000d);
				sci_overrides++;
			}
			overrides++;
			break;
		case 4: /* NMI on LINT1 of every processor */
			CHECK_EQ(x[1], 6);
			CHECK_EQ(x[2], 0xff);
			CHECK_EQ(x[5], 1);
			nmis++;
			break;
		default:
			fprintf(stderr, "    MADT: unexpected entry type %u\n", x[0]);
			*failed = 1;
		}
	}
	CHECK_EQ(e, len); /* the entries fill the table exactly */
	CHECK_EQ(lapics, ncpus);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(sci_overrides, 1);
	CHECK_EQ(overrides, 1); /* ISA IRQ 0 stays identity-mapped, as KVM routes it */
	CHECK_EQ(nmis, 1);
	CHECK(ncpus < 255); /* so the IOAPIC's ID is not the broadcast one */
}

static void on_poweroff(void *opaque)
{
	++*(int *)opaque;
}

/*
 * hw/pm answers at the blocks the FADT names: the event block shows a
 * power button press, the control block reports SCI_EN (there being no
 * SMI_CMD) and powers off on the DSDT's \_S5 value, the timer runs.
 */
static void check_pm_at_fadt_blocks(int *failed, const uint8_t *fadt, unsigned int s5)
{
	struct pm pm;
	int poweroffs = 0;
	uint16_t evt = get_le32(fadt + 56) - PORT_ACPI_PM, cnt = get_le32(fadt + 64) - PORT_ACPI_PM;
	uint16_t tmr = get_le32(fadt + 76) - PORT_ACPI_PM;
	uint8_t b[4] = { 0 }, t1[4] = { 0 }, t2[4] = { 0 };
	struct timespec nap = { 0, 2000000 };

	pm_init(&pm, (struct irq_line){ .vm_fd = -1, .gsi = IRQ_SCI }, on_poweroff, &poweroffs);
	pm_power_button(&pm);
	pm_io(&pm, evt, false, b, 2);
	CHECK(get_le16(b) & 0x0100); /* PWRBTN_STS */
	pm_io(&pm, cnt, false, b, 2);
	CHECK(get_le16(b) & 0x0001); /* SCI_EN */
	pm_io(&pm, tmr, false, t1, 4);
	nanosleep(&nap, NULL);
	pm_io(&pm, tmr, false, t2, 4);
	CHECK(get_le32(t2) != get_le32(t1));
	put_le16(b, s5 << 10 | 0x2000); /* SLP_TYP, SLP_EN */
	pm_io(&pm, cnt, true, b, 2);
	CHECK_EQ(poweroffs, 1);
	pm_destroy(&pm);
}

/*
 * Everything a guest reads from the tables, for ncpus CPUs: the RSDP,
 * the XSDT and its entries, each table's checksum, the FADT against
 * hw/pm, the MADT's CPUs, IOAPIC and SCI, the MCFG, and the DSDT's
 * devices. What the direct tier's guest checks (cpus, pm1a_cnt, sci, s5)
 * is here too, without KVM.
 */
static void check_tables(int *failed, unsigned int ncpus)
{
	static const char *const want[] = { "FACP", "APIC", "MCFG" };
	struct guest_mem mem;
	uint64_t rsdp_gpa, gpas[8];
	uint8_t *rsdp, *xsdt, *found[ARRAY_SIZE(want)] = { NULL }, *dsdt = NULL;
	uint32_t xlen, nentries;

	CHECK_EQ(mem_init(&mem, 16 * MiB), 0);
	memset(mem_ptr(&mem, LAYOUT_ACPI, LAYOUT_ACPI_END - LAYOUT_ACPI), 0xa5,
	       LAYOUT_ACPI_END - LAYOUT_ACPI); /* what a reboot leaves */
	CHECK_EQ(acpi_build(&mem, ncpus, &rsdp_gpa), 0);
	rsdp = mem_ptr(&mem, rsdp_gpa, 36);
	CHECK(rsdp_gpa % 16 == 0 && rsdp_gpa >= LAYOUT_ACPI && rsdp_gpa + 36 <= LAYOUT_ACPI_END);
	CHECK(memcmp(rsdp, "RSD PTR ", 8) == 0);
	CHECK_EQ(sum(rsdp, 20), 0);
	CHECK_EQ(sum(rsdp, 36), 0);
	CHECK_EQ(rsdp[15], 2);
	CHECK_EQ(get_le32(rsdp + 20), 36);
	CHECK(memcmp(rsdp + 9, "WEBKVM", 6) == 0);
	xsdt = acpi_table(failed, &mem, get_le64(rsdp + 24), "XSDT");
	if (!xsdt)
		goto out;
	xlen = get_le32(xsdt + 4);
	nentries = (xlen - 36) / 8;
	CHECK_EQ((xlen - 36) % 8, 0);
	CHECK_EQ(nentries, ARRAY_SIZE(want));
	for (uint32_t i = 0; i < nentries && i < ARRAY_SIZE(gpas); i++) {
		uint8_t *t;

		gpas[i] = get_le64(xsdt + 36 + 8 * i);
		t = mem_ptr(&mem, gpas[i], 36);
		for (size_t w = 0; t && w < ARRAY_SIZE(want); w++) {
			if (memcmp(t, want[w], 4) != 0)
				continue;
			CHECK(found[w] == NULL); /* each once */
			found[w] = acpi_table(failed, &mem, gpas[i], want[w]);
		}
	}
	/* an RSDT is optional with an XSDT; if there is one, it says the same */
	if (get_le32(rsdp + 16)) {
		uint8_t *rsdt = acpi_table(failed, &mem, get_le32(rsdp + 16), "RSDT");

		CHECK(rsdt && get_le32(rsdt + 4) == 36 + 4 * nentries);
		for (uint32_t i = 0; rsdt && i < nentries && i < ARRAY_SIZE(gpas); i++)
			CHECK_EQ(get_le32(rsdt + 36 + 4 * i), gpas[i]);
	}
	for (size_t w = 0; w < ARRAY_SIZE(want); w++)
		if (!found[w]) {
			fprintf(stderr, "    no %s in the XSDT\n", want[w]);
			*failed = 1;
		}
	if (found[0])
		check_fadt(failed, &mem, found[0], &dsdt);
	if (found[1])
		check_madt(failed, found[1], ncpus);
	if (found[2]) {
		CHECK_EQ(get_le32(found[2] + 4), 60);
		CHECK_EQ(get_le64(found[2] + 44), LAYOUT_PCI_ECAM);
		CHECK_EQ(get_le16(found[2] + 52), 0);
		CHECK_EQ(found[2][54], 0);
		CHECK_EQ(found[2][55], (LAYOUT_PCI_ECAM_SIZE >> 20) - 1);
	}
	if (dsdt) {
		unsigned int s5 = check_dsdt(failed, dsdt);

		check_pm_at_fadt_blocks(failed, found[0], s5);
	} else {
		CHECK(!"a DSDT");
	}
out:
	mem_destroy(&mem);
}

static void acpi_tables_describe_the_machine(int *failed)
{
	check_tables(failed, 1);
	check_tables(failed, 3);
	check_tables(failed, 254);
}

/* Tables that do not fit in the BIOS area are an error, and nothing past it is written. */
static void acpi_build_refuses_what_does_not_fit(int *failed)
{
	struct guest_mem mem;
	uint64_t rsdp = 0;
	uint8_t *after;

	CHECK_EQ(mem_init(&mem, 16 * MiB), 0);
	after = mem_ptr(&mem, LAYOUT_ACPI_END, 16);
	memset(after, 0xa5, 16);
	CHECK(acpi_build(&mem, 8192, &rsdp) < 0); /* a MADT of 64 KiB */
	CHECK_EQ(rsdp, 0);
	CHECK_EQ(after[0], 0xa5);
	mem_destroy(&mem);
}

/*
 * Find the floating pointer as a guest does (MP spec §4: 16-byte steps in
 * 0xf0000-0xfffff), check both checksums, and count what the table says.
 */
static void check_mptable(int *failed, unsigned int ncpus)
{
	struct guest_mem mem;
	uint8_t *mpf = NULL, *mpc, *e, *end, ioapic = 0xff;
	unsigned int cpus = 0, boot = 0, isa_irqs = 0, lints = 0, entries = 0, irq_mask = 0;
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
			irq_mask |= 1u << (e[5] & 31);
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
	CHECK_EQ(irq_mask, 0xfffb); /* all but the cascade, IRQ 2 */
	CHECK_EQ(lints, 2);
	mem_destroy(&mem);
}

static void mptable_describes_1_and_254_cpus(int *failed)
{
	check_mptable(failed, 1);
	check_mptable(failed, 254);
}

static void mptable_refuses_0_and_255_cpus(int *failed)
{
	struct guest_mem mem;

	CHECK_EQ(mem_init(&mem, 16 * MiB), 0);
	CHECK(mptable_build(&mem, 255, 0, 0) < 0);
	CHECK(mptable_build(&mem, 0, 0, 0) < 0);
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
	{ "acpi_tables_describe_the_machine", acpi_tables_describe_the_machine },
	{ "acpi_build_refuses_what_does_not_fit", acpi_build_refuses_what_does_not_fit },
	{ "mptable_describes_1_and_254_cpus", mptable_describes_1_and_254_cpus },
	{ "mptable_refuses_0_and_255_cpus", mptable_refuses_0_and_255_cpus },
	{ NULL, NULL },
};

const struct unit_test bus_tests[] = {
	{ "bus_dispatches_and_refuses_overlaps", bus_dispatches_and_refuses_overlaps },
	{ NULL, NULL },
};
