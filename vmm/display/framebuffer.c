/*
 * Linear framebuffer.
 *
 * NOTES
 * - Linux finds it through boot_params.screen_info as a VESA linear
 *   framebuffer (VIDEO_TYPE_VLFB); its built-in vesafb drives it and
 *   fbcon puts tty0 on it. lfb_size counts 64 KiB units, as VBE does.
 * - The memory is an anonymous mapping of our own, given to KVM as one
 *   more memory slot with KVM_MEM_LOG_DIRTY_PAGES, so a still screen costs
 *   one ioctl per refresh and no comparison at all.
 */
#include "vmm/display/framebuffer.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "common/util.h"

#define VESA_UNIT (64 * KiB)

int framebuffer_parse_size(const char *s, unsigned int *width, unsigned int *height)
{
	unsigned int w, h;
	char tail;

	if (sscanf(s, "%4ux%4u%c", &w, &h, &tail) != 2 || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	if (w < FB_MIN_WIDTH || w > FB_MAX_WIDTH || h < FB_MIN_HEIGHT || h > FB_MAX_HEIGHT ||
	    w % 8)
		return -EINVAL;
	*width = w;
	*height = h;
	return 0;
}

int framebuffer_init(struct framebuffer *fb, unsigned int width, unsigned int height)
{
	void *p;

	memset(fb, 0, sizeof(*fb));
	fb->vm_fd = -1;
	fb->width = width;
	fb->height = height;
	fb->stride = width * FB_BYTES_PER_PIXEL;
	fb->size = ALIGN_UP((size_t)fb->stride * height, VESA_UNIT);
	p = mmap(NULL, fb->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	fb->mem = p;
	pthread_mutex_init(&fb->lock, NULL);
	return 0;
}

void framebuffer_destroy(struct framebuffer *fb)
{
	if (!fb->mem)
		return;
	munmap(fb->mem, fb->size);
	fb->mem = NULL;
	pthread_mutex_destroy(&fb->lock);
}

int framebuffer_map(struct framebuffer *fb, int vm_fd, unsigned int slot, uint64_t gpa)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = gpa,
		.memory_size = fb->size,
		.userspace_addr = (uintptr_t)fb->mem,
	};
	bool dirty_log = true;

	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		/* Without a dirty log the viewer side compares the whole screen. */
		region.flags = 0;
		dirty_log = false;
		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return -errno;
	}
	/* A new machine starts with a black screen, as after a power cycle. */
	memset(fb->mem, 0, fb->size);
	pthread_mutex_lock(&fb->lock);
	fb->vm_fd = vm_fd;
	fb->slot = slot;
	fb->gpa = gpa;
	fb->dirty_log = dirty_log;
	pthread_mutex_unlock(&fb->lock);
	return 0;
}

void framebuffer_unmap(struct framebuffer *fb)
{
	pthread_mutex_lock(&fb->lock);
	fb->vm_fd = -1;
	fb->dirty_log = false;
	pthread_mutex_unlock(&fb->lock);
}

size_t framebuffer_bitmap_words(const struct framebuffer *fb)
{
	return DIV_ROUND_UP(fb->size / FB_PAGE, 64);
}

bool framebuffer_take_dirty(struct framebuffer *fb, uint64_t *bitmap)
{
	bool known = false;

	pthread_mutex_lock(&fb->lock);
	if (fb->vm_fd >= 0 && fb->dirty_log) {
		struct kvm_dirty_log log = { .slot = fb->slot, .dirty_bitmap = bitmap };

		memset(bitmap, 0, framebuffer_bitmap_words(fb) * sizeof(*bitmap));
		known = ioctl(fb->vm_fd, KVM_GET_DIRTY_LOG, &log) == 0;
	}
	pthread_mutex_unlock(&fb->lock);
	return known;
}

void framebuffer_screen_info(const struct framebuffer *fb, struct screen_info *si)
{
	memset(si, 0, sizeof(*si));
	si->orig_video_isVGA = VIDEO_TYPE_VLFB;
	si->orig_video_cols = fb->width / 8;
	si->orig_video_lines = fb->height / 16;
	si->lfb_width = fb->width;
	si->lfb_height = fb->height;
	si->lfb_depth = 32;
	si->lfb_base = (uint32_t)fb->gpa;
	si->lfb_size = fb->size / VESA_UNIT;
	si->lfb_linelength = fb->stride;
	si->red_size = 8;
	si->red_pos = 16;
	si->green_size = 8;
	si->green_pos = 8;
	si->blue_size = 8;
	si->blue_pos = 0;
	si->rsvd_size = 8;
	si->rsvd_pos = 24;
	si->pages = 1;
	/*
	 * Bit 1: the base is 64-bit (its high half, ext_lfb_base, is 0); vesafb
	 * also reads it as "not VGA compatible", which is true: there are no
	 * VGA registers to program.
	 */
	si->capabilities = VIDEO_CAPABILITY_64BIT_BASE;
}
