/*
 * CPUID and MSRs.
 *
 * NOTES
 * - The base is KVM_GET_SUPPORTED_CPUID: everything this host and KVM
 *   can run, including KVM's paravirtual leaves (kvm-clock, PV EOI...).
 * - Topology is made consistent for N vCPUs as N cores of one socket:
 *   leaf 1 (APIC ID, logical count, HTT), leaf 4 (cores per package),
 *   leaves 0xb/0x1f (x2APIC topology), and AMD's 0x80000008 and
 *   0x8000001e, so that Intel and AMD guests count the same CPUs.
 * - MSRs: the state firmware leaves behind. MTRRs enabled with write-back
 *   as the default type matter most: without them Linux treats RAM as
 *   uncacheable.
 */
#include "vmm/x86/cpuid.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MAX_CPUID_ENTRIES 256

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_EXT1_ECX_CMP_LEGACY (1u << 1)

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MISC_ENABLE_FAST_STRING 1ULL
#define MTRR_ENABLE (1ULL << 11)
#define MTRR_TYPE_WB 6ULL

int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **ret)
{
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + MAX_CPUID_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = MAX_CPUID_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int r = -errno;

		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c, uint32_t function,
				       uint32_t index)
{
	for (unsigned int i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
			return e;
	}
	return NULL;
}

/* Bits needed to number n things: the APIC ID field width. */
static unsigned int id_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void set_topology(struct kvm_cpuid_entry2 *e, unsigned int index, unsigned int ncpus)
{
	unsigned int core_bits = id_bits(ncpus);

	switch (e->function) {
	case 0x1:
		e->ebx = (e->ebx & 0xffff) | ((1u << core_bits) & 0xff) << 16 | index << 24;
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (ncpus > 1)
			e->edx |= CPUID_1_EDX_HTT;
		else
			e->edx &= ~CPUID_1_EDX_HTT;
		break;
	case 0x4: {
		unsigned int level = (e->eax >> 5) & 7;
		unsigned int sharing = level >= 3 ? (1u << core_bits) - 1 : 0;

		if (!(e->eax & 0x1f))
			break; /* no more caches */
		e->eax &= 0x3fff;
		e->eax |= ((1u << core_bits) - 1) << 26 | sharing << 14;
		break;
	}
	case 0xb:
	case 0x1f:
		/* level 0: SMT (one thread per core); level 1: cores; then none */
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = 1 << 8;
		} else if (e->index == 1) {
			e->eax = core_bits;
			e->ebx = ncpus;
			e->ecx = 1 | 2 << 8;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		e->edx = index;
		break;
	case 0x80000001:
		if (ncpus > 1)
			e->ecx |= CPUID_EXT1_ECX_CMP_LEGACY;
		else
			e->ecx &= ~CPUID_EXT1_ECX_CMP_LEGACY;
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffu) | core_bits << 12 | (ncpus - 1);
		break;
	case 0x8000001e:
		e->eax = index;
		e->ebx = index & 0xff; /* core ID; one thread per core */
		e->ecx = 0;            /* node 0, one node */
		break;
	}
}

int cpuid_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int index,
		     unsigned int ncpus)
{
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, size);
	for (unsigned int i = 0; i < c->nent; i++)
		set_topology(&c->entries[i], index, ncpus);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

int msr_setup_vcpu(int vcpu_fd)
{
	static const struct { uint32_t index; uint64_t value; } reset[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WB },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[sizeof(reset) / sizeof(reset[0])];
	} msrs;
	int n;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = sizeof(reset) / sizeof(reset[0]);
	for (unsigned int i = 0; i < msrs.hdr.nmsrs; i++) {
		msrs.entries[i].index = reset[i].index;
		msrs.entries[i].data = reset[i].value;
	}
	n = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
	if (n < 0)
		return -errno;
	/* KVM stops at the first MSR it refuses. */
	return (unsigned int)n == msrs.hdr.nmsrs ? 0 : -EINVAL;
}
