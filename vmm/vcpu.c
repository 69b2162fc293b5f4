/*
 * vCPU threads.
 *
 * NOTES
 * - One thread per vCPU runs KVM_RUN and handles the exits that need user
 *   space: port I/O to the device bus, and the machine's end (S5, reset,
 *   triple fault) which is handed to the main loop as a request. Port
 *   writes KVM queued (coalesced.c) are applied before any port or MMIO
 *   exit is.
 * - Application processors are left in KVM's wait-for-SIPI state; the
 *   guest wakes them with INIT/SIPI through the in-kernel local APIC.
 * - Stopping and pausing: the main loop sets vm->stopping or vm->paused,
 *   then sets immediate_exit and sends VCPU_KICK_SIGNAL. A signal that
 *   lands just before KVM_RUN is covered by immediate_exit, one that lands
 *   inside it by EINTR. The vCPU clears immediate_exit after each EINTR and
 *   only then reads the flags, so no kick is lost. A paused vCPU waits in
 *   vcpu_park() until resumed or stopped.
 * - A guest that makes KVM fail (emulation failure, failed entry) stops
 *   with one line naming the vCPU, the reason and RIP; it cannot take the
 *   host or other VMs with it.
 */
#include "vmm/vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "vmm/x86/cpuid.h"

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static void kick_handler(int sig)
{
	(void)sig;
}

void vcpu_setup_kick_signal(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: KVM_RUN must come back with EINTR */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

/* Local APIC LINT0 as ExtINT and LINT1 as NMI: the "virtual wire" firmware sets up. */
static int setup_lapic(int fd)
{
	struct kvm_lapic_state lapic;
	uint8_t *lvt0 = (uint8_t *)&lapic.regs[APIC_LVT0];
	uint8_t *lvt1 = (uint8_t *)&lapic.regs[APIC_LVT1];
	/* clear the delivery mode (bits 8-10) and the mask bit (16) */
	const uint32_t keep = ~(0x700u | 1u << 16);

	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	put_le32(lvt0, (get_le32(lvt0) & keep) | APIC_MODE_EXTINT << 8);
	put_le32(lvt1, (get_le32(lvt1) & keep) | APIC_MODE_NMI << 8);
	if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static int setup_fpu(int fd)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;    /* x87 reset state */
	fpu.mxcsr = 0x1f80; /* SSE reset state */
	return ioctl(fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int index)
{
	int mmap_size, r;

	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		return -errno;
	fcntl(vcpu->fd, F_SETFD, FD_CLOEXEC);
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		close(vcpu->fd);
		return -EINVAL;
	}
	vcpu->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		r = -errno;
		close(vcpu->fd);
		return r;
	}
	vcpu->run_size = mmap_size;
	vcpu->created = true;

	if ((r = cpuid_setup_vcpu(vcpu->fd, vm->cpuid, index, vm->ncpus)) < 0 ||
	    (r = msr_setup_vcpu(vcpu->fd)) < 0 || (r = setup_fpu(vcpu->fd)) < 0 ||
	    (r = setup_lapic(vcpu->fd)) < 0)
		return r;
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu->created)
		return;
	munmap(vcpu->run, vcpu->run_size);
	close(vcpu->fd);
	vcpu->created = false;
}

static void log_vcpu_failure(struct vcpu *vcpu, const char *what)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		log_error("vCPU %u stopped: %s at RIP %#llx", vcpu->index, what,
			  (unsigned long long)regs.rip);
	else
		log_error("vCPU %u stopped: %s", vcpu->index, what);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* A string instruction brings several items in one exit. */
	for (uint32_t i = 0; i < run->io.count; i++)
		bus_pio(&vcpu->vm->pio, run->io.port, is_write, data + i * run->io.size,
			run->io.size);
}

/* false when the vCPU must stop. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		coalesced_flush(&vcpu->vm->coalesced);
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		coalesced_flush(&vcpu->vm->coalesced);
		/* Where no device decodes, reads float high and writes are lost. */
		if (run->mmio.len > sizeof(run->mmio.data) ||
		    !pci_mmio(&vcpu->vm->pci, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
			      run->mmio.len))
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault resets a PC. */
		vm_request(vcpu->vm, VM_REQUEST_RESET);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request(vcpu->vm, VM_REQUEST_POWEROFF);
			return true;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request(vcpu->vm, VM_REQUEST_RESET);
			return true;
		default:
			snprintf(what, sizeof(what), "system event %u", run->system_event.type);
			break;
		}
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM could not enter the guest (reason %#llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error %u%s", run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failure)"
										 : "");
		break;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit %u", run->exit_reason);
		break;
	}
	log_vcpu_failure(vcpu, what);
	vm_request(vcpu->vm, VM_REQUEST_ERROR);
	return false;
}

/* Wait while the VM is paused; the main thread counts parked vCPUs. */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->parked_cond);
	while (atomic_load(&vm->paused) && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->resume_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!atomic_load(&vm->stopping)) {
		if (atomic_load(&vm->paused)) {
			vcpu_park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/*
				 * A kick: clear it before looking at the flags again, so a
				 * kick after this store is seen by the next KVM_RUN.
				 */
				__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
			log_error("vCPU %u stopped: KVM_RUN failed: %s", vcpu->index, strerror(errno));
			vm_request(vm, VM_REQUEST_ERROR);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int r = thread_start(&vcpu->thread, vcpu_thread, vcpu);

	if (r < 0)
		return r;
	vcpu->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}
