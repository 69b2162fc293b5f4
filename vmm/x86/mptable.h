/* The MP configuration table (Intel MultiProcessor Specification 1.4). */
#ifndef WEBKVM_VMM_X86_MPTABLE_H
#define WEBKVM_VMM_X86_MPTABLE_H

#include <stdint.h>

#include "vmm/mem.h"

/*
 * Write the floating pointer and the configuration table for a PC with
 * ncpus CPUs at LAYOUT_MPTABLE. cpu_signature and cpu_features are what
 * CPUID leaf 1 gives the guest in EAX and EDX. 0 or -errno.
 */
int mptable_build(struct guest_mem *mem, unsigned int ncpus, uint32_t cpu_signature,
		  uint32_t cpu_features);

#endif
