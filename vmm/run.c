/*
 * The main loop of `vmm run`.
 *
 * NOTES
 * - The main thread owns everything but the vCPUs: it waits on a
 *   signalfd, the VM's request eventfd, and the serial console's input.
 * - SIGTERM presses the ACPI power button once; a second SIGTERM, SIGINT
 *   or SIGHUP ends the VM at once.
 * - A guest reset tears the machine down and builds it again from the
 *   files (a fresh VM, fresh RAM), or ends vmm under --no-reboot.
 * - Console input is read only while the UART has room, so no byte the
 *   user typed is lost while the guest is busy.
 * - Every file the VM needs (kernel, initrd, disk images with their
 *   backing chains) is opened once, before vmm gives up root (--user), and
 *   kept open across guest resets.
 * - The control socket is served from the same loop. Its requests act as
 *   the signals do (vm.powerdown presses the button, vm.quit ends the VM),
 *   or pause the vCPUs; a pause outlives a guest reset. When vmm ends, its
 *   clients get a vm.event notification saying why.
 */
#include "vmm/run.h"

#include <errno.h>
#include <inttypes.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/jsonrpc.h"
#include "common/log.h"
#include "common/mac.h"
#include "vmm/control.h"
#include "vmm/vcpu.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/net.h"
#include "vmm/x86/boot.h"

enum run_outcome { RUN_NONE, RUN_POWEROFF, RUN_RESET, RUN_STOPPED, RUN_QUIT, RUN_ERROR };

struct run_state {
	struct vm vm;
	struct chardev console;
	struct framebuffer fb;       /* the screen, when there is one */
	bool has_fb;
	struct vnc *vnc;
	struct control *control;
	const struct run_options *opts;
	struct vm_config cfg;        /* opts->vm with its files open */
	bool paused;                 /* the vCPUs wait; kept across a reset */
	bool forced_reset;           /* vm.reset: build the VM again even under --no-reboot */
	enum run_outcome requested;  /* what a control request asked the loop to do */
	int kvm_fd;
	int signal_fd;
	int event_fd;
	int serial_wake_fd;
	unsigned int sigterms;
};

static void drain_eventfd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain */
	}
}

/* Input from one console source that poll() found ready, as much as the UART takes. */
static void console_input(struct run_state *st, const struct pollfd *pfd)
{
	uint8_t buf[SERIAL_FIFO_SIZE];
	unsigned int room = serial_rx_room(&st->vm.com1);
	size_t n;

	n = chardev_input(&st->console, pfd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n)
		serial_receive(&st->vm.com1, buf, n);
}

static int64_t thread_cpu_ns(pthread_t thread)
{
	struct timespec ts;
	clockid_t clock;

	if (pthread_getcpuclockid(thread, &clock) != 0 || clock_gettime(clock, &ts) < 0)
		return 0;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t resident_bytes(void)
{
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? (int64_t)resident * sysconf(_SC_PAGESIZE) : 0;
}

static json_object *vm_stats(struct run_state *st)
{
	json_object *o = json_object_new_object(), *vcpus = json_object_new_array(),
		    *disks = json_object_new_array(), *nets = json_object_new_array();
	struct timespec ts;

	for (unsigned int i = 0; i < st->vm.ncpus; i++) {
		json_object *v = json_object_new_object();
		struct vcpu *vcpu = &st->vm.vcpus[i];

		json_object_object_add(v, "cpu_time_ns",
				       json_object_new_int64(vcpu->thread_started
								     ? thread_cpu_ns(vcpu->thread)
								     : 0));
		json_object_array_add(vcpus, v);
	}
	for (unsigned int i = 0; i < st->vm.nblk; i++) {
		struct virtio_blk_stats *bs = &st->vm.blk[i]->stats;
		json_object *d = json_object_new_object();

		json_object_object_add(d, "rd_reqs", json_object_new_int64(bs->rd_reqs));
		json_object_object_add(d, "rd_bytes", json_object_new_int64(bs->rd_bytes));
		json_object_object_add(d, "wr_reqs", json_object_new_int64(bs->wr_reqs));
		json_object_object_add(d, "wr_bytes", json_object_new_int64(bs->wr_bytes));
		json_object_object_add(d, "flush_reqs", json_object_new_int64(bs->flush_reqs));
		json_object_array_add(disks, d);
	}
	for (unsigned int i = 0; i < st->vm.nnet; i++) {
		struct virtio_net_stats *ns = &st->vm.net[i]->stats;
		json_object *n = json_object_new_object();
		char mac[MAC_STRLEN];

		mac_format(st->cfg.nets[i].mac, mac);
		json_object_object_add(n, "mac", json_object_new_string(mac));
		json_object_object_add(n, "link", json_object_new_boolean(!st->cfg.net_link_down[i]));
		json_object_object_add(n, "rx_bytes", json_object_new_int64(ns->rx_bytes));
		json_object_object_add(n, "rx_packets", json_object_new_int64(ns->rx_packets));
		json_object_object_add(n, "rx_dropped", json_object_new_int64(ns->rx_dropped));
		json_object_object_add(n, "tx_bytes", json_object_new_int64(ns->tx_bytes));
		json_object_object_add(n, "tx_packets", json_object_new_int64(ns->tx_packets));
		json_object_object_add(n, "tx_dropped", json_object_new_int64(ns->tx_dropped));
		json_object_array_add(nets, n);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	json_object_object_add(o, "cpu_time_ns",
			       json_object_new_int64(ts.tv_sec * 1000000000LL + ts.tv_nsec));
	json_object_object_add(o, "vcpus", vcpus);
	json_object_object_add(o, "memory_bytes", json_object_new_int64(st->opts->vm.mem_size));
	json_object_object_add(o, "rss_bytes", json_object_new_int64(resident_bytes()));
	json_object_object_add(o, "disks", disks);
	json_object_object_add(o, "nets", nets);
	return o;
}

static json_object *vm_status(struct run_state *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "state", json_object_new_string(st->paused ? "paused" : "running"));
	json_object_object_add(o, "name", json_object_new_string(st->opts->name ? st->opts->name : ""));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	return o;
}

/*
 * vm.set_link {"nic": N, "up": BOOL} or {"mac": "52:54:...", "up": BOOL}:
 * plug or pull a NIC's cable (kept across resets). vmmd names the NIC by
 * its MAC, which stays right when the definition changed since the start.
 */
static json_object *set_link(struct run_state *st, json_object *params, bool *is_error)
{
	int64_t nic = -1;
	const char *mac_text = NULL;
	uint8_t mac[6];
	bool up, by_nic, by_mac;

	by_nic = json_get_int64(params, "nic", &nic);
	by_mac = json_get_string(params, "mac", &mac_text);
	if (!json_get_bool(params, "up", &up) || by_nic == by_mac) {
		*is_error = true;
		return jsonrpc_error(NULL, JSONRPC_INVALID_PARAMS,
				     "vm.set_link wants {\"nic\": N or \"mac\": MAC, \"up\": true|false}");
	}
	if (mac_text) {
		if (mac_parse(mac_text, mac) < 0) {
			*is_error = true;
			return jsonrpc_error(NULL, JSONRPC_INVALID_PARAMS, "'%.20s' is not a MAC address",
					     mac_text);
		}
		for (unsigned int i = 0; i < st->vm.nnet; i++)
			if (memcmp(st->cfg.nets[i].mac, mac, sizeof(mac)) == 0)
				nic = i;
		if (nic < 0) {
			*is_error = true;
			return jsonrpc_error(NULL, "no-interface", "the VM has no NIC with MAC %.17s",
					     mac_text);
		}
	}
	if (nic < 0 || nic >= st->vm.nnet) {
		*is_error = true;
		return jsonrpc_error(NULL, JSONRPC_INVALID_PARAMS, "the VM has no NIC %lld",
				     (long long)nic);
	}
	st->cfg.net_link_down[nic] = !up;
	virtio_net_set_link(st->vm.net[nic], up);
	log_info("NIC %lld: link %s", (long long)nic, up ? "up" : "down");
	return json_object_new_object();
}

/* The control socket's requests; see vmm/control.h. */
static json_object *control_request(void *opaque, const char *method, json_object *params,
				    bool *is_error)
{
	struct run_state *st = opaque;

	if (strcmp(method, "vm.status") == 0)
		return vm_status(st);
	if (strcmp(method, "vm.stats") == 0)
		return vm_stats(st);
	if (strcmp(method, "vm.pause") == 0) {
		if (!st->paused) {
			vm_pause(&st->vm);
			st->paused = true;
			log_info("VM paused");
		}
		return vm_status(st);
	}
	if (strcmp(method, "vm.resume") == 0) {
		if (st->paused) {
			vm_resume(&st->vm);
			st->paused = false;
			log_info("VM resumed");
		}
		return vm_status(st);
	}
	if (strcmp(method, "vm.powerdown") == 0) {
		pm_power_button(&st->vm.pm);
		return vm_status(st);
	}
	if (strcmp(method, "vm.reset") == 0) {
		st->forced_reset = true;
		st->requested = RUN_RESET;
		return json_object_new_object();
	}
	if (strcmp(method, "vm.set_link") == 0)
		return set_link(st, params, is_error);
	if (strcmp(method, "vm.quit") == 0) {
		st->requested = RUN_QUIT;
		return json_object_new_object();
	}
	*is_error = true;
	return jsonrpc_error(NULL, JSONRPC_METHOD_NOT_FOUND, "vmm has no method %s", method);
}

static void send_exit_event(struct run_state *st, enum run_outcome outcome)
{
	static const char *const reasons[] = {
		[RUN_POWEROFF] = "poweroff", [RUN_RESET] = "reboot", [RUN_STOPPED] = "signal",
		[RUN_QUIT] = "quit", [RUN_ERROR] = "error", [RUN_NONE] = "error",
	};
	json_object *params = json_object_new_object(), *ev;

	json_object_object_add(params, "event", json_object_new_string("shutdown"));
	json_object_object_add(params, "reason", json_object_new_string(reasons[outcome]));
	ev = jsonrpc_notification("vm.event", params);
	control_broadcast(st->control, ev);
	json_object_put(ev);
}

/* false when the loop must end; *outcome says how. */
static bool handle_signal(struct run_state *st, enum run_outcome *outcome)
{
	struct signalfd_siginfo si;

	if (read(st->signal_fd, &si, sizeof(si)) != sizeof(si))
		return true;
	if (si.ssi_signo == SIGTERM && st->sigterms++ == 0) {
		pm_power_button(&st->vm.pm);
		return true;
	}
	log_info("VM stopped at once on signal %s", strsignal(si.ssi_signo));
	*outcome = RUN_STOPPED;
	return false;
}

static enum run_outcome run_until_event(struct run_state *st)
{
	enum run_outcome outcome = RUN_ERROR;

	for (;;) {
		struct pollfd fds[4 + CHARDEV_INPUTS_MAX + CONTROL_MAX_POLLFDS];
		int nfds = 0, input_idx = -1, listen_idx = -1, control_idx = -1;
		unsigned int ncontrol = 0, ninputs = 0;

		fds[nfds++] = (struct pollfd){ .fd = st->signal_fd, .events = POLLIN };
		fds[nfds++] = (struct pollfd){ .fd = st->event_fd, .events = POLLIN };
		fds[nfds++] = (struct pollfd){ .fd = st->serial_wake_fd, .events = POLLIN };
		if (st->console.listen_fd >= 0) {
			listen_idx = nfds;
			fds[nfds++] = (struct pollfd){ .fd = st->console.listen_fd, .events = POLLIN };
		}
		input_idx = nfds;
		ninputs = chardev_input_pollfds(&st->console, fds + nfds,
						serial_rx_room(&st->vm.com1) > 0);
		nfds += ninputs;
		if (st->control) {
			control_idx = nfds;
			ncontrol = control_pollfds(st->control, fds + nfds);
			nfds += ncontrol;
		}
		if (poll(fds, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll failed: %s", strerror(errno));
			return RUN_ERROR;
		}
		if ((fds[0].revents & POLLIN) && !handle_signal(st, &outcome))
			return outcome;
		if (fds[1].revents & POLLIN) {
			drain_eventfd(st->event_fd);
			switch (vm_take_request(&st->vm)) {
			case VM_REQUEST_POWEROFF:
				return RUN_POWEROFF;
			case VM_REQUEST_RESET:
				return RUN_RESET;
			case VM_REQUEST_ERROR:
				return RUN_ERROR;
			case VM_REQUEST_NONE:
				break;
			}
		}
		if (fds[2].revents & POLLIN)
			drain_eventfd(st->serial_wake_fd);
		if (listen_idx >= 0 && (fds[listen_idx].revents & POLLIN))
			chardev_accept(&st->console);
		for (unsigned int i = 0; i < ninputs; i++)
			console_input(st, &fds[input_idx + i]);
		if (control_idx >= 0) {
			control_dispatch(st->control, fds + control_idx, ncontrol);
			if (st->requested != RUN_NONE) {
				outcome = st->requested;
				st->requested = RUN_NONE;
				return outcome;
			}
		}
	}
}

static int setup_signals(struct run_state *st)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	vcpu_setup_kick_signal();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked here, so vCPU threads inherit the mask and never take them. */
	sigaddset(&set, VCPU_KICK_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -EINVAL;
	sigdelset(&set, VCPU_KICK_SIGNAL);
	st->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return st->signal_fd < 0 ? -errno : 0;
}

/* Become user: no supplementary groups, no way back, no core dumps or ptrace by peers. */
static int drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);

	if (!pw)
		return error_set(err, errlen, -ENOENT, "--user %s: no such user", user);
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return error_set(err, errlen, -errno, "cannot become user %s: %s", user,
				 strerror(errno));
	if (pw->pw_uid != 0 && setuid(0) == 0)
		return error_set(err, errlen, -EPERM, "could become root again after --user %s", user);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* other VMs run as the same user: they must not ptrace this one */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_debug("running as user %s (uid %u)", user, (unsigned int)pw->pw_uid);
	return 0;
}

/* Open the kernel, initrd and disks into cfg. 0, or -1 after logging. */
static int open_vm_files(struct vm_config *cfg)
{
	char err[512];
	int r;

	cfg->kernel_fd = boot_open_file(cfg->kernel);
	if (cfg->kernel_fd < 0) {
		log_error("cannot read kernel %s: %s", cfg->kernel, strerror(-cfg->kernel_fd));
		return -1;
	}
	if (boot_check_kernel(cfg->kernel_fd, cfg->kernel, cfg->cmdline, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (cfg->initrd) {
		cfg->initrd_fd = boot_open_file(cfg->initrd);
		if (cfg->initrd_fd < 0) {
			log_error("cannot read initrd %s: %s", cfg->initrd, strerror(-cfg->initrd_fd));
			return -1;
		}
	}
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		r = disk_open(&cfg->disks[i], &cfg->open_disks[i], err, sizeof(err));
		if (r < 0) {
			log_error("%s", err);
			return -1;
		}
	}
	for (unsigned int i = 0; i < cfg->nnets; i++) {
		cfg->net_fds[i] = tap_open(&cfg->nets[i], err, sizeof(err));
		if (cfg->net_fds[i] < 0) {
			log_error("%s", err);
			return -1;
		}
	}
	return 0;
}

static void close_vm_files(struct vm_config *cfg)
{
	if (cfg->kernel_fd >= 0)
		close(cfg->kernel_fd);
	if (cfg->initrd_fd >= 0)
		close(cfg->initrd_fd);
	for (unsigned int i = 0; i < cfg->ndisks; i++)
		if (cfg->open_disks[i])
			disk_close(cfg->open_disks[i]);
	for (unsigned int i = 0; i < cfg->nnets; i++)
		if (cfg->net_fds[i] >= 0)
			close(cfg->net_fds[i]);
}

int run_vm(const struct run_options *opts)
{
	struct run_state *st;
	unsigned int max_cpus;
	bool ready_sent = false;
	char err[512];
	int status = 1, r;

	st = calloc(1, sizeof(*st));
	if (!st) {
		log_error("out of memory");
		return 1;
	}
	st->kvm_fd = st->signal_fd = st->event_fd = st->serial_wake_fd = -1;
	st->opts = opts;
	st->cfg = opts->vm;
	st->cfg.kernel_fd = st->cfg.initrd_fd = -1;
	memset(st->cfg.open_disks, 0, sizeof(st->cfg.open_disks));
	for (unsigned int i = 0; i < VM_MAX_NICS; i++)
		st->cfg.net_fds[i] = -1;

	/* Every file the command line names is checked before /dev/kvm is opened. */
	if (open_vm_files(&st->cfg) < 0)
		goto out_files;
	r = chardev_open(&st->console, opts->serial);
	if (r < 0) {
		if (r == -EINVAL)
			log_error("--serial %s is not stdio, file:PATH or unix:PATH", opts->serial);
		else
			log_error("cannot open serial console %s: %s", opts->serial, strerror(-r));
		goto out_files;
	}
	if (opts->serial_log) {
		r = chardev_set_log(&st->console, opts->serial_log, opts->serial_log_max);
		if (r < 0) {
			log_error("cannot open serial log %s: %s", opts->serial_log, strerror(-r));
			goto out_console;
		}
	}
	r = vm_open_kvm(&st->kvm_fd, &max_cpus, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		goto out_console;
	}
	if (opts->vm.ncpus < 1 || opts->vm.ncpus > max_cpus) {
		log_error("--cpus %u is out of range: this host allows 1 to %u", opts->vm.ncpus,
			  max_cpus);
		goto out_console;
	}
	if (setup_signals(st) < 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		goto out_console;
	}
	st->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	st->serial_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (st->event_fd < 0 || st->serial_wake_fd < 0) {
		log_error("cannot create an eventfd: %s", strerror(errno));
		goto out_console;
	}

	if (opts->control) {
		r = control_open(&st->control, opts->control, control_request, st, err, sizeof(err));
		if (r < 0) {
			log_error("%s", err);
			goto out_console;
		}
	}
	if (opts->vnc) {
		r = framebuffer_init(&st->fb, opts->fb_width, opts->fb_height);
		if (r < 0) {
			log_error("cannot map a %ux%u framebuffer: %s", opts->fb_width,
				  opts->fb_height, strerror(-r));
			goto out_console;
		}
		st->has_fb = true;
		r = vnc_start(&st->vnc, &opts->vnc_options, &st->fb, err, sizeof(err));
		if (r < 0) {
			log_error("%s", err);
			goto out_console;
		}
	}

	if (opts->user && drop_privileges(opts->user, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out_console;
	}

	/* The screen and its viewers outlive each VM: a guest reset builds a new one. */
	for (;;) {
		enum run_outcome outcome = RUN_ERROR;

		r = vm_create(&st->vm, st->kvm_fd, &st->cfg, &st->console,
			      st->has_fb ? &st->fb : NULL, st->event_fd, st->serial_wake_fd, err,
			      sizeof(err));
		if (r < 0) {
			log_error("%s", err);
			send_exit_event(st, RUN_ERROR);
			break;
		}
		if (st->paused)
			atomic_store(&st->vm.paused, true);
		r = vm_start(&st->vm);
		if (r < 0) {
			log_error("cannot start vCPU threads: %s", strerror(-r));
			vm_destroy(&st->vm);
			send_exit_event(st, RUN_ERROR);
			break;
		}
		if (opts->ready_fd >= 0 && !ready_sent) {
			if (write_all(opts->ready_fd, "1", 1) < 0)
				log_warn("cannot tell the supervisor the VM runs: %s", strerror(errno));
			close(opts->ready_fd);
			ready_sent = true;
		}
		if (st->vnc)
			vnc_attach(st->vnc, &st->vm.i8042, st->vm.tablet);
		outcome = run_until_event(st);
		if (st->vnc)
			vnc_detach(st->vnc);
		vm_destroy(&st->vm);
		if (outcome == RUN_RESET && (!opts->vm.no_reboot || st->forced_reset)) {
			st->sigterms = 0;
			st->forced_reset = false;
			continue;
		}
		send_exit_event(st, outcome);
		status = outcome == RUN_ERROR ? 1 : 0;
		break;
	}
out_console:
	control_close(st->control);
	vnc_stop(st->vnc);
	if (st->has_fb)
		framebuffer_destroy(&st->fb);
	chardev_close(&st->console);
out_files:
	close_vm_files(&st->cfg);
	if (st->serial_wake_fd >= 0)
		close(st->serial_wake_fd);
	if (st->event_fd >= 0)
		close(st->event_fd);
	if (st->signal_fd >= 0)
		close(st->signal_fd);
	if (st->kvm_fd >= 0)
		close(st->kvm_fd);
	free(st);
	return status;
}
