#include "vmm/bus.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"

int bus_add(struct bus *bus, const char *name, uint16_t base, uint16_t len, bus_io_fn io,
	    void *opaque)
{
	if (bus->ndevices == BUS_MAX_DEVICES)
		return -ENOSPC;
	for (unsigned int i = 0; i < bus->ndevices; i++) {
		const struct bus_device *d = &bus->devices[i];

		if (base < d->base + d->len && d->base < base + len)
			return -EEXIST;
	}
	bus->devices[bus->ndevices++] = (struct bus_device){ name, base, len, io, opaque };
	return 0;
}

void bus_pio(struct bus *bus, uint16_t port, bool is_write, uint8_t *data, unsigned int len)
{
	for (unsigned int i = 0; i < bus->ndevices; i++) {
		struct bus_device *d = &bus->devices[i];

		if (port >= d->base && port - d->base < d->len) {
			d->io(d->opaque, port - d->base, is_write, data, len);
			return;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
}
