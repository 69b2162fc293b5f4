#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "vmm/hw/serial.h"

enum { RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6 };

struct fixture {
	struct serial s;
	struct chardev ch;
	int pipe[2];
};

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		f->pipe[0] = f->pipe[1] = -1;
	pthread_mutex_init(&f->ch.lock, NULL);
	f->ch.kind = CHARDEV_FILE;
	f->ch.out_fd = f->pipe[1];
	f->ch.in_fd = f->ch.listen_fd = f->ch.log_fd = -1;
	/* no KVM here: the line's level is read from the device state */
	serial_init(&f->s, &f->ch, (struct irq_line){ .vm_fd = -1, .gsi = 4 }, -1);
}

static void teardown(struct fixture *f)
{
	serial_destroy(&f->s);
	pthread_mutex_destroy(&f->ch.lock);
	close(f->pipe[0]);
	close(f->pipe[1]);
}

static uint8_t rd(struct fixture *f, uint16_t reg)
{
	uint8_t v;

	serial_io(&f->s, reg, false, &v, 1);
	return v;
}

static void wr(struct fixture *f, uint16_t reg, uint8_t v)
{
	serial_io(&f->s, reg, true, &v, 1);
}

static void serial_loopback_msr_follows_mcr(int *failed)
{
	struct fixture f;

	setup(&f);
	/* Linux's 8250 probe: loopback with OUT2 and RTS must show DCD and CTS */
	wr(&f, MCR, 0x1a);
	CHECK_EQ(rd(&f, MSR) & 0xf0, 0x90);
	wr(&f, MCR, 0x1f);
	CHECK_EQ(rd(&f, MSR) & 0xf0, 0xf0);
	teardown(&f);
}

static void serial_loopback_returns_sent_bytes(int *failed)
{
	struct fixture f;
	char c;

	setup(&f);
	wr(&f, MCR, 0x10);
	wr(&f, THR, 'x');
	CHECK(rd(&f, LSR) & 0x01);
	CHECK_EQ(rd(&f, RBR), 'x');
	CHECK_EQ(read(f.pipe[0], &c, 1), -1); /* nothing left the chip */
	teardown(&f);
}

static void serial_registers_and_divisor_latch_read_back(int *failed)
{
	struct fixture f;

	setup(&f);
	wr(&f, IER, 0x0f);
	CHECK_EQ(rd(&f, IER), 0x0f);
	wr(&f, LCR, 0x83);
	wr(&f, 0, 0x01);
	wr(&f, 1, 0x02);
	CHECK_EQ(rd(&f, 0), 0x01);
	CHECK_EQ(rd(&f, 1), 0x02);
	wr(&f, LCR, 0x03);
	CHECK_EQ(rd(&f, IER), 0x0f);
	CHECK_EQ(rd(&f, LCR), 0x03);
	teardown(&f);
}

static void serial_transmits_to_the_backend(int *failed)
{
	struct fixture f;
	char buf[8] = { 0 };

	setup(&f);
	wr(&f, THR, 'o');
	wr(&f, THR, 'k');
	CHECK_EQ(read(f.pipe[0], buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "ok", 2) == 0);
	CHECK_EQ(rd(&f, LSR) & 0x60, 0x60);
	teardown(&f);
}

static void serial_thr_empty_interrupt_is_acknowledged_by_iir(int *failed)
{
	struct fixture f;

	setup(&f);
	CHECK(!f.s.irq_level);
	wr(&f, IER, 0x02);
	CHECK(f.s.irq_level);
	CHECK_EQ(rd(&f, IIR) & 0x0f, 0x02);
	CHECK(!f.s.irq_level);
	CHECK_EQ(rd(&f, IIR) & 0x0f, 0x01);
	/* each write empties the THR again and raises it anew */
	wr(&f, THR, 'a');
	CHECK(f.s.irq_level);
	teardown(&f);
}

static void serial_receive_fills_the_fifo_without_loss(int *failed)
{
	struct fixture f;
	uint8_t in[20], out[16];

	setup(&f);
	for (int i = 0; i < 20; i++)
		in[i] = 'A' + i;
	CHECK_EQ(serial_receive(&f.s, in, 20), 16);
	CHECK_EQ(serial_rx_room(&f.s), 0);
	for (int i = 0; i < 16; i++)
		out[i] = rd(&f, RBR);
	CHECK(memcmp(in, out, 16) == 0);
	CHECK_EQ(rd(&f, LSR) & 0x03, 0); /* no data, no overrun */
	CHECK_EQ(serial_rx_room(&f.s), 16);
	teardown(&f);
}

static void serial_data_interrupt_outranks_thr_empty(int *failed)
{
	struct fixture f;

	setup(&f);
	wr(&f, FCR, 0x01);
	wr(&f, IER, 0x03);
	serial_receive(&f.s, (const uint8_t *)"z", 1);
	CHECK(f.s.irq_level);
	CHECK_EQ(rd(&f, IIR), 0xc4);
	CHECK_EQ(rd(&f, RBR), 'z');
	CHECK_EQ(rd(&f, IIR), 0xc2);
	CHECK_EQ(rd(&f, IIR), 0xc1);
	CHECK(!f.s.irq_level);
	teardown(&f);
}

static void serial_fifo_reset_drops_input(int *failed)
{
	struct fixture f;

	setup(&f);
	serial_receive(&f.s, (const uint8_t *)"abc", 3);
	wr(&f, FCR, 0x03);
	CHECK_EQ(rd(&f, LSR) & 0x01, 0);
	CHECK_EQ(serial_rx_room(&f.s), 16);
	teardown(&f);
}

const struct unit_test serial_tests[] = {
	{ "serial_loopback_msr_follows_mcr", serial_loopback_msr_follows_mcr },
	{ "serial_loopback_returns_sent_bytes", serial_loopback_returns_sent_bytes },
	{ "serial_registers_and_divisor_latch_read_back", serial_registers_and_divisor_latch_read_back },
	{ "serial_transmits_to_the_backend", serial_transmits_to_the_backend },
	{ "serial_thr_empty_interrupt_is_acknowledged_by_iir", serial_thr_empty_interrupt_is_acknowledged_by_iir },
	{ "serial_receive_fills_the_fifo_without_loss", serial_receive_fills_the_fifo_without_loss },
	{ "serial_data_interrupt_outranks_thr_empty", serial_data_interrupt_outranks_thr_empty },
	{ "serial_fifo_reset_drops_input", serial_fifo_reset_drops_input },
	{ NULL, NULL },
};
