/*
 * The portal's pages: a small, logic-less subset of Mustache
 * (https://mustache.github.io/mustache.5.html and its spec), rendering
 * json-c data into a struct buf.
 *
 * NOTES
 * - Every template is parsed once, when the portal starts, into a flat
 *   node list; rendering walks the nodes and never scans template text for
 *   tags. After tpl_set_link the set is never written again, so any number
 *   of threads may render from it at once.
 * - Supported: {{name}} (HTML-escaped), {{{name}}} and {{& name}} (raw),
 *   dotted names and {{.}}, sections {{#x}}..{{/x}}, inverted sections
 *   {{^x}}..{{/x}}, partials {{> name}} (indented when standalone),
 *   comments {{! ... }}, and the spec's standalone-line rules.
 * - Not supported, each a parse error: Set Delimiter tags {{=<% %>=}},
 *   dynamic partial names {{>*x}}, template inheritance {{<x}} and blocks
 *   {{$y}}. Lambdas do not exist, as json-c data holds no functions.
 * - Stricter than the spec, so that a typo fails at start and not on a
 *   page: a tag name may not be empty or hold whitespace or braces, a
 *   dotted name may not have an empty part ("a..b"), and a partial that
 *   names no template is an error of tpl_set_link (the spec renders it
 *   empty).
 * - Falsy for sections: false, null, a missing key and an empty array.
 *   Everything else, 0 and "" included, is truthy; a truthy value that is
 *   not an array is pushed as the context of one pass ({{.}} is the value).
 * - Interpolation: strings as they are, integers exactly (int64 and
 *   uint64), doubles in the fewest digits that read back the same
 *   (1.210 renders 1.21), booleans as true and false; null, missing keys,
 *   objects and arrays render nothing. Numbers follow the C locale, which
 *   the portal never changes.
 * - Limits: TPL_MAX_SIZE bytes per template, TPL_MAX_DEPTH nested sections
 *   in one template, and TPL_MAX_DEPTH sections and partials entered at
 *   once when rendering (-ELOOP past it, which also ends a partial that
 *   recurses without end).
 */
#ifndef WEBKVM_FCGI_TEMPLATE_H
#define WEBKVM_FCGI_TEMPLATE_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/buf.h"

#define TPL_MAX_DEPTH 32
#define TPL_MAX_SIZE (256 * 1024)
#define TPL_MAX_NAME 64 /* bytes of a template's name */

struct tpl_set;

struct tpl_set *tpl_set_new(void);
void tpl_set_free(struct tpl_set *set);

/*
 * Parse one template from memory under name (letters, digits, '_', '-',
 * '.'). 0; -EINVAL for a bad name or a syntax error, -EEXIST for a name
 * already added, -EFBIG past TPL_MAX_SIZE, or -ENOMEM; on error err holds
 * one sentence naming the template and, for syntax, the line:
 * "template vm: line 12: section 'disks' is not closed".
 * Adding a template undoes an earlier tpl_set_link.
 */
int tpl_set_add(struct tpl_set *set, const char *name, const char *text, size_t len,
		char *err, size_t errlen);

/* Add every NAME.mustache file of dir (hidden files skipped), then link. */
int tpl_set_load_dir(struct tpl_set *set, const char *dir, char *err, size_t errlen);

/*
 * Resolve every partial to its template: 0, or -ENOENT with a sentence in
 * err when a partial names a template that does not exist.
 */
int tpl_set_link(struct tpl_set *set, char *err, size_t errlen);

/*
 * Append template name rendered with ctx to out. 0; -ENOENT for no such
 * template, -EINVAL for a set not linked, -ELOOP past TPL_MAX_DEPTH, or
 * out's error (-E2BIG, -ENOMEM). On error out holds part of the page, to
 * be thrown away.
 */
int tpl_render(const struct tpl_set *set, const char *name, struct json_object *ctx,
	       struct buf *out);

/*
 * The one HTML escaper: & < > " ' become &amp; &lt; &gt; &quot; &#39;;
 * every other byte, UTF-8 included, is copied as it is. 0 or out's error.
 */
int html_escape(struct buf *out, const char *s, size_t len);

#endif
