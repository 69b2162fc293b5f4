#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/util.h"
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

/*
 * In loopback the guest can send faster than it reads: the 17th byte
 * finds the 16-byte FIFO full, is lost, and sets OE, which raises the
 * receiver line status interrupt (the highest) until LSR is read.
 */
static void serial_fifo_overrun_sets_oe(int *failed)
{
	struct fixture f;
	uint8_t out[SERIAL_FIFO_SIZE];

	setup(&f);
	wr(&f, FCR, 0x01);
	wr(&f, MCR, 0x10);
	wr(&f, IER, 0x05); /* line status and data interrupts */
	for (int i = 0; i < SERIAL_FIFO_SIZE; i++)
		wr(&f, THR, 'a' + i);
	CHECK_EQ(serial_rx_room(&f.s), 0);
	CHECK_EQ(rd(&f, IIR), 0xc4); /* full, but nothing lost yet */
	CHECK_EQ(rd(&f, LSR), 0x61);
	wr(&f, THR, 'z');
	CHECK(f.s.irq_level);
	CHECK_EQ(rd(&f, IIR), 0xc6);
	CHECK_EQ(rd(&f, LSR), 0x63); /* DR, OE, THRE, TEMT */
	CHECK_EQ(rd(&f, LSR), 0x61); /* OE clears on read */
	CHECK_EQ(rd(&f, IIR), 0xc4);
	for (int i = 0; i < SERIAL_FIFO_SIZE; i++) {
		CHECK_EQ(rd(&f, LSR) & 0x01, 0x01); /* DR while any byte waits */
		out[i] = rd(&f, RBR);
	}
	CHECK(memcmp(out, "abcdefghijklmnop", SERIAL_FIFO_SIZE) == 0); /* the first 16 kept */
	CHECK_EQ(rd(&f, LSR), 0x60);
	CHECK_EQ(rd(&f, IIR), 0xc1);
	CHECK(!f.s.irq_level);
	/* the FIFO takes 16 again after draining */
	for (int i = 0; i < SERIAL_FIFO_SIZE; i++)
		wr(&f, THR, 'A' + i);
	CHECK_EQ(rd(&f, LSR), 0x61);
	CHECK_EQ(serial_rx_room(&f.s), 0);
	teardown(&f);
}

/* An overrun with only the line status interrupt enabled: raised, then cleared by LSR. */
static void serial_overrun_interrupt_follows_ier(int *failed)
{
	struct fixture f;

	setup(&f);
	wr(&f, MCR, 0x10);
	for (int i = 0; i <= SERIAL_FIFO_SIZE; i++)
		wr(&f, THR, 'a');
	CHECK(!f.s.irq_level); /* nothing enabled */
	CHECK_EQ(rd(&f, IIR), 0x01); /* no interrupt, FIFOs off */
	wr(&f, IER, 0x04);
	CHECK(f.s.irq_level);
	CHECK_EQ(rd(&f, IIR), 0x06);
	CHECK_EQ(rd(&f, LSR) & 0x03, 0x03);
	CHECK(!f.s.irq_level);
	CHECK_EQ(rd(&f, IIR), 0x01); /* data waits, but its interrupt is off */
	teardown(&f);
}

/* The IIR names the highest enabled cause: line status, data, THR empty. */
static void serial_iir_names_the_highest_cause(int *failed)
{
	static const struct {
		uint8_t ier;
		bool overrun, data, thre;
		uint8_t iir;
	} cases[] = {
		{ 0x00, true, true, true, 0xc1 },
		{ 0x07, true, true, true, 0xc6 },
		{ 0x03, true, true, true, 0xc4 },
		{ 0x02, true, true, true, 0xc2 },
		{ 0x07, false, true, true, 0xc4 },
		{ 0x07, false, false, true, 0xc2 },
		{ 0x07, false, false, false, 0xc1 },
		{ 0x05, false, false, true, 0xc1 },
		{ 0x06, false, true, false, 0xc1 },
	};

	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct fixture f;
		uint8_t iir;
		bool line;

		setup(&f);
		wr(&f, FCR, 0x01);
		wr(&f, MCR, 0x10);
		for (int i = 0; cases[c].overrun && i <= SERIAL_FIFO_SIZE; i++)
			wr(&f, THR, 'a');
		if (!cases[c].overrun && cases[c].data)
			wr(&f, THR, 'a');
		wr(&f, IER, cases[c].ier);
		if (!cases[c].thre && (cases[c].ier & 0x02))
			rd(&f, IIR); /* acknowledges THR empty when it is the highest */
		line = f.s.irq_level;
		iir = rd(&f, IIR);
		if (iir != cases[c].iir || line != ((cases[c].iir & 1) == 0)) {
			fprintf(stderr, "    case %zu: IIR %#x, line %d, expected %#x\n", c, iir, line,
				cases[c].iir);
			*failed = 1;
		}
		teardown(&f);
	}
}

static uint64_t wakes(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/*
 * The main loop stops reading host input while the FIFO is full; it must
 * hear when room appears, whether the guest reads a byte or resets the
 * FIFO.
 */
static void serial_wakes_the_main_loop_when_room_appears(int *failed)
{
	struct fixture f;
	int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint8_t in[SERIAL_FIFO_SIZE];

	setup(&f);
	f.s.wake_fd = wake;
	memset(in, 'x', sizeof(in));
	CHECK_EQ(serial_receive(&f.s, in, 5), 5);
	CHECK_EQ(serial_rx_room(&f.s), SERIAL_FIFO_SIZE - 5);
	rd(&f, RBR);
	CHECK_EQ(wakes(wake), 0); /* it was reading anyway */
	CHECK_EQ(serial_receive(&f.s, in, sizeof(in)), SERIAL_FIFO_SIZE - 4);
	rd(&f, RBR);
	CHECK_EQ(wakes(wake), 1);
	CHECK_EQ(serial_receive(&f.s, in, sizeof(in)), 1);
	wr(&f, FCR, 0x03);
	CHECK_EQ(wakes(wake), 1);
	CHECK_EQ(serial_rx_room(&f.s), SERIAL_FIFO_SIZE);
	close(wake);
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
	{ "serial_fifo_overrun_sets_oe", serial_fifo_overrun_sets_oe },
	{ "serial_overrun_interrupt_follows_ier", serial_overrun_interrupt_follows_ier },
	{ "serial_iir_names_the_highest_cause", serial_iir_names_the_highest_cause },
	{ "serial_wakes_the_main_loop_when_room_appears", serial_wakes_the_main_loop_when_room_appears },
	{ NULL, NULL },
};
