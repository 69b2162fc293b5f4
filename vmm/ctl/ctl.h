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

/* storage.c: pool-* and vol-* commands */
bool storage_command_known(const char *cmd);
int storage_command(struct ctl *c, int argc, char **argv);

#endif
