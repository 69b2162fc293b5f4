/* What vmmctl's command files share. */
#ifndef WEBKVM_VMMCTL_CTL_H
#define WEBKVM_VMMCTL_CTL_H

#include <json-c/json.h>
#include <stdbool.h>

struct ctl {
	int fd;      /* connected to vmmd */
	bool json;   /* print results as JSON */
};

/* Print "error: ..." on stderr; returns 1 (the exit status). */
int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Call vmmd (takes params); NULL after printing the error. */
json_object *call(struct ctl *c, const char *method, json_object *params);
json_object *name_params(const char *name);
/* Members, or "" and 0 when missing. */
const char *str(json_object *o, const char *key);
long long num(json_object *o, const char *key);
/* Print res as JSON and release it; returns 0. */
int print_json(json_object *res);
/* Send FILE's XML to method (domain.define, pool.define); what names it in the output. */
int define_from_file(struct ctl *c, const char *method, const char *file, const char *what);
/* Print the "xml" that method gives for name. */
int print_xml(struct ctl *c, const char *method, const char *name);
/*
 * Call method for name, then say what happened as virsh does: "Network
 * default started", or with the name quoted "Domain 'vm1' started".
 */
int name_call(struct ctl *c, const char *method, const char *name, const char *what, bool quote,
	      const char *done);
/* Mark name autostarted through method (domain.autostart, ...), or unmark it; say so. */
int autostart_call(struct ctl *c, const char *method, const char *name, const char *what,
		   bool quote, bool disable);

/* args.c: a command's words, options (those in `options`, space-separated) and npos positionals. */
struct args {
	const char *pos[4];
	unsigned int npos;
	const char *pool, *format, *mode, *serial, *cache, *mac;
	bool all, disable, overlay, remove_all_storage, persistent;
};
/* 0, or 1 after printing the usage. */
int parse_args(int argc, char **argv, const char *options, unsigned int npos, struct args *a,
	       const char *usage);
/* "10G", "512M", "1048576": bytes, with binary suffixes as virsh reads them. 0 or -EINVAL. */
int parse_size(const char *s, long long *ret);

/* A command word, what parse_args takes for it, and what runs it. */
struct command {
	const char *name, *options, *usage;
	unsigned int npos;
	int (*run)(struct ctl *c, const struct args *a);
};
/* In a table that ends with a NULL name; NULL when cmd is not there. */
const struct command *command_find(const struct command *table, const char *cmd);
/* Parse argv (argv[0] is the command word) and run; the exit status. */
int command_run(struct ctl *c, const struct command *cmd, int argc, char **argv);

/* edit.c: clone, attach-disk, detach-disk, undefine */
extern const struct command edit_commands[];
/* storage.c: pool-* and vol-* commands */
extern const struct command storage_commands[];
/* network.c: net-* commands and domifaddr */
extern const struct command network_commands[];

#endif
