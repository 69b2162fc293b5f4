/*
 * Parsing what a browser sends: forms, query strings, cookies.
 *
 * NOTES
 * - A parse makes two allocations whatever the input: the array of fields
 *   and one block for every name and value. Decoding never makes text
 *   longer, so the block's size is known before the parse: a form piece of
 *   n bytes needs at most n + 2 bytes with its two NULs; a cookie pair, at
 *   most n + 1 (it holds an '=').
 * - Forms are strict, cookies lenient. The portal made every form it gets,
 *   so anything off in one is an attack or a bug and the request is
 *   refused. The browser sends every cookie of the host, including other
 *   applications', so a cookie we cannot take is skipped.
 * - Names are checked after %-decoding ("%61" is the field "a"), and only
 *   names of [A-Za-z0-9_.-] exist: such a name is safe to log or to put in
 *   an error sentence.
 * - UTF-8 is checked as RFC 3629 section 4 defines it: no overlong forms,
 *   no surrogates (U+D800 to U+DFFF), nothing above U+10FFFF.
 */
#include "fcgi/params.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/util.h"

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static bool name_valid(const char *s, size_t n)
{
	if (n == 0 || n > PARAMS_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i], lo = 0x80, hi = 0xbf;
		size_t k;

		if (c < 0x80) {
			i++;
			continue;
		}
		/* RFC 3629 section 4: the second byte's range depends on the first */
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong below U+0800 */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong below U+10000 */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return false; /* a continuation byte, C0, C1 or F5 to FF */
		}
		if (n - i - 1 < k || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* in[0..n) with '+' a space and %XX a byte, into out: its length, or -EINVAL. */
static ssize_t form_decode(const char *in, size_t n, char *out, char *err, size_t errlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = in[i];

		if (c == '%') {
			int hi = n - i >= 3 ? hex_value(in[i + 1]) : -1;
			int lo = n - i >= 3 ? hex_value(in[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return error_set(err, errlen, -EINVAL,
						 "The form has a '%%' that is not followed by two hex digits.");
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == '\0')
			return error_set(err, errlen, -EINVAL, "The form holds a NUL byte.");
		out[o++] = (char)c;
	}
	return (ssize_t)o;
}

/* The form's piece [q, end) as the field f, written at *w. 0 or -EINVAL. */
static int form_field(const char *q, const char *end, struct param *f, char **w, char *err,
		      size_t errlen)
{
	const char *eq = memchr(q, '=', end - q);
	ssize_t n;

	f->name = *w;
	n = form_decode(q, (eq ? eq : end) - q, f->name, err, errlen);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return error_set(err, errlen, -EINVAL, "A field of the form has an empty name.");
	if (n > PARAMS_MAX_NAME)
		return error_set(err, errlen, -EINVAL,
				 "A field of the form has a name longer than %d bytes.",
				 PARAMS_MAX_NAME);
	if (!name_valid(f->name, n))
		return error_set(err, errlen, -EINVAL,
				 "A field of the form has a name with a character other than letters, digits, '_', '.' and '-'.");
	f->name[n] = '\0';
	f->value = f->name + n + 1;
	n = eq ? form_decode(eq + 1, end - eq - 1, f->value, err, errlen) : 0;
	if (n < 0)
		return (int)n;
	f->value[n] = '\0'; /* before the sentence below names the field */
	if (!utf8_valid((const unsigned char *)f->value, n))
		return error_set(err, errlen, -EINVAL,
				 "The value of the form's field %s is not valid UTF-8.", f->name);
	f->value_len = n;
	*w = f->value + n + 1;
	return 0;
}

int params_parse_urlencoded(const char *s, size_t len, struct params *ret, char *err,
			    size_t errlen)
{
	struct params p = { 0 };
	const char *end, *q, *amp;
	size_t count = 0;
	char *w;
	int r;

	if (len == 0) { /* s may be NULL then */
		*ret = p;
		return 0;
	}
	end = s + len;
	for (q = s; q < end; q = amp ? amp + 1 : end) {
		amp = memchr(q, '&', end - q);
		if ((amp ? amp : end) > q && ++count > PARAMS_MAX_FIELDS)
			return error_set(err, errlen, -EINVAL, "The form has more than %d fields.",
					 PARAMS_MAX_FIELDS);
	}
	if (count == 0) {
		*ret = p;
		return 0;
	}
	/* len + count + 1: see NOTES; the pieces are count, with count - 1 '&' between them */
	p.v = calloc(count, sizeof(*p.v));
	p.storage = malloc(len + count + 1);
	if (!p.v || !p.storage) {
		r = error_set(err, errlen, -ENOMEM, "Out of memory while reading the form.");
		goto fail;
	}
	w = p.storage;
	for (q = s; q < end; q = amp ? amp + 1 : end) {
		amp = memchr(q, '&', end - q);
		if ((amp ? amp : end) == q)
			continue;
		r = form_field(q, amp ? amp : end, &p.v[p.n], &w, err, errlen);
		if (r < 0)
			goto fail;
		p.n++;
	}
	*ret = p;
	return 0;
fail:
	free(p.v);
	free(p.storage);
	return r;
}

/* RFC 6265 section 4.1.1: cookie-octet, the bytes a cookie's value may hold. */
static bool cookie_octet(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The pair [q, end) added to p at *w, when it is one we can take. */
static void cookie_pair(const char *q, const char *end, struct params *p, char **w)
{
	const char *eq, *name_end, *value;
	size_t name_len, value_len;
	struct param *f;

	while (q < end && ows(*q))
		q++;
	while (end > q && ows(end[-1]))
		end--;
	eq = memchr(q, '=', end - q);
	if (!eq)
		return;
	for (name_end = eq; name_end > q && ows(name_end[-1]); name_end--)
		;
	for (value = eq + 1; value < end && ows(*value); value++)
		;
	name_len = name_end - q;
	value_len = end - value;
	if (value_len >= 2 && value[0] == '"' && value[value_len - 1] == '"') {
		value++;
		value_len -= 2;
	}
	if (!name_valid(q, name_len))
		return;
	for (size_t i = 0; i < value_len; i++)
		if (!cookie_octet(value[i]))
			return;
	f = &p->v[p->n++];
	f->name = *w;
	memcpy(f->name, q, name_len);
	f->name[name_len] = '\0';
	f->value = f->name + name_len + 1;
	memcpy(f->value, value, value_len);
	f->value[value_len] = '\0';
	f->value_len = value_len;
	*w = f->value + value_len + 1;
}

int params_parse_cookies(const char *header, struct params *ret)
{
	struct params p = { 0 };
	size_t len, max = 1;
	const char *q, *semi;
	char *w;

	if (!header || !*header) {
		*ret = p;
		return 0;
	}
	len = strlen(header);
	for (size_t i = 0; i < len && max < PARAMS_MAX_FIELDS; i++)
		if (header[i] == ';')
			max++;
	p.v = calloc(max, sizeof(*p.v));
	p.storage = malloc(len + 1); /* see NOTES: pairs are apart by a ';' at least */
	if (!p.v || !p.storage) {
		free(p.v);
		free(p.storage);
		return -ENOMEM;
	}
	w = p.storage;
	for (q = header; p.n < max; q = semi + 1) {
		semi = strchrnul(q, ';');
		cookie_pair(q, semi, &p, &w);
		if (!*semi)
			break;
	}
	*ret = p;
	return 0;
}

static const struct param *params_find(const struct params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

const char *params_get(const struct params *p, const char *name)
{
	const struct param *f = params_find(p, name);

	return f ? f->value : NULL;
}

const char *params_next(const struct params *p, const char *name, size_t *i)
{
	for (; *i < p->n; (*i)++)
		if (strcmp(p->v[*i].name, name) == 0)
			return p->v[(*i)++].value;
	return NULL;
}

void params_free(struct params *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->storage);
	memset(p, 0, sizeof(*p));
}

/* s as the one spelling of a decimal integer. 0, -EINVAL or -ERANGE. */
static int decimal_parse(const char *s, long long *ret)
{
	bool neg = *s == '-';
	const char *d = s + neg;
	unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	unsigned long long v = 0;
	bool too_big = false;

	if (!*d || (d[0] == '0' && (d[1] || neg)))
		return -EINVAL; /* empty, a leading zero or "-0" */
	for (; *d; d++) {
		unsigned int digit = (unsigned char)*d - '0';

		if (digit > 9)
			return -EINVAL;
		if (too_big || v > (limit - digit) / 10)
			too_big = true; /* go on: "99999999999999999999x" is not a number at all */
		else
			v = v * 10 + digit;
	}
	if (too_big)
		return -ERANGE;
	*ret = !neg ? (long long)v : v == limit ? LLONG_MIN : -(long long)v;
	return 0;
}

int params_int(const struct params *p, const char *name, long long min, long long max,
	       long long *ret)
{
	const struct param *f = params_find(p, name);
	long long v;
	int r;

	if (!f)
		return -ENOENT;
	r = decimal_parse(f->value, &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int params_text(const struct params *p, const char *name, size_t max_len, bool multiline,
		const char **ret)
{
	const struct param *f = params_find(p, name);

	if (!f)
		return -ENOENT;
	if (f->value_len > max_len)
		return -E2BIG;
	for (size_t i = 0; i < f->value_len; i++) {
		unsigned char c = f->value[i];

		if ((c < 0x20 || c == 0x7f) && !(multiline && (c == '\t' || c == '\r' || c == '\n')))
			return -EINVAL;
	}
	*ret = f->value;
	return 0;
}

int params_bool(const struct params *p, const char *name, bool *ret)
{
	static const char *const yes[] = { "on", "1", "true", "yes" };
	static const char *const no[] = { "", "0", "off", "false", "no" };
	const char *v = params_get(p, name);

	if (!v) {
		*ret = false;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		if (strcmp(v, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}
