/*
 * Guest physical memory layout of a webkvm x86 PC.
 *
 *   0x0000_0500  GDT for the 64-bit boot entry
 *   0x0000_7000  boot_params ("zero page")
 *   0x0000_9000  identity page tables (PML4, PDPT, 4 PDs: first 4 GiB)
 *   0x0002_0000  kernel command line
 *   0x0009_fc00  EBDA (reserved) up to 0xa0000
 *   0x000e_0000  BIOS area, reserved up to 1 MiB: ACPI tables (RSDP found by
 *                scan too), then at 0xf0000 the MP table
 *   0x0010_0000  protected-mode kernel (bzImage payload)
 *   ...          RAM up to 3 GiB
 *   0xc000_0000  MMIO hole: PCI BARs up to 0xd0000000, the linear
 *                framebuffer (up to 256 MiB), then ECAM for bus 0 (1 MiB)
 *                at 0xe0000000, IOAPIC at 0xfec00000, local APIC at
 *                0xfee00000, KVM's TSS/identity map below 4 GiB
 *   0x1_0000_0000 the rest of RAM when the guest has more than 3 GiB
 */
#ifndef WEBKVM_VMM_X86_LAYOUT_H
#define WEBKVM_VMM_X86_LAYOUT_H

#define LAYOUT_GDT 0x500ULL
#define LAYOUT_BOOT_PARAMS 0x7000ULL
#define LAYOUT_PML4 0x9000ULL
#define LAYOUT_PDPT 0xa000ULL
#define LAYOUT_PD 0xb000ULL /* four pages */
#define LAYOUT_CMDLINE 0x20000ULL
#define LAYOUT_CMDLINE_MAX 0x10000ULL
#define LAYOUT_EBDA 0x9fc00ULL
#define LAYOUT_ISA_END 0xa0000ULL
#define LAYOUT_BIOS 0xe0000ULL
#define LAYOUT_ACPI 0xe0000ULL
#define LAYOUT_ACPI_END 0xf0000ULL
#define LAYOUT_MPTABLE 0xf0000ULL
#define LAYOUT_BIOS_END 0x100000ULL
#define LAYOUT_KERNEL 0x100000ULL
#define LAYOUT_MMIO_HOLE 0xc0000000ULL
#define LAYOUT_PCI_MMIO 0xc0000000ULL
#define LAYOUT_PCI_MMIO_END 0xd0000000ULL
#define LAYOUT_FB 0xd0000000ULL
#define LAYOUT_FB_MAX 0x10000000ULL
#define LAYOUT_PCI_ECAM 0xe0000000ULL
#define LAYOUT_PCI_ECAM_SIZE 0x100000ULL /* bus 0 only */
#define LAYOUT_IOAPIC 0xfec00000ULL
#define LAYOUT_LAPIC 0xfee00000ULL
#define LAYOUT_KVM_IDENTITY_MAP 0xfeffc000ULL
#define LAYOUT_KVM_TSS 0xfeffd000ULL
#define LAYOUT_HIGH_RAM 0x100000000ULL

/* Legacy I/O ports and ISA interrupt lines. */
#define PORT_COM1 0x3f8
#define IRQ_COM1 4
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD 0x64
#define IRQ_KBD 1
#define IRQ_AUX 12
#define PORT_RTC 0x70
#define IRQ_RTC 8
#define PORT_ACPI_PM 0x600 /* PM1a event (4), PM1a control (2), PM timer (4) */
#define PORT_ACPI_PM1_EVT PORT_ACPI_PM
#define PORT_ACPI_PM1_CNT (PORT_ACPI_PM + 4)
#define PORT_ACPI_PM_TMR (PORT_ACPI_PM + 8)
#define IRQ_SCI 9
#define PORT_PCI_CONF1 0xcf8 /* address at 0xcf8, data at 0xcfc-0xcff */

#endif
