/*
 * The host's facts for host.info: CPU model and count, CPU time since
 * boot (a portal draws use from two samples), memory, and whether KVM is
 * usable.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vmm/service/vmmd.h"

static void cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			colon += strspn(colon + 1, " \t") + 1;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
}

/* /proc/stat's first line, in nanoseconds. */
static json_object *cpu_times(void)
{
	unsigned long long v[8] = { 0 };
	static const char *const names[] = { "user", "nice", "system", "idle", "iowait", "irq",
					     "softirq", "steal" };
	long hz = sysconf(_SC_CLK_TCK);
	json_object *o = json_object_new_object();
	FILE *f = fopen("/proc/stat", "re");

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
			memset(v, 0, sizeof(v));
		fclose(f);
	}
	for (int i = 0; i < 8; i++)
		json_object_object_add(o, names[i],
				       json_object_new_int64(hz > 0 ? v[i] * (1000000000LL / hz) : 0));
	return o;
}

static void memory_kib(unsigned long long *total, unsigned long long *available)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");

	*total = *available = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "MemTotal: %llu kB", total);
		sscanf(line, "MemAvailable: %llu kB", available);
	}
	fclose(f);
}

static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
	close(fd);
	return ok;
}

json_object *host_info(void)
{
	json_object *o = json_object_new_object();
	unsigned long long total, avail;
	struct utsname u;
	char model[256];

	cpu_model(model, sizeof(model));
	memory_kib(&total, &avail);
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	json_object_object_add(o, "hostname", json_object_new_string(u.nodename));
	json_object_object_add(o, "kernel", json_object_new_string(u.release));
	json_object_object_add(o, "cpu_model", json_object_new_string(model));
	json_object_object_add(o, "cpus", json_object_new_int(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "cpu_time_ns", cpu_times());
	json_object_object_add(o, "memory_kib", json_object_new_int64(total));
	json_object_object_add(o, "memory_available_kib", json_object_new_int64(avail));
	json_object_object_add(o, "kvm", json_object_new_boolean(kvm_usable()));
	return o;
}
