/*
 * A piece of a page that a worker keeps with every input it was made
 * from, byte for byte, and gives again only for the same inputs: the
 * instances list's rows, while vmmd's list (by its etag), the caller's
 * rights and the query are what they were. The inputs are compared whole,
 * never by a hash, so one user's rows can never go to another.
 */
#ifndef WEBKVM_FCGI_FRAGMENT_H
#define WEBKVM_FCGI_FRAGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"

#define FRAGMENT_COUNTS 2

struct fragment {
	struct buf key;   /* the inputs, as the caller wrote them down */
	struct buf html;
	int64_t counts[FRAGMENT_COUNTS]; /* numbers kept with it (a list's total and shown) */
	bool valid;
};

/* The kept html when it was made from exactly key, else NULL. */
const struct buf *fragment_find(const struct fragment *f, const struct buf *key);
/*
 * Take html (the buffer is left empty) into f, to be found again for key;
 * for no key (NULL) it is there for the caller to use at once, and never
 * found.
 */
void fragment_keep(struct fragment *f, const struct buf *key, struct buf *html,
		   const int64_t counts[FRAGMENT_COUNTS]);
void fragment_free(struct fragment *f);

#endif
