/*
 * virtio-input tablet.
 *
 * NOTES
 * - The config space is a window the driver points with select and
 *   subsel (§5.8.4): the name, ids, and which event types, codes and
 *   absolute ranges the device has. Each write of those two refills it.
 * - Queue 0 takes the events we send, one 8-byte event per buffer; queue 1
 *   brings the driver's status events (LEDs), which a tablet ignores.
 * - Events come from the VNC viewer's thread, not from a kick, so they
 *   take the device lock and check that the queue is live. A report that
 *   does not fit in the buffers the driver gave is dropped, as a real
 *   device drops when the host is slow.
 */
#include "vmm/virtio/input.h"

#include <errno.h>
#include <string.h>

#include "common/iov.h"
#include "common/util.h"

#define INPUT_QUEUE_SIZE 64
#define PCI_CLASS_INPUT_OTHER 0x098000

#define EVENTQ 0
#define STATUSQ 1

/* Config selectors (§5.8.4) */
#define CFG_UNSET 0x00
#define CFG_ID_NAME 0x01
#define CFG_ID_SERIAL 0x02
#define CFG_ID_DEVIDS 0x03
#define CFG_PROP_BITS 0x10
#define CFG_EV_BITS 0x11
#define CFG_ABS_INFO 0x12

#define CFG_SELECT 0
#define CFG_SUBSEL 1
#define CFG_SIZE 2
#define CFG_UNION 8
#define CFG_UNION_SIZE 128

/* Linux input event codes (include/uapi/linux/input-event-codes.h) */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define SYN_REPORT 0
#define REL_WHEEL 0x08
#define ABS_X 0x00
#define ABS_Y 0x01
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BUS_VIRTUAL 0x06

#define EVENT_SIZE 8
#define MAX_REPORT 8

static const char tablet_name[] = "webkvm tablet";
static const uint16_t tablet_buttons[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE };

static void set_bit_in(uint8_t *bitmap, unsigned int bit)
{
	bitmap[bit / 8] |= 1 << (bit % 8);
}

/* Fill the config union for the current select and subsel. */
static void input_select(struct virtio_input *in)
{
	uint8_t *c = in->config, *u = c + CFG_UNION;
	unsigned int size = 0;

	memset(u, 0, CFG_UNION_SIZE);
	switch (c[CFG_SELECT]) {
	case CFG_ID_NAME:
		if (c[CFG_SUBSEL] == 0) {
			size = sizeof(tablet_name) - 1;
			memcpy(u, tablet_name, size);
		}
		break;
	case CFG_ID_DEVIDS:
		if (c[CFG_SUBSEL] == 0) {
			put_le16(u, BUS_VIRTUAL);
			put_le16(u + 2, 0x0627); /* what QEMU's tablet says, so udev rules match */
			put_le16(u + 4, 0x0001);
			put_le16(u + 6, 0x0001);
			size = 8;
		}
		break;
	case CFG_EV_BITS:
		if (c[CFG_SUBSEL] == EV_KEY) {
			for (size_t i = 0; i < ARRAY_SIZE(tablet_buttons); i++)
				set_bit_in(u, tablet_buttons[i]);
			size = BTN_MIDDLE / 8 + 1;
		} else if (c[CFG_SUBSEL] == EV_REL) {
			set_bit_in(u, REL_WHEEL);
			size = REL_WHEEL / 8 + 1;
		} else if (c[CFG_SUBSEL] == EV_ABS) {
			set_bit_in(u, ABS_X);
			set_bit_in(u, ABS_Y);
			size = 1;
		}
		break;
	case CFG_ABS_INFO:
		if (c[CFG_SUBSEL] == ABS_X || c[CFG_SUBSEL] == ABS_Y) {
			put_le32(u, 0);                      /* min */
			put_le32(u + 4, VIRTIO_INPUT_ABS_MAX); /* max; fuzz, flat, res 0 */
			size = 20;
		}
		break;
	default: /* UNSET, ID_SERIAL, PROP_BITS and anything else: nothing */
		break;
	}
	c[CFG_SIZE] = size;
}

static void input_config_write(struct virtio_dev *vdev, unsigned int offset, const uint8_t *data,
			       unsigned int len)
{
	struct virtio_input *in = vdev->opaque;

	/* Only select and subsel are the driver's to write. */
	for (unsigned int i = 0; i < len; i++)
		if (offset + i == CFG_SELECT || offset + i == CFG_SUBSEL)
			in->config[offset + i] = data[i];
	if (offset <= CFG_SUBSEL)
		input_select(in);
}

static int input_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_input *in = vdev->opaque;
	struct virtq *vq = &vdev->vq[q];
	bool pushed = false;
	int r = 0;

	/* New event buffers wait for events; status events are read and let go. */
	if (q != STATUSQ)
		return 0;
	while ((r = virtq_pop(vq, &in->chain)) > 0) {
		virtq_push(vq, in->chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_queue(vdev, q);
	return r < 0 ? -EINVAL : 0;
}

static void input_reset(struct virtio_dev *vdev)
{
	struct virtio_input *in = vdev->opaque;

	in->buttons = 0;
}

static const struct virtio_dev_ops input_ops = {
	.queue_notify = input_queue_notify,
	.reset = input_reset,
	.config_write = input_config_write,
};

int virtio_input_tablet_init(struct virtio_input *in, struct pci *pci,
			     struct irq_routing *routing, const struct guest_mem *mem, int vm_fd)
{
	memset(in->config, 0, sizeof(in->config));
	in->buttons = 0;
	return virtio_dev_init(&in->vdev, &input_ops, in, VIRTIO_ID_INPUT, PCI_CLASS_INPUT_OTHER, 0,
			       2, INPUT_QUEUE_SIZE, in->config, sizeof(in->config), pci, routing,
			       mem, vm_fd);
}

void virtio_input_destroy(struct virtio_input *in)
{
	virtio_dev_destroy(&in->vdev);
}

bool virtio_input_ready(struct virtio_input *in)
{
	bool ready;

	pthread_mutex_lock(&in->vdev.lock);
	ready = virtio_dev_queue_live(&in->vdev, EVENTQ);
	pthread_mutex_unlock(&in->vdev.lock);
	return ready;
}

static void put_event(uint8_t *e, uint16_t type, uint16_t code, int32_t value)
{
	put_le16(e, type);
	put_le16(e + 2, code);
	put_le32(e + 4, (uint32_t)value);
}

void virtio_input_tablet_event(struct virtio_input *in, unsigned int x, unsigned int y,
			       unsigned int buttons, int wheel)
{
	struct virtio_dev *vdev = &in->vdev;
	struct virtq *vq = &vdev->vq[EVENTQ];
	uint8_t ev[MAX_REPORT][EVENT_SIZE];
	unsigned int n = 0;
	bool pushed = false;

	put_event(ev[n++], EV_ABS, ABS_X, MIN(x, VIRTIO_INPUT_ABS_MAX));
	put_event(ev[n++], EV_ABS, ABS_Y, MIN(y, VIRTIO_INPUT_ABS_MAX));
	pthread_mutex_lock(&vdev->lock);
	for (size_t i = 0; i < ARRAY_SIZE(tablet_buttons); i++)
		if ((buttons ^ in->buttons) & (1u << i))
			put_event(ev[n++], EV_KEY, tablet_buttons[i], !!(buttons & (1u << i)));
	if (wheel)
		put_event(ev[n++], EV_REL, REL_WHEEL, wheel);
	put_event(ev[n++], EV_SYN, SYN_REPORT, 0);
	if (!virtio_dev_queue_live(vdev, EVENTQ))
		goto out;
	in->buttons = buttons;
	for (unsigned int i = 0; i < n; i++) {
		int r = virtq_pop(vq, &in->chain);

		if (r < 0) {
			virtio_dev_queue_broken(vdev, EVENTQ);
			break;
		}
		if (r == 0)
			break; /* no buffer: the rest of the report is dropped */
		virtq_push(vq, in->chain.head,
			   buf_to_iov(in->chain.iov + in->chain.nout, in->chain.nin, 0, ev[i], EVENT_SIZE));
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_queue(vdev, EVENTQ);
out:
	pthread_mutex_unlock(&vdev->lock);
}
