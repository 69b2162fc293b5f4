/* 16550A UART (COM1), interrupt-driven in both directions. */
#ifndef WEBKVM_VMM_HW_SERIAL_H
#define WEBKVM_VMM_HW_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/chardev.h"
#include "vmm/irq.h"

#define SERIAL_FIFO_SIZE 16 /* a 16550A's receive FIFO */

struct serial {
	pthread_mutex_t lock;
	struct chardev *backend; /* host side: terminal, file or socket */
	struct irq_line irq;
	int wake_fd;             /* eventfd: tell the main loop the FIFO has room again */
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint8_t dll, dlm;        /* divisor latch */
	bool thr_irq;            /* THR-empty interrupt pending (cleared by IIR read or THR write) */
	bool irq_level;          /* current level of the interrupt line */
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
};

void serial_init(struct serial *s, struct chardev *backend, struct irq_line irq, int wake_fd);
void serial_destroy(struct serial *s);
void serial_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len);

/* Bytes of input the guest can take now. */
unsigned int serial_rx_room(struct serial *s);
/* Host input for the guest; takes at most serial_rx_room() bytes, returns how many. */
unsigned int serial_receive(struct serial *s, const uint8_t *buf, unsigned int len);

#endif
