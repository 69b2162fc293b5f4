#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * The program name and level are process-wide by nature (stderr is too);
 * they are written once by log_setup() before threads start and only read
 * afterwards.
 */
static struct {
	const char *program;
	enum log_level level;
} log_config = { "webkvm", LOG_LEVEL_INFO };

void log_setup(const char *program, enum log_level level)
{
	const char *slash = strrchr(program, '/');

	log_config.program = slash ? slash + 1 : program;
	log_config.level = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > log_config.level)
		return;
	n = snprintf(line, sizeof(line), "%s: ", log_config.program);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	/* One fputs of a whole line keeps lines from threads apart. */
	strncat(line, "\n", sizeof(line) - strlen(line) - 1);
	fputs(line, stderr);
}
