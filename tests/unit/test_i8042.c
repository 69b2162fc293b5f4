#include <string.h>

#include "tests/unit/unit.h"
#include "vmm/hw/i8042.h"

struct fixture {
	struct i8042 c;
	int resets;
};

static void on_reset(void *opaque)
{
	((struct fixture *)opaque)->resets++;
}

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	i8042_init(&f->c, (struct irq_line){ .vm_fd = -1, .gsi = 1 },
		   (struct irq_line){ .vm_fd = -1, .gsi = 12 }, on_reset, f);
}

static uint8_t status(struct fixture *f)
{
	uint8_t v;

	i8042_io(&f->c, 4, false, &v, 1);
	return v;
}

static uint8_t data(struct fixture *f)
{
	uint8_t v;

	i8042_io(&f->c, 0, false, &v, 1);
	return v;
}

static void cmd(struct fixture *f, uint8_t v) { i8042_io(&f->c, 4, true, &v, 1); }
static void out(struct fixture *f, uint8_t v) { i8042_io(&f->c, 0, true, &v, 1); }

static void i8042_self_test_answers_0x55(int *failed)
{
	struct fixture f;

	setup(&f);
	cmd(&f, 0xaa);
	CHECK(status(&f) & 0x01);
	CHECK_EQ(data(&f), 0x55);
	CHECK_EQ(status(&f) & 0x01, 0);
	i8042_destroy(&f.c);
}

static void i8042_command_byte_reads_back(int *failed)
{
	struct fixture f;

	setup(&f);
	cmd(&f, 0x60);
	out(&f, 0x47);
	cmd(&f, 0x20);
	CHECK_EQ(data(&f), 0x47);
	i8042_destroy(&f.c);
}

/* Linux's i8042_check_aux: ports disabled in the command byte, then 0xa7, 0x20. */
static void i8042_replies_while_ports_are_disabled(int *failed)
{
	struct fixture f;

	setup(&f);
	cmd(&f, 0x60);
	out(&f, 0x56); /* keyboard port disabled */
	cmd(&f, 0xd3);
	out(&f, 0x5a);
	CHECK_EQ(status(&f) & 0x21, 0x21);
	CHECK_EQ(data(&f), 0x5a);
	cmd(&f, 0xa7);
	cmd(&f, 0x20);
	CHECK(status(&f) & 0x01);
	CHECK_EQ(data(&f), 0x76);
	/* device bytes wait until their port is enabled again */
	i8042_kbd_input(&f.c, 0x1c);
	CHECK_EQ(status(&f) & 0x01, 0);
	cmd(&f, 0xae);
	CHECK(status(&f) & 0x01);
	CHECK_EQ(data(&f), 0x1c);
	i8042_destroy(&f.c);
}

static void i8042_aux_loopback_is_marked_as_mouse_data(int *failed)
{
	struct fixture f;

	setup(&f);
	cmd(&f, 0xd3);
	out(&f, 0x5a);
	CHECK_EQ(status(&f) & 0x21, 0x21);
	CHECK(f.c.aux_level);
	CHECK_EQ(data(&f), 0x5a);
	CHECK(!f.c.aux_level);
	i8042_destroy(&f.c);
}

static void i8042_keyboard_reset_acks_and_passes_self_test(int *failed)
{
	struct fixture f;

	setup(&f);
	out(&f, 0xff);
	CHECK(f.c.kbd_level);
	CHECK_EQ(data(&f), 0xfa);
	CHECK(f.c.kbd_level); /* the next byte is a new interrupt */
	CHECK_EQ(data(&f), 0xaa);
	CHECK(!f.c.kbd_level);
	i8042_destroy(&f.c);
}

static void i8042_mouse_identifies_as_ps2_mouse(int *failed)
{
	struct fixture f;

	setup(&f);
	cmd(&f, 0xd4);
	out(&f, 0xf2);
	CHECK_EQ(data(&f), 0xfa);
	CHECK_EQ(data(&f), 0x00);
	i8042_destroy(&f.c);
}

static void i8042_reset_line_resets_the_cpu(int *failed)
{
	struct fixture f;

	setup(&f);
	cmd(&f, 0xfe);
	CHECK_EQ(f.resets, 1);
	cmd(&f, 0xd1);
	out(&f, 0x02); /* output port with bit 0 low */
	CHECK_EQ(f.resets, 2);
	cmd(&f, 0xd1);
	out(&f, 0x03);
	CHECK_EQ(f.resets, 2);
	i8042_destroy(&f.c);
}

static void i8042_queue_is_bounded(int *failed)
{
	struct fixture f;
	int n = 0;

	setup(&f);
	for (int i = 0; i < 1000; i++)
		i8042_kbd_input(&f.c, 0x1c);
	while (status(&f) & 0x01) {
		data(&f);
		n++;
	}
	CHECK_EQ(n, I8042_QUEUE_SIZE + 1); /* the queue plus the output buffer */
	i8042_destroy(&f.c);
}

/* Read every byte waiting, into buf; how many. */
static unsigned int drain(struct fixture *f, uint8_t *buf, unsigned int max)
{
	unsigned int n = 0;

	while (n < max && (status(f) & 0x01))
		buf[n++] = data(f);
	return n;
}

static void i8042_keys_are_set_1_when_translating(int *failed)
{
	struct fixture f;
	uint8_t b[8];

	setup(&f);
	i8042_kbd_key(&f.c, 0x1e, true);  /* A */
	i8042_kbd_key(&f.c, 0x1e, false);
	i8042_kbd_key(&f.c, 0xc8, true);  /* Up: E0 48 */
	i8042_kbd_key(&f.c, 0xc8, false);
	CHECK_EQ(drain(&f, b, sizeof(b)), 6);
	CHECK_EQ(b[0], 0x1e);
	CHECK_EQ(b[1], 0x9e);
	CHECK_EQ(b[2], 0xe0);
	CHECK_EQ(b[3], 0x48);
	CHECK_EQ(b[4], 0xe0);
	CHECK_EQ(b[5], 0xc8);
	i8042_destroy(&f.c);
}

static void i8042_keys_are_set_2_without_translation(int *failed)
{
	struct fixture f;
	uint8_t b[8];

	setup(&f);
	cmd(&f, 0x60);
	out(&f, 0x07); /* interrupts and system flag, no translation */
	i8042_kbd_key(&f.c, 0x1e, true);  /* A: 1C */
	i8042_kbd_key(&f.c, 0x1e, false); /* F0 1C */
	i8042_kbd_key(&f.c, 0x9c, false); /* keypad Enter up: E0 F0 5A */
	CHECK_EQ(drain(&f, b, sizeof(b)), 6);
	CHECK_EQ(b[0], 0x1c);
	CHECK_EQ(b[1], 0xf0);
	CHECK_EQ(b[2], 0x1c);
	CHECK_EQ(b[3], 0xe0);
	CHECK_EQ(b[4], 0xf0);
	CHECK_EQ(b[5], 0x5a);
	i8042_destroy(&f.c);
}

static void i8042_full_queue_drops_whole_keys(int *failed)
{
	struct fixture f;
	uint8_t b[I8042_QUEUE_SIZE + 4];
	unsigned int n;

	setup(&f);
	for (int i = 0; i < I8042_QUEUE_SIZE; i++)
		i8042_kbd_key(&f.c, 0xc8, i % 2 == 0); /* two bytes each */
	n = drain(&f, b, sizeof(b));
	/*
	 * The output buffer took the first E0, the queue the rest of 32 keys
	 * (63 bytes); the 33rd found one byte free and was dropped whole.
	 */
	CHECK_EQ(n, I8042_QUEUE_SIZE);
	for (unsigned int i = 0; i + 1 < n; i += 2) {
		CHECK_EQ(b[i], 0xe0);
		CHECK_EQ(b[i + 1], i % 4 == 0 ? 0x48 : 0xc8); /* down, up, down... */
	}
	/* room again: the next key goes through whole */
	i8042_kbd_key(&f.c, 0x1e, true);
	CHECK_EQ(drain(&f, b, sizeof(b)), 1);
	CHECK_EQ(b[0], 0x1e);
	i8042_destroy(&f.c);
}

/* Read every mouse byte waiting; each must come with the aux status bit and IRQ 12. */
static unsigned int drain_aux(struct fixture *f, uint8_t *buf, unsigned int max, int *failed)
{
	unsigned int n = 0;
	uint8_t st;

	while (n < max && ((st = status(f)) & 0x01)) {
		CHECK_EQ(st & 0x21, 0x21);
		CHECK(f->c.aux_level);
		CHECK(!f->c.kbd_level);
		buf[n++] = data(f);
	}
	CHECK_EQ(status(f) & 0x21, 0);
	CHECK(!f->c.aux_level);
	return n;
}

/*
 * The mouse queue holds 64 bytes: one packet is in the output buffer at
 * once, then 2 + 3 * 20 bytes fill the queue to 62, and a packet that
 * does not fit whole is dropped, as are all later ones until the guest
 * reads: the guest keeps the oldest motion, never a torn packet.
 */
static void i8042_full_aux_queue_drops_whole_packets(int *failed)
{
	struct fixture f;
	uint8_t b[2 * I8042_QUEUE_SIZE];
	unsigned int n, kept = (I8042_QUEUE_SIZE + 1) / 3;

	setup(&f);
	cmd(&f, 0xd4);
	out(&f, 0xf4);
	CHECK_EQ(data(&f), 0xfa);
	for (int i = 1; i <= 40; i++)
		i8042_aux_motion(&f.c, i, 0, 0);
	CHECK_EQ(f.c.aux_queue.count, 3 * kept - 1);
	/* a large motion needs several packets: none of them fits now */
	i8042_aux_motion(&f.c, 2000, 0, 0);
	n = drain_aux(&f, b, sizeof(b), failed);
	CHECK_EQ(n, 3 * kept);
	for (unsigned int i = 0; i + 2 < n; i += 3) {
		CHECK_EQ(b[i], 0x08);
		CHECK_EQ(b[i + 1], i / 3 + 1); /* the first motions kept, in order */
		CHECK_EQ(b[i + 2], 0);
	}
	/* drained, it takes packets again; a long one is cut at the queue's end */
	i8042_aux_motion(&f.c, 255 * 30, 0, 0);
	n = drain_aux(&f, b, sizeof(b), failed);
	CHECK_EQ(n, 3 * kept);
	for (unsigned int i = 0; i + 2 < n; i += 3)
		CHECK_EQ(b[i + 1], 0xff);
	i8042_destroy(&f.c);
}

/* Keyboard bytes go first; the status bit tells the guest whose byte it holds. */
static void i8042_status_tells_keyboard_from_mouse(int *failed)
{
	struct fixture f;

	setup(&f);
	cmd(&f, 0xd4);
	out(&f, 0xf4);
	CHECK_EQ(data(&f), 0xfa);
	i8042_aux_motion(&f.c, 1, 1, 0);
	i8042_kbd_key(&f.c, 0x1e, true);
	/* the packet's first byte was already in the output buffer */
	CHECK_EQ(status(&f) & 0x21, 0x21);
	CHECK_EQ(data(&f), 0x08);
	CHECK_EQ(status(&f) & 0x21, 0x01);
	CHECK(f.c.kbd_level);
	CHECK(!f.c.aux_level);
	CHECK_EQ(data(&f), 0x1e);
	CHECK_EQ(status(&f) & 0x21, 0x21);
	CHECK_EQ(data(&f), 0x01);
	CHECK_EQ(data(&f), 0x01);
	CHECK_EQ(status(&f) & 0x21, 0);
	i8042_destroy(&f.c);
}

static void i8042_mouse_motion_makes_packets(int *failed)
{
	struct fixture f;
	uint8_t b[16];

	setup(&f);
	i8042_aux_motion(&f.c, 5, -3, 1); /* nothing: streaming is off */
	CHECK_EQ(status(&f) & 0x01, 0);
	cmd(&f, 0xd4);
	out(&f, 0xf4);
	CHECK_EQ(data(&f), 0xfa);
	i8042_aux_motion(&f.c, 300, -3, 1); /* more than 9 bits: two packets */
	CHECK_EQ(drain(&f, b, sizeof(b)), 6);
	CHECK_EQ(b[0], 0x29); /* left, bit 3, y negative */
	CHECK_EQ(b[1], 0xff);  /* 255 */
	CHECK_EQ(b[2], 0xfd);  /* -3 */
	CHECK_EQ(b[3], 0x09);
	CHECK_EQ(b[4], 45);
	CHECK_EQ(b[5], 0);
	i8042_destroy(&f.c);
}

const struct unit_test i8042_tests[] = {
	{ "i8042_keys_are_set_1_when_translating", i8042_keys_are_set_1_when_translating },
	{ "i8042_keys_are_set_2_without_translation", i8042_keys_are_set_2_without_translation },
	{ "i8042_full_queue_drops_whole_keys", i8042_full_queue_drops_whole_keys },
	{ "i8042_mouse_motion_makes_packets", i8042_mouse_motion_makes_packets },
	{ "i8042_full_aux_queue_drops_whole_packets", i8042_full_aux_queue_drops_whole_packets },
	{ "i8042_status_tells_keyboard_from_mouse", i8042_status_tells_keyboard_from_mouse },
	{ "i8042_self_test_answers_0x55", i8042_self_test_answers_0x55 },
	{ "i8042_command_byte_reads_back", i8042_command_byte_reads_back },
	{ "i8042_replies_while_ports_are_disabled", i8042_replies_while_ports_are_disabled },
	{ "i8042_aux_loopback_is_marked_as_mouse_data", i8042_aux_loopback_is_marked_as_mouse_data },
	{ "i8042_keyboard_reset_acks_and_passes_self_test", i8042_keyboard_reset_acks_and_passes_self_test },
	{ "i8042_mouse_identifies_as_ps2_mouse", i8042_mouse_identifies_as_ps2_mouse },
	{ "i8042_reset_line_resets_the_cpu", i8042_reset_line_resets_the_cpu },
	{ "i8042_queue_is_bounded", i8042_queue_is_bounded },
	{ NULL, NULL },
};
