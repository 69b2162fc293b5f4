/*
 * libFuzzer harness: fcgi/params, the form (and query string) parser and
 * the Cookie header parser, on what a hostile browser sends. Beyond not
 * crashing or leaking:
 * - a form is taken exactly when a second, plainer reading of the rules
 *   written here takes it, with the same fields; likewise for cookies;
 * - every name is 1 to PARAMS_MAX_NAME bytes of [A-Za-z0-9_.-]; a form
 *   value holds no NUL and is UTF-8 (checked by decoding code points, not
 *   as params.c does by byte ranges); a cookie value is cookie-octets;
 * - the fields written out again (as a form, or as a Cookie header) and
 *   parsed again are the same fields;
 * - typed access agrees with the value: params_int takes exactly the
 *   integers that printf spells that way, params_text and params_bool
 *   exactly the values their rules allow;
 * - token_equal agrees with strcmp, and no empty token equals anything.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "fcgi/params.h"

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

static bool name_ok(const char *s, size_t n)
{
	return n >= 1 && n <= PARAMS_MAX_NAME && strspn(s, NAME_CHARS) == n && strlen(s) == n;
}

/* RFC 3629, read as code points: each at its shortest length, no surrogates, at most U+10FFFF. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	static const uint32_t shortest[5] = { 0, 0, 0x80, 0x800, 0x10000 };

	for (size_t i = 0; i < n;) {
		size_t len;
		uint32_t cp;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			len = 2, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4, cp = s[i] & 0x07;
		else
			return false;
		if (n - i < len)
			return false;
		for (size_t j = 1; j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < shortest[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static int hex(char c)
{
	const char *digits = "0123456789abcdef0123456789ABCDEF";
	const char *p = c ? strchr(digits, c) : NULL;

	return p ? (int)((p - digits) % 16) : -1;
}

/* in[0..n) decoded into out, NUL-terminated: its length, or -1 when refused. */
static long decode(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0)
				return -1;
			c = (char)(hex(in[i + 1]) * 16 + hex(in[i + 2]));
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

static bool same_field(const struct param *f, const char *name, const char *value, size_t len)
{
	return strcmp(f->name, name) == 0 && f->value_len == len && memcmp(f->value, value, len) == 0 &&
	       f->value[len] == '\0';
}

/*
 * The plain reading of a form: split at '&', skip empty pieces, split at
 * the first '=', decode. Compares each field with p's when lib_ok; says
 * whether the form is one to take.
 */
static bool form_reference(const char *s, size_t len, const struct params *p, bool lib_ok)
{
	char *name = malloc(len + 1), *value = malloc(len + 1);
	size_t k = 0, start = 0;
	bool ok = true;

	for (size_t i = 0; ok && i <= len; i++) {
		if (i < len && s[i] != '&')
			continue;
		if (i > start) {
			const char *piece = s + start, *eq = memchr(piece, '=', i - start);
			size_t nlen = eq ? (size_t)(eq - piece) : i - start;
			long n = decode(piece, nlen, name);
			long v = eq ? decode(eq + 1, i - start - nlen - 1, value) : 0;

			if (!eq)
				value[0] = '\0';
			if (n < 0 || v < 0 || !name_ok(name, n) || !utf8_ok((unsigned char *)value, v) ||
			    ++k > PARAMS_MAX_FIELDS)
				ok = false;
			else if (lib_ok && (k > p->n || !same_field(&p->v[k - 1], name, value, v)))
				abort(); /* the parser took other fields than the rules give */
		}
		start = i + 1;
	}
	if (ok && lib_ok && k != p->n)
		abort();
	free(name);
	free(value);
	return ok;
}

static void put(char **w, const char *s, size_t n)
{
	memcpy(*w, s, n);
	*w += n;
}

/* The fields of p written as a form, spaces as '+' and other bytes %-escaped unless safe. */
static char *form_write(const struct params *p, size_t *ret_len)
{
	size_t cap = 1;
	char *s, *w;

	for (size_t i = 0; i < p->n; i++)
		cap += strlen(p->v[i].name) + 1 + 3 * p->v[i].value_len + 1;
	s = w = malloc(cap);
	for (size_t i = 0; i < p->n; i++) {
		const struct param *f = &p->v[i];

		if (i)
			put(&w, "&", 1);
		put(&w, f->name, strlen(f->name));
		if (!f->value_len && (i & 1))
			continue; /* no '=' at all: an empty value too */
		put(&w, "=", 1);
		for (size_t j = 0; j < f->value_len; j++) {
			unsigned char c = f->value[j];

			if (c == ' ')
				put(&w, "+", 1);
			else if (c < 0x80 && strchr(NAME_CHARS, c))
				put(&w, (const char *)&c, 1);
			else
				w += snprintf(w, 4, (j & 1) ? "%%%02X" : "%%%02x", c);
		}
	}
	*w = '\0';
	*ret_len = w - s;
	return s;
}

static void typed_access(const struct params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *name = p->v[i].name, *v = params_get(p, name), *t = NULL;
		size_t len;
		long long n = 42, ref;
		char spelled[32], *end;
		bool b = false, ctl = false;
		int r;

		for (size_t j = 0; j < i; j++)
			if (strcmp(p->v[j].name, name) == 0)
				goto next; /* typed access reads the first value */
		if (v != p->v[i].value)
			abort();
		len = p->v[i].value_len;

		r = params_int(p, name, LLONG_MIN, LLONG_MAX, &n);
		errno = 0;
		ref = strtoll(v, &end, 10);
		snprintf(spelled, sizeof(spelled), "%lld", ref);
		if ((r == 0) != (len && !*end && errno == 0 && strcmp(spelled, v) == 0))
			abort();
		if ((r == 0 && n != ref) || (r < 0 && n != 42))
			abort();
		if (r == 0 && (params_int(p, name, n, n, &n) != 0 ||
			       (n > LLONG_MIN && params_int(p, name, LLONG_MIN, n - 1, &n) != -ERANGE)))
			abort();

		for (size_t j = 0; j < len; j++)
			ctl |= (unsigned char)v[j] < 0x20 || v[j] == 0x7f;
		r = params_text(p, name, SIZE_MAX, false, &t);
		if ((r == 0) != !ctl || (r == 0 && t != v))
			abort();
		r = len ? params_text(p, name, len - 1, false, &t) : -E2BIG;
		if (r != -E2BIG && !(ctl && r == -EINVAL))
			abort();

		r = params_bool(p, name, &b);
		if (r == 0 && b != (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true") ||
				    !strcmp(v, "yes")))
			abort();
		if ((r == 0) != (b || !strcmp(v, "") || !strcmp(v, "0") || !strcmp(v, "off") ||
				 !strcmp(v, "false") || !strcmp(v, "no")))
			abort();
next:;
	}
}

static void check_form(const char *s, size_t len)
{
	struct params p = { 0 }, again = { 0 };
	char err[256] = "", *out;
	size_t out_len;
	int r = params_parse_urlencoded(s, len, &p, err, sizeof(err));

	if (r != 0 && (r != -EINVAL || !err[0] || p.v || p.n))
		abort();
	if (form_reference(s, len, &p, r == 0) != (r == 0))
		abort(); /* taken or refused against the rules */
	if (r != 0)
		return;
	for (size_t i = 0; i < p.n; i++)
		if (!name_ok(p.v[i].name, strlen(p.v[i].name)) ||
		    strlen(p.v[i].value) != p.v[i].value_len ||
		    !utf8_ok((unsigned char *)p.v[i].value, p.v[i].value_len))
			abort();
	out = form_write(&p, &out_len);
	if (params_parse_urlencoded(out, out_len, &again, err, sizeof(err)) != 0 || again.n != p.n)
		abort();
	for (size_t i = 0; i < p.n; i++)
		if (!same_field(&again.v[i], p.v[i].name, p.v[i].value, p.v[i].value_len))
			abort();
	typed_access(&p);
	free(out);
	params_free(&again);
	params_free(&p);
	if (p.v || p.n || p.storage)
		abort();
}

static bool cookie_octet(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\",;\\", c);
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The plain reading of a Cookie header, compared pair by pair with p's. */
static void cookie_reference(const char *h, const struct params *p)
{
	size_t k = 0;

	for (const char *q = h; *q && k < PARAMS_MAX_FIELDS;) {
		size_t plen = strcspn(q, ";"), nlen, vlen;
		const char *end = q + plen, *eq, *name = q, *value;
		bool ok = true;

		while (name < end && ows(*name))
			name++;
		eq = memchr(name, '=', end - name);
		if (eq) {
			for (nlen = eq - name; nlen && ows(name[nlen - 1]); nlen--)
				;
			for (value = eq + 1; value < end && ows(*value); value++)
				;
			for (vlen = end - value; vlen && ows(value[vlen - 1]); vlen--)
				;
			if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"')
				value++, vlen -= 2;
			ok = nlen >= 1 && nlen <= PARAMS_MAX_NAME && strspn(name, NAME_CHARS) >= nlen;
			for (size_t i = 0; ok && i < vlen; i++)
				ok = cookie_octet(value[i]);
			if (ok) {
				const struct param *f = k < p->n ? &p->v[k] : NULL;

				if (!f || strlen(f->name) != nlen || memcmp(f->name, name, nlen) ||
				    f->value_len != vlen || memcmp(f->value, value, vlen) ||
				    strlen(f->value) != vlen)
					abort(); /* a pair skipped, changed or added */
				k++;
			}
		}
		q = *end ? end + 1 : end;
	}
	if (k != p->n)
		abort();
}

static void check_cookies(const char *h)
{
	struct params p = { 0 }, again = { 0 };
	size_t cap = 1;
	char *out, *w;

	if (params_parse_cookies(h, &p) != 0)
		abort();
	cookie_reference(h, &p);
	for (size_t i = 0; i < p.n; i++) {
		if (!name_ok(p.v[i].name, strlen(p.v[i].name)) ||
		    strlen(p.v[i].value) != p.v[i].value_len)
			abort();
		for (size_t j = 0; j < p.v[i].value_len; j++)
			if (!cookie_octet(p.v[i].value[j]))
				abort();
		cap += strlen(p.v[i].name) + p.v[i].value_len + 5;
	}
	/* written as a browser sends them, some values quoted, and read again */
	out = w = malloc(cap);
	for (size_t i = 0; i < p.n; i++)
		w += snprintf(w, cap - (w - out), (i & 1) ? "%s%s=\"%s\"" : "%s%s=%s", i ? "; " : "",
			      p.v[i].name, p.v[i].value);
	*w = '\0';
	if (params_parse_cookies(out, &again) != 0 || again.n != p.n)
		abort();
	for (size_t i = 0; i < p.n; i++)
		if (!same_field(&again.v[i], p.v[i].name, p.v[i].value, p.v[i].value_len))
			abort();
	free(out);
	params_free(&again);
	params_free(&p);
}

static void check_tokens(const char *data, size_t size)
{
	size_t half = size / 2;
	char *a = strndup(data, half), *b = strndup(data + half, size - half);
	bool want = a[0] && strcmp(a, b) == 0;

	if (token_equal(a, b) != want || token_equal(b, a) != want ||
	    token_equal(a, a) != (a[0] != '\0') || token_equal(a, NULL) || token_equal(NULL, b))
		abort();
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = strndup((const char *)data, size); /* a header ends at its first NUL */

	check_form((const char *)data, size);
	check_cookies(header);
	check_tokens((const char *)data, size);
	free(header);
	return 0;
}
