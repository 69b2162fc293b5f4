/* CPUID and MSR state of each vCPU. */
#ifndef WEBKVM_VMM_X86_CPUID_H
#define WEBKVM_VMM_X86_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

/* What KVM can offer on this host; free() the result. 0 or -errno. */
int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **ret);

/* The entry for a leaf and subleaf, or NULL. */
const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c, uint32_t function,
				       uint32_t index);

/*
 * Give vCPU `index` of `ncpus` the supported CPUID, with a topology of
 * ncpus cores in one socket, one thread per core, APIC ID = index.
 */
int cpuid_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int index,
		     unsigned int ncpus);

/* MSRs in their reset state as firmware leaves them. 0 or -errno. */
int msr_setup_vcpu(int vcpu_fd);

#endif
