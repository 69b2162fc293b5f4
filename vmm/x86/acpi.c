/*
 * ACPI tables (ACPI 6.5 §5.2).
 *
 * NOTES
 * - Full (not hardware-reduced) ACPI: PM1a event/control blocks and a PM
 *   timer in I/O space (hw/pm.c), SCI on ISA IRQ 9, and the power button
 *   as a fixed feature, so a stock kernel's button driver sees presses
 *   without any AML of ours running.
 * - The DSDT holds \_S5 (so the guest can power off) and the legacy
 *   devices with their resources (COM1, i8042 keyboard and mouse, RTC), so
 *   the guest's PNP layer finds them as on any PC.
 * - The MADT lists one local APIC per vCPU (APIC ID = vCPU index), the
 *   IOAPIC with GSI base 0, and one interrupt source override: the SCI,
 *   level-triggered and active high as the in-kernel IOAPIC drives it.
 *   ISA IRQ 0 stays identity-mapped, matching KVM's default routing.
 * - The DSDT's PCI0 is a PCI Express root bridge for bus 0; the MCFG
 *   gives its ECAM, which the e820 map reserves so the guest trusts it.
 * - Tables live in 0xe0000-0xeffff, in the BIOS area the e820 map marks
 *   reserved; the RSDP is on a 16-byte boundary there so a scan finds it
 *   too.
 */
#include "vmm/x86/acpi.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "vmm/hw/pm.h"
#include "vmm/x86/aml.h"
#include "vmm/x86/layout.h"

#define OEM_ID "WEBKVM"
#define OEM_TABLE_ID "WEBKVMPC"
#define CREATOR_ID "WKVM"

#define HEADER_LEN 36
#define FADT_LEN 276
#define FACS_LEN 64
#define MCFG_LEN (HEADER_LEN + 8 + 16)
#define XSDT_ENTRIES 3

/* FADT flags (§5.2.9, table 5.10) */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_TMR_VAL_EXT (1u << 8)
/* IA-PC boot architecture flags (§5.2.9.3) */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042 (1u << 1)

/* MADT structure types (§5.2.12) */
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_INT_OVERRIDE 2
#define MADT_LOCAL_APIC_NMI 4
#define MADT_PCAT_COMPAT 1
#define MADT_FLAGS_LEVEL_HIGH 0x000d /* polarity active high (01), trigger level (11) */

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

struct acpi_area {
	uint8_t *base;  /* host pointer to LAYOUT_ACPI */
	size_t size;
	size_t used;
};

/* Space for one table; its guest address goes to *ret_gpa. NULL if full. */
static uint8_t *area_alloc(struct acpi_area *a, size_t len, size_t align, uint64_t *ret_gpa)
{
	size_t off = ALIGN_UP(a->used, align);

	if (off > a->size || len > a->size - off)
		return NULL;
	a->used = off + len;
	*ret_gpa = LAYOUT_ACPI + off;
	return a->base + off;
}

static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put_le32(t + 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	put_le32(t + 32, 1);
}

static void table_finish(uint8_t *t)
{
	t[9] = 0;
	t[9] = checksum8(t, get_le32(t + 4));
}

static void gas_io(uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = bits;
	g[2] = 0;
	g[3] = access;
	put_le64(g + 4, port);
}

static void dsdt_device(struct aml *scope, const char *name, const char *hid,
			const struct aml *res)
{
	struct aml dev = { .len = 0 }, obj = { .len = 0 };

	aml_string(&obj, hid);
	aml_name(&dev, "_HID", &obj);
	obj.len = 0;
	aml_integer(&obj, 0);
	aml_name(&dev, "_UID", &obj);
	obj.len = 0;
	aml_buffer(&obj, res->data, res->len);
	aml_name(&dev, "_CRS", &obj);
	aml_device(scope, name, &dev);
}

/*
 * The PCI root bridge: PCI Express (so the guest uses ECAM from the MCFG
 * for extended config space), bus 0 only, the config ports, and the
 * windows its devices' BARs may use.
 */
static void dsdt_pci_root(struct aml *scope)
{
	struct aml dev = { .len = 0 }, obj = { .len = 0 }, res = { .len = 0 };

	aml_string(&obj, "PNP0A08");
	aml_name(&dev, "_HID", &obj);
	obj.len = 0;
	aml_string(&obj, "PNP0A03");
	aml_name(&dev, "_CID", &obj);
	obj.len = 0;
	aml_integer(&obj, 0);
	aml_name(&dev, "_SEG", &obj);
	aml_name(&dev, "_BBN", &obj);
	aml_name(&dev, "_UID", &obj);

	aml_res_word(&res, AML_RES_BUS, 0, 0);
	aml_res_io(&res, PORT_PCI_CONF1, 8);
	aml_res_word(&res, AML_RES_IO, 0x0000, PORT_PCI_CONF1 - 1);
	aml_res_word(&res, AML_RES_IO, 0x0d00, 0xffff);
	/* The window holds the BARs and the framebuffer, as on a PC with a VGA BAR. */
	aml_res_dword(&res, AML_RES_MEMORY, LAYOUT_PCI_MMIO, LAYOUT_FB + LAYOUT_FB_MAX - 1);
	aml_res_end(&res);
	obj.len = 0;
	aml_buffer(&obj, res.data, res.len);
	aml_name(&dev, "_CRS", &obj);
	aml_device(scope, "PCI0", &dev);
}

static int build_dsdt(struct aml *body)
{
	struct aml s5 = { .len = 0 }, pkg = { .len = 0 }, sb = { .len = 0 }, res = { .len = 0 };

	/* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved */
	aml_integer(&s5, PM_SLP_TYP_S5);
	aml_integer(&s5, PM_SLP_TYP_S5);
	aml_integer(&s5, 0);
	aml_integer(&s5, 0);
	aml_package(&pkg, 4, &s5);
	aml_name(body, "_S5_", &pkg);

	aml_res_io(&res, PORT_COM1, 8);
	aml_res_irq(&res, IRQ_COM1);
	aml_res_end(&res);
	dsdt_device(&sb, "COM1", "PNP0501", &res);

	res.len = 0;
	aml_res_io(&res, PORT_I8042_DATA, 1);
	aml_res_io(&res, PORT_I8042_CMD, 1);
	aml_res_irq(&res, IRQ_KBD);
	aml_res_end(&res);
	dsdt_device(&sb, "KBD_", "PNP0303", &res);

	res.len = 0;
	aml_res_irq(&res, IRQ_AUX);
	aml_res_end(&res);
	dsdt_device(&sb, "MOU_", "PNP0F13", &res);

	res.len = 0;
	aml_res_io(&res, PORT_RTC, 2);
	aml_res_irq(&res, IRQ_RTC);
	aml_res_end(&res);
	dsdt_device(&sb, "RTC_", "PNP0B00", &res);

	dsdt_pci_root(&sb);

	aml_scope(body, "\\_SB_", &sb);
	return body->overflow ? -ENOSPC : 0;
}

static void build_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
	table_header(t, "FACP", FADT_LEN, 6);
	put_le32(t + 36, facs);
	put_le32(t + 40, dsdt);
	put_le16(t + 46, IRQ_SCI);
	/* SMI_CMD (48) stays 0: no SMI, the machine is always in ACPI mode. */
	put_le32(t + 56, PORT_ACPI_PM1_EVT);
	put_le32(t + 64, PORT_ACPI_PM1_CNT);
	put_le32(t + 76, PORT_ACPI_PM_TMR);
	t[88] = 4; /* PM1_EVT_LEN */
	t[89] = 2; /* PM1_CNT_LEN */
	t[91] = 4; /* PM_TMR_LEN */
	put_le16(t + 96, 101);  /* P_LVL2_LAT > 100: no C2 */
	put_le16(t + 98, 1001); /* P_LVL3_LAT > 1000: no C3 */
	t[108] = 0x32; /* CENTURY: CMOS register of the century */
	put_le16(t + 109, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042);
	put_le32(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_TMR_VAL_EXT);
	t[131] = 5; /* FADT minor version: ACPI 6.5 */
	put_le64(t + 132, facs);
	put_le64(t + 140, dsdt);
	gas_io(t + 148, PORT_ACPI_PM1_EVT, 32, GAS_ACCESS_WORD);
	gas_io(t + 172, PORT_ACPI_PM1_CNT, 16, GAS_ACCESS_WORD);
	gas_io(t + 208, PORT_ACPI_PM_TMR, 32, GAS_ACCESS_DWORD);
	memcpy(t + 268, "WEBKVM\0\0", 8); /* hypervisor vendor identity */
	table_finish(t);
}

/* §5.2.6 and PCI Firmware 3.3 §4.1.2: ECAM for segment 0, bus 0. */
static void build_mcfg(uint8_t *t)
{
	table_header(t, "MCFG", MCFG_LEN, 1);
	put_le64(t + 44, LAYOUT_PCI_ECAM);
	put_le16(t + 52, 0); /* segment */
	t[54] = 0;           /* start bus */
	t[55] = (LAYOUT_PCI_ECAM_SIZE >> 20) - 1; /* end bus */
	table_finish(t);
}

static size_t madt_len(unsigned int ncpus)
{
	return 44 + 8 * ncpus + 12 + 10 + 6;
}

static void build_madt(uint8_t *t, unsigned int ncpus)
{
	uint8_t *e = t + 44;

	table_header(t, "APIC", madt_len(ncpus), 5);
	put_le32(t + 36, LAYOUT_LAPIC);
	put_le32(t + 40, MADT_PCAT_COMPAT);
	for (unsigned int i = 0; i < ncpus; i++, e += 8) {
		e[0] = MADT_LOCAL_APIC;
		e[1] = 8;
		e[2] = i;  /* ACPI processor UID */
		e[3] = i;  /* APIC ID */
		put_le32(e + 4, 1); /* enabled */
	}
	e[0] = MADT_IO_APIC;
	e[1] = 12;
	e[2] = ncpus; /* IOAPIC ID, after the CPUs' */
	e[3] = 0;
	put_le32(e + 4, LAYOUT_IOAPIC);
	put_le32(e + 8, 0); /* GSI base */
	e += 12;
	e[0] = MADT_INT_OVERRIDE;
	e[1] = 10;
	e[2] = 0;       /* ISA */
	e[3] = IRQ_SCI; /* source */
	put_le32(e + 4, IRQ_SCI);
	put_le16(e + 8, MADT_FLAGS_LEVEL_HIGH);
	e += 10;
	e[0] = MADT_LOCAL_APIC_NMI;
	e[1] = 6;
	e[2] = 0xff; /* all processors */
	put_le16(e + 3, 0);
	e[5] = 1;    /* LINT1 */
	table_finish(t);
}

int acpi_build(struct guest_mem *mem, unsigned int ncpus, uint64_t *ret_rsdp)
{
	struct acpi_area area = { .size = LAYOUT_ACPI_END - LAYOUT_ACPI };
	uint64_t rsdp_gpa, xsdt_gpa, fadt_gpa, facs_gpa, dsdt_gpa, madt_gpa, mcfg_gpa;
	uint8_t *rsdp, *xsdt, *fadt, *facs, *dsdt, *madt, *mcfg;
	struct aml body = { .len = 0 };
	int r;

	area.base = mem_ptr(mem, LAYOUT_ACPI, area.size);
	if (!area.base)
		return -ENOMEM;
	memset(area.base, 0, area.size);
	r = build_dsdt(&body);
	if (r < 0)
		return r;

	rsdp = area_alloc(&area, 36, 16, &rsdp_gpa);
	xsdt = area_alloc(&area, HEADER_LEN + XSDT_ENTRIES * 8, 16, &xsdt_gpa);
	fadt = area_alloc(&area, FADT_LEN, 16, &fadt_gpa);
	facs = area_alloc(&area, FACS_LEN, 64, &facs_gpa); /* §5.2.10: 64-byte aligned */
	dsdt = area_alloc(&area, HEADER_LEN + body.len, 16, &dsdt_gpa);
	madt = area_alloc(&area, madt_len(ncpus), 16, &madt_gpa);
	mcfg = area_alloc(&area, MCFG_LEN, 16, &mcfg_gpa);
	if (!rsdp || !xsdt || !fadt || !facs || !dsdt || !madt || !mcfg)
		return -ENOSPC;

	memcpy(facs, "FACS", 4);
	put_le32(facs + 4, FACS_LEN);
	facs[32] = 2; /* version */

	table_header(dsdt, "DSDT", HEADER_LEN + body.len, 2);
	memcpy(dsdt + HEADER_LEN, body.data, body.len);
	table_finish(dsdt);

	build_fadt(fadt, facs_gpa, dsdt_gpa);
	build_madt(madt, ncpus);
	build_mcfg(mcfg);

	table_header(xsdt, "XSDT", HEADER_LEN + XSDT_ENTRIES * 8, 1);
	put_le64(xsdt + HEADER_LEN, fadt_gpa);
	put_le64(xsdt + HEADER_LEN + 8, madt_gpa);
	put_le64(xsdt + HEADER_LEN + 16, mcfg_gpa);
	table_finish(xsdt);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	rsdp[15] = 2; /* ACPI 2.0+ */
	put_le32(rsdp + 20, 36);
	put_le64(rsdp + 24, xsdt_gpa);
	rsdp[8] = checksum8(rsdp, 20);
	rsdp[32] = checksum8(rsdp, 36);

	*ret_rsdp = rsdp_gpa;
	return 0;
}
