/* vmm: one process per virtual machine. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/run.h"

#define DEFAULT_MEMORY_MIB 256
#define DEFAULT_CMDLINE "console=ttyS0"
#define DEFAULT_FB_WIDTH 1024
#define DEFAULT_FB_HEIGHT 768
#define DEFAULT_SERIAL_LOG_MAX (1024 * 1024)

static void usage(FILE *out)
{
	fputs("Usage: vmm run --kernel FILE [options]\n"
	      "\n"
	      "Run one virtual machine on /dev/kvm until the guest powers off.\n"
	      "\n"
	      "Options for run:\n"
	      "  --kernel FILE        Linux bzImage to boot (x86 boot protocol 2.12+, 64-bit entry)\n"
	      "  --initrd FILE        initial ramdisk\n"
	      "  --cmdline TEXT       kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
	      "  --memory MIB         guest memory in MiB (default 256)\n"
	      "  --cpus N             number of vCPUs (default 1)\n"
	      "  --serial stdio|file:PATH|unix:PATH\n"
	      "                       where COM1 goes (default stdio)\n"
	      "  --serial-log FILE[,size=BYTES]\n"
	      "                       also copy COM1's output into FILE; past BYTES (default\n"
	      "                       1 MiB) it moves to FILE.1 and FILE starts again\n"
	      "  --no-reboot          end vmm (status 0) when the guest reboots\n"
	      "  --disk FILE[,format=raw|qcow2][,readonly][,cache=none|writeback][,serial=S]\n"
	      "                       a virtio-blk disk (repeatable); format= is needed for\n"
	      "                       qcow2 images, cache=none opens the file O_DIRECT\n"
	      "  --net tap=IFNAME|fd=N[,mac=MAC][,link=up|down]\n"
	      "                       a virtio-net NIC on a tap device, opened by name or\n"
	      "                       handed over open (IFF_VNET_HDR); MAC defaults to a\n"
	      "                       random 52:54:00:xx:xx:xx (repeatable, at most 4)\n"
	      "  --rng                a virtio-rng device fed from the host's getrandom()\n"
	      "  --vnc unix:PATH|tcp:HOST:PORT[,password=FILE]\n"
	      "                       a screen (linear framebuffer, PS/2 keyboard and mouse,\n"
	      "                       virtio tablet) served to VNC viewers; password= asks\n"
	      "                       for the first line of FILE (VNC authentication)\n"
	      "  --fb WIDTHxHEIGHT    the screen's size (default 1024x768)\n"
	      "  --name NAME          the VM's name, for logs and status replies\n"
	      "  --user NAME          once /dev/kvm and the VM's files are open, run as this\n"
	      "                       user (no way back to root)\n"
	      "  --control unix:PATH  a control socket (JSON lines: vm.status, vm.stats,\n"
	      "                       vm.pause, vm.resume, vm.powerdown, vm.reset, vm.quit,\n"
	      "                       vm.set_link)\n"
	      "  --ready-fd N         write one byte to fd N and close it once the guest runs\n"
	      "  -v, --verbose        more messages on stderr\n"
	      "  -h, --help           show this help\n"
	      "\n"
	      "Guest power-off ends vmm with status 0; a guest reboot restarts the guest.\n"
	      "SIGTERM presses the ACPI power button; a second SIGTERM ends the VM at once.\n",
	      out);
}

/* Parse a whole decimal number in [min, max]; 0 or -EINVAL. */
static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static uint64_t host_memory(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return UINT64_MAX;
	return ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
}

static int cmd_run(int argc, char **argv)
{
	enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEMORY, OPT_CPUS, OPT_SERIAL,
	       OPT_NO_REBOOT, OPT_DISK, OPT_RNG, OPT_VNC, OPT_FB, OPT_NAME, OPT_CONTROL,
	       OPT_READY_FD, OPT_SERIAL_LOG, OPT_USER, OPT_NET };
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "net", required_argument, NULL, OPT_NET },
		{ "vnc", required_argument, NULL, OPT_VNC },
		{ "fb", required_argument, NULL, OPT_FB },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "ready-fd", required_argument, NULL, OPT_READY_FD },
		{ "serial-log", required_argument, NULL, OPT_SERIAL_LOG },
		{ "user", required_argument, NULL, OPT_USER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct run_options opts = {
		.vm = { .cmdline = DEFAULT_CMDLINE, .mem_size = DEFAULT_MEMORY_MIB * MiB, .ncpus = 1 },
		.serial = "stdio",
		.fb_width = DEFAULT_FB_WIDTH,
		.fb_height = DEFAULT_FB_HEIGHT,
		.ready_fd = -1,
		.serial_log_max = DEFAULT_SERIAL_LOG_MAX,
	};
	unsigned long long v;
	bool fb_given = false;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			opts.vm.kernel = optarg;
			break;
		case OPT_INITRD:
			opts.vm.initrd = optarg;
			break;
		case OPT_CMDLINE:
			opts.vm.cmdline = optarg;
			break;
		case OPT_MEMORY:
			if (parse_uint(optarg, VM_MIN_MEMORY / MiB, 1ULL << 30, &v) < 0) {
				log_error("--memory %s is not a size in MiB of at least %llu", optarg,
					  VM_MIN_MEMORY / MiB);
				return 1;
			}
			opts.vm.mem_size = v * MiB;
			break;
		case OPT_CPUS:
			if (parse_uint(optarg, 0, UINT_MAX, &v) < 0) {
				log_error("--cpus %s is not a number", optarg);
				return 1;
			}
			if (v < 1) {
				log_error("--cpus %s is out of range: a VM has at least 1", optarg);
				return 1;
			}
			opts.vm.ncpus = v;
			break;
		case OPT_SERIAL:
			opts.serial = optarg;
			break;
		case OPT_NO_REBOOT:
			opts.vm.no_reboot = true;
			break;
		case OPT_DISK:
			if (opts.vm.ndisks == VM_MAX_DISKS) {
				log_error("at most %d disks", VM_MAX_DISKS);
				return 1;
			}
			if (disk_parse_options(optarg, &opts.vm.disks[opts.vm.ndisks], err,
					       sizeof(err)) < 0) {
				log_error("%s", err);
				return 1;
			}
			opts.vm.ndisks++;
			break;
		case OPT_NET:
			if (opts.vm.nnets == VM_MAX_NICS) {
				log_error("at most %d NICs", VM_MAX_NICS);
				return 1;
			}
			if (net_parse_options(optarg, &opts.vm.nets[opts.vm.nnets], err,
					      sizeof(err)) < 0) {
				log_error("%s", err);
				return 1;
			}
			opts.vm.net_link_down[opts.vm.nnets] = opts.vm.nets[opts.vm.nnets].link_down;
			opts.vm.nnets++;
			break;
		case OPT_RNG:
			opts.vm.rng = true;
			break;
		case OPT_VNC:
			if (vnc_parse_options(optarg, &opts.vnc_options, err, sizeof(err)) < 0) {
				log_error("%s", err);
				return 1;
			}
			opts.vnc = true;
			break;
		case OPT_FB:
			fb_given = true;
			if (framebuffer_parse_size(optarg, &opts.fb_width, &opts.fb_height) < 0) {
				log_error("--fb %s is not WIDTHxHEIGHT from %dx%d to %dx%d, the width a "
					  "multiple of 8", optarg, FB_MIN_WIDTH, FB_MIN_HEIGHT,
					  FB_MAX_WIDTH, FB_MAX_HEIGHT);
				return 1;
			}
			break;
		case OPT_SERIAL_LOG: {
			char *comma = strchr(optarg, ',');

			if (comma) {
				*comma = '\0';
				if (strncmp(comma + 1, "size=", 5) != 0 ||
				    parse_uint(comma + 6, 4096, 1ULL << 40, &v) < 0) {
					log_error("--serial-log: '%s' is not size=BYTES (at least 4096)",
						  comma + 1);
					return 1;
				}
				opts.serial_log_max = v;
			}
			if (!*optarg) {
				log_error("--serial-log needs a file");
				return 1;
			}
			opts.serial_log = optarg;
			break;
		}
		case OPT_NAME:
			opts.name = optarg;
			break;
		case OPT_USER:
			opts.user = optarg;
			break;
		case OPT_CONTROL:
			if (strncmp(optarg, "unix:", 5) != 0 || !optarg[5]) {
				log_error("--control %s is not unix:PATH", optarg);
				return 1;
			}
			opts.control = optarg;
			break;
		case OPT_READY_FD:
			if (parse_uint(optarg, 3, INT_MAX, &v) < 0 || fcntl((int)v, F_GETFD) < 0) {
				log_error("--ready-fd %s is not an open file descriptor above 2", optarg);
				return 1;
			}
			opts.ready_fd = v;
			fcntl(opts.ready_fd, F_SETFD, FD_CLOEXEC);
			break;
		case 'v':
			log_setup("vmm", LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("unknown option; see vmm --help");
			return 1;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument %s; see vmm --help", argv[optind]);
		return 1;
	}
	if (fb_given && !opts.vnc) {
		log_error("--fb sizes the screen of --vnc, which is missing");
		return 1;
	}
	if (!opts.vm.kernel) {
		log_error("--kernel is required; see vmm --help");
		return 1;
	}
	if (opts.vm.mem_size > host_memory()) {
		log_error("--memory %llu is more than this host's %llu MiB of memory",
			  (unsigned long long)(opts.vm.mem_size / MiB),
			  (unsigned long long)(host_memory() / MiB));
		return 1;
	}
	return run_vm(&opts);
}

/*
 * A closed stdin, stdout or stderr would be handed out again by the next
 * open() (/dev/kvm as "console input"): fill any gap with /dev/null.
 */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	}
}

int main(int argc, char **argv)
{
	ensure_std_fds();
	log_setup("vmm", LOG_LEVEL_INFO);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	log_error("unknown command %s; see vmm --help", argv[1]);
	return 1;
}
