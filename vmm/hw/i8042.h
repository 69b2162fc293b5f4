/* i8042 PS/2 keyboard controller with a keyboard and a mouse port. */
#ifndef WEBKVM_VMM_HW_I8042_H
#define WEBKVM_VMM_HW_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/irq.h"

#define I8042_QUEUE_SIZE 64

/* Bytes waiting for the guest from one source. */
struct i8042_queue {
	uint16_t data[I8042_QUEUE_SIZE]; /* the byte; I8042_FROM_AUX marks mouse data */
	unsigned int head, count;
};

#define I8042_FROM_AUX 0x100

struct i8042 {
	pthread_mutex_t lock;
	struct irq_line kbd_irq, aux_irq;
	bool kbd_level, aux_level; /* current levels of the two lines */
	void (*reset)(void *opaque); /* the CPU reset line (command 0xfe) */
	void *reset_opaque;
	uint8_t cmd_byte;         /* controller configuration byte */
	uint8_t pending_cmd;      /* controller command waiting for its data byte */
	uint8_t kbd_pending_cmd;  /* keyboard command waiting for its argument */
	uint8_t aux_pending_cmd;  /* mouse command waiting for its argument */
	bool last_write_was_cmd;  /* status bit 3 */
	bool kbd_enabled, aux_enabled;
	uint8_t aux_rate, aux_resolution, aux_scaling;
	/* The output buffer: one byte the guest sees at 0x60, with its source. */
	bool obf;
	bool obf_aux;
	uint8_t out;
	/*
	 * The controller's own replies (and 0xd2/0xd3 loopback bytes) go out
	 * even while a port is disabled; device bytes wait for their port.
	 */
	struct i8042_queue ctrl_queue, kbd_queue, aux_queue;
};

void i8042_init(struct i8042 *c, struct irq_line kbd_irq, struct irq_line aux_irq,
		void (*reset)(void *), void *reset_opaque);
void i8042_destroy(struct i8042 *c);
void i8042_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len);
/* A raw byte from the keyboard, as it would go on the wire. */
void i8042_kbd_input(struct i8042 *c, uint8_t byte);
/*
 * A key pressed or released, by its XT code (0x80 set for E0 keys). The
 * guest gets set 1 or set 2 bytes, whichever the controller delivers.
 */
void i8042_kbd_key(struct i8042 *c, unsigned int xt, bool down);
/* Relative mouse motion (y up) and buttons (bit 0 left, 1 right, 2 middle). */
void i8042_aux_motion(struct i8042 *c, int dx, int dy, unsigned int buttons);

#endif
