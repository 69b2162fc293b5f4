/*
 * A virtio device on the modern PCI transport (virtio 1.2 §4.1): what the
 * transport keeps, and what each device type (blk.c, rng.c) provides.
 */
#ifndef WEBKVM_VMM_VIRTIO_VIRTIO_H
#define WEBKVM_VMM_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/irq.h"
#include "vmm/mem.h"
#include "vmm/msix.h"
#include "vmm/pci.h"
#include "vmm/virtio/queue.h"

#define VIRTIO_MAX_QUEUES 8

/* Device status bits (§2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Transport feature bits (§6) */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_INPUT 18

struct virtio_dev;

struct virtio_dev_ops {
	/*
	 * The driver kicked queue q (on the device's I/O thread, device lock
	 * held). 0, or -EINVAL when the driver broke the rules.
	 */
	int (*queue_notify)(struct virtio_dev *vdev, unsigned int q);
	/* The driver reset the device (device lock held). */
	void (*reset)(struct virtio_dev *vdev);
	/*
	 * The driver wrote len bytes at offset of the device config (device
	 * lock held, in bounds). NULL: the config is read-only.
	 */
	void (*config_write)(struct virtio_dev *vdev, unsigned int offset, const uint8_t *data,
			     unsigned int len);
	/* The driver set DRIVER_OK: driver_features are final (device lock held). */
	void (*driver_ok)(struct virtio_dev *vdev);
	/*
	 * io_fd is ready with revents (on the I/O thread, device lock held).
	 * 0, or -EINVAL with *ret_q set when the driver broke the rules of a queue.
	 */
	int (*io_ready)(struct virtio_dev *vdev, short revents, unsigned int *ret_q);
};

struct virtio_dev {
	struct pci_device pci;
	const struct virtio_dev_ops *ops;
	void *opaque;                     /* the device type's state */
	const struct guest_mem *mem;
	int vm_fd;
	pthread_mutex_t lock;             /* everything below */
	uint64_t device_features, driver_features;
	uint32_t device_feature_select, driver_feature_select;
	uint16_t config_vector;
	uint8_t status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint8_t isr;
	unsigned int nqueues;
	uint16_t queue_max_size;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint8_t *config;                  /* device-specific config */
	unsigned int config_len;
	struct msix msix;
	uint64_t bar_addr;                /* where BAR 0 decodes, 0 = nowhere */
	int kick_fd[VIRTIO_MAX_QUEUES];   /* ioeventfds of the notify registers */
	uint64_t kick_addr[VIRTIO_MAX_QUEUES]; /* where each is registered, 0 = nowhere */
	int stop_fd;                      /* eventfd: the I/O thread leaves */
	int io_fd;                        /* the device type's own fd (a tap), or -1 */
	short io_events;                  /* what the I/O thread waits for on io_fd */
	pthread_t thread;
	bool thread_started;
	bool ready;                       /* virtio_dev_init completed */
};

/*
 * Set up the transport for a device of type device_id with nqueues queues
 * of up to queue_max_size entries and config_len bytes of config at config,
 * and put it on the bus. 0 or -errno.
 */
int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops, void *opaque,
		    uint16_t device_id, uint32_t class_code, uint64_t device_features,
		    unsigned int nqueues, uint16_t queue_max_size, uint8_t *config,
		    unsigned int config_len, struct pci *pci, struct irq_routing *routing,
		    const struct guest_mem *mem, int vm_fd);
/* Start the I/O thread. */
int virtio_dev_start(struct virtio_dev *vdev);
void virtio_dev_destroy(struct virtio_dev *vdev);

/* Interrupt the driver for queue q if it wants one (device lock held). */
void virtio_dev_notify_queue(struct virtio_dev *vdev, unsigned int q);
bool virtio_dev_has_feature(const struct virtio_dev *vdev, unsigned int bit);
/* The device config changed: tell the driver (device lock held). */
void virtio_dev_config_changed(struct virtio_dev *vdev);
/*
 * For work the device starts on its own (not on a kick): whether queue q
 * is live (driver OK, no reset pending, queue enabled), and marking the
 * device broken when the driver's queue breaks the rules. Device lock held.
 */
bool virtio_dev_queue_live(const struct virtio_dev *vdev, unsigned int q);
void virtio_dev_queue_broken(struct virtio_dev *vdev, unsigned int q);

#endif
