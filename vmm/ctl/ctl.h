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

/* edit.c: clone, attach-disk, detach-disk, undefine */
bool edit_command_known(const char *cmd);
int edit_command(struct ctl *c, int argc, char **argv);

/* storage.c: pool-* and vol-* commands */
bool storage_command_known(const char *cmd);
int storage_command(struct ctl *c, int argc, char **argv);

/* network.c: net-* commands and domifaddr */
bool network_command_known(const char *cmd);
int network_command(struct ctl *c, int argc, char **argv);

#endif
