#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "vmm/vcpu.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/input.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/rng.h"
#include "vmm/x86/acpi.h"
#include "vmm/x86/boot.h"
#include "vmm/x86/cpuid.h"
#include "vmm/x86/layout.h"
#include "vmm/x86/mptable.h"

#define KVM_API_VERSION_EXPECTED 12

int vm_open_kvm(int *ret_fd, unsigned int *ret_max_cpus, char *err, size_t errlen)
{
	static const struct { int cap; const char *name; } required[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_USER_MEMORY, "user memory" },
		{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_EXT_CPUID, "extended CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
	};
	int fd, max;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		if (r == -ENOENT)
			return error_set(err, errlen, r,
				    "cannot open /dev/kvm: no such device (load the kvm module; the CPU "
				    "needs VT-x or AMD-V enabled)");
		if (r == -EACCES || r == -EPERM)
			return error_set(err, errlen, r,
				    "cannot open /dev/kvm: permission denied (run as root or as a "
				    "member of the kvm group)");
		return error_set(err, errlen, r, "cannot open /dev/kvm: %s", strerror(-r));
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION_EXPECTED) {
		close(fd);
		return error_set(err, errlen, -ENOTSUP, "/dev/kvm speaks an unknown KVM API version");
	}
	for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
			close(fd);
			return error_set(err, errlen, -ENOTSUP, "this host's KVM lacks the %s capability",
				    required[i].name);
		}
	}
	max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4; /* the API's documented floor */
	*ret_max_cpus = MIN((unsigned int)max, VM_MAX_CPUS);
	*ret_fd = fd;
	return 0;
}

static void vm_reset_line(void *opaque)
{
	vm_request(opaque, VM_REQUEST_RESET);
}

static void vm_poweroff(void *opaque)
{
	vm_request(opaque, VM_REQUEST_POWEROFF);
}

static struct irq_line vm_irq(struct vm *vm, unsigned int gsi)
{
	return (struct irq_line){ .vm_fd = vm->vm_fd, .gsi = gsi };
}

/* The machine's legacy devices, in one place. */
static int vm_add_devices(struct vm *vm, struct chardev *console, int serial_wake_fd)
{
	int r;

	serial_init(&vm->com1, console, vm_irq(vm, IRQ_COM1), serial_wake_fd);
	i8042_init(&vm->i8042, vm_irq(vm, IRQ_KBD), vm_irq(vm, IRQ_AUX), vm_reset_line, vm);
	rtc_init(&vm->rtc);
	pm_init(&vm->pm, vm_irq(vm, IRQ_SCI), vm_poweroff, vm);
	vm->devices_ready = true;

	if ((r = bus_add(&vm->pio, "serial", PORT_COM1, 8, serial_io, &vm->com1)) < 0 ||
	    (r = bus_add(&vm->pio, "i8042", PORT_I8042_DATA, 5, i8042_io, &vm->i8042)) < 0 ||
	    (r = bus_add(&vm->pio, "rtc", PORT_RTC, 2, rtc_io, &vm->rtc)) < 0 ||
	    (r = bus_add(&vm->pio, "acpi-pm", PORT_ACPI_PM, 12, pm_io, &vm->pm)) < 0)
		return r;
	return 0;
}

/* The PCI bus and the virtio devices the configuration asks for. */
static int vm_add_pci(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	int r;

	irq_routing_init(&vm->routing, vm->vm_fd);
	pci_init(&vm->pci);
	vm->pci_ready = true;
	r = bus_add(&vm->pio, "pci", PORT_PCI_CONF1, 8, pci_conf1_io, &vm->pci);
	if (r < 0)
		return error_set(err, errlen, r, "cannot place the PCI host bridge: %s", strerror(-r));
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		struct disk *disk = cfg->open_disks[i];

		vm->blk[i] = calloc(1, sizeof(*vm->blk[i]));
		if (!vm->blk[i])
			return error_set(err, errlen, -ENOMEM, "out of memory for disk %s",
				    cfg->disks[i].path);
		vm->nblk = i + 1;
		r = virtio_blk_init(vm->blk[i], disk, cfg->disks[i].serial,
				    MIN(cfg->ncpus, VIRTIO_MAX_QUEUES), &vm->pci, &vm->routing,
				    &vm->mem, vm->vm_fd);
		if (r < 0)
			return error_set(err, errlen, r, "cannot add a virtio-blk device for %s: %s",
				    cfg->disks[i].path, strerror(-r));
	}
	for (unsigned int i = 0; i < cfg->nnets; i++) {
		vm->net[i] = calloc(1, sizeof(*vm->net[i]));
		if (!vm->net[i])
			return error_set(err, errlen, -ENOMEM, "out of memory for a NIC");
		vm->nnet = i + 1;
		r = virtio_net_init(vm->net[i], cfg->net_fds[i], cfg->nets[i].mac, &vm->pci,
				    &vm->routing, &vm->mem, vm->vm_fd);
		if (r < 0)
			return error_set(err, errlen, r, "cannot add a virtio-net device: %s",
					 strerror(-r));
		if (cfg->net_link_down[i])
			virtio_net_set_link(vm->net[i], false);
	}
	if (cfg->rng) {
		vm->rng = calloc(1, sizeof(*vm->rng));
		if (!vm->rng)
			return error_set(err, errlen, -ENOMEM, "out of memory for virtio-rng");
		r = virtio_rng_init(vm->rng, &vm->pci, &vm->routing, &vm->mem, vm->vm_fd);
		if (r < 0)
			return error_set(err, errlen, r, "cannot add the virtio-rng device: %s",
				    strerror(-r));
	}
	if (vm->fb) {
		/* An absolute pointer for the screen's viewers. */
		vm->tablet = calloc(1, sizeof(*vm->tablet));
		if (!vm->tablet)
			return error_set(err, errlen, -ENOMEM, "out of memory for virtio-input");
		r = virtio_input_tablet_init(vm->tablet, &vm->pci, &vm->routing, &vm->mem, vm->vm_fd);
		if (r < 0) {
			free(vm->tablet);
			vm->tablet = NULL;
			return error_set(err, errlen, r, "cannot add the virtio-input tablet: %s",
				    strerror(-r));
		}
	}
	return 0;
}

static void vm_remove_pci(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nblk; i++) {
		virtio_blk_destroy(vm->blk[i]);
		free(vm->blk[i]);
		vm->blk[i] = NULL;
	}
	vm->nblk = 0;
	for (unsigned int i = 0; i < vm->nnet; i++) {
		virtio_net_destroy(vm->net[i]);
		free(vm->net[i]);
		vm->net[i] = NULL;
	}
	vm->nnet = 0;
	if (vm->rng) {
		virtio_rng_destroy(vm->rng);
		free(vm->rng);
		vm->rng = NULL;
	}
	if (vm->tablet) {
		virtio_input_destroy(vm->tablet);
		free(vm->tablet);
		vm->tablet = NULL;
	}
	if (vm->pci_ready) {
		pci_destroy(&vm->pci);
		irq_routing_destroy(&vm->routing);
		vm->pci_ready = false;
	}
}

static int vm_add_memory(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->mem.nregions; i++) {
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = vm->mem.regions[i].gpa,
			.memory_size = vm->mem.regions[i].size,
			.userspace_addr = (uintptr_t)vm->mem.regions[i].host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return -errno;
	}
	return 0;
}

int vm_create(struct vm *vm, int kvm_fd, const struct vm_config *cfg, struct chardev *console,
	      struct framebuffer *fb, int event_fd, int serial_wake_fd, char *err, size_t errlen)
{
	struct screen_info screen;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	const struct kvm_cpuid_entry2 *leaf1;
	struct boot_config boot = { .kernel = cfg->kernel, .kernel_fd = cfg->kernel_fd,
				    .initrd = cfg->initrd, .initrd_fd = cfg->initrd_fd,
				    .cmdline = cfg->cmdline };
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = kvm_fd;
	vm->event_fd = event_fd;
	vm->ncpus = cfg->ncpus;
	atomic_init(&vm->request, VM_REQUEST_NONE);
	atomic_init(&vm->stopping, false);
	atomic_init(&vm->paused, false);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->parked_cond, NULL);
	pthread_cond_init(&vm->resume_cond, NULL);

	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return error_set(err, errlen, -errno, "cannot create a VM: %s", strerror(errno));
	fcntl(vm->vm_fd, F_SETFD, FD_CLOEXEC);

	r = mem_init(&vm->mem, cfg->mem_size);
	if (r < 0) {
		error_set(err, errlen, r, "cannot map %llu MiB of guest memory: %s",
		     (unsigned long long)(cfg->mem_size / MiB), strerror(-r));
		goto undo;
	}
	/* Intel needs these pages for real-mode emulation; they lie in the MMIO hole. */
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){ LAYOUT_KVM_IDENTITY_MAP }) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0) {
		r = -errno;
		error_set(err, errlen, r, "cannot set KVM's TSS area: %s", strerror(-r));
		goto undo;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
	    ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = -errno;
		error_set(err, errlen, r, "cannot create the in-kernel interrupt controller and timer: %s",
		     strerror(-r));
		goto undo;
	}
	/*
	 * Ticks the guest missed (interrupts off, vCPU not scheduled) are
	 * dropped, not replayed in a burst: KVM recommends this for any guest
	 * that does not keep time by counting PIT ticks (Linux since 2.6 uses
	 * its clock sources), and on AMD reinjection keeps AVIC off.
	 */
	if (ioctl(vm->vm_fd, KVM_REINJECT_CONTROL, &(struct kvm_reinject_control){ .pit_reinject = 0 }) < 0) {
		r = -errno;
		error_set(err, errlen, r, "cannot turn off the PIT's reinjection of lost ticks: %s",
			  strerror(-r));
		goto undo;
	}
	r = vm_add_memory(vm);
	if (r < 0) {
		error_set(err, errlen, r, "KVM refused %llu MiB of guest memory: %s",
		     (unsigned long long)(cfg->mem_size / MiB), strerror(-r));
		goto undo;
	}
	if (fb) {
		r = framebuffer_map(fb, vm->vm_fd, VM_FB_SLOT, LAYOUT_FB);
		if (r < 0) {
			error_set(err, errlen, r, "KVM refused the framebuffer's memory: %s",
				  strerror(-r));
			goto undo;
		}
		vm->fb = fb;
		framebuffer_screen_info(fb, &screen);
		boot.screen = &screen;
	}
	r = vm_add_devices(vm, console, serial_wake_fd);
	if (r < 0) {
		error_set(err, errlen, r, "cannot place the legacy devices: %s", strerror(-r));
		goto undo;
	}
	r = vm_add_pci(vm, err, errlen);
	if (r < 0)
		goto undo;
	r = acpi_build(&vm->mem, cfg->ncpus, &boot.rsdp);
	if (r < 0) {
		error_set(err, errlen, r, "cannot build the ACPI tables: %s", strerror(-r));
		goto undo;
	}
	r = boot_load_linux(&vm->mem, &boot, err, errlen);
	if (r < 0)
		goto undo;

	r = cpuid_get_supported(kvm_fd, &vm->cpuid);
	if (r < 0) {
		error_set(err, errlen, r, "cannot read the CPUID KVM supports: %s", strerror(-r));
		goto undo;
	}
	leaf1 = cpuid_find(vm->cpuid, 1, 0);
	r = mptable_build(&vm->mem, cfg->ncpus, leaf1 ? leaf1->eax : 0, leaf1 ? leaf1->edx : 0);
	if (r < 0) {
		error_set(err, errlen, r, "cannot build the MP table: %s", strerror(-r));
		goto undo;
	}
	for (unsigned int i = 0; i < cfg->ncpus; i++) {
		r = vcpu_create(vm, &vm->vcpus[i], i);
		if (r < 0) {
			error_set(err, errlen, r, "cannot create vCPU %u: %s", i, strerror(-r));
			goto undo;
		}
	}
	/* The PCI address port: written before every config access, read back seldom. */
	r = coalesced_init(&vm->coalesced, kvm_fd, vm->vcpus[0].run, vm->vcpus[0].run_size, &vm->pio);
	if (r == 0) {
		vm->coalesced_ready = true;
		r = coalesced_add_pio(&vm->coalesced, vm->vm_fd, PORT_PCI_CONF1, 4);
	}
	if (r < 0) {
		error_set(err, errlen, r, "cannot queue writes to the PCI address port: %s",
			  strerror(-r));
		goto undo;
	}
	r = boot_setup_bsp(vm->vcpus[0].fd);
	if (r < 0) {
		error_set(err, errlen, r, "cannot set the boot CPU's registers: %s", strerror(-r));
		goto undo;
	}
	return 0;
undo:
	vm_destroy(vm);
	return r;
}

int vm_start(struct vm *vm)
{
	int r = 0;

	for (unsigned int i = 0; i < vm->nblk && r == 0; i++)
		r = virtio_dev_start(&vm->blk[i]->vdev);
	for (unsigned int i = 0; i < vm->nnet && r == 0; i++)
		r = virtio_dev_start(&vm->net[i]->vdev);
	if (r == 0 && vm->rng)
		r = virtio_dev_start(&vm->rng->vdev);
	if (r == 0 && vm->tablet)
		r = virtio_dev_start(&vm->tablet->vdev);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		r = vcpu_start(&vm->vcpus[i]);

		if (r < 0) {
			vm_stop(vm);
			return r;
		}
	}
	return 0;
}

void vm_pause(struct vm *vm)
{
	unsigned int running = 0;

	atomic_store(&vm->paused, true);
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].thread_started) {
			vcpu_kick(&vm->vcpus[i]);
			running++;
		}
	}
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < running && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->parked_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->paused, false);
	pthread_cond_broadcast(&vm->resume_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_stop(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->stopping, true);
	pthread_cond_broadcast(&vm->resume_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].thread_started)
			vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].thread_started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].thread_started = false;
		}
	}
}

void vm_destroy(struct vm *vm)
{
	vm_stop(vm);
	if (vm->coalesced_ready) {
		coalesced_destroy(&vm->coalesced);
		vm->coalesced_ready = false;
	}
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->cpuid);
	vm->cpuid = NULL;
	vm_remove_pci(vm);
	if (vm->fb) {
		framebuffer_unmap(vm->fb);
		vm->fb = NULL;
	}
	if (vm->devices_ready) {
		serial_destroy(&vm->com1);
		i8042_destroy(&vm->i8042);
		rtc_destroy(&vm->rtc);
		pm_destroy(&vm->pm);
		vm->devices_ready = false;
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
	mem_destroy(&vm->mem);
	pthread_cond_destroy(&vm->resume_cond);
	pthread_cond_destroy(&vm->parked_cond);
	pthread_mutex_destroy(&vm->pause_lock);
}

void vm_request(struct vm *vm, enum vm_request request)
{
	int cur = atomic_load(&vm->request);
	uint64_t one = 1;

	while ((int)request > cur && !atomic_compare_exchange_weak(&vm->request, &cur, request))
		;
	if (write(vm->event_fd, &one, sizeof(one)) < 0) {
		/* the counter can only saturate: the main loop is awake anyway */
	}
}

enum vm_request vm_take_request(struct vm *vm)
{
	return atomic_exchange(&vm->request, VM_REQUEST_NONE);
}
