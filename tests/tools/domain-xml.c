/*
 * domain-xml FILE: check a domain (or, with --pool, a storage pool)
 * definition as vmmd does and print what dumpxml would give back, or the
 * error on stderr (exit status 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fd.h"
#include "vmm/service/domain_xml.h"
#include "vmm/service/pool_xml.h"

int main(int argc, char **argv)
{
	struct domain_def *def = NULL;
	struct pool_def *pool = NULL;
	bool is_pool = argc == 3 && strcmp(argv[1], "--pool") == 0;
	const char *file = argv[argc - 1];
	char err[512], *out;
	void *buf;
	size_t len;
	int r;

	if (argc != 2 && !is_pool) {
		fprintf(stderr, "usage: domain-xml [--pool] FILE\n");
		return 2;
	}
	r = read_file(file, DOMAIN_XML_MAX + 1, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "cannot read %s: %s\n", file, strerror(-r));
		return 2;
	}
	r = is_pool ? pool_def_parse(&pool, buf, len, err, sizeof(err))
		    : domain_def_parse(&def, buf, len, err, sizeof(err));
	free(buf);
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	out = is_pool ? pool_def_format(pool) : domain_def_format(def);
	fputs(out, stdout);
	free(out);
	domain_def_free(def);
	pool_def_free(pool);
	return 0;
}
