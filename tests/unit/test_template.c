/*
 * The template engine against the Mustache rules it claims (see the NOTES
 * of fcgi/template.h): each test renders small templates of our own and
 * compares the whole output; each failure names the line of its case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/buf.h"
#include "fcgi/template.h"
#include "tests/unit/unit.h"

struct partial {
	const char *name, *text;
};

/*
 * Render text as template "main", with the partials (ending with a NULL
 * name) beside it, against the JSON data. Returns what tpl_render returned,
 * or the error of the add or link step, with its sentence in err.
 */
static int render(const struct partial *partials, const char *text, const char *json,
		  size_t max, struct buf *out, char *err, size_t errlen)
{
	struct tpl_set *set = tpl_set_new();
	struct json_object *ctx = NULL;
	int r;

	err[0] = '\0';
	buf_init(out, max);
	if (!set)
		return -ENOMEM;
	r = tpl_set_add(set, "main", text, strlen(text), err, errlen);
	for (; r == 0 && partials && partials->name; partials++)
		r = tpl_set_add(set, partials->name, partials->text, strlen(partials->text), err,
				errlen);
	if (r == 0)
		r = tpl_set_link(set, err, errlen);
	if (r == 0 && json) {
		enum json_tokener_error jerr;

		ctx = json_tokener_parse_verbose(json, &jerr);
		if (jerr != json_tokener_success) {
			fprintf(stderr, "    bad JSON in the test: %s\n", json);
			r = -EBADMSG;
		}
	}
	if (r == 0)
		r = tpl_render(set, "main", ctx, out);
	json_object_put(ctx);
	tpl_set_free(set);
	return r;
}

static void expect_at(int *failed, int line, const struct partial *partials, const char *text,
		      const char *json, const char *want)
{
	struct buf out;
	char err[256];
	int r = render(partials, text, json, 1 << 20, &out, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "    %s:%d: render failed with %d: %s\n", __FILE__, line, r, err);
		*failed = 1;
	} else if (strcmp(out.data ? out.data : "", want)) {
		fprintf(stderr, "    %s:%d: rendered \"%s\", expected \"%s\"\n", __FILE__, line,
			out.data ? out.data : "", want);
		*failed = 1;
	}
	buf_free(&out);
}

/* Expect the error r and, when msg is not NULL, exactly that sentence. */
static void expect_error_at(int *failed, int line, const struct partial *partials,
			    const char *text, const char *json, int want, const char *msg)
{
	struct buf out;
	char err[256];
	int r = render(partials, text, json, 1 << 20, &out, err, sizeof(err));

	if (r != want || (msg && strcmp(err, msg))) {
		fprintf(stderr, "    %s:%d: got %d \"%s\", expected %d \"%s\"\n", __FILE__, line, r,
			err, want, msg ? msg : "");
		*failed = 1;
	}
	buf_free(&out);
}

#define EXPECT(text, json, want) expect_at(failed, __LINE__, NULL, text, json, want)
#define EXPECT_P(partials, text, json, want) expect_at(failed, __LINE__, partials, text, json, want)
#define EXPECT_ERROR(text, r, msg) expect_error_at(failed, __LINE__, NULL, text, "{}", r, msg)

/* Interpolation */

static void template_interpolation_escapes_a_value(int *failed)
{
	EXPECT("Hello, {{name}}!", "{\"name\": \"<b>world</b>\"}",
	       "Hello, &lt;b&gt;world&lt;/b&gt;!");
	EXPECT("no tags at all\n", "{}", "no tags at all\n");
	EXPECT("", "{}", "");
}

static void template_escapes_all_five_html_characters(int *failed)
{
	struct buf out = BUF_INIT(100);

	CHECK_EQ(html_escape(&out, "a&b<c>d\"e'f", 11), 0);
	CHECK(out.data && !strcmp(out.data, "a&amp;b&lt;c&gt;d&quot;e&#39;f"));
	buf_free(&out);
	EXPECT("{{x}}", "{\"x\": \"& < > \\\" '\"}", "&amp; &lt; &gt; &quot; &#39;");
}

static void template_escaper_keeps_utf8_and_other_bytes(int *failed)
{
	const char text[] = "Grüße 日本 \x01\x7f\xff é<";
	struct buf out = BUF_INIT(100);

	CHECK_EQ(html_escape(&out, text, sizeof(text) - 1), 0);
	CHECK(out.data && !strcmp(out.data, "Grüße 日本 \x01\x7f\xff é&lt;"));
	buf_free(&out);
	EXPECT("{{x}}", "{\"x\": \"Grüße 日本\"}", "Grüße 日本");
}

static void template_raw_tags_do_not_escape(int *failed)
{
	EXPECT("{{{x}}}|{{&x}}", "{\"x\": \"<a href='/'>&amp;</a>\"}",
	       "<a href='/'>&amp;</a>|<a href='/'>&amp;</a>");
}

static void template_allows_whitespace_inside_tags(int *failed)
{
	static const struct partial p[] = { { "p", "[{{x}}]" }, { NULL, NULL } };

	EXPECT_P(p, "{{ x }}|{{{ x }}}|{{& x }}|{{# s }}in{{/ s }}|{{^ n }}not{{/ n }}|{{> p }}",
		 "{\"x\": \"<\", \"s\": true, \"n\": false}", "&lt;|<|<|in|not|[&lt;]");
	EXPECT("{{\tx\t}}", "{\"x\": 1}", "1");
}

static void template_missing_key_renders_empty(int *failed)
{
	EXPECT("[{{missing}}][{{{missing}}}][{{&missing}}]", "{}", "[][][]");
	EXPECT("[{{x}}]", "[1]", "[]"); /* a context that is not an object */
	EXPECT("[{{x}}]", NULL, "[]");
}

static void template_renders_integers_exactly(int *failed)
{
	EXPECT("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}",
	       "{\"a\": 0, \"b\": 85, \"c\": -7, \"d\": 9007199254740993,"
	       " \"e\": 9223372036854775807, \"f\": 18446744073709551615}",
	       "0 85 -7 9007199254740993 9223372036854775807 18446744073709551615");
	EXPECT("{{a}}", "{\"a\": -9223372036854775808}", "-9223372036854775808");
}

static void template_renders_doubles_in_fewest_digits(int *failed)
{
	EXPECT("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}",
	       "{\"a\": 1.210, \"b\": 0.1, \"c\": 3.0, \"d\": -2.5, \"e\": 1e300,"
	       " \"f\": 0.30000000000000004}",
	       "1.21 0.1 3 -2.5 1e+300 0.30000000000000004");
	EXPECT("{{{a}}}", "{\"a\": 1.210}", "1.21");
}

static void template_renders_booleans_as_words(int *failed)
{
	EXPECT("{{t}} {{f}} {{{t}}}", "{\"t\": true, \"f\": false}", "true false true");
}

static void template_renders_null_as_empty(int *failed)
{
	EXPECT("[{{n}}][{{{n}}}]", "{\"n\": null}", "[][]");
	/* null found in an inner context hides the outer value */
	EXPECT("{{#o}}[{{n}}]{{/o}}", "{\"n\": \"outer\", \"o\": {\"n\": null}}", "[]");
}

static void template_objects_and_arrays_interpolate_empty(int *failed)
{
	EXPECT("[{{o}}][{{a}}]", "{\"o\": {\"k\": 1}, \"a\": [1, 2]}", "[][]");
}

static void template_resolves_dotted_names(int *failed)
{
	const char *data = "{\"a\": {\"b\": {\"c\": \"deep\", \"n\": 7}}, \"x\": \"<\"}";

	EXPECT("{{a.b.c}} {{{a.b.c}}} {{a.b.n}}", data, "deep deep 7");
	/* the first part comes from an outer context */
	EXPECT("{{#a}}{{#b}}{{x}} {{a.b.c}}{{/b}}{{/a}}", data, "&lt; deep");
	EXPECT("{{a.b.c.d}}|{{a.z}}|{{z.b}}", data, "||");
}

static void template_dotted_name_does_not_fall_back_on_broken_chain(int *failed)
{
	/* a.b exists but has no c: the outer c is not used */
	EXPECT("[{{a.b.c.name}}]", "{\"a\": {\"b\": {}}, \"c\": {\"name\": \"outer\"}}", "[]");
	/* b is found in a's context first, which has no c */
	EXPECT("{{#a}}[{{b.c}}]{{/a}}", "{\"a\": {\"b\": {}}, \"b\": {\"c\": \"outer\"}}", "[]");
}

static void template_implicit_iterator_renders_current_value(int *failed)
{
	EXPECT("[{{.}}]", "\"top<\"", "[top&lt;]");
	EXPECT("[{{{.}}}]", "\"top<\"", "[top<]");
	EXPECT("{{#l}}({{.}}){{/l}}", "{\"l\": [\"a\", 1, 1.5, true, null, \"&\"]}",
	       "(a)(1)(1.5)(true)()(&amp;)");
}

static void template_interpolation_is_never_standalone(int *failed)
{
	EXPECT("  {{x}}\n", "{\"x\": \"v\"}", "  v\n");
	EXPECT("  {{x}}\n|", "{}", "  \n|");
	EXPECT("a\n{{{x}}}\r\nb", "{}", "a\n\r\nb");
}

/* Sections */

static void template_section_skips_falsy_values(int *failed)
{
	EXPECT("[{{#f}}no{{/f}}{{#n}}no{{/n}}{{#m}}no{{/m}}{{#e}}no{{/e}}]",
	       "{\"f\": false, \"n\": null, \"e\": []}", "[]");
}

static void template_section_treats_zero_empty_string_and_object_as_truthy(int *failed)
{
	EXPECT("{{#z}}z{{/z}}{{#s}}s{{/s}}{{#o}}o{{/o}}", "{\"z\": 0, \"s\": \"\", \"o\": {}}",
	       "zso");
}

static void template_section_pushes_object_context(int *failed)
{
	EXPECT("{{#vm}}{{name}} {{cpus}}{{/vm}}", "{\"vm\": {\"name\": \"web\", \"cpus\": 2}}",
	       "web 2");
}

static void template_section_iterates_a_list(int *failed)
{
	EXPECT("{{#vms}}<{{name}}>{{/vms}}",
	       "{\"vms\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {}]}", "<a><b><>");
	/* every element is rendered, falsy ones too */
	EXPECT("{{#l}}[{{.}}]{{/l}}", "{\"l\": [false, 0, []]}", "[false][0][]");
	/* a list of lists, through the implicit iterator */
	EXPECT("{{#l}}({{#.}}{{.}}{{/.}}){{/l}}", "{\"l\": [[1, 2], [], [3]]}", "(12)()(3)");
}

static void template_section_renders_truthy_scalar_once_as_dot(int *failed)
{
	EXPECT("{{#t}}[{{.}}]{{/t}}{{#s}}[{{.}}]{{/s}}{{#i}}[{{.}}]{{/i}}",
	       "{\"t\": true, \"s\": \"str\", \"i\": 5}", "[true][str][5]");
}

static void template_nested_sections_look_up_parent_contexts(int *failed)
{
	EXPECT("{{#a}}{{#b}}{{#c}}{{x}}{{y}}{{z}}{{/c}}{{/b}}{{/a}}",
	       "{\"x\": 1, \"a\": {\"y\": 2, \"b\": {\"c\": {\"z\": 3}}}}", "123");
	/* the innermost context wins */
	EXPECT("{{x}}{{#a}}{{x}}{{#b}}{{x}}{{/b}}{{x}}{{/a}}{{x}}",
	       "{\"x\": 1, \"a\": {\"x\": 2, \"b\": {\"x\": 3}}}", "12321");
	EXPECT("{{#l}}{{name}}@{{host}} {{/l}}",
	       "{\"host\": \"h\", \"l\": [{\"name\": \"a\"}, {\"name\": \"b\", \"host\": \"g\"}]}",
	       "a@h b@g ");
}

static void template_section_accepts_dotted_names(int *failed)
{
	EXPECT("{{#a.b.c}}[{{d}}]{{/a.b.c}}{{#a.x}}no{{/a.x}}{{^a.x}}yes{{/a.x}}",
	       "{\"a\": {\"b\": {\"c\": {\"d\": \"in\"}}}}", "[in]yes");
	EXPECT("{{#a.b.c}}no{{/a.b.c}}", "{\"a\": {}, \"b\": {\"c\": true}}", "");
}

static void template_standalone_section_lines_are_removed(int *failed)
{
	EXPECT("| This\n  {{#b}}\n|\n\t{{/b}}  \n| End\n", "{\"b\": true}", "| This\n|\n| End\n");
	EXPECT("<ul>\n{{#l}}\n  <li>{{.}}</li>\n{{/l}}\n</ul>\n", "{\"l\": [1, 2]}",
	       "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\n");
	EXPECT("a\n  {{^b}}\n  x\n  {{/b}}\nz", "{\"b\": false}", "a\n  x\nz");
}

static void template_standalone_lines_with_crlf_are_removed(int *failed)
{
	EXPECT("|\r\n{{#b}}\r\n{{/b}}\r\n|", "{\"b\": true}", "|\r\n|");
	EXPECT("|\r\n  {{! c }}  \r\n|", "{}", "|\r\n|");
}

static void template_standalone_tags_at_template_start_and_end(int *failed)
{
	EXPECT("  {{#b}}\n#{{/b}}\n/", "{\"b\": true}", "#\n/");
	EXPECT("#{{#b}}\n/\n  {{/b}}", "{\"b\": true}", "#\n/\n");
	EXPECT("{{#b}}\nx\n{{/b}}", "{\"b\": true}", "x\n");
}

static void template_inline_section_tags_are_not_standalone(int *failed)
{
	EXPECT(" {{#b}}x{{/b}} \n", "{\"b\": true}", " x \n");
	EXPECT(" | {{#b}} {{/b}} |\n", "{\"b\": true}", " |   |\n");
	EXPECT("a {{#b}}\nx\n{{/b}} z\n", "{\"b\": true}", "a \nx\n z\n");
	/* two tags on one line: neither stands alone */
	EXPECT("{{#b}}{{/b}}\n|", "{\"b\": true}", "\n|");
}

/* Inverted sections */

static void template_inverted_section_renders_for_falsy_missing_or_empty(int *failed)
{
	EXPECT("{{^f}}f{{/f}}{{^n}}n{{/n}}{{^m}}m{{/m}}{{^e}}e{{/e}}",
	       "{\"f\": false, \"n\": null, \"e\": []}", "fnme");
	EXPECT("[{{^t}}t{{/t}}{{^l}}l{{/l}}{{^o}}o{{/o}}{{^s}}s{{/s}}{{^z}}z{{/z}}]",
	       "{\"t\": true, \"l\": [1], \"o\": {}, \"s\": \"\", \"z\": 0}", "[]");
	/* the context does not change inside */
	EXPECT("{{^f}}{{x}}{{/f}}", "{\"f\": false, \"x\": \"same\"}", "same");
}

/* Partials */

static void template_partial_renders_with_current_context(int *failed)
{
	static const struct partial p[] = { { "row", "<td>{{name}}</td><td>{{host}}</td>" },
					    { NULL, NULL } };

	EXPECT_P(p, "{{#vms}}{{>row}};{{/vms}}",
		 "{\"host\": \"h\", \"vms\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}",
		 "<td>a</td><td>h</td>;<td>b</td><td>h</td>;");
}

static void template_standalone_partial_is_indented(int *failed)
{
	/* the partial's lines are indented, not the lines of a value put into it */
	static const struct partial p[] = { { "p", "|\n{{{content}}}\n|\n" }, { NULL, NULL } };
	static const struct partial q[] = { { "q", ">\n>" }, { NULL, NULL } };
	static const struct partial nested[] = {
		{ "outer", "<div>\n  {{>inner}}\n</div>\n" },
		{ "inner", "<p>\n{{#l}}\n  {{.}}\n{{/l}}\n</p>\n" },
		{ NULL, NULL },
	};

	EXPECT_P(p, "\\\n {{>p}}\n/\n", "{\"content\": \"<\\n->\"}", "\\\n |\n <\n->\n |\n/\n");
	EXPECT_P(q, "  {{>q}}\n>", "{}", "  >\n  >>");
	EXPECT_P(q, ">\n  {{>q}}", "{}", ">\n  >\n  >");
	EXPECT_P(q, "|\r\n\t{{>q}}\r\n|", "{}", "|\r\n\t>\n\t>|");
	/* indentation adds up through nested partials */
	EXPECT_P(nested, "<body>\n  {{>outer}}\n</body>\n", "{\"l\": [1, 2]}",
		 "<body>\n  <div>\n    <p>\n      1\n      2\n    </p>\n  </div>\n</body>\n");
}

static void template_inline_partial_is_not_indented(int *failed)
{
	static const struct partial q[] = { { "q", ">\n>" }, { NULL, NULL } };

	EXPECT_P(q, "  {{x}}  {{>q}}\n", "{\"x\": \"|\"}", "  |  >\n>\n");
	EXPECT_P(q, "  {{>q}}|\n", "{}", "  >\n>|\n");
}

/* A leaf needs its own empty kids: a missing one would be found in its parent. */
static void template_partial_recursion_follows_the_data(int *failed)
{
	static const struct partial p[] = {
		{ "node", "{{name}}<{{#kids}}{{>node}}{{/kids}}>" },
		{ NULL, NULL },
	};

	EXPECT_P(p, "{{>node}}",
		 "{\"name\": \"a\", \"kids\": [{\"name\": \"b\", \"kids\": [{\"name\": \"c\","
		 " \"kids\": []}]}, {\"name\": \"d\", \"kids\": false}]}",
		 "a<b<c<>>d<>>");
}

/* {"k": {"k": ... {"k": false}}} with n objects */
static void nested_k(char *p, size_t size, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += snprintf(p + len, size - len, "{\"k\": ");
	len += snprintf(p + len, size - len, "false");
	for (int i = 0; i < n; i++)
		len += snprintf(p + len, size - len, "}");
}

static void template_endless_recursion_is_eloop(int *failed)
{
	static const struct partial self[] = { { "p", "x{{>p}}" }, { NULL, NULL } };
	static const struct partial node[] = { { "n", "{{#k}}{{>n}}{{/k}}" }, { NULL, NULL } };
	struct buf out;
	char err[256], data[1024];

	CHECK_EQ(render(self, "{{>p}}", "{}", 1 << 20, &out, err, sizeof(err)), -ELOOP);
	buf_free(&out);

	/* 17 objects: 16 sections and 16 partials entered, TPL_MAX_DEPTH in all */
	nested_k(data, sizeof(data), 17);
	CHECK_EQ(render(node, "{{#k}}{{>n}}{{/k}}", data, 1 << 20, &out, err, sizeof(err)), 0);
	buf_free(&out);
	/* one more object, one section more than TPL_MAX_DEPTH */
	nested_k(data, sizeof(data), 18);
	CHECK_EQ(render(node, "{{#k}}{{>n}}{{/k}}", data, 1 << 20, &out, err, sizeof(err)), -ELOOP);
	buf_free(&out);
}

/* Comments */

static void template_comment_renders_nothing(int *failed)
{
	EXPECT("12345{{! Comment Block! }}67890", "{}", "1234567890");
	EXPECT("12345{{!\n  This is a\n  multi-line comment...\n}}67890", "{}", "1234567890");
	EXPECT("a{{!}}b{{! {{x}} is not a tag here }}c", "{\"x\": 1}", "ab is not a tag here }}c");
}

static void template_standalone_comment_lines_are_removed(int *failed)
{
	EXPECT("Begin.\n  {{! Comment Block! }}\nEnd.\n", "{}", "Begin.\nEnd.\n");
	EXPECT("Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n", "{}", "Begin.\nEnd.\n");
	EXPECT("  {{! first line }}\nx\n  {{! last line }}", "{}", "x\n");
	EXPECT("  12 {{! 34 }}\n", "{}", "  12 \n");
}

/* Errors */

static void template_rejects_unclosed_section(int *failed)
{
	EXPECT_ERROR("<ul>\n{{#disks}}\n<li>{{name}}</li>\n", -EINVAL,
		     "template main: line 2: section 'disks' is not closed");
	EXPECT_ERROR("{{#a}}\n{{^b}}\n{{/b}}", -EINVAL,
		     "template main: line 1: section 'a' is not closed");
}

static void template_rejects_unmatched_closing_tag(int *failed)
{
	EXPECT_ERROR("x\n\n{{/a}}", -EINVAL,
		     "template main: line 3: closing tag 'a' has no open section");
	EXPECT_ERROR("{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}", -EINVAL,
		     "template main: line 3: closing tag 'a' does not match section 'b' of line 2");
	EXPECT_ERROR("{{#a.b}}{{/a}}", -EINVAL,
		     "template main: line 1: closing tag 'a' does not match section 'a.b' of line 1");
}

static void template_rejects_unclosed_tag(int *failed)
{
	EXPECT_ERROR("Hello {{name", -EINVAL, "template main: line 1: tag is not closed");
	EXPECT_ERROR("a\nHello {{name\n{{other}}", -EINVAL,
		     "template main: line 2: tag is not closed");
	EXPECT_ERROR("{{{name}}", -EINVAL, "template main: line 1: tag is not closed");
	EXPECT_ERROR("{{! comment", -EINVAL, "template main: line 1: tag is not closed");
	EXPECT_ERROR("x {{", -EINVAL, "template main: line 1: tag is not closed");
}

static void template_rejects_empty_tag_name(int *failed)
{
	static const char *const bad[] = { "{{}}", "{{ }}", "{{{}}}", "{{&}}", "{{#}}{{/}}",
					   "{{^ }}", "{{/}}", "{{>}}" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_ERROR(bad[i], -EINVAL, "template main: line 1: tag has no name");
}

static void template_rejects_malformed_names(int *failed)
{
	EXPECT_ERROR("{{a b}}", -EINVAL,
		     "template main: line 1: tag name 'a b' holds a space, a control character or a brace");
	EXPECT_ERROR("{{a}b}}", -EINVAL,
		     "template main: line 1: tag name 'a}b' holds a space, a control character or a brace");
	EXPECT_ERROR("{{a..b}}", -EINVAL,
		     "template main: line 1: tag name 'a..b' has an empty part");
	EXPECT_ERROR("{{#.a}}{{/.a}}", -EINVAL,
		     "template main: line 1: tag name '.a' has an empty part");
	EXPECT_ERROR("{{a.}}", -EINVAL, "template main: line 1: tag name 'a.' has an empty part");
}

static void template_rejects_partial_to_missing_template(int *failed)
{
	static const struct partial p[] = { { "p", "ok\n{{>nowhere}}" }, { NULL, NULL } };

	expect_error_at(failed, __LINE__, p, "{{#x}}{{>p}}{{/x}}", "{}", -ENOENT,
			"template p: line 2: partial 'nowhere' names a template that does not exist");
}

static void template_rejects_template_over_size_limit(int *failed)
{
	struct tpl_set *set = tpl_set_new();
	char *text = malloc(TPL_MAX_SIZE + 1);
	char err[256];

	CHECK(set && text);
	if (!set || !text)
		goto cleanup;
	memset(text, 'x', TPL_MAX_SIZE + 1);
	CHECK_EQ(tpl_set_add(set, "big", text, TPL_MAX_SIZE + 1, err, sizeof(err)), -EFBIG);
	CHECK(!strcmp(err, "template big is 262145 bytes, more than the limit of 262144"));
	CHECK_EQ(tpl_set_add(set, "fits", text, TPL_MAX_SIZE, err, sizeof(err)), 0);
cleanup:
	free(text);
	tpl_set_free(set);
}

static void template_rejects_unsupported_syntax(int *failed)
{
	EXPECT_ERROR("{{=<% %>=}}", -EINVAL,
		     "template main: line 1: set delimiter tags are not supported");
	EXPECT_ERROR("{{>*dyn}}", -EINVAL,
		     "template main: line 1: dynamic partial names are not supported");
	EXPECT_ERROR("{{<parent}}{{/parent}}", -EINVAL,
		     "template main: line 1: template inheritance and blocks are not supported");
	EXPECT_ERROR("{{$block}}x{{/block}}", -EINVAL,
		     "template main: line 1: template inheritance and blocks are not supported");
}

static void template_rejects_bad_or_duplicate_template_names(int *failed)
{
	struct tpl_set *set = tpl_set_new();
	char err[256];

	CHECK(set);
	if (!set)
		return;
	CHECK_EQ(tpl_set_add(set, "vm-list_2.x", "", 0, err, sizeof(err)), 0);
	CHECK_EQ(tpl_set_add(set, "vm-list_2.x", "", 0, err, sizeof(err)), -EEXIST);
	CHECK(!strcmp(err, "template vm-list_2.x is added twice"));
	CHECK_EQ(tpl_set_add(set, "", "", 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(tpl_set_add(set, "a b", "", 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(tpl_set_add(set, "../x", "", 0, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "template name '../x' is not valid"));
	tpl_set_free(set);
}

static void template_render_propagates_buf_limit(int *failed)
{
	struct buf out;
	char err[256];

	/* exactly at the limit is fine, one byte more is not */
	CHECK_EQ(render(NULL, "12345{{x}}", "{\"x\": \"&\"}", 10, &out, err, sizeof(err)), 0);
	CHECK(out.data && !strcmp(out.data, "12345&amp;"));
	buf_free(&out);
	CHECK_EQ(render(NULL, "123456{{x}}", "{\"x\": \"&\"}", 10, &out, err, sizeof(err)), -E2BIG);
	buf_free(&out);
	CHECK_EQ(render(NULL, "{{#l}}0123456789{{/l}}", "{\"l\": [1, 2]}", 15, &out, err,
			sizeof(err)), -E2BIG);
	buf_free(&out);
}

static void template_render_needs_a_known_name_and_a_linked_set(int *failed)
{
	struct tpl_set *set = tpl_set_new();
	struct buf out = BUF_INIT(100);
	char err[256];

	CHECK(set);
	if (!set)
		return;
	CHECK_EQ(tpl_set_add(set, "a", "A", 1, err, sizeof(err)), 0);
	CHECK_EQ(tpl_render(set, "a", NULL, &out), -EINVAL);
	CHECK_EQ(tpl_set_link(set, err, sizeof(err)), 0);
	CHECK_EQ(tpl_render(set, "b", NULL, &out), -ENOENT);
	CHECK_EQ(tpl_render(set, "a", NULL, &out), 0);
	CHECK(out.data && !strcmp(out.data, "A"));
	/* a template added later needs another link */
	CHECK_EQ(tpl_set_add(set, "b", "B", 1, err, sizeof(err)), 0);
	CHECK_EQ(tpl_render(set, "b", NULL, &out), -EINVAL);
	buf_free(&out);
	tpl_set_free(set);
}

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static void template_load_dir_reads_mustache_files(int *failed)
{
	char dir[] = "/tmp/webkvm-tpl-XXXXXX";
	struct tpl_set *set = NULL;
	struct json_object *ctx = NULL;
	struct buf out = BUF_INIT(100);
	char err[256];

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK_EQ(write_text(dir, "page.mustache", "<h1>{{title}}</h1>\n{{>foot}}\n"), 0);
	CHECK_EQ(write_text(dir, "foot.mustache", "<footer>{{title}}</footer>"), 0);
	CHECK_EQ(write_text(dir, "notes.txt", "{{#broken"), 0);
	CHECK_EQ(write_text(dir, ".hidden.mustache", "{{#broken"), 0);

	set = tpl_set_new();
	CHECK(set);
	if (!set)
		goto cleanup;
	CHECK_EQ(tpl_set_load_dir(set, dir, err, sizeof(err)), 0);
	ctx = json_tokener_parse("{\"title\": \"VMs & more\"}");
	CHECK_EQ(tpl_render(set, "page", ctx, &out), 0);
	CHECK(out.data &&
	      !strcmp(out.data, "<h1>VMs &amp; more</h1>\n<footer>VMs &amp; more</footer>"));
	CHECK_EQ(tpl_render(set, "notes", ctx, &out), -ENOENT);
	tpl_set_free(set);

	/* a partial to a missing template fails the load */
	remove_file(dir, "foot.mustache");
	set = tpl_set_new();
	CHECK(set);
	if (set)
		CHECK_EQ(tpl_set_load_dir(set, dir, err, sizeof(err)), -ENOENT);
	CHECK(!strcmp(err,
		      "template page: line 2: partial 'foot' names a template that does not exist"));
cleanup:
	tpl_set_free(set);
	json_object_put(ctx);
	buf_free(&out);
	remove_file(dir, "page.mustache");
	remove_file(dir, "foot.mustache");
	remove_file(dir, "notes.txt");
	remove_file(dir, ".hidden.mustache");
	rmdir(dir);
}

const struct unit_test template_tests[] = {
	{ "template_interpolation_escapes_a_value", template_interpolation_escapes_a_value },
	{ "template_escapes_all_five_html_characters", template_escapes_all_five_html_characters },
	{ "template_escaper_keeps_utf8_and_other_bytes", template_escaper_keeps_utf8_and_other_bytes },
	{ "template_raw_tags_do_not_escape", template_raw_tags_do_not_escape },
	{ "template_allows_whitespace_inside_tags", template_allows_whitespace_inside_tags },
	{ "template_missing_key_renders_empty", template_missing_key_renders_empty },
	{ "template_renders_integers_exactly", template_renders_integers_exactly },
	{ "template_renders_doubles_in_fewest_digits", template_renders_doubles_in_fewest_digits },
	{ "template_renders_booleans_as_words", template_renders_booleans_as_words },
	{ "template_renders_null_as_empty", template_renders_null_as_empty },
	{ "template_objects_and_arrays_interpolate_empty",
	  template_objects_and_arrays_interpolate_empty },
	{ "template_resolves_dotted_names", template_resolves_dotted_names },
	{ "template_dotted_name_does_not_fall_back_on_broken_chain",
	  template_dotted_name_does_not_fall_back_on_broken_chain },
	{ "template_implicit_iterator_renders_current_value",
	  template_implicit_iterator_renders_current_value },
	{ "template_interpolation_is_never_standalone", template_interpolation_is_never_standalone },
	{ "template_section_skips_falsy_values", template_section_skips_falsy_values },
	{ "template_section_treats_zero_empty_string_and_object_as_truthy",
	  template_section_treats_zero_empty_string_and_object_as_truthy },
	{ "template_section_pushes_object_context", template_section_pushes_object_context },
	{ "template_section_iterates_a_list", template_section_iterates_a_list },
	{ "template_section_renders_truthy_scalar_once_as_dot",
	  template_section_renders_truthy_scalar_once_as_dot },
	{ "template_nested_sections_look_up_parent_contexts",
	  template_nested_sections_look_up_parent_contexts },
	{ "template_section_accepts_dotted_names", template_section_accepts_dotted_names },
	{ "template_standalone_section_lines_are_removed",
	  template_standalone_section_lines_are_removed },
	{ "template_standalone_lines_with_crlf_are_removed",
	  template_standalone_lines_with_crlf_are_removed },
	{ "template_standalone_tags_at_template_start_and_end",
	  template_standalone_tags_at_template_start_and_end },
	{ "template_inline_section_tags_are_not_standalone",
	  template_inline_section_tags_are_not_standalone },
	{ "template_inverted_section_renders_for_falsy_missing_or_empty",
	  template_inverted_section_renders_for_falsy_missing_or_empty },
	{ "template_partial_renders_with_current_context",
	  template_partial_renders_with_current_context },
	{ "template_standalone_partial_is_indented", template_standalone_partial_is_indented },
	{ "template_inline_partial_is_not_indented", template_inline_partial_is_not_indented },
	{ "template_partial_recursion_follows_the_data", template_partial_recursion_follows_the_data },
	{ "template_endless_recursion_is_eloop", template_endless_recursion_is_eloop },
	{ "template_comment_renders_nothing", template_comment_renders_nothing },
	{ "template_standalone_comment_lines_are_removed",
	  template_standalone_comment_lines_are_removed },
	{ "template_rejects_unclosed_section", template_rejects_unclosed_section },
	{ "template_rejects_unmatched_closing_tag", template_rejects_unmatched_closing_tag },
	{ "template_rejects_unclosed_tag", template_rejects_unclosed_tag },
	{ "template_rejects_empty_tag_name", template_rejects_empty_tag_name },
	{ "template_rejects_malformed_names", template_rejects_malformed_names },
	{ "template_rejects_partial_to_missing_template",
	  template_rejects_partial_to_missing_template },
	{ "template_rejects_template_over_size_limit", template_rejects_template_over_size_limit },
	{ "template_rejects_unsupported_syntax", template_rejects_unsupported_syntax },
	{ "template_rejects_bad_or_duplicate_template_names",
	  template_rejects_bad_or_duplicate_template_names },
	{ "template_render_propagates_buf_limit", template_render_propagates_buf_limit },
	{ "template_render_needs_a_known_name_and_a_linked_set",
	  template_render_needs_a_known_name_and_a_linked_set },
	{ "template_load_dir_reads_mustache_files", template_load_dir_reads_mustache_files },
	{ NULL, NULL },
};
