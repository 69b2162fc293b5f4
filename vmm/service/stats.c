/*
 * Samples for graphs: every interval vmmd asks each running VM for its
 * counters and reads the host's, and keeps the last STATS_SAMPLES of each.
 * A portal draws rates from the differences between samples.
 *
 * NOTES
 * - Counters are cumulative and come from vmm, so they survive a vmmd
 *   restart; the history itself starts again.
 * - Sampling asks each running VM's vmm for vm.stats and takes the
 *   answer when it comes (exchange.c), one request per VM at a time: a
 *   vmm that does not answer misses samples, and holds up no one. The
 *   sample is also how vmmd notices a vmm that stopped answering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmm/service/vmmd.h"

struct stats_ring {
	struct stats_sample s[STATS_SAMPLES];
	unsigned int next, count;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void ring_add(struct stats_ring **ring, const struct stats_sample *s)
{
	if (!*ring) {
		*ring = calloc(1, sizeof(**ring));
		if (!*ring)
			return;
	}
	(*ring)->s[(*ring)->next] = *s;
	(*ring)->next = ((*ring)->next + 1) % STATS_SAMPLES;
	if ((*ring)->count < STATS_SAMPLES)
		(*ring)->count++;
}

void stats_ring_free(struct stats_ring *ring)
{
	free(ring);
}

static int64_t get(json_object *o, const char *key)
{
	int64_t v;

	return json_get_int64(o, key, &v) ? v : 0;
}

void stats_add_sample(struct domain *dom, json_object *res)
{
	struct stats_sample s = { .time_ms = now_ms() };
	json_object *disks, *nets;

	s.cpu_time_ns = get(res, "cpu_time_ns");
	s.rss_bytes = get(res, "rss_bytes");
	dom->cpu_time_ns = s.cpu_time_ns;
	if (json_object_object_get_ex(res, "disks", &disks) &&
	    json_object_is_type(disks, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(disks); i++) {
			json_object *k = json_object_array_get_idx(disks, i);

			s.rd_bytes += get(k, "rd_bytes");
			s.wr_bytes += get(k, "wr_bytes");
			s.rd_reqs += get(k, "rd_reqs");
			s.wr_reqs += get(k, "wr_reqs");
		}
	}
	if (json_object_object_get_ex(res, "nets", &nets) && json_object_is_type(nets, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(nets); i++) {
			json_object *n = json_object_array_get_idx(nets, i);

			s.net_rx_bytes += get(n, "rx_bytes");
			s.net_tx_bytes += get(n, "tx_bytes");
		}
	}
	ring_add(&dom->history, &s);
}

static void sample_done(struct vmmd *d, struct exchange *x, json_object *res, const char *code,
			const char *err)
{
	(void)d;
	(void)code;
	(void)err;
	x->dom->sampling = false;
	if (res)
		stats_add_sample(x->dom, res);
}

static void sample_host(struct vmmd *d, int64_t t)
{
	json_object *h = host_info(), *cpu;
	struct stats_sample s = { .time_ms = t };

	if (json_object_object_get_ex(h, "cpu_time_ns", &cpu)) {
		s.cpu_time_ns = get(cpu, "user") + get(cpu, "nice") + get(cpu, "system") +
				get(cpu, "irq") + get(cpu, "softirq") + get(cpu, "steal");
		s.idle_ns = get(cpu, "idle") + get(cpu, "iowait");
	}
	s.mem_used_kib = get(h, "memory_kib") - get(h, "memory_available_kib");
	json_object_put(h);
	ring_add(&d->host_history, &s);
}

void stats_sample(struct vmmd *d, struct domain *dom)
{
	const char *code;
	char err[256];

	if (!dom->pid || dom->starting || dom->sampling || dom->state == DOMAIN_CRASHED)
		return;
	if (exchange_start(d, dom, "vm.stats", sample_done, NULL, &code, err, sizeof(err)) == 0)
		dom->sampling = true;
	else
		log_debug("no sample of %s: %s", dom->def->name, err);
}

void stats_sample_all(struct vmmd *d)
{
	for (unsigned int i = 0; i < d->ndomains; i++)
		stats_sample(d, d->domains[i]);
	sample_host(d, now_ms());
}

json_object *stats_history(const struct stats_ring *ring, bool host)
{
	json_object *arr = json_object_new_array();

	for (unsigned int i = 0; ring && i < ring->count; i++) {
		const struct stats_sample *s =
			&ring->s[(ring->next + STATS_SAMPLES - ring->count + i) % STATS_SAMPLES];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "time_ms", json_object_new_int64(s->time_ms));
		json_object_object_add(o, "cpu_time_ns", json_object_new_int64(s->cpu_time_ns));
		if (host) {
			json_object_object_add(o, "idle_ns", json_object_new_int64(s->idle_ns));
			json_object_object_add(o, "mem_used_kib", json_object_new_int64(s->mem_used_kib));
		} else {
			json_object_object_add(o, "rss_bytes", json_object_new_int64(s->rss_bytes));
			json_object_object_add(o, "rd_bytes", json_object_new_int64(s->rd_bytes));
			json_object_object_add(o, "wr_bytes", json_object_new_int64(s->wr_bytes));
			json_object_object_add(o, "rd_reqs", json_object_new_int64(s->rd_reqs));
			json_object_object_add(o, "wr_reqs", json_object_new_int64(s->wr_reqs));
			json_object_object_add(o, "net_rx_bytes", json_object_new_int64(s->net_rx_bytes));
			json_object_object_add(o, "net_tx_bytes", json_object_new_int64(s->net_tx_bytes));
		}
		json_object_array_add(arr, o);
	}
	return arr;
}
