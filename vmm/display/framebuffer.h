/*
 * The linear framebuffer: host memory that the guest sees at a fixed
 * address and that the VNC server reads, with KVM's dirty log telling
 * which pages the guest wrote.
 */
#ifndef WEBKVM_VMM_DISPLAY_FRAMEBUFFER_H
#define WEBKVM_VMM_DISPLAY_FRAMEBUFFER_H

#include <linux/screen_info.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_BYTES_PER_PIXEL 4 /* XRGB8888: blue in the lowest byte */
#define FB_MIN_WIDTH 320
#define FB_MIN_HEIGHT 200
#define FB_MAX_WIDTH 4096
#define FB_MAX_HEIGHT 2160
#define FB_PAGE 4096

struct framebuffer {
	unsigned int width, height;  /* pixels */
	unsigned int stride;         /* bytes per line */
	size_t size;                 /* bytes mapped: whole 64 KiB units */
	uint8_t *mem;
	/*
	 * Where the running VM maps it. The VM comes and goes (a guest reset
	 * builds a new one) while the framebuffer and its viewers stay.
	 */
	pthread_mutex_t lock;
	int vm_fd;                   /* -1: not mapped */
	unsigned int slot;
	uint64_t gpa;
	bool dirty_log;              /* KVM tracks writes for this slot */
};

/* Parse "WIDTHxHEIGHT" within the limits above. 0 or -EINVAL. */
int framebuffer_parse_size(const char *s, unsigned int *width, unsigned int *height);

int framebuffer_init(struct framebuffer *fb, unsigned int width, unsigned int height);
void framebuffer_destroy(struct framebuffer *fb);

/* Give the framebuffer to a VM as memory slot `slot` at gpa. 0 or -errno. */
int framebuffer_map(struct framebuffer *fb, int vm_fd, unsigned int slot, uint64_t gpa);
/* The VM is going away: forget its fd (the slot goes with the VM). */
void framebuffer_unmap(struct framebuffer *fb);

/*
 * Which pages the guest wrote since the last call, one bit a page in
 * bitmap (framebuffer_bitmap_words() words). Returns false when that is
 * not known (no VM, or no dirty log): the caller must compare all of it.
 */
bool framebuffer_take_dirty(struct framebuffer *fb, uint64_t *bitmap);
size_t framebuffer_bitmap_words(const struct framebuffer *fb);

/* The VESA linear framebuffer description the boot loader hands to Linux. */
void framebuffer_screen_info(const struct framebuffer *fb, struct screen_info *si);

#endif
