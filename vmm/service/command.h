/*
 * Short host commands that vmmd waits for (nft, dnsmasq's start).
 */
#ifndef WEBKVM_VMMD_COMMAND_H
#define WEBKVM_VMMD_COMMAND_H

#include <stddef.h>

/*
 * Run argv[0] (looked up in PATH and the sbin folders) with input on its
 * standard input (or none) and wait for it. 0 when it exits with 0; else
 * -1 with its first line of errors (or why it did not run) in err.
 */
int command_run(const char *const argv[], const char *input, char *err, size_t errlen);

#endif
