#include <string.h>

#include "fcgi/fragment.h"

const struct buf *fragment_find(const struct fragment *f, const struct buf *key)
{
	if (!f->valid || key->error || f->key.len != key->len ||
	    (key->len && memcmp(f->key.data, key->data, key->len)))
		return NULL;
	return &f->html;
}

void fragment_keep(struct fragment *f, const struct buf *key, struct buf *html,
		   const int64_t counts[FRAGMENT_COUNTS])
{
	f->valid = false;
	buf_free(&f->html);
	f->html = *html;
	*html = (struct buf)BUF_INIT(html->max);
	memcpy(f->counts, counts, sizeof(f->counts));
	if (!key || key->error)
		return;
	f->key.max = key->max;
	buf_reset(&f->key);
	if (buf_append(&f->key, key->data ? key->data : "", key->len) < 0)
		return;
	f->valid = true;
}

void fragment_free(struct fragment *f)
{
	buf_free(&f->key);
	buf_free(&f->html);
	f->valid = false;
}
