/* vmmctl's command words: positional arguments and the options a command allows. */
#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "vmm/ctl/ctl.h"

static bool allowed(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

int parse_args(int argc, char **argv, const char *options, unsigned int npos, struct args *a,
	       const char *usage)
{
	static const struct { const char *name; size_t off; } values[] = {
		{ "--pool", offsetof(struct args, pool) },
		{ "--format", offsetof(struct args, format) },
		{ "--subdriver", offsetof(struct args, format) },
		{ "--mode", offsetof(struct args, mode) },
		{ "--serial", offsetof(struct args, serial) },
		{ "--cache", offsetof(struct args, cache) },
		{ "--mac", offsetof(struct args, mac) },
	};
	static const struct { const char *name; size_t off; } flags[] = {
		{ "--all", offsetof(struct args, all) },
		{ "--disable", offsetof(struct args, disable) },
		{ "--overlay", offsetof(struct args, overlay) },
		{ "--remove-all-storage", offsetof(struct args, remove_all_storage) },
		{ "--persistent", offsetof(struct args, persistent) },
		{ "--config", offsetof(struct args, persistent) },
	};

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		size_t k;

		if (strncmp(w, "--", 2) != 0) {
			if (a->npos == npos)
				return die("usage: %s", usage);
			a->pos[a->npos++] = w;
			continue;
		}
		if (!allowed(options, w))
			return die("%s is not an option here; usage: %s", w, usage);
		for (k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
			if (strcmp(w, values[k].name) == 0) {
				if (i + 1 >= argc)
					return die("%s needs a value; usage: %s", w, usage);
				*(const char **)((char *)a + values[k].off) = argv[++i];
				break;
			}
		}
		if (k < sizeof(values) / sizeof(values[0]))
			continue;
		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strcmp(w, flags[k].name) == 0)
				*(bool *)((char *)a + flags[k].off) = true;
	}
	if (a->npos != npos || (allowed(options, "--pool") && !a->pool))
		return die("usage: %s", usage);
	return 0;
}

const struct command *command_find(const struct command *table, const char *cmd)
{
	for (; table->name; table++)
		if (strcmp(table->name, cmd) == 0)
			return table;
	return NULL;
}

int command_run(struct ctl *c, const struct command *cmd, int argc, char **argv)
{
	struct args a;

	if (parse_args(argc, argv, cmd->options, cmd->npos, &a, cmd->usage))
		return 1;
	return cmd->run(c, &a);
}

/* "10G", "512M", "1048576": bytes, with binary suffixes as virsh reads them. */
int parse_size(const char *s, long long *ret)
{
	static const struct { const char *suffix; unsigned long long mult; } units[] = {
		{ "", 1 }, { "b", 1 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 },
		{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 }, { "G", 1ULL << 30 },
		{ "GiB", 1ULL << 30 }, { "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
		{ "KB", 1000ULL }, { "MB", 1000000ULL }, { "GB", 1000000000ULL },
	};
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v == 0 || v > (1ULL << 50) / units[i].mult)
				return -EINVAL;
			*ret = v * units[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}

