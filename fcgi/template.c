/*
 * The template engine: a parser that turns each template into a flat node
 * list once, and a renderer that walks it. See template.h for what is
 * supported and why.
 *
 * Indentation of standalone partials: the spec says to indent every line
 * of the partial's text, not of the values put into it, as if the
 * indentation were written into the partial's source before parsing. The
 * parser therefore marks with an N_INDENT node each place where a source
 * line begins between two nodes (a line beginning inside a text node is
 * found again when the text goes out), and the renderer writes the current
 * indentation there. A line taken away by the standalone rule takes its
 * line beginning with it.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/fd.h"
#include "fcgi/template.h"

enum node_kind {
	N_TEXT,     /* bytes of the source, as they are */
	N_INDENT,   /* a source line begins here */
	N_ESCAPED,  /* {{name}} */
	N_RAW,      /* {{{name}}}, {{& name}} */
	N_SECTION,  /* {{#name}}: its body is the nodes up to end */
	N_INVERTED, /* {{^name}}: likewise */
	N_PARTIAL,  /* {{> name}} */
};

struct node {
	enum node_kind kind;
	uint32_t line;     /* of the tag, for the errors of tpl_set_link */
	uint32_t off, len; /* N_TEXT: its bytes in src; N_PARTIAL: its indentation;
			      N_SECTION, N_INVERTED: the name as written, for the closing tag */
	uint32_t name;     /* offset in names of the name, each dotted part NUL-terminated */
	uint32_t nparts;   /* parts of a dotted name; 0 for "." */
	uint32_t end;      /* N_SECTION, N_INVERTED: index of the first node after the body */
	bool standalone;   /* N_PARTIAL: alone on its line, so the partial is indented */
	const struct tpl *target; /* N_PARTIAL: set by tpl_set_link */
};

struct tpl {
	char *name;
	char *src;          /* the text, NUL-terminated */
	size_t len;
	char *names;        /* every tag's name; len + 1 bytes, enough as a tag is
			       at least 4 bytes longer than its name */
	size_t names_len;
	struct node *nodes;
	size_t n, cap;
};

struct tpl_set {
	struct tpl **tpls;
	size_t n, cap;
	bool linked;        /* every partial has its target */
};

/* Parsing */

struct parser {
	struct tpl *t;
	uint32_t open[TPL_MAX_DEPTH]; /* the sections not closed yet, innermost last */
	unsigned int nopen;
	size_t counted;               /* src before this offset is counted in line */
	uint32_t line;
};

static uint32_t line_at(struct parser *p, size_t off)
{
	for (; p->counted < off; p->counted++)
		if (p->t->src[p->counted] == '\n')
			p->line++;
	return p->line;
}

static struct node *add_node(struct tpl *t, enum node_kind kind)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct node *v = reallocarray(t->nodes, cap, sizeof(*v));

		if (!v)
			return NULL;
		t->nodes = v;
		t->cap = cap;
	}
	t->nodes[t->n] = (struct node){ .kind = kind };
	return &t->nodes[t->n++];
}

static bool at_line_start(const struct tpl *t, size_t off)
{
	return off == 0 || t->src[off - 1] == '\n';
}

/* Something that is not a standalone tag begins at off. */
static int mark_line(struct tpl *t, size_t off)
{
	if (!at_line_start(t, off))
		return 0;
	return add_node(t, N_INDENT) ? 0 : -ENOMEM;
}

static int add_text(struct tpl *t, size_t from, size_t to)
{
	struct node *n;

	if (from == to)
		return 0;
	if (mark_line(t, from) < 0 || !(n = add_node(t, N_TEXT)))
		return -ENOMEM;
	n->off = from;
	n->len = to - from;
	return 0;
}

/*
 * The spec's standalone rule: a section, inverted, closing, comment or
 * partial tag that has only spaces and tabs beside it on its line takes
 * the whole line away, its line ending (\n or \r\n) included. text_from is
 * where the text before the tag begins. On true, *ret_begin is the line's
 * first byte and *ret_next the next line's.
 */
static bool standalone(const struct tpl *t, size_t text_from, size_t tag, size_t tag_end,
		       size_t *ret_begin, size_t *ret_next)
{
	const char *s = t->src;
	size_t b = tag, e = tag_end;

	while (b > text_from && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (!at_line_start(t, b))
		return false;
	while (e < t->len && (s[e] == ' ' || s[e] == '\t'))
		e++;
	if (e + 1 < t->len && s[e] == '\r' && s[e + 1] == '\n')
		e += 2;
	else if (e < t->len && s[e] == '\n')
		e++;
	else if (e != t->len)
		return false;
	*ret_begin = b;
	*ret_next = e;
	return true;
}

static bool name_byte_ok(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '{' && c != '}';
}

/* "." alone, or parts joined by single dots. */
static bool dotted_ok(const char *s, size_t n)
{
	if (n == 1 && s[0] == '.')
		return true;
	if (s[0] == '.' || s[n - 1] == '.')
		return false;
	return !memmem(s, n, "..", 2);
}

/* Copy the name into names, cutting a dotted one into parts. */
static void set_name(struct tpl *t, struct node *n, const char *s, size_t len, bool dotted)
{
	char *d = t->names + t->names_len;

	n->name = t->names_len;
	n->nparts = 1;
	if (dotted && len == 1 && s[0] == '.') {
		n->nparts = 0;
		len = 0;
	}
	for (size_t i = 0; i < len; i++) {
		d[i] = s[i];
		if (dotted && s[i] == '.') {
			d[i] = '\0';
			n->nparts++;
		}
	}
	d[len] = '\0';
	t->names_len += len + 1;
}

/* One tag as read from the source. */
struct tag {
	size_t begin, end;       /* its bytes, braces included */
	size_t name, name_len;   /* its name, without the spaces around it */
	char sigil;              /* # ^ / ! > & {, or '\0' for {{name}} */
	uint32_t line;
	bool standalone;         /* alone on its line, which goes away with it */
	size_t line_begin, next; /* if standalone: the line's first byte, the next line's */
};

/* Read the tag that begins at at, and check its name. */
static int read_tag(struct parser *p, size_t at, struct tag *tag, char *err, size_t errlen)
{
	const struct tpl *t = p->t;
	const char *s = t->src, *closer, *c;
	size_t nb, ne;

	*tag = (struct tag){ .begin = at, .line = line_at(p, at) };
	if (at + 2 < t->len && s[at + 2] && strchr("#^/!>&{=<$", s[at + 2]))
		tag->sigil = s[at + 2];
	closer = tag->sigil == '{' ? "}}}" : "}}";
	nb = at + 2 + (tag->sigil ? 1 : 0);
	c = memmem(s + nb, t->len - nb, closer, strlen(closer));
	if (!c)
		return error_set(err, errlen, -EINVAL, "template %s: line %u: tag is not closed",
				 t->name, tag->line);
	ne = c - s;
	tag->end = ne + strlen(closer);

	switch (tag->sigil) {
	case '!':
		return 0;
	case '=':
		return error_set(err, errlen, -EINVAL,
				 "template %s: line %u: set delimiter tags are not supported",
				 t->name, tag->line);
	case '<':
	case '$':
		return error_set(err, errlen, -EINVAL,
				 "template %s: line %u: template inheritance and blocks are not supported",
				 t->name, tag->line);
	}
	while (nb < ne && (s[nb] == ' ' || s[nb] == '\t'))
		nb++;
	while (ne > nb && (s[ne - 1] == ' ' || s[ne - 1] == '\t'))
		ne--;
	tag->name = nb;
	tag->name_len = ne - nb;
	/* "{{a {{b}}": the first tag ran into the next */
	if (memmem(s + nb, ne - nb, "{{", 2))
		return error_set(err, errlen, -EINVAL, "template %s: line %u: tag is not closed",
				 t->name, tag->line);
	if (nb == ne)
		return error_set(err, errlen, -EINVAL, "template %s: line %u: tag has no name",
				 t->name, tag->line);
	if (tag->sigil == '>' && s[nb] == '*')
		return error_set(err, errlen, -EINVAL,
				 "template %s: line %u: dynamic partial names are not supported",
				 t->name, tag->line);
	for (size_t i = nb; i < ne; i++)
		if (!name_byte_ok(s[i]))
			return error_set(err, errlen, -EINVAL,
					 "template %s: line %u: tag name '%.*s' holds a space, a control character or a brace",
					 t->name, tag->line, (int)(ne - nb), s + nb);
	if (tag->sigil != '>' && !dotted_ok(s + nb, ne - nb))
		return error_set(err, errlen, -EINVAL,
				 "template %s: line %u: tag name '%.*s' has an empty part", t->name,
				 tag->line, (int)(ne - nb), s + nb);
	return 0;
}

/* The node of a tag, or the end of a section for a closing tag. */
static int add_tag(struct parser *p, const struct tag *tag, char *err, size_t errlen)
{
	struct tpl *t = p->t;
	const char *s = t->src;
	struct node *n, *open;

	switch (tag->sigil) {
	case '!':
		return 0;
	case '/':
		if (!p->nopen)
			return error_set(err, errlen, -EINVAL,
					 "template %s: line %u: closing tag '%.*s' has no open section",
					 t->name, tag->line, (int)tag->name_len, s + tag->name);
		open = &t->nodes[p->open[p->nopen - 1]];
		if (open->len != tag->name_len || memcmp(s + open->off, s + tag->name, open->len))
			return error_set(err, errlen, -EINVAL,
					 "template %s: line %u: closing tag '%.*s' does not match section '%.*s' of line %u",
					 t->name, tag->line, (int)tag->name_len, s + tag->name,
					 (int)open->len, s + open->off, open->line);
		open->end = t->n;
		p->nopen--;
		return 0;
	case '#':
	case '^':
		if (p->nopen == TPL_MAX_DEPTH)
			return error_set(err, errlen, -EINVAL,
					 "template %s: line %u: sections are nested more than %d deep",
					 t->name, tag->line, TPL_MAX_DEPTH);
		n = add_node(t, tag->sigil == '#' ? N_SECTION : N_INVERTED);
		if (!n)
			return -ENOMEM;
		n->off = tag->name;
		n->len = tag->name_len;
		p->open[p->nopen++] = t->n - 1;
		break;
	case '>':
		n = add_node(t, N_PARTIAL);
		if (!n)
			return -ENOMEM;
		if (tag->standalone) {
			n->standalone = true;
			n->off = tag->line_begin;
			n->len = tag->begin - tag->line_begin;
		}
		break;
	default:
		n = add_node(t, tag->sigil ? N_RAW : N_ESCAPED);
		if (!n)
			return -ENOMEM;
		break;
	}
	n->line = tag->line;
	set_name(t, n, s + tag->name, tag->name_len, tag->sigil != '>');
	return 0;
}

static int parse(struct tpl *t, char *err, size_t errlen)
{
	struct parser p = { .t = t, .line = 1 };
	size_t pos = 0; /* the text from here to the next tag goes out as it is */
	int rc;

	while (pos < t->len) {
		const char *o = memmem(t->src + pos, t->len - pos, "{{", 2);
		struct tag tag;

		if (!o)
			break;
		rc = read_tag(&p, o - t->src, &tag, err, errlen);
		if (rc < 0)
			return rc;
		if (tag.sigil && strchr("#^/!>", tag.sigil))
			tag.standalone = standalone(t, pos, tag.begin, tag.end, &tag.line_begin,
						    &tag.next);
		if (tag.standalone) {
			rc = add_text(t, pos, tag.line_begin);
			pos = tag.next;
		} else {
			rc = add_text(t, pos, tag.begin);
			if (rc == 0)
				rc = mark_line(t, tag.begin);
			pos = tag.end;
		}
		if (rc == 0)
			rc = add_tag(&p, &tag, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (add_text(t, pos, t->len) < 0)
		return -ENOMEM;
	if (p.nopen) {
		const struct node *open = &t->nodes[p.open[p.nopen - 1]];

		return error_set(err, errlen, -EINVAL,
				 "template %s: line %u: section '%.*s' is not closed", t->name,
				 open->line, (int)open->len, t->src + open->off);
	}
	return 0;
}

/* Rendering */

/* A partial's indentation follows that of the partial that included it. */
struct indent {
	const char *s;
	size_t len;
	const struct indent *outer;
};

struct render {
	struct buf *out;
	struct json_object *stack[TPL_MAX_DEPTH + 1]; /* the contexts, innermost at top */
	unsigned int top;
	unsigned int depth; /* sections and partials entered */
};

static int render_nodes(struct render *r, const struct tpl *t, size_t i, size_t end,
			const struct indent *ind);

int html_escape(struct buf *out, const char *s, size_t len)
{
	size_t done = 0;
	int rc;

	for (size_t i = 0; i < len; i++) {
		const char *entity;

		switch (s[i]) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&#39;"; break;
		default: continue;
		}
		rc = buf_append(out, s + done, i - done);
		if (rc < 0)
			return rc;
		rc = buf_puts(out, entity);
		if (rc < 0)
			return rc;
		done = i + 1;
	}
	return len ? buf_append(out, s + done, len - done) : 0;
}

/*
 * The spec's name resolution: the first part of a name is looked up from
 * the innermost context outwards, the other parts only inside what the
 * first found, so a broken chain is missing and never falls back on an
 * outer context. NULL for missing and for null alike.
 */
static struct json_object *lookup(const struct render *r, const char *name, uint32_t nparts)
{
	struct json_object *v = NULL;
	bool found = false;

	if (nparts == 0)
		return r->stack[r->top];
	for (unsigned int i = r->top + 1; i > 0 && !found; i--)
		found = json_object_is_type(r->stack[i - 1], json_type_object) &&
			json_object_object_get_ex(r->stack[i - 1], name, &v);
	if (!found)
		return NULL;
	while (--nparts) {
		name += strlen(name) + 1;
		if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, name, &v))
			return NULL;
	}
	return v;
}

static bool truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_array:
		return json_object_array_length(v) > 0;
	default:
		return true;
	}
}

static int put_indent(struct buf *out, const struct indent *ind)
{
	int rc;

	if (!ind)
		return 0;
	rc = put_indent(out, ind->outer);
	return rc < 0 ? rc : buf_append(out, ind->s, ind->len);
}

/* Text goes out with the indentation after each of its line ends but a last one. */
static int put_text(struct buf *out, const char *s, size_t len, const struct indent *ind)
{
	while (len) {
		const char *nl = ind ? memchr(s, '\n', len) : NULL;
		size_t n = nl ? (size_t)(nl - s) + 1 : len;
		int rc = buf_append(out, s, n);

		if (rc < 0)
			return rc;
		s += n;
		len -= n;
		if (len && (rc = put_indent(out, ind)) < 0)
			return rc;
	}
	return 0;
}

/* Shortest text that reads back as the same double: 1.21, not 1.2100000000000000. */
static size_t format_double(char *p, size_t size, double d)
{
	int n = 0;

	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(p, size, "%.*g", prec, d);
		if (strtod(p, NULL) == d)
			break;
	}
	return n;
}

static int put_value(struct buf *out, struct json_object *v, bool escape)
{
	char num[40];
	const char *s = num;
	size_t len;
	int64_t i;

	switch (json_object_get_type(v)) {
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "true" : "false";
		len = strlen(s);
		break;
	case json_type_int:
		/* json-c keeps integers above INT64_MAX as uint64, which get_int64 clamps. */
		i = json_object_get_int64(v);
		if (i == INT64_MAX)
			len = snprintf(num, sizeof(num), "%" PRIu64, json_object_get_uint64(v));
		else
			len = snprintf(num, sizeof(num), "%" PRId64, i);
		break;
	case json_type_double:
		len = format_double(num, sizeof(num), json_object_get_double(v));
		break;
	case json_type_string:
		s = json_object_get_string(v);
		len = json_object_get_string_len(v);
		break;
	default: /* null, missing, object, array */
		return 0;
	}
	return escape ? html_escape(out, s, len) : buf_append(out, s, len);
}

/* One pass of the body of section node i, with v pushed as the innermost context if push. */
static int render_body(struct render *r, const struct tpl *t, size_t i, struct json_object *v,
		       bool push, const struct indent *ind)
{
	int rc;

	if (r->depth == TPL_MAX_DEPTH)
		return -ELOOP;
	r->depth++;
	if (push)
		r->stack[++r->top] = v;
	rc = render_nodes(r, t, i + 1, t->nodes[i].end, ind);
	if (push)
		r->top--;
	r->depth--;
	return rc;
}

static int render_section(struct render *r, const struct tpl *t, size_t i,
			  const struct indent *ind)
{
	const struct node *n = &t->nodes[i];
	struct json_object *v = lookup(r, t->names + n->name, n->nparts);
	int rc = 0;

	if (n->kind == N_INVERTED)
		return truthy(v) ? 0 : render_body(r, t, i, NULL, false, ind);
	if (!truthy(v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return render_body(r, t, i, v, true, ind);
	for (size_t k = 0; k < json_object_array_length(v) && rc == 0; k++)
		rc = render_body(r, t, i, json_object_array_get_idx(v, k), true, ind);
	return rc;
}

static int render_partial(struct render *r, const struct node *n, const char *src,
			  const struct indent *ind)
{
	struct indent own = { src + n->off, n->len, ind };
	int rc;

	if (r->depth == TPL_MAX_DEPTH)
		return -ELOOP;
	r->depth++;
	rc = render_nodes(r, n->target, 0, n->target->n, n->standalone ? &own : NULL);
	r->depth--;
	return rc;
}

static int render_nodes(struct render *r, const struct tpl *t, size_t i, size_t end,
			const struct indent *ind)
{
	int rc = 0;

	while (i < end && rc == 0) {
		const struct node *n = &t->nodes[i];

		switch (n->kind) {
		case N_TEXT:
			rc = put_text(r->out, t->src + n->off, n->len, ind);
			break;
		case N_INDENT:
			rc = put_indent(r->out, ind);
			break;
		case N_ESCAPED:
		case N_RAW:
			rc = put_value(r->out, lookup(r, t->names + n->name, n->nparts),
				       n->kind == N_ESCAPED);
			break;
		case N_SECTION:
		case N_INVERTED:
			rc = render_section(r, t, i, ind);
			i = n->end;
			continue;
		case N_PARTIAL:
			rc = render_partial(r, n, t->src, ind);
			break;
		}
		i++;
	}
	return rc;
}

/* The set */

static struct tpl *find(const struct tpl_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->tpls[i]->name, name))
			return set->tpls[i];
	return NULL;
}

static void tpl_free(struct tpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->src);
	free(t->names);
	free(t->nodes);
	free(t);
}

static bool tpl_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > TPL_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

struct tpl_set *tpl_set_new(void)
{
	return calloc(1, sizeof(struct tpl_set));
}

void tpl_set_free(struct tpl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		tpl_free(set->tpls[i]);
	free(set->tpls);
	free(set);
}

int tpl_set_add(struct tpl_set *set, const char *name, const char *text, size_t len,
		char *err, size_t errlen)
{
	struct tpl *t;
	int rc;

	if (!tpl_name_ok(name))
		return error_set(err, errlen, -EINVAL, "template name '%s' is not valid", name);
	if (find(set, name))
		return error_set(err, errlen, -EEXIST, "template %s is added twice", name);
	if (len > TPL_MAX_SIZE)
		return error_set(err, errlen, -EFBIG,
				 "template %s is %zu bytes, more than the limit of %d", name, len,
				 TPL_MAX_SIZE);
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct tpl **v = reallocarray(set->tpls, cap, sizeof(*v));

		if (!v)
			goto nomem;
		set->tpls = v;
		set->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->name = strdup(name);
	t->src = malloc(len + 1);
	t->names = malloc(len + 1);
	if (!t->name || !t->src || !t->names) {
		tpl_free(t);
		goto nomem;
	}
	memcpy(t->src, text, len);
	t->src[len] = '\0';
	t->len = len;
	rc = parse(t, err, errlen);
	if (rc < 0) {
		tpl_free(t);
		if (rc == -ENOMEM)
			goto nomem;
		return rc;
	}
	set->tpls[set->n++] = t;
	set->linked = false;
	return 0;
nomem:
	return error_set(err, errlen, -ENOMEM, "out of memory adding template %s", name);
}

int tpl_set_link(struct tpl_set *set, char *err, size_t errlen)
{
	for (size_t i = 0; i < set->n; i++) {
		struct tpl *t = set->tpls[i];

		for (size_t k = 0; k < t->n; k++) {
			struct node *n = &t->nodes[k];

			if (n->kind != N_PARTIAL)
				continue;
			n->target = find(set, t->names + n->name);
			if (!n->target)
				return error_set(err, errlen, -ENOENT,
						 "template %s: line %u: partial '%s' names a template that does not exist",
						 t->name, n->line, t->names + n->name);
		}
	}
	set->linked = true;
	return 0;
}

static int load_file(struct tpl_set *set, const char *dir, const char *file, size_t base_len,
		     char *err, size_t errlen)
{
	char path[PATH_MAX], name[TPL_MAX_NAME + 1];
	void *text;
	size_t len;
	int rc;

	if (base_len > TPL_MAX_NAME)
		return error_set(err, errlen, -EINVAL,
				 "template file %s/%s has a name longer than %d bytes", dir, file,
				 TPL_MAX_NAME);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return error_set(err, errlen, -ENAMETOOLONG, "template path %s/%s is too long",
				 dir, file);
	memcpy(name, file, base_len);
	name[base_len] = '\0';
	rc = read_file(path, TPL_MAX_SIZE, &text, &len);
	if (rc == -EFBIG)
		return error_set(err, errlen, rc, "template file %s is bigger than %d bytes", path,
				 TPL_MAX_SIZE);
	if (rc < 0)
		return error_set(err, errlen, rc, "cannot read template file %s: %s", path,
				 strerror(-rc));
	rc = tpl_set_add(set, name, text, len, err, errlen);
	free(text);
	return rc;
}

int tpl_set_load_dir(struct tpl_set *set, const char *dir, char *err, size_t errlen)
{
	static const char ext[] = ".mustache";
	const size_t ext_len = sizeof(ext) - 1;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (!d)
		return error_set(err, errlen, -errno, "cannot open template folder %s: %s", dir,
				 strerror(errno));
	for (;;) {
		size_t len;

		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno)
				rc = error_set(err, errlen, -errno,
					       "cannot read template folder %s: %s", dir,
					       strerror(errno));
			break;
		}
		len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= ext_len ||
		    strcmp(e->d_name + len - ext_len, ext))
			continue;
		rc = load_file(set, dir, e->d_name, len - ext_len, err, errlen);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc < 0 ? rc : tpl_set_link(set, err, errlen);
}

int tpl_render(const struct tpl_set *set, const char *name, struct json_object *ctx,
	       struct buf *out)
{
	struct render r = { .out = out };
	const struct tpl *t;

	if (!set->linked)
		return -EINVAL;
	t = find(set, name);
	if (!t)
		return -ENOENT;
	r.stack[0] = ctx;
	return render_nodes(&r, t, 0, t->n, NULL);
}
