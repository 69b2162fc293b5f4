/*
 * The MP configuration table (Intel MultiProcessor Specification 1.4,
 * chapter 4).
 *
 * NOTES
 * - A guest that uses ACPI takes its CPUs and interrupts from the MADT;
 *   this table describes the same machine for one that does not (acpi=off,
 *   or an older kernel): one processor entry per vCPU with APIC ID = vCPU
 *   index, bus 0 PCI and bus 1 ISA, the IOAPIC with the ID the MADT gives
 *   it, ISA IRQs on the IOAPIC pin of the same number (the routing KVM
 *   sets up), the SCI level-triggered as in the MADT's override, and
 *   ExtINT on LINT0 and NMI on LINT1 of every CPU.
 * - PCI devices have no INTx pin (they interrupt through MSI-X), so no
 *   PCI interrupt entries are needed.
 * - The floating pointer is at the start of the BIOS range 0xf0000-0xfffff
 *   that §4 tells an OS to search, so a search ends at its first step. A
 *   guest finding no table searches all of that range, which costs a
 *   nested guest seconds.
 * - IMCRP is clear: the machine starts in virtual wire mode; there is no
 *   IMCR to switch.
 */
#include "vmm/x86/mptable.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "vmm/x86/layout.h"

#define MPF_LEN 16
#define MPC_HEADER_LEN 44
#define MP_SPEC_REV 4 /* 1.4 */

/* Entry types and lengths (§4.3) */
#define MP_PROCESSOR 0
#define MP_PROCESSOR_LEN 20
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_IOINTR 3
#define MP_LOCALINTR 4
#define MP_SHORT_LEN 8

#define CPU_ENABLED 1
#define CPU_BOOTPROCESSOR 2
#define IOAPIC_ENABLED 1

#define LAPIC_VERSION 0x14 /* what KVM's local APIC reports */
#define IOAPIC_VERSION 0x11

#define INT_TYPE_INT 0
#define INT_TYPE_NMI 1
#define INT_TYPE_EXTINT 3
#define INT_FLAGS_CONFORMING 0x0000
#define INT_FLAGS_LEVEL_HIGH 0x000d /* polarity active high (01), trigger level (11) */

#define BUS_PCI 0
#define BUS_ISA 1
#define ISA_IRQS 16
#define ISA_IRQ_CASCADE 2

static uint8_t *interrupt(uint8_t *e, uint8_t kind, uint8_t type, uint16_t flags, uint8_t bus,
			  uint8_t bus_irq, uint8_t dest, uint8_t pin)
{
	e[0] = kind;
	e[1] = type;
	put_le16(e + 2, flags);
	e[4] = bus;
	e[5] = bus_irq;
	e[6] = dest;
	e[7] = pin;
	return e + MP_SHORT_LEN;
}

static size_t mptable_len(unsigned int ncpus)
{
	unsigned int irqs = ISA_IRQS - 1;

	return MPF_LEN + MPC_HEADER_LEN + ncpus * MP_PROCESSOR_LEN +
	       (2 + 1 + irqs + 2) * MP_SHORT_LEN;
}

int mptable_build(struct guest_mem *mem, unsigned int ncpus, uint32_t cpu_signature,
		  uint32_t cpu_features)
{
	size_t len = mptable_len(ncpus);
	uint8_t *mpf, *mpc, *e, ioapic_id = ncpus;
	uint16_t entries = 0;

	if (ncpus == 0 || ncpus > 254 || len > LAYOUT_BIOS_END - LAYOUT_MPTABLE)
		return -EINVAL;
	mpf = mem_ptr(mem, LAYOUT_MPTABLE, LAYOUT_BIOS_END - LAYOUT_MPTABLE);
	if (!mpf)
		return -ENOMEM;
	memset(mpf, 0, LAYOUT_BIOS_END - LAYOUT_MPTABLE);
	mpc = mpf + MPF_LEN;
	e = mpc + MPC_HEADER_LEN;

	for (unsigned int i = 0; i < ncpus; i++, e += MP_PROCESSOR_LEN, entries++) {
		e[0] = MP_PROCESSOR;
		e[1] = i; /* local APIC ID */
		e[2] = LAPIC_VERSION;
		e[3] = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0);
		put_le32(e + 4, cpu_signature);
		put_le32(e + 8, cpu_features);
	}
	e[0] = MP_BUS;
	e[1] = BUS_PCI;
	memcpy(e + 2, "PCI   ", 6);
	e += MP_SHORT_LEN;
	e[0] = MP_BUS;
	e[1] = BUS_ISA;
	memcpy(e + 2, "ISA   ", 6);
	e += MP_SHORT_LEN;
	e[0] = MP_IOAPIC;
	e[1] = ioapic_id;
	e[2] = IOAPIC_VERSION;
	e[3] = IOAPIC_ENABLED;
	put_le32(e + 4, LAYOUT_IOAPIC);
	e += MP_SHORT_LEN;
	entries += 3;
	for (unsigned int irq = 0; irq < ISA_IRQS; irq++) {
		if (irq == ISA_IRQ_CASCADE)
			continue;
		e = interrupt(e, MP_IOINTR, INT_TYPE_INT,
			      irq == IRQ_SCI ? INT_FLAGS_LEVEL_HIGH : INT_FLAGS_CONFORMING, BUS_ISA,
			      irq, ioapic_id, irq);
		entries++;
	}
	e = interrupt(e, MP_LOCALINTR, INT_TYPE_EXTINT, INT_FLAGS_CONFORMING, BUS_ISA, 0, 0xff, 0);
	e = interrupt(e, MP_LOCALINTR, INT_TYPE_NMI, INT_FLAGS_CONFORMING, BUS_ISA, 0, 0xff, 1);
	entries += 2;

	memcpy(mpc, "PCMP", 4);
	put_le16(mpc + 4, e - mpc); /* base table length */
	mpc[6] = MP_SPEC_REV;
	memcpy(mpc + 8, "WEBKVM  ", 8);      /* OEM ID */
	memcpy(mpc + 16, "WEBKVM PC   ", 12); /* product ID */
	put_le16(mpc + 34, entries);
	put_le32(mpc + 36, LAYOUT_LAPIC);
	mpc[7] = checksum8(mpc, e - mpc);

	memcpy(mpf, "_MP_", 4);
	put_le32(mpf + 4, LAYOUT_MPTABLE + MPF_LEN); /* the configuration table */
	mpf[8] = 1; /* length in 16-byte units */
	mpf[9] = MP_SPEC_REV;
	mpf[11] = 0; /* feature byte 1: a configuration table is present */
	mpf[12] = 0; /* feature byte 2: IMCRP clear, virtual wire mode */
	mpf[10] = checksum8(mpf, MPF_LEN);
	return 0;
}
