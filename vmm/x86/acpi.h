/* ACPI tables for the guest: RSDP, XSDT, FADT, FACS, DSDT and MADT. */
#ifndef WEBKVM_VMM_X86_ACPI_H
#define WEBKVM_VMM_X86_ACPI_H

#include <stdint.h>

#include "vmm/mem.h"

/*
 * Write the tables for a PC with ncpus CPUs into the reserved BIOS area.
 * On success *ret_rsdp is the RSDP's guest address. 0 or -errno.
 */
int acpi_build(struct guest_mem *mem, unsigned int ncpus, uint64_t *ret_rsdp);

#endif
