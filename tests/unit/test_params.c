/*
 * fcgi/params: forms, query strings and cookies as a browser (or an
 * attacker) sends them. Table rows report their own line.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "common/util.h"
#include "fcgi/params.h"
#include "tests/unit/unit.h"

#define ROW_FAIL(line, ...)                                                          \
	do {                                                                         \
		fprintf(stderr, "    %s:%d: ", __FILE__, line);                      \
		fprintf(stderr, __VA_ARGS__);                                        \
		fputc('\n', stderr);                                                 \
		*failed = 1;                                                         \
	} while (0)

#define MAX_EXPECTED 6

/* Whether p holds exactly the fields want (name, value, ..., NULL), in order. */
static void expect_fields(int *failed, int line, const struct params *p,
			  const char *const *want)
{
	size_t n = 0;

	while (n < 2 * MAX_EXPECTED && want[n])
		n += 2;
	if (p->n != n / 2) {
		ROW_FAIL(line, "%zu fields, expected %zu", p->n, n / 2);
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct param *f = &p->v[i];

		if (strcmp(f->name, want[2 * i]) || strcmp(f->value, want[2 * i + 1]) ||
		    f->value_len != strlen(want[2 * i + 1]))
			ROW_FAIL(line, "field %zu is '%s'='%s' (%zu bytes), expected '%s'='%s'", i,
				 f->name, f->value, f->value_len, want[2 * i], want[2 * i + 1]);
	}
}

static const struct {
	int line;
	const char *in;
	const char *want[2 * MAX_EXPECTED + 1];
} form_ok[] = {
	{ __LINE__, "", { NULL } },
	{ __LINE__, "&&&", { NULL } },
	{ __LINE__, "a=1&b=2", { "a", "1", "b", "2", NULL } },
	{ __LINE__, "a=1&&b=2", { "a", "1", "b", "2", NULL } },
	{ __LINE__, "&a=1&", { "a", "1", NULL } },
	{ __LINE__, "a", { "a", "", NULL } },
	{ __LINE__, "a=", { "a", "", NULL } },
	{ __LINE__, "a&b=2", { "a", "", "b", "2", NULL } },
	{ __LINE__, "a=b=c", { "a", "b=c", NULL } },
	{ __LINE__, "q=hello+world", { "q", "hello world", NULL } },
	{ __LINE__, "q=%41%62%2b%2B%25", { "q", "Ab++%", NULL } },
	{ __LINE__, "q=a%26b%3Dc", { "q", "a&b=c", NULL } },
	{ __LINE__, "%61=1", { "a", "1", NULL } },
	{ __LINE__, "vm=a&vm=b&vm=a", { "vm", "a", "vm", "b", "vm", "a", NULL } },
	{ __LINE__, "a.b-c_D9=x", { "a.b-c_D9", "x", NULL } },
	{ __LINE__, "t=%09%0D%0A%7F", { "t", "\t\r\n\x7f", NULL } },
	/* UTF-8: the edges of each length */
	{ __LINE__, "u=%C2%80%DF%BF", { "u", "\xc2\x80\xdf\xbf", NULL } },
	{ __LINE__, "u=%E0%A0%80%EF%BF%BF", { "u", "\xe0\xa0\x80\xef\xbf\xbf", NULL } },
	{ __LINE__, "u=%ED%9F%BF%EE%80%80", { "u", "\xed\x9f\xbf\xee\x80\x80", NULL } },
	{ __LINE__, "u=%E2%82%AC", { "u", "\xe2\x82\xac", NULL } },
	{ __LINE__, "u=%F0%9F%98%80", { "u", "\xf0\x9f\x98\x80", NULL } },
	{ __LINE__, "u=%F0%90%80%80%F4%8F%BF%BF", { "u", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", NULL } },
	{ __LINE__, "u=\xc3\xa9t\xc3\xa9", { "u", "\xc3\xa9t\xc3\xa9", NULL } },
};

static void params_form_decodes_fields(int *failed)
{
	for (size_t i = 0; i < ARRAY_SIZE(form_ok); i++) {
		struct params p = { 0 };
		char err[256] = "";
		int r = params_parse_urlencoded(form_ok[i].in, strlen(form_ok[i].in), &p, err,
						sizeof(err));

		if (r != 0) {
			ROW_FAIL(form_ok[i].line, "refused (%d): %s", r, err);
			continue;
		}
		expect_fields(failed, form_ok[i].line, &p, form_ok[i].want);
		params_free(&p);
	}
}

static const struct {
	int line;
	const char *in;
	size_t len;   /* 0: strlen(in) */
	const char *why; /* a word of the error sentence */
} form_bad[] = {
	{ __LINE__, "%", 0, "hex" },
	{ __LINE__, "a=%", 0, "hex" },
	{ __LINE__, "a=%4", 0, "hex" },
	{ __LINE__, "a=%4g", 0, "hex" },
	{ __LINE__, "a=%g4", 0, "hex" },
	{ __LINE__, "a=%%41", 0, "hex" },
	{ __LINE__, "a=% 4", 0, "hex" },
	{ __LINE__, "%zz=1", 0, "hex" },
	{ __LINE__, "a=1&b=%", 0, "hex" },
	{ __LINE__, "a=\0", 3, "NUL" },
	{ __LINE__, "a\0=1", 4, "NUL" },
	{ __LINE__, "a=%00", 0, "NUL" },
	{ __LINE__, "%00=1", 0, "NUL" },
	/* overlong encodings */
	{ __LINE__, "u=%C0%AF", 0, "UTF-8" },
	{ __LINE__, "u=%C1%BF", 0, "UTF-8" },
	{ __LINE__, "u=%E0%80%AF", 0, "UTF-8" },
	{ __LINE__, "u=%E0%9F%BF", 0, "UTF-8" },
	{ __LINE__, "u=%F0%80%80%AF", 0, "UTF-8" },
	{ __LINE__, "u=%F0%8F%BF%BF", 0, "UTF-8" },
	/* surrogates, alone and as a CESU-8 pair */
	{ __LINE__, "u=%ED%A0%80", 0, "UTF-8" },
	{ __LINE__, "u=%ED%BF%BF", 0, "UTF-8" },
	{ __LINE__, "u=%ED%A0%BD%ED%B8%80", 0, "UTF-8" },
	/* above U+10FFFF, and bytes that never occur */
	{ __LINE__, "u=%F4%90%80%80", 0, "UTF-8" },
	{ __LINE__, "u=%F5%80%80%80", 0, "UTF-8" },
	{ __LINE__, "u=%F8%88%80%80%80", 0, "UTF-8" },
	{ __LINE__, "u=%FE", 0, "UTF-8" },
	{ __LINE__, "u=%FF", 0, "UTF-8" },
	/* truncated sequences, at the end and before more text */
	{ __LINE__, "u=%C3", 0, "UTF-8" },
	{ __LINE__, "u=%E2%82", 0, "UTF-8" },
	{ __LINE__, "u=%F0%9F%98", 0, "UTF-8" },
	{ __LINE__, "u=%C3A", 0, "UTF-8" },
	{ __LINE__, "u=%E2%82A", 0, "UTF-8" },
	{ __LINE__, "u=%E2%82&v=1", 0, "UTF-8" },
	{ __LINE__, "u=%F0%9F%98%C3%A9", 0, "UTF-8" },
	/* lone continuation bytes */
	{ __LINE__, "u=%80", 0, "UTF-8" },
	{ __LINE__, "u=a%BFb", 0, "UTF-8" },
	{ __LINE__, "u=\xc3(", 0, "UTF-8" },
	/* names */
	{ __LINE__, "=1", 0, "empty" },
	{ __LINE__, "=", 0, "empty" },
	{ __LINE__, "a=1&=2", 0, "empty" },
	{ __LINE__, "a+b=1", 0, "character" },
	{ __LINE__, "a%20b=1", 0, "character" },
	{ __LINE__, "a:b=1", 0, "character" },
	{ __LINE__, "a[]=1", 0, "character" },
	{ __LINE__, "\xc3\xa4=1", 0, "character" },
	{ __LINE__, "a%0A=1", 0, "character" },
};

static void params_form_refusals(int *failed)
{
	for (size_t i = 0; i < ARRAY_SIZE(form_bad); i++) {
		struct params sentinel = { (struct param *)&sentinel, 77, (char *)&sentinel };
		struct params p = sentinel;
		size_t len = form_bad[i].len ? form_bad[i].len : strlen(form_bad[i].in);
		char err[256] = "";
		int r = params_parse_urlencoded(form_bad[i].in, len, &p, err, sizeof(err));

		if (r != -EINVAL) {
			ROW_FAIL(form_bad[i].line, "returned %d, expected -EINVAL", r);
			if (r == 0)
				params_free(&p);
			continue;
		}
		if (memcmp(&p, &sentinel, sizeof(p)))
			ROW_FAIL(form_bad[i].line, "the result was written on error");
		if (!strstr(err, form_bad[i].why) || err[strlen(err) - 1] != '.')
			ROW_FAIL(form_bad[i].line, "error '%s' is not a sentence about '%s'", err,
				 form_bad[i].why);
	}
}

/* n fields "f=1" joined by sep (a string of '&'). */
static char *fields(size_t n, const char *sep)
{
	size_t seplen = strlen(sep), len = n * (3 + seplen);
	char *s = malloc(len + 1), *w = s;

	for (size_t i = 0; i < n; i++) {
		memcpy(w, "f=1", 3);
		memcpy(w + 3, sep, seplen);
		w += 3 + seplen;
	}
	*w = '\0';
	return s;
}

static void params_form_field_limit(int *failed)
{
	struct params p = { 0 };
	char err[256] = "";
	char *s = fields(PARAMS_MAX_FIELDS, "&");

	CHECK_EQ(params_parse_urlencoded(s, strlen(s), &p, err, sizeof(err)), 0);
	CHECK_EQ(p.n, PARAMS_MAX_FIELDS);
	params_free(&p);
	free(s);
	/* empty pieces are no fields */
	s = fields(PARAMS_MAX_FIELDS, "&&&");
	CHECK_EQ(params_parse_urlencoded(s, strlen(s), &p, err, sizeof(err)), 0);
	CHECK_EQ(p.n, PARAMS_MAX_FIELDS);
	params_free(&p);
	free(s);
	s = fields(PARAMS_MAX_FIELDS + 1, "&");
	CHECK_EQ(params_parse_urlencoded(s, strlen(s), &p, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "more than 4096 fields"));
	CHECK(p.v == NULL);
	free(s);
}

static void params_form_name_limit(int *failed)
{
	char s[3 * PARAMS_MAX_NAME + 16], err[256] = "";
	struct params p = { 0 };

	memset(s, 'n', PARAMS_MAX_NAME);
	memcpy(s + PARAMS_MAX_NAME, "=v", 3);
	CHECK_EQ(params_parse_urlencoded(s, strlen(s), &p, err, sizeof(err)), 0);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.n ? strlen(p.v[0].name) : 0, PARAMS_MAX_NAME);
	params_free(&p);
	memset(s, 'n', PARAMS_MAX_NAME + 1);
	memcpy(s + PARAMS_MAX_NAME + 1, "=v", 3);
	CHECK_EQ(params_parse_urlencoded(s, strlen(s), &p, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "longer than 64 bytes"));
	/* the limit is on the decoded name */
	for (int i = 0; i < PARAMS_MAX_NAME; i++)
		memcpy(s + 3 * i, "%6E", 3);
	memcpy(s + 3 * PARAMS_MAX_NAME, "=v", 3);
	CHECK_EQ(params_parse_urlencoded(s, strlen(s), &p, err, sizeof(err)), 0);
	CHECK_EQ(p.n ? strlen(p.v[0].name) : 0, PARAMS_MAX_NAME);
	params_free(&p);
}

/* Refusals leave a sentence even in a short buffer, and none is needed. */
static void params_form_error_buffer(int *failed)
{
	struct params p = { 0 };
	char err[8];

	CHECK_EQ(params_parse_urlencoded("a=%", 3, &p, err, sizeof(err)), -EINVAL);
	CHECK_EQ(strlen(err), sizeof(err) - 1);
	CHECK_EQ(params_parse_urlencoded("a=%", 3, &p, NULL, 0), -EINVAL);
	CHECK_EQ(params_parse_urlencoded(NULL, 0, &p, NULL, 0), 0);
	CHECK_EQ(p.n, 0);
}

static const struct {
	int line;
	const char *header;
	const char *want[2 * MAX_EXPECTED + 1];
} cookies[] = {
	{ __LINE__, NULL, { NULL } },
	{ __LINE__, "", { NULL } },
	{ __LINE__, ";;; ;", { NULL } },
	{ __LINE__, "a=1; b=2", { "a", "1", "b", "2", NULL } },
	{ __LINE__, "a=1;b=2", { "a", "1", "b", "2", NULL } },
	{ __LINE__, "  a = 1 ;\tb=2\t ", { "a", "1", "b", "2", NULL } },
	{ __LINE__, "sid=\"abc\"; e=\"\"", { "sid", "abc", "e", "", NULL } },
	{ __LINE__, "a=; b", { "a", "", NULL } },
	{ __LINE__, "x=a=b", { "x", "a=b", NULL } },
	{ __LINE__, "a=%41", { "a", "%41", NULL } },
	{ __LINE__, "a=1; a=2", { "a", "1", "a", "2", NULL } },
	{ __LINE__, "__Host-sid=Zm9v_-.~!#$&'()*+/:<>?@[]^`{|}", { "__Host-sid", "Zm9v_-.~!#$&'()*+/:<>?@[]^`{|}", NULL } },
	/* junk among good pairs: skipped, the good ones kept */
	{ __LINE__, "junk; a=1", { "a", "1", NULL } },
	{ __LINE__, "a=1; =x; b=2", { "a", "1", "b", "2", NULL } },
	{ __LINE__, "a:b=1; c=2", { "c", "2", NULL } },
	{ __LINE__, "$Version=1; a=1", { "a", "1", NULL } },
	{ __LINE__, "x=has space; y=2", { "y", "2", NULL } },
	{ __LINE__, "x=a,b; y=1", { "y", "1", NULL } },
	{ __LINE__, "x=\"unterminated; y=1", { "y", "1", NULL } },
	{ __LINE__, "x=\"; y=1", { "y", "1", NULL } },
	{ __LINE__, "x=a\"b\"; y=1", { "y", "1", NULL } },
	{ __LINE__, "x=a\\b; y=1", { "y", "1", NULL } },
	{ __LINE__, "x=\xc3\xa9; y=1", { "y", "1", NULL } },
	{ __LINE__, "x=\x7f; y=\x01; z=1", { "z", "1", NULL } },
	{ __LINE__, "\xc3\xa9=1; z=1", { "z", "1", NULL } },
	{ __LINE__, "a=1; 0123456789012345678901234567890123456789012345678901234567890123"
		    "4=1; b=2", { "a", "1", "b", "2", NULL } },
};

static void params_cookies_pairs(int *failed)
{
	for (size_t i = 0; i < ARRAY_SIZE(cookies); i++) {
		struct params p = { 0 };
		int r = params_parse_cookies(cookies[i].header, &p);

		if (r != 0) {
			ROW_FAIL(cookies[i].line, "returned %d", r);
			continue;
		}
		expect_fields(failed, cookies[i].line, &p, cookies[i].want);
		params_free(&p);
	}
}

/* A name of exactly PARAMS_MAX_NAME bytes is taken; the row above with 65 is not. */
static void params_cookies_name_limit(int *failed)
{
	char h[PARAMS_MAX_NAME + 8];
	struct params p = { 0 };

	memset(h, 'c', PARAMS_MAX_NAME);
	memcpy(h + PARAMS_MAX_NAME, "=1", 3);
	CHECK_EQ(params_parse_cookies(h, &p), 0);
	CHECK_EQ(p.n, 1);
	params_free(&p);
	memset(h, 'c', PARAMS_MAX_NAME + 1);
	memcpy(h + PARAMS_MAX_NAME + 1, "=1", 3);
	CHECK_EQ(params_parse_cookies(h, &p), 0);
	CHECK_EQ(p.n, 0);
	params_free(&p);
}

static void params_cookies_field_limit(int *failed)
{
	struct params p = { 0 };
	char *h = fields(PARAMS_MAX_FIELDS + 1, ";");

	CHECK_EQ(params_parse_cookies(h, &p), 0);
	CHECK_EQ(p.n, PARAMS_MAX_FIELDS);
	params_free(&p);
	free(h);
	/* junk pairs take no place: 4096 good ones after 10 bad ones are all kept */
	h = fields(PARAMS_MAX_FIELDS + 10, ";");
	memset(h, 'x', 10 * 4);
	for (int i = 0; i < 10; i++)
		h[4 * i + 3] = ';';
	CHECK_EQ(params_parse_cookies(h, &p), 0);
	CHECK_EQ(p.n, PARAMS_MAX_FIELDS);
	params_free(&p);
	free(h);
}

static void params_get_and_next(int *failed)
{
	struct params p = { 0 };
	const char *v;
	size_t i = 0;
	char err[256];

	CHECK_EQ(params_parse_urlencoded("vm=a&x=1&vm=b&vm=", 17, &p, err, sizeof(err)), 0);
	v = params_get(&p, "vm");
	CHECK(v && strcmp(v, "a") == 0);
	CHECK(params_get(&p, "VM") == NULL);
	CHECK(params_get(&p, "v") == NULL);
	CHECK(params_get(&p, "nope") == NULL);
	v = params_next(&p, "vm", &i);
	CHECK(v && strcmp(v, "a") == 0);
	v = params_next(&p, "vm", &i);
	CHECK(v && strcmp(v, "b") == 0);
	v = params_next(&p, "vm", &i);
	CHECK(v && strcmp(v, "") == 0);
	CHECK(params_next(&p, "vm", &i) == NULL);
	CHECK(params_next(&p, "vm", &i) == NULL);
	params_free(&p);
}

static void params_free_accepts_empty(int *failed)
{
	struct params p = { 0 };

	params_free(NULL);
	params_free(&p);
	params_free(&p);
	CHECK(p.v == NULL && p.n == 0);
	CHECK(params_get(&p, "a") == NULL);
	CHECK_EQ(params_parse_cookies("a=1", &p), 0);
	params_free(&p);
	params_free(&p);
	CHECK(p.v == NULL && p.n == 0 && p.storage == NULL);
}

/* A params holding the one field "v" = value, built without the parser. */
#define ONE_FIELD(value)                                                             \
	struct param f_ = { (char *)"v", (char *)(value), strlen(value) };           \
	struct params p_ = { &f_, 1, NULL }

static const struct {
	int line;
	const char *value;
	long long min, max;
	int r;
	long long want;
} ints[] = {
	{ __LINE__, "0", LLONG_MIN, LLONG_MAX, 0, 0 },
	{ __LINE__, "1", LLONG_MIN, LLONG_MAX, 0, 1 },
	{ __LINE__, "-1", LLONG_MIN, LLONG_MAX, 0, -1 },
	{ __LINE__, "1024", 0, 4096, 0, 1024 },
	{ __LINE__, "9223372036854775807", LLONG_MIN, LLONG_MAX, 0, LLONG_MAX },
	{ __LINE__, "-9223372036854775808", LLONG_MIN, LLONG_MAX, 0, LLONG_MIN },
	{ __LINE__, "9223372036854775808", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
	{ __LINE__, "-9223372036854775809", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
	{ __LINE__, "18446744073709551616", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
	{ __LINE__, "99999999999999999999999999999", LLONG_MIN, LLONG_MAX, -ERANGE, 0 },
	{ __LINE__, "99999999999999999999x", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "5", 5, 5, 0, 5 },
	{ __LINE__, "4", 5, 10, -ERANGE, 0 },
	{ __LINE__, "11", 5, 10, -ERANGE, 0 },
	{ __LINE__, "-1", 0, 10, -ERANGE, 0 },
	{ __LINE__, "-0", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "007", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "00", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "-01", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "1e3", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "1.0", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, " 1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "1 ", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "\t1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "+1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "--1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "-", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "0x10", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "1_000", LLONG_MIN, LLONG_MAX, -EINVAL, 0 },
	{ __LINE__, "\xd9\xa1", LLONG_MIN, LLONG_MAX, -EINVAL, 0 }, /* ARABIC-INDIC DIGIT ONE */
};

static void params_int_values(int *failed)
{
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		ONE_FIELD(ints[i].value);
		long long v = 12345;
		int r = params_int(&p_, "v", ints[i].min, ints[i].max, &v);

		if (r != ints[i].r)
			ROW_FAIL(ints[i].line, "'%s' gave %d, expected %d", ints[i].value, r,
				 ints[i].r);
		else if (r == 0 && v != ints[i].want)
			ROW_FAIL(ints[i].line, "'%s' gave %lld", ints[i].value, v);
		else if (r < 0 && v != 12345)
			ROW_FAIL(ints[i].line, "'%s' wrote the result on error", ints[i].value);
	}
}

static void params_int_missing(int *failed)
{
	ONE_FIELD("1");
	long long v = 7;

	CHECK_EQ(params_int(&p_, "w", 0, 10, &v), -ENOENT);
	CHECK_EQ(v, 7);
}

static const struct {
	int line;
	const char *value;
	size_t max_len;
	bool multiline;
	int r;
} texts[] = {
	{ __LINE__, "", 0, false, 0 },
	{ __LINE__, "hello", 5, false, 0 },
	{ __LINE__, "hello", 4, false, -E2BIG },
	{ __LINE__, "\xc3\xa9t\xc3\xa9", 5, false, 0 }, /* bytes, not characters */
	{ __LINE__, "\xc3\xa9t\xc3\xa9", 4, false, -E2BIG },
	{ __LINE__, "a b~", 10, false, 0 },
	{ __LINE__, "a\tb", 10, false, -EINVAL },
	{ __LINE__, "a\nb", 10, false, -EINVAL },
	{ __LINE__, "a\rb", 10, false, -EINVAL },
	{ __LINE__, "a\tb\r\nc", 10, true, 0 },
	{ __LINE__, "a\x01", 10, false, -EINVAL },
	{ __LINE__, "a\x01", 10, true, -EINVAL },
	{ __LINE__, "\x1f", 10, true, -EINVAL },
	{ __LINE__, "\x1b[31m", 10, true, -EINVAL },
	{ __LINE__, "a\x7f", 10, false, -EINVAL },
	{ __LINE__, "a\x7f", 10, true, -EINVAL },
	{ __LINE__, "\x0b\x0c", 10, true, -EINVAL },
};

static void params_text_values(int *failed)
{
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		ONE_FIELD(texts[i].value);
		const char *v = "untouched";
		int r = params_text(&p_, "v", texts[i].max_len, texts[i].multiline, &v);

		if (r != texts[i].r)
			ROW_FAIL(texts[i].line, "gave %d, expected %d", r, texts[i].r);
		else if (r == 0 && v != f_.value)
			ROW_FAIL(texts[i].line, "did not give the value");
		else if (r < 0 && strcmp(v, "untouched"))
			ROW_FAIL(texts[i].line, "wrote the result on error");
	}
	ONE_FIELD("x");
	const char *v = NULL;

	CHECK_EQ(params_text(&p_, "w", 10, true, &v), -ENOENT);
	CHECK(v == NULL);
}

static const struct {
	int line;
	const char *value; /* NULL: the field is missing */
	int r;
	bool want;
} bools[] = {
	{ __LINE__, NULL, 0, false },
	{ __LINE__, "on", 0, true },
	{ __LINE__, "1", 0, true },
	{ __LINE__, "true", 0, true },
	{ __LINE__, "yes", 0, true },
	{ __LINE__, "", 0, false },
	{ __LINE__, "0", 0, false },
	{ __LINE__, "off", 0, false },
	{ __LINE__, "false", 0, false },
	{ __LINE__, "no", 0, false },
	{ __LINE__, "ON", -EINVAL, false },
	{ __LINE__, "2", -EINVAL, false },
	{ __LINE__, "on ", -EINVAL, false },
	{ __LINE__, "y", -EINVAL, false },
	{ __LINE__, "tru", -EINVAL, false },
};

static void params_bool_values(int *failed)
{
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
		ONE_FIELD(bools[i].value ? bools[i].value : "");
		bool v = !bools[i].want;
		int r = params_bool(&p_, bools[i].value ? "v" : "missing", &v);

		if (r != bools[i].r)
			ROW_FAIL(bools[i].line, "gave %d, expected %d", r, bools[i].r);
		else if (r == 0 && v != bools[i].want)
			ROW_FAIL(bools[i].line, "gave %d", v);
		else if (r < 0 && v != !bools[i].want)
			ROW_FAIL(bools[i].line, "wrote the result on error");
	}
}

static void params_form_feeds_typed_access(int *failed)
{
	struct params p = { 0 };
	const char *body = "name=web+1&vcpus=4&autostart=on&note=a%0D%0Ab";
	const char *t;
	long long n;
	bool b;
	char err[256];

	CHECK_EQ(params_parse_urlencoded(body, strlen(body), &p, err, sizeof(err)), 0);
	CHECK_EQ(params_int(&p, "vcpus", 1, 64, &n), 0);
	CHECK_EQ(n, 4);
	CHECK_EQ(params_bool(&p, "autostart", &b), 0);
	CHECK(b);
	CHECK_EQ(params_bool(&p, "rng", &b), 0);
	CHECK(!b);
	CHECK_EQ(params_text(&p, "name", 64, false, &t), 0);
	CHECK(strcmp(t, "web 1") == 0);
	CHECK_EQ(params_text(&p, "note", 64, false, &t), -EINVAL);
	CHECK_EQ(params_text(&p, "note", 64, true, &t), 0);
	params_free(&p);
}

static void token_equal_compares(int *failed)
{
	CHECK(token_equal("abcdef0123", "abcdef0123"));
	CHECK(!token_equal("abcdef0123", "bbcdef0123"));
	CHECK(!token_equal("abcdef0123", "abcdef0124"));
	CHECK(!token_equal("abcdef0123", "abcdef012"));
	CHECK(!token_equal("abcdef012", "abcdef0123"));
	CHECK(!token_equal("abc", "ABC"));
	CHECK(!token_equal("\xff", "\x7f"));
	CHECK(!token_equal("", ""));
	CHECK(!token_equal("", "a"));
	CHECK(!token_equal(NULL, "a"));
	CHECK(!token_equal("a", NULL));
	CHECK(!token_equal(NULL, NULL));
}

const struct unit_test params_tests[] = {
	{ "params_form_decodes_fields", params_form_decodes_fields },
	{ "params_form_refusals", params_form_refusals },
	{ "params_form_field_limit", params_form_field_limit },
	{ "params_form_name_limit", params_form_name_limit },
	{ "params_form_error_buffer", params_form_error_buffer },
	{ "params_cookies_pairs", params_cookies_pairs },
	{ "params_cookies_name_limit", params_cookies_name_limit },
	{ "params_cookies_field_limit", params_cookies_field_limit },
	{ "params_get_and_next", params_get_and_next },
	{ "params_free_accepts_empty", params_free_accepts_empty },
	{ "params_int_values", params_int_values },
	{ "params_int_missing", params_int_missing },
	{ "params_text_values", params_text_values },
	{ "params_bool_values", params_bool_values },
	{ "params_form_feeds_typed_access", params_form_feeds_typed_access },
	{ "token_equal_compares", token_equal_compares },
	{ NULL, NULL },
};
