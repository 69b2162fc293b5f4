/*
 * i8042 keyboard controller.
 *
 * NOTES
 * - The controller's one-byte output buffer is fed from two queues, the
 *   keyboard's and the mouse's; status bit 5 tells the guest which one the
 *   byte came from, and IRQ 1 or IRQ 12 goes with it when enabled.
 * - Command 0xfe (and 0xd1 with bit 0 clear: the output port's reset line)
 *   resets the CPU; that is how Linux reboots a PC when ACPI has no reset
 *   register.
 * - Keyboard and mouse answer the commands Linux's atkbd and psmouse send
 *   while probing, so both are found.
 * - Keys come in as XT (set 1) codes, 0x80 set for the E0-prefixed ones
 *   (the numbering of QEMU's extended key event). The keyboard speaks set
 *   2; with translation on (command byte bit 6, how PCs boot) the guest
 *   sees set 1, so only an untranslated guest needs the set 2 table.
 * - A key's bytes, and a mouse packet, go into the queue whole or not at
 *   all, so a full queue never leaves the guest half a code.
 */
#include "vmm/hw/i8042.h"

#include <string.h>

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10
#define STATUS_AUXDATA 0x20

#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS 0x04
#define CB_KBD_DISABLE 0x10
#define CB_AUX_DISABLE 0x20
#define CB_XLATE 0x40

#define ACK 0xfa

static void queue_push(struct i8042_queue *q, uint16_t v)
{
	if (q->count == I8042_QUEUE_SIZE)
		return; /* a real keyboard drops too when its buffer is full */
	q->data[(q->head + q->count) % I8042_QUEUE_SIZE] = v;
	q->count++;
}

static unsigned int queue_room(const struct i8042_queue *q)
{
	return I8042_QUEUE_SIZE - q->count;
}

static uint16_t queue_pop(struct i8042_queue *q)
{
	uint16_t v = q->data[q->head];

	q->head = (q->head + 1) % I8042_QUEUE_SIZE;
	q->count--;
	return v;
}

static void set_line(const struct irq_line *line, bool *cur, bool level, bool new_byte)
{
	/* A new byte behind a still-high line needs a fresh edge. */
	if (*cur && level && new_byte)
		irq_line_set(line, 0);
	if (*cur != level || new_byte)
		irq_line_set(line, level);
	*cur = level;
}

/* Move the next byte into the output buffer and drive the interrupt lines. */
static void i8042_update(struct i8042 *c)
{
	bool new_byte = false;

	if (!c->obf) {
		if (c->ctrl_queue.count) {
			uint16_t v = queue_pop(&c->ctrl_queue);

			c->out = v & 0xff;
			c->obf = true;
			c->obf_aux = v & I8042_FROM_AUX;
			new_byte = true;
		} else if (c->kbd_queue.count && !(c->cmd_byte & CB_KBD_DISABLE)) {
			c->out = queue_pop(&c->kbd_queue);
			c->obf = true;
			c->obf_aux = false;
			new_byte = true;
		} else if (c->aux_queue.count && !(c->cmd_byte & CB_AUX_DISABLE)) {
			c->out = queue_pop(&c->aux_queue);
			c->obf = true;
			c->obf_aux = true;
			new_byte = true;
		}
	}
	set_line(&c->kbd_irq, &c->kbd_level, c->obf && !c->obf_aux && (c->cmd_byte & CB_KBD_INT),
		 new_byte && !c->obf_aux);
	set_line(&c->aux_irq, &c->aux_level, c->obf && c->obf_aux && (c->cmd_byte & CB_AUX_INT),
		 new_byte && c->obf_aux);
}

/* A byte the controller itself answers with: keyboard data, never held back. */
static void controller_reply(struct i8042 *c, uint8_t v)
{
	queue_push(&c->ctrl_queue, v);
}

static void kbd_command(struct i8042 *c, uint8_t v)
{
	if (c->kbd_pending_cmd) {
		/* argument of 0xed (LEDs), 0xf0 (scancode set) or 0xf3 (typematic) */
		if (c->kbd_pending_cmd == 0xf0 && v == 0) {
			queue_push(&c->kbd_queue, ACK);
			queue_push(&c->kbd_queue, 0x02); /* "set 2" (what the guest sees is translated) */
		} else {
			queue_push(&c->kbd_queue, ACK);
		}
		c->kbd_pending_cmd = 0;
		return;
	}
	switch (v) {
	case 0xed: case 0xf0: case 0xf3:
		c->kbd_pending_cmd = v;
		queue_push(&c->kbd_queue, ACK);
		break;
	case 0xee: /* echo */
		queue_push(&c->kbd_queue, 0xee);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		queue_push(&c->kbd_queue, ACK);
		queue_push(&c->kbd_queue, 0xab);
		queue_push(&c->kbd_queue, 0x83);
		break;
	case 0xf4:
		c->kbd_enabled = true;
		queue_push(&c->kbd_queue, ACK);
		break;
	case 0xf5:
		c->kbd_enabled = false;
		queue_push(&c->kbd_queue, ACK);
		break;
	case 0xf6:
		c->kbd_enabled = true;
		queue_push(&c->kbd_queue, ACK);
		break;
	case 0xff: /* reset and self-test */
		c->kbd_enabled = true;
		queue_push(&c->kbd_queue, ACK);
		queue_push(&c->kbd_queue, 0xaa);
		break;
	default:
		queue_push(&c->kbd_queue, ACK);
		break;
	}
}

static void aux_command(struct i8042 *c, uint8_t v)
{
	if (c->aux_pending_cmd) {
		if (c->aux_pending_cmd == 0xf3)
			c->aux_rate = v;
		else if (c->aux_pending_cmd == 0xe8)
			c->aux_resolution = v;
		c->aux_pending_cmd = 0;
		queue_push(&c->aux_queue, ACK);
		return;
	}
	switch (v) {
	case 0xe6: case 0xe7:
		c->aux_scaling = v == 0xe7 ? 2 : 1;
		queue_push(&c->aux_queue, ACK);
		break;
	case 0xe8: case 0xf3:
		c->aux_pending_cmd = v;
		queue_push(&c->aux_queue, ACK);
		break;
	case 0xe9: /* status request */
		queue_push(&c->aux_queue, ACK);
		queue_push(&c->aux_queue, (c->aux_enabled ? 0x20 : 0) | (c->aux_scaling == 2 ? 0x10 : 0));
		queue_push(&c->aux_queue, c->aux_resolution);
		queue_push(&c->aux_queue, c->aux_rate);
		break;
	case 0xf2: /* identify: standard PS/2 mouse */
		queue_push(&c->aux_queue, ACK);
		queue_push(&c->aux_queue, 0x00);
		break;
	case 0xf4:
		c->aux_enabled = true;
		queue_push(&c->aux_queue, ACK);
		break;
	case 0xf5:
		c->aux_enabled = false;
		queue_push(&c->aux_queue, ACK);
		break;
	case 0xf6:
		c->aux_rate = 100;
		c->aux_resolution = 2;
		c->aux_scaling = 1;
		queue_push(&c->aux_queue, ACK);
		break;
	case 0xff:
		c->aux_enabled = false;
		c->aux_rate = 100;
		c->aux_resolution = 2;
		c->aux_scaling = 1;
		queue_push(&c->aux_queue, ACK);
		queue_push(&c->aux_queue, 0xaa);
		queue_push(&c->aux_queue, 0x00);
		break;
	default:
		queue_push(&c->aux_queue, ACK);
		break;
	}
}

static void reset_cpu(struct i8042 *c)
{
	if (c->reset)
		c->reset(c->reset_opaque);
}

static void write_command(struct i8042 *c, uint8_t v)
{
	c->last_write_was_cmd = true;
	switch (v) {
	case 0x20: /* read command byte */
		controller_reply(c, c->cmd_byte);
		break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		c->pending_cmd = v; /* a data byte follows at 0x60 */
		break;
	case 0xa7:
		c->cmd_byte |= CB_AUX_DISABLE;
		break;
	case 0xa8:
		c->cmd_byte &= ~CB_AUX_DISABLE;
		break;
	case 0xa9: /* test mouse port: no error */
	case 0xab: /* test keyboard port: no error */
		controller_reply(c, 0x00);
		break;
	case 0xaa: /* self-test */
		c->cmd_byte |= CB_SYS;
		controller_reply(c, 0x55);
		break;
	case 0xad:
		c->cmd_byte |= CB_KBD_DISABLE;
		break;
	case 0xae:
		c->cmd_byte &= ~CB_KBD_DISABLE;
		break;
	case 0xd0: /* read output port: A20 on, no reset */
		controller_reply(c, 0x03);
		break;
	case 0xfe: /* pulse the reset line */
		reset_cpu(c);
		break;
	default:
		break;
	}
}

static void write_data(struct i8042 *c, uint8_t v)
{
	uint8_t cmd = c->pending_cmd;

	c->last_write_was_cmd = false;
	c->pending_cmd = 0;
	switch (cmd) {
	case 0x60:
		c->cmd_byte = v;
		break;
	case 0xd1: /* write output port: bit 0 low holds the CPU in reset */
		if (!(v & 0x01))
			reset_cpu(c);
		break;
	case 0xd2: /* as if the keyboard had sent it */
		queue_push(&c->ctrl_queue, v);
		break;
	case 0xd3: /* as if the mouse had sent it */
		queue_push(&c->ctrl_queue, v | I8042_FROM_AUX);
		break;
	case 0xd4:
		aux_command(c, v);
		break;
	default:
		kbd_command(c, v);
		break;
	}
}

static uint8_t read_status(struct i8042 *c)
{
	uint8_t st = STATUS_UNLOCKED;

	if (c->cmd_byte & CB_SYS)
		st |= STATUS_SYS;
	if (c->last_write_was_cmd)
		st |= STATUS_CMD;
	if (c->obf)
		st |= STATUS_OBF | (c->obf_aux ? STATUS_AUXDATA : 0);
	return st;
}

void i8042_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len)
{
	struct i8042 *c = opaque;
	/* Registered at 0x60 with length 5: offset 0 is data, 4 is command/status. */
	bool is_data = offset == 0;

	if (offset != 0 && offset != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (is_write) {
		if (is_data)
			write_data(c, data[0]);
		else
			write_command(c, data[0]);
	} else if (is_data) {
		data[0] = c->out;
		c->obf = false;
	} else {
		data[0] = read_status(c);
	}
	if (!is_write)
		memset(data + 1, 0, len - 1);
	i8042_update(c);
	pthread_mutex_unlock(&c->lock);
}

void i8042_kbd_input(struct i8042 *c, uint8_t byte)
{
	pthread_mutex_lock(&c->lock);
	if (c->kbd_enabled)
		queue_push(&c->kbd_queue, byte);
	i8042_update(c);
	pthread_mutex_unlock(&c->lock);
}

/* Set 2 codes of the XT codes 0x00-0x7f; E0 keys use the same table. */
static const uint8_t set2_of_xt[128] = {
	[0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25,
	[0x06] = 0x2e, [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46,
	[0x0b] = 0x45, [0x0c] = 0x4e, [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d,
	[0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24, [0x13] = 0x2d, [0x14] = 0x2c,
	[0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44, [0x19] = 0x4d,
	[0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
	[0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33,
	[0x24] = 0x3b, [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52,
	[0x29] = 0x0e, [0x2a] = 0x12, [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22,
	[0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32, [0x31] = 0x31, [0x32] = 0x3a,
	[0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59, [0x37] = 0x7c,
	[0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
	[0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83,
	[0x42] = 0x0a, [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e,
	[0x47] = 0x6c, [0x48] = 0x75, [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b,
	[0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79, [0x4f] = 0x69, [0x50] = 0x72,
	[0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x54] = 0x84, [0x56] = 0x61,
	[0x57] = 0x78, [0x58] = 0x07, [0x5b] = 0x1f, [0x5c] = 0x27, [0x5d] = 0x2f,
	[0x5e] = 0x37, [0x5f] = 0x3f, [0x63] = 0x5e, [0x70] = 0x13, [0x73] = 0x51,
	[0x79] = 0x64, [0x7b] = 0x67, [0x7d] = 0x6a, [0x7e] = 0x6d,
};

void i8042_kbd_key(struct i8042 *c, unsigned int xt, bool down)
{
	uint8_t bytes[4];
	unsigned int n = 0, code = xt & 0x7f;

	if (xt > 0xff || code == 0)
		return;
	pthread_mutex_lock(&c->lock);
	if (xt & 0x80)
		bytes[n++] = 0xe0;
	if (c->cmd_byte & CB_XLATE) {
		bytes[n++] = code | (down ? 0 : 0x80);
	} else if (set2_of_xt[code]) {
		if (!down)
			bytes[n++] = 0xf0;
		bytes[n++] = set2_of_xt[code];
	} else {
		n = 0; /* no set 2 code: send nothing rather than garbage */
	}
	if (n && c->kbd_enabled && queue_room(&c->kbd_queue) >= n)
		for (unsigned int i = 0; i < n; i++)
			queue_push(&c->kbd_queue, bytes[i]);
	i8042_update(c);
	pthread_mutex_unlock(&c->lock);
}

void i8042_aux_motion(struct i8042 *c, int dx, int dy, unsigned int buttons)
{
	pthread_mutex_lock(&c->lock);
	/* Stream mode: one packet per 9-bit step, y counting upwards. */
	do {
		int x = dx < -256 ? -256 : dx > 255 ? 255 : dx;
		int y = dy < -256 ? -256 : dy > 255 ? 255 : dy;

		if (!c->aux_enabled || queue_room(&c->aux_queue) < 3)
			break;
		queue_push(&c->aux_queue, 0x08 | (buttons & 7) | (x < 0 ? 0x10 : 0) | (y < 0 ? 0x20 : 0));
		queue_push(&c->aux_queue, (uint8_t)x);
		queue_push(&c->aux_queue, (uint8_t)y);
		dx -= x;
		dy -= y;
	} while (dx || dy);
	i8042_update(c);
	pthread_mutex_unlock(&c->lock);
}

void i8042_init(struct i8042 *c, struct irq_line kbd_irq, struct irq_line aux_irq,
		void (*reset)(void *), void *reset_opaque)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->kbd_irq = kbd_irq;
	c->aux_irq = aux_irq;
	c->reset = reset;
	c->reset_opaque = reset_opaque;
	c->cmd_byte = CB_KBD_INT | CB_AUX_INT | CB_SYS | CB_XLATE;
	c->kbd_enabled = true;
	c->aux_rate = 100;
	c->aux_resolution = 2;
	c->aux_scaling = 1;
}

void i8042_destroy(struct i8042 *c)
{
	pthread_mutex_destroy(&c->lock);
}
