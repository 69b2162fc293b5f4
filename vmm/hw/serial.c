/*
 * 16550A UART.
 *
 * NOTES
 * - Transmission is immediate: the THR is always empty again by the time
 *   the guest looks, so LSR always shows THRE|TEMT and a THR-empty
 *   interrupt is raised after every write while IER enables it.
 * - Receive data comes from the host through serial_receive(); the FIFO is
 *   the chip's 16 bytes, and the main loop stops reading host input while it
 *   is full (no bytes are dropped), resuming when the guest drains it.
 * - Trigger levels and character timeouts are not modelled: "data
 *   available" is raised as soon as one byte is waiting, which Linux's 8250
 *   driver handles like a timeout interrupt.
 * - The interrupt line follows the IIR: high while any enabled cause is
 *   pending, so each new cause after a quiet line gives the IOAPIC an edge.
 */
#include "vmm/hw/serial.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum {
	UART_RX = 0, UART_TX = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_IIR = 2, UART_FCR = 2,
	UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS 0x1e

#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0;

	if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRORS & ~LSR_BI))
		return fifo | IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_irq)
		return fifo | IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return fifo | IIR_MSI;
	return fifo | IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

/* Modem status as the guest sees it: in loopback, wired to MCR's outputs. */
static uint8_t serial_msr(struct serial *s)
{
	if (s->mcr & MCR_LOOP) {
		uint8_t m = 0;

		if (s->mcr & MCR_RTS)
			m |= MSR_CTS;
		if (s->mcr & MCR_DTR)
			m |= MSR_DSR;
		if (s->mcr & MCR_OUT1)
			m |= MSR_RI;
		if (s->mcr & MCR_OUT2)
			m |= MSR_DCD;
		return m | (s->msr & MSR_DELTAS);
	}
	return s->msr;
}

static void rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count == SERIAL_FIFO_SIZE) {
		s->lsr |= LSR_OE;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = byte;
	s->rx_count++;
	s->lsr |= LSR_DR;
}

/* The main loop stops reading input while the FIFO is full: tell it there is room. */
static void rx_wake(struct serial *s)
{
	uint64_t one = 1;

	if (s->wake_fd < 0)
		return;
	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the loop is awake anyway */
	}
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
	if (--s->rx_count == 0)
		s->lsr &= ~LSR_DR;
	if (s->rx_count == SERIAL_FIFO_SIZE - 1)
		rx_wake(s);
	return byte;
}

static void serial_write_reg(struct serial *s, uint16_t reg, uint8_t v)
{
	switch (reg) {
	case UART_TX:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (s->mcr & MCR_LOOP)
			rx_push(s, v);
		else
			chardev_write(s->backend, &v, 1);
		/* Sent at once: the THR is empty again. */
		s->thr_irq = true;
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI while the THR is empty raises it at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_irq = true;
		s->ier = v & 0x0f;
		break;
	case UART_FCR:
		if (v & FCR_CLEAR_RX) {
			if (s->rx_count == SERIAL_FIFO_SIZE)
				rx_wake(s);
			s->rx_count = 0;
			s->lsr &= ~LSR_DR;
		}
		s->fcr = v & 0xc9; /* trigger level, DMA mode, enable */
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only */
	case UART_SCR:
		s->scr = v;
		break;
	}
}

static uint8_t serial_read_reg(struct serial *s, uint16_t reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RX:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		return rx_pop(s);
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR:
		v = serial_iir(s);
		/* Reading the IIR while it reports THR empty acknowledges it. */
		if ((v & 0x0f) == IIR_THRI)
			s->thr_irq = false;
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = s->lsr | LSR_THRE | LSR_TEMT;
		s->lsr &= ~(LSR_OE | LSR_BI); /* error bits clear on read */
		return v;
	case UART_MSR:
		v = serial_msr(s);
		s->msr &= ~MSR_DELTAS;
		return v;
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

void serial_io(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	/* Byte-wide registers; a wider access touches the consecutive ones. */
	for (unsigned int i = 0; i < len && offset + i < 8; i++) {
		if (is_write)
			serial_write_reg(s, offset + i, data[i]);
		else
			data[i] = serial_read_reg(s, offset + i);
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

unsigned int serial_rx_room(struct serial *s)
{
	unsigned int room;

	pthread_mutex_lock(&s->lock);
	room = SERIAL_FIFO_SIZE - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return room;
}

unsigned int serial_receive(struct serial *s, const uint8_t *buf, unsigned int len)
{
	unsigned int n = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the chip is cut off from the outside world. */
	if (!(s->mcr & MCR_LOOP)) {
		while (n < len && s->rx_count < SERIAL_FIFO_SIZE)
			rx_push(s, buf[n++]);
		serial_update_irq(s);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Power-on state. A guest reboot builds the devices anew, which comes here. */
static void serial_reset(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	s->ier = s->lcr = s->mcr = s->scr = s->fcr = 0;
	s->lsr = LSR_THRE | LSR_TEMT;
	/* A terminal is always there: carrier, data set ready, clear to send. */
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->dll = 0x0c; /* 9600 baud */
	s->dlm = 0;
	s->thr_irq = false;
	s->rx_head = s->rx_count = 0;
	if (s->irq_level) {
		s->irq_level = false;
		irq_line_set(&s->irq, 0);
	}
	pthread_mutex_unlock(&s->lock);
}

void serial_init(struct serial *s, struct chardev *backend, struct irq_line irq, int wake_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->backend = backend;
	s->irq = irq;
	s->wake_fd = wake_fd;
	serial_reset(s);
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}
