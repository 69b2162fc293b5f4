/* Loading a Linux bzImage by the x86 boot protocol, entering at its 64-bit entry. */
#ifndef WEBKVM_VMM_X86_BOOT_H
#define WEBKVM_VMM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/screen_info.h>

#include "vmm/mem.h"

struct boot_config {
	const char *kernel;  /* bzImage path, for messages */
	int kernel_fd;       /* opened with boot_open_file */
	const char *initrd;  /* or NULL */
	int initrd_fd;       /* with initrd */
	const char *cmdline; /* never NULL */
	uint64_t rsdp;       /* guest address of the ACPI RSDP */
	const struct screen_info *screen; /* a linear framebuffer, or NULL */
};

/*
 * Open a kernel or initrd for boot_load_linux, which may run several times
 * on the same fd (a guest reset), after vmm has given up its privileges.
 * fd or -errno (-EISDIR, -EINVAL for what is not a regular file).
 */
int boot_open_file(const char *path);

/*
 * Check, before anything else is set up, that the kernel on fd is a bzImage
 * this loader can enter with cmdline. 0, or -errno with one sentence in err.
 */
int boot_check_kernel(int fd, const char *name, const char *cmdline, char *err, size_t errlen);

/*
 * Put kernel, initrd, command line, boot_params (with the e820 map) and
 * the boot page tables and GDT into guest memory. On failure returns
 * -errno and writes one sentence for the user into err.
 */
int boot_load_linux(struct guest_mem *mem, const struct boot_config *cfg, char *err,
		    size_t errlen);

/* Registers of the boot CPU at the kernel's 64-bit entry. 0 or -errno. */
int boot_setup_bsp(int vcpu_fd);

#endif
