/*
 * A tiny guest for vmm's direct tests: a bzImage that vmm boots through the
 * same Linux boot protocol path as a stock kernel, entered in 64-bit mode.
 * It drives the UART, RTC, i8042 and ACPI hardware (by polling, but for
 * the input that echo and fb wait for: they halt until its interrupt)
 * and reports on COM1. "guest=MODE" on the command line picks what it does:
 *
 *   hello   print a greeting and the command line, then power off (ACPI S5)
 *   echo    echo input upper-cased until 'q' ('?' prints the command line,
 *           to tell one guest from another), then power off
 *   rtc     print the RTC's date and time, then power off
 *   acpi    check the ACPI tables and print what they say, then power off
 *   button  wait for the ACPI power button, then power off
 *   tick    print "tick N" after each fixed spin (some tens of ms) until
 *           the power button, then power off
 *   reset   reset through the i8042
 *   triple  triple-fault
 *   spin    do nothing, forever
 *   halt    print "halting", then idle with interrupts off, forever
 *   fb      paint a known pattern on the linear framebuffer, then report
 *           every byte the i8042 delivers ("kbd XX" or "aux XX"); F1
 *           repaints a square, F12 (pressed) turns scancode translation
 *           off, and Escape (in set 2, after F12) powers off
 *   fbanim  paint the pattern, then redraw a 64x64 square, forever
 *   pit     run the PIT at 1 kHz on IRQ0 through the 8259, keep interrupts
 *           off for 300 ms, then count the ticks taken in the next 100 ms
 *           ("pit ticks N"): about 100 when lost ticks are dropped, about
 *           400 when the hypervisor reinjects them
 */
#include <stdint.h>

#define COM1 0x3f8

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts (echo mode turns on the receive one) */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0x07); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void putc_(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, c);
}

static void puts_(const char *s)
{
	while (*s) {
		if (*s == '\n')
			putc_('\r');
		putc_(*s++);
	}
}


static void putdec(uint64_t v, int width)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n < width)
		buf[n++] = '0';
	while (n)
		putc_(buf[--n]);
}

static void puthex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	int started = 0;

	puts_("0x");
	for (int shift = 60; shift >= 0; shift -= 4) {
		int d = (v >> shift) & 0xf;

		if (d || started || shift == 0) {
			putc_(digits[d]);
			started = 1;
		}
	}
}

static int streq_prefix(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return 1;
}

static int memeq(const void *a, const void *b, uint64_t n)
{
	const uint8_t *x = a, *y = b;

	for (uint64_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

static const char *find_arg(const char *cmdline, const char *key)
{
	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && streq_prefix(p, key))
			return p + __builtin_strlen(key);
	return 0;
}

/* ACPI */

struct acpi_info {
	int ok;
	unsigned int cpus;
	uint16_t pm1a_evt, pm1a_cnt, pm_tmr;
	unsigned int sci;
	int s5;
	const char *problem;
};

static uint8_t sum(const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (uint64_t i = 0; i < n; i++)
		s += b[i];
	return s;
}

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* The value of the first element of \_S5's package in the DSDT. */
static int find_s5(const uint8_t *dsdt, uint32_t len)
{
	for (uint32_t i = 36; i + 8 < len; i++) {
		if (dsdt[i] == 0x08 && memeq(dsdt + i + 1, "_S5_", 4) && dsdt[i + 5] == 0x12) {
			const uint8_t *e = dsdt + i + 8; /* opcode, 1-byte pkglength, count */

			if (e[0] == 0x0a)
				return e[1];
			if (e[0] == 0x00 || e[0] == 0x01)
				return e[0];
		}
	}
	return -1;
}

static void acpi_read(const uint8_t *boot_params, struct acpi_info *info)
{
	const uint8_t *rsdp = (const uint8_t *)le64(boot_params + 0x70);
	const uint8_t *xsdt;

	info->ok = 0;
	info->s5 = -1;
	if (!rsdp || !memeq(rsdp, "RSD PTR ", 8) || sum(rsdp, 20) || sum(rsdp, 36)) {
		info->problem = "bad RSDP";
		return;
	}
	xsdt = (const uint8_t *)le64(rsdp + 24);
	if (!memeq(xsdt, "XSDT", 4) || sum(xsdt, le32(xsdt + 4))) {
		info->problem = "bad XSDT";
		return;
	}
	for (uint32_t off = 36; off < le32(xsdt + 4); off += 8) {
		const uint8_t *t = (const uint8_t *)le64(xsdt + off);

		if (sum(t, le32(t + 4))) {
			info->problem = "bad table checksum";
			return;
		}
		if (memeq(t, "FACP", 4)) {
			const uint8_t *dsdt = (const uint8_t *)le64(t + 140);

			info->pm1a_evt = le32(t + 56);
			info->pm1a_cnt = le32(t + 64);
			info->pm_tmr = le32(t + 76);
			info->sci = t[46] | t[47] << 8;
			if (!memeq(dsdt, "DSDT", 4) || sum(dsdt, le32(dsdt + 4))) {
				info->problem = "bad DSDT";
				return;
			}
			info->s5 = find_s5(dsdt, le32(dsdt + 4));
		} else if (memeq(t, "APIC", 4)) {
			for (uint32_t e = 44; e + 2 <= le32(t + 4); e += t[e + 1]) {
				if (t[e + 1] == 0)
					break;
				if (t[e] == 0 && (le32(t + e + 4) & 1))
					info->cpus++;
			}
		}
	}
	if (!info->pm1a_cnt || info->s5 < 0) {
		info->problem = "no PM1a control block or no \\_S5";
		return;
	}
	info->ok = 1;
}

static void poweroff(const struct acpi_info *acpi)
{
	if (!acpi->ok) {
		puts_("cannot power off: ");
		puts_(acpi->problem);
		puts_("\n");
	} else {
		outw(acpi->pm1a_cnt, (uint16_t)(acpi->s5 << 10) | 0x2000);
	}
	for (;;)
		__asm__ volatile("hlt");
}

/* RTC */

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned int bcd(uint8_t v, int binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

static void print_rtc(void)
{
	unsigned int sec, min, hour, day, mon, year, cent;
	int binary;

	while (cmos(0x0a) & 0x80)
		; /* update in progress */
	binary = cmos(0x0b) & 0x04;
	sec = bcd(cmos(0x00), binary);
	min = bcd(cmos(0x02), binary);
	hour = bcd(cmos(0x04), binary);
	day = bcd(cmos(0x07), binary);
	mon = bcd(cmos(0x08), binary);
	year = bcd(cmos(0x09), binary);
	cent = bcd(cmos(0x32), binary);
	puts_("rtc ");
	putdec(cent * 100 + year, 4);
	putc_('-');
	putdec(mon, 2);
	putc_('-');
	putdec(day, 2);
	putc_(' ');
	putdec(hour, 2);
	putc_(':');
	putdec(min, 2);
	putc_(':');
	putdec(sec, 2);
	puts_("\n");
}

/* Framebuffer: the pattern the test suite checks pixel by pixel. */

struct fb {
	uint32_t *base;
	unsigned int width, height, pitch; /* pitch in pixels */
};

static uint32_t fb_pattern(unsigned int x, unsigned int y)
{
	return ((x * 3 + y * 5) & 0xff) << 16 | ((x ^ y) & 0xff) << 8 | ((x + y * 7) >> 2 & 0xff);
}

static int fb_find(const uint8_t *bp, struct fb *fb)
{
	const uint8_t *si = bp; /* screen_info opens boot_params */

	if (si[0x0f] != 0x23 || (si[0x16] | si[0x17] << 8) != 32) {
		puts_("fb: no 32-bit linear framebuffer\n");
		return 0;
	}
	fb->width = si[0x12] | si[0x13] << 8;
	fb->height = si[0x14] | si[0x15] << 8;
	fb->pitch = (si[0x24] | si[0x25] << 8) / 4;
	fb->base = (uint32_t *)(uint64_t)le32(si + 0x18);
	puts_("fb ");
	putdec(fb->width, 1);
	putc_('x');
	putdec(fb->height, 1);
	puts_(" at ");
	puthex((uint64_t)fb->base);
	puts_("\n");
	return 1;
}

static void fb_square(const struct fb *fb, unsigned int x0, unsigned int y0, uint32_t color)
{
	for (unsigned int y = y0; y < y0 + 64 && y < fb->height; y++)
		for (unsigned int x = x0; x < x0 + 64 && x < fb->width; x++)
			fb->base[y * fb->pitch + x] = color;
}

static void fb_paint(const struct fb *fb)
{
	for (unsigned int y = 0; y < fb->height; y++)
		for (unsigned int x = 0; x < fb->width; x++)
			fb->base[y * fb->pitch + x] = fb_pattern(x, y);
	puts_("painted\n");
}

/*
 * PCI configuration mechanism #1 as early boot code uses it: every slot of
 * every bus probed through 0xcf8/0xcfc (vendor:device and class printed
 * for what answers); then the address register read back, and a byte and
 * a word write into it, which must not change it.
 */
static void pci_scan(void)
{
	unsigned int found = 0;
	uint32_t back;

	for (uint32_t bus = 0; bus < 256; bus++) {
		for (uint32_t slot = 0; slot < 32; slot++) {
			uint32_t a = 0x80000000u | bus << 16 | slot << 11, id, class;

			outl(0xcf8, a);
			id = inl(0xcfc);
			if (id == 0xffffffffu)
				continue;
			outl(0xcf8, a | 8);
			class = inl(0xcfc) >> 8;
			puts_("pci ");
			putdec(bus, 1);
			puts_(":");
			putdec(slot, 1);
			puts_(" ");
			puthex(id & 0xffff);
			puts_(":");
			puthex(id >> 16);
			puts_(" class ");
			puthex(class);
			puts_("\n");
			found++;
		}
	}
	outl(0xcf8, 0x80001234u);
	outb(0xcf9, 0x55);
	outw(0xcfa, 0x5555);
	back = inl(0xcf8);
	puts_("pci found=");
	putdec(found, 1);
	puts_(" address=");
	puthex(back);
	puts_("\n");
}

/* Interrupts */

/* entry.S: the IRQ handlers and the count of timer interrupts taken */
extern volatile uint32_t pit_ticks;
void pit_irq_entry(void);
void other_irq_entry(void);
void slave_irq_entry(void);

static void set_gate(uint8_t *gate, void (*handler)(void), uint16_t cs)
{
	uint64_t a = (uint64_t)handler;

	gate[0] = a;
	gate[1] = a >> 8;
	gate[2] = cs;
	gate[3] = cs >> 8;
	gate[4] = 0;    /* no IST */
	gate[5] = 0x8e; /* present, 64-bit interrupt gate */
	gate[6] = a >> 16;
	gate[7] = a >> 24;
	for (int i = 0; i < 4; i++)
		gate[8 + i] = a >> (32 + 8 * i);
	for (int i = 12; i < 16; i++)
		gate[i] = 0;
}

/*
 * Interrupts from the two 8259s (vectors 0x20-0x2f, edge-triggered,
 * cascaded), with only the lines set in unmasked (bit N: IRQ N) let
 * through; exceptions stay absent. Interrupts stay off until the
 * caller's sti.
 */
static void irqs_init(uint16_t unmasked)
{
	static uint8_t idt[48 * 16] __attribute__((aligned(16)));
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint64_t)idt
	};
	uint8_t master = unmasked & 0xff, slave = unmasked >> 8;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (int v = 0x20; v < 0x30; v++)
		set_gate(idt + 16 * v, v == 0x20 ? pit_irq_entry : v < 0x28 ? other_irq_entry : slave_irq_entry, cs);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	if (slave)
		master |= 0x04; /* the cascade */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, (uint8_t)~master);
	outb(0xa1, (uint8_t)~slave);
}

/* Halt until an interrupt (sti's one-instruction shadow leaves no gap before the hlt). */
static void wait_for_interrupt(void)
{
	__asm__ volatile("sti; hlt; cli");
}

/*
 * A byte from COM1, halting while none is there: the UART's receive
 * interrupt (IRQ4) wakes the guest, so that a guest waiting for input
 * takes no host CPU.
 */
static int getc_halting(void)
{
	while (!(inb(COM1 + 5) & 0x01))
		wait_for_interrupt();
	return inb(COM1);
}

static void i8042_wait_write(void)
{
	while (inb(0x64) & 0x02)
		;
}

static uint8_t i8042_read(void)
{
	while (!(inb(0x64) & 0x01))
		;
	return inb(0x60);
}

static void fb_keys(const struct fb *fb)
{
	int xlate = 1;

	/* Mouse port on, mouse streaming. */
	i8042_wait_write();
	outb(0x64, 0xa8);
	i8042_wait_write();
	outb(0x64, 0xd4);
	i8042_wait_write();
	outb(0x60, 0xf4);
	i8042_read(); /* its ACK */
	irqs_init(1 << 1 | 1 << 12); /* the keyboard's IRQ1, the mouse's IRQ12 */
	puts_("keys ready\n");
	for (;;) {
		uint8_t st, v;

		while (!((st = inb(0x64)) & 0x01))
			wait_for_interrupt();
		v = inb(0x60);
		puts_(st & 0x20 ? "aux " : "kbd ");
		puthex(v);
		puts_("\n");
		if (st & 0x20)
			continue;
		if (xlate && v == 0x3b) {
			fb_square(fb, 100, 100, 0x00ff8000);
			puts_("repainted\n");
		} else if (xlate && v == 0x58) {
			uint8_t cb;

			/*
			 * Both ports off first, so that the byte read after
			 * 0x20 is the command byte, not a key or a mouse byte
			 * that came in between (written back, such a byte
			 * would turn the interrupts off, and this guest halts
			 * until one comes); what they send meanwhile waits.
			 */
			i8042_wait_write();
			outb(0x64, 0xad);
			i8042_wait_write();
			outb(0x64, 0xa7);
			while (inb(0x64) & 0x01) { /* bytes behind F12, not the command byte */
				st = inb(0x64);
				v = inb(0x60);
				puts_(st & 0x20 ? "aux " : "kbd ");
				puthex(v);
				puts_("\n");
			}
			i8042_wait_write();
			outb(0x64, 0x20);
			cb = i8042_read();
			/* translation off; both ports on, with their interrupts */
			i8042_wait_write();
			outb(0x64, 0x60);
			i8042_wait_write();
			outb(0x60, (cb & ~0x70) | 0x03);
			xlate = 0;
			puts_("xlate off\n");
		} else if (!xlate && v == 0x76) {
			return;
		}
	}
}

/* PIT */

/* Spin for ms milliseconds of the ACPI PM timer (3.579545 MHz, 24 bits). */
static void pm_wait(const struct acpi_info *acpi, uint32_t ms)
{
	uint64_t want = 3579545ULL * ms / 1000, seen = 0;
	uint32_t last = inl(acpi->pm_tmr) & 0xffffff, now;

	while (seen < want) {
		now = inl(acpi->pm_tmr) & 0xffffff;
		seen += (now - last) & 0xffffff;
		last = now;
	}
}

static void pit_backlog(const struct acpi_info *acpi)
{
	uint32_t n;

	irqs_init(1 << 0); /* the PIT's IRQ0 only */
	/* PIT channel 0, rate generator, 1193182 Hz / 1193: 1 kHz */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	puts_("pit running, interrupts off\n");
	pm_wait(acpi, 300);
	pit_ticks = 0;
	__asm__ volatile("sti");
	pm_wait(acpi, 100);
	__asm__ volatile("cli");
	n = pit_ticks;
	outb(0x21, 0xff);
	puts_("pit ticks ");
	putdec(n, 1);
	puts_("\n");
}

void guest_main(const uint8_t *boot_params);
void guest_main(const uint8_t *boot_params)
{
	const char *cmdline = (const char *)(uint64_t)le32(boot_params + 0x228);
	const char *mode = find_arg(cmdline, "guest=");
	struct acpi_info acpi = { 0 };

	serial_init();
	acpi_read(boot_params, &acpi);
	if (!mode)
		mode = "hello";

	if (streq_prefix(mode, "hello")) {
		puts_("hello from the test guest\ncmdline: ");
		puts_(cmdline);
		puts_("\n");
	} else if (streq_prefix(mode, "echo")) {
		int c;

		irqs_init(1 << 4); /* COM1's IRQ4 */
		outb(COM1 + 4, 0x0b); /* DTR, RTS, OUT2 (the line to the 8259) */
		outb(COM1 + 1, 0x01); /* an interrupt when a byte comes */
		puts_("echo ready\n");
		while ((c = getc_halting()) != 'q') {
			if (c == '?') {
				puts_(cmdline);
				continue;
			}
			putc_(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
		}
		puts_("\necho done\n");
	} else if (streq_prefix(mode, "rtc")) {
		print_rtc();
	} else if (streq_prefix(mode, "acpi")) {
		if (!acpi.ok) {
			puts_("acpi error: ");
			puts_(acpi.problem);
			puts_("\n");
		} else {
			puts_("acpi ok cpus=");
			putdec(acpi.cpus, 1);
			puts_(" pm1a_cnt=");
			puthex(acpi.pm1a_cnt);
			puts_(" sci=");
			putdec(acpi.sci, 1);
			puts_(" s5=");
			putdec(acpi.s5, 1);
			puts_("\n");
		}
	} else if (streq_prefix(mode, "button")) {
		outw(acpi.pm1a_evt + 2, 0x0100); /* PWRBTN_EN */
		puts_("waiting for the power button\n");
		while (!(inw(acpi.pm1a_evt) & 0x0100))
			;
		outw(acpi.pm1a_evt, 0x0100); /* write 1 to clear */
		puts_("power button pressed\n");
	} else if (streq_prefix(mode, "tick")) {
		outw(acpi.pm1a_evt + 2, 0x0100); /* PWRBTN_EN */
		puts_("ticking\n");
		for (uint64_t n = 0; !(inw(acpi.pm1a_evt) & 0x0100); n++) {
			puts_("tick ");
			putdec(n, 1);
			puts_("\n");
			/* in registers: guest memory writes are slow on some hosts */
			for (uint32_t d = 0; d < 100000; d++)
				__asm__ volatile("" : "+r"(d));
		}
		outw(acpi.pm1a_evt, 0x0100);
		puts_("power button pressed\n");
	} else if (streq_prefix(mode, "reset")) {
		puts_("resetting through the i8042\n");
		outb(0x64, 0xfe);
		for (;;)
			;
	} else if (streq_prefix(mode, "triple")) {
		static const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idt = { 0, 0 };

		puts_("triple fault\n");
		__asm__ volatile("lidt %0; ud2" : : "m"(idt));
	} else if (streq_prefix(mode, "fbanim")) {
		struct fb fb;

		if (fb_find(boot_params, &fb)) {
			fb_paint(&fb);
			for (uint32_t i = 0;; i++) {
				fb_square(&fb, 200, 200, i * 0x010203);
				for (volatile int d = 0; d < 200000; d++)
					;
			}
		}
	} else if (streq_prefix(mode, "fb")) {
		struct fb fb;

		if (fb_find(boot_params, &fb)) {
			fb_paint(&fb);
			fb_keys(&fb);
		}
	} else if (streq_prefix(mode, "pci")) {
		pci_scan();
	} else if (streq_prefix(mode, "pit")) {
		pit_backlog(&acpi);
	} else if (streq_prefix(mode, "halt")) {
		puts_("halting\n");
		for (;;)
			__asm__ volatile("cli; hlt");
	} else if (streq_prefix(mode, "spin")) {
		puts_("spinning\n");
		for (;;)
			;
	}
	poweroff(&acpi);
}
