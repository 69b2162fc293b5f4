/*
 * The port I/O bus: a plain table of devices, each with one callback that
 * switches on the port. Ports nobody claims read as all ones and ignore
 * writes, as on a PC.
 */
#ifndef WEBKVM_VMM_BUS_H
#define WEBKVM_VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define BUS_MAX_DEVICES 16

/* offset is relative to the device's base; data holds len (1, 2 or 4) bytes. */
typedef void (*bus_io_fn)(void *opaque, uint16_t offset, bool is_write, uint8_t *data,
			  unsigned int len);

struct bus_device {
	const char *name;
	uint16_t base;
	uint16_t len;
	bus_io_fn io;
	void *opaque;
};

struct bus {
	struct bus_device devices[BUS_MAX_DEVICES];
	unsigned int ndevices;
};

int bus_add(struct bus *bus, const char *name, uint16_t base, uint16_t len, bus_io_fn io,
	    void *opaque);
void bus_pio(struct bus *bus, uint16_t port, bool is_write, uint8_t *data, unsigned int len);

#endif
