/*
 * domain-xml FILE: check a domain definition as vmmd does and print what
 * dumpxml would give back, or the error on stderr (exit status 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fd.h"
#include "vmm/service/domain_xml.h"

int main(int argc, char **argv)
{
	struct domain_def *def;
	char err[512], *out;
	void *buf;
	size_t len;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: domain-xml FILE\n");
		return 2;
	}
	r = read_file(argv[1], DOMAIN_XML_MAX + 1, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "cannot read %s: %s\n", argv[1], strerror(-r));
		return 2;
	}
	r = domain_def_parse(&def, buf, len, err, sizeof(err));
	free(buf);
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	out = domain_def_format(def);
	fputs(out, stdout);
	free(out);
	domain_def_free(def);
	return 0;
}
