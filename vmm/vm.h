/* One virtual machine: KVM, guest memory, vCPUs and devices. */
#ifndef WEBKVM_VMM_VM_H
#define WEBKVM_VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/chardev.h"
#include "vmm/coalesced.h"
#include "vmm/display/framebuffer.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/pm.h"
#include "vmm/hw/rtc.h"
#include "vmm/hw/serial.h"
#include "vmm/disk/disk.h"
#include "vmm/irq.h"
#include "vmm/mem.h"
#include "vmm/net/tap.h"
#include "vmm/pci.h"

/* APIC IDs are 8 bits, 0xff is broadcast and the IOAPIC takes the next ID. */
#define VM_MAX_CPUS 254
#define VM_MIN_MEMORY (16 * 1024 * 1024ULL)
/* PCI slots less the host bridge, the rng, the tablet and the NICs */
#define VM_MAX_DISKS 24
#define VM_MAX_NICS 4
/* KVM memory slots: RAM takes the first MEM_MAX_REGIONS. */
#define VM_FB_SLOT MEM_MAX_REGIONS

struct vm_config {
	const char *kernel;
	int kernel_fd;       /* open (boot_open_file): a reset reloads it from here */
	const char *initrd;  /* or NULL */
	int initrd_fd;
	const char *cmdline;
	uint64_t mem_size;   /* bytes */
	unsigned int ncpus;
	bool no_reboot;
	struct disk_options disks[VM_MAX_DISKS];
	struct disk *open_disks[VM_MAX_DISKS]; /* opened once, kept across resets */
	unsigned int ndisks;
	struct net_options nets[VM_MAX_NICS];
	int net_fds[VM_MAX_NICS];            /* taps opened once, kept across resets */
	bool net_link_down[VM_MAX_NICS];     /* kept across resets too */
	unsigned int nnets;
	bool rng;
};

/* What the guest or a device asked the main loop to do; stronger ones win. */
enum vm_request {
	VM_REQUEST_NONE,
	VM_REQUEST_RESET,    /* i8042 reset line, triple fault */
	VM_REQUEST_POWEROFF, /* ACPI S5 */
	VM_REQUEST_ERROR,    /* a vCPU stopped on an error it already logged */
};

struct vm;
struct virtio_blk;
struct virtio_net;
struct virtio_rng;
struct virtio_input;

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	bool created;                /* fd and run are valid */
	pthread_t thread;
	bool thread_started;
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;                  /* /dev/kvm, owned by the caller */
	int vm_fd;
	struct kvm_cpuid2 *cpuid;    /* what KVM supports on this host */
	struct guest_mem mem;
	struct bus pio;
	unsigned int ncpus;
	struct vcpu vcpus[VM_MAX_CPUS];
	struct coalesced coalesced;  /* port writes KVM queues; in vcpus[0]'s mapping */
	bool coalesced_ready;
	struct serial com1;
	struct i8042 i8042;
	struct rtc rtc;
	struct pm pm;
	bool devices_ready;          /* the four above are initialised */
	struct irq_routing routing;
	struct pci pci;
	bool pci_ready;              /* the two above are initialised */
	struct virtio_blk *blk[VM_MAX_DISKS];
	unsigned int nblk;
	struct virtio_net *net[VM_MAX_NICS];
	unsigned int nnet;
	struct virtio_rng *rng;
	struct framebuffer *fb;      /* mapped into this VM, or NULL */
	struct virtio_input *tablet; /* with fb: the viewers' pointer */
	int event_fd;                /* eventfd: a request is waiting for the main loop */
	atomic_int request;          /* enum vm_request */
	atomic_bool stopping;        /* vCPU threads leave their loop */
	atomic_bool paused;          /* vCPU threads wait in vcpu_park() */
	pthread_mutex_t pause_lock;  /* guards parked; with the two conditions */
	pthread_cond_t parked_cond;  /* a vCPU parked */
	pthread_cond_t resume_cond;  /* paused went false, or stopping true */
	unsigned int parked;         /* vCPU threads waiting in vcpu_park() */
};

/* Open /dev/kvm and check what webkvm needs. -errno, with a sentence in err. */
int vm_open_kvm(int *ret_fd, unsigned int *ret_max_cpus, char *err, size_t errlen);

/*
 * Build a powered-on machine ready to run: memory, irqchip, devices,
 * kernel loaded, vCPUs at reset. fb (or NULL) is the screen, which
 * outlives the VM. On failure everything is undone and err
 * holds one sentence for the user.
 */
int vm_create(struct vm *vm, int kvm_fd, const struct vm_config *cfg, struct chardev *console,
	      struct framebuffer *fb, int event_fd, int serial_wake_fd, char *err, size_t errlen);
int vm_start(struct vm *vm);
/*
 * Pause every vCPU and wait until each has left KVM_RUN; resume them.
 * Called by the main thread only. A VM paused before vm_start starts paused.
 */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/* Stop every vCPU thread and wait for them. */
void vm_stop(struct vm *vm);
void vm_destroy(struct vm *vm);

void vm_request(struct vm *vm, enum vm_request request);
enum vm_request vm_take_request(struct vm *vm);

#endif
