/* `vmm run`: boot a VM and run it until the guest powers off. */
#ifndef WEBKVM_VMM_RUN_H
#define WEBKVM_VMM_RUN_H

#include "vmm/display/vnc.h"
#include "vmm/vm.h"

struct run_options {
	struct vm_config vm;
	const char *serial; /* "stdio", "file:PATH" or "unix:PATH" */
	const char *serial_log; /* a bounded copy of the console's output, or NULL */
	uint64_t serial_log_max;
	bool vnc;           /* a screen, served as vnc_options say */
	struct vnc_options vnc_options;
	unsigned int fb_width, fb_height;
	const char *name;    /* for status replies and logs, or NULL */
	const char *user;    /* run as this user once every file is open, or NULL */
	const char *control; /* "unix:PATH", or NULL */
	int ready_fd;        /* written and closed once the guest runs, or -1 */
};

/* The process's exit status: 0 when the guest ended the VM, 1 on error. */
int run_vm(const struct run_options *opts);

#endif
