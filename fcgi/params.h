/*
 * What a browser sends, parsed and checked once: form bodies and query
 * strings (application/x-www-form-urlencoded) and the Cookie header, then
 * typed access so that handlers never parse strings themselves.
 */
#ifndef WEBKVM_FCGI_PARAMS_H
#define WEBKVM_FCGI_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#define PARAMS_MAX_FIELDS 4096 /* fields of one form, query string or Cookie header */
#define PARAMS_MAX_NAME 64     /* bytes of a field's name, after decoding */

/*
 * One field. name is 1 to PARAMS_MAX_NAME bytes of [A-Za-z0-9_.-]; value
 * holds no NUL and is valid UTF-8 (a cookie's value: printable ASCII), so
 * value_len == strlen(value). Both point into the struct params' storage.
 */
struct param {
	char *name;
	char *value;
	size_t value_len;
};

/* The fields in the order they came; repeated names are all kept. */
struct params {
	struct param *v;
	size_t n;
	char *storage; /* every name and value, NUL-terminated */
};

/*
 * application/x-www-form-urlencoded (a POST body or a QUERY_STRING):
 * '&'-separated name=value, '+' is a space, %XX a byte. Empty pieces are
 * skipped; a piece without '=' is a field with an empty value. Refused
 * with -EINVAL and one sentence in err: a %-escape that is not two hex
 * digits, a NUL (raw or %00), a value that is not UTF-8 once decoded, a
 * name that is empty, longer than PARAMS_MAX_NAME or not [A-Za-z0-9_.-],
 * more than PARAMS_MAX_FIELDS fields. -ENOMEM when out of memory. s may
 * be NULL when len is 0. The caller bounds len (the body's size). On
 * error *ret is untouched.
 */
int params_parse_urlencoded(const char *s, size_t len, struct params *ret, char *err,
			    size_t errlen);

/*
 * A Cookie header (RFC 6265 section 5.4, "a=1; b=2"), or NULL for none.
 * Other applications on the same host set cookies we do not control, so a
 * pair we cannot take is skipped, never an error for the whole header: one
 * without '=', a name as params_parse_urlencoded refuses, a value with a
 * byte outside RFC 6265's cookie-octet. Values are not %-decoded; DQUOTEs
 * around a value are removed. Fields past PARAMS_MAX_FIELDS are ignored.
 * 0, or -ENOMEM with *ret untouched.
 */
int params_parse_cookies(const char *header, struct params *ret);

/* The first value of name, or NULL. */
const char *params_get(const struct params *p, const char *name);
/*
 * Each value of a repeated name in turn (vm=a&vm=b): start with *i = 0;
 * NULL after the last.
 */
const char *params_next(const struct params *p, const char *name, size_t *i);
/* Accepts NULL or a zeroed struct, and leaves a zeroed one. */
void params_free(struct params *p);

/*
 * Typed access to the first value of name. Each returns 0, or -ENOENT when
 * name is missing, or the reason the value is refused; *ret is untouched
 * on error.
 *
 * params_int: a plain decimal integer in [min, max]: an optional '-' and
 * digits, in the one spelling that has (no '+', no spaces, no leading
 * zeros, no "-0", no hex or exponent): -EINVAL, -ERANGE when out of range.
 */
int params_int(const struct params *p, const char *name, long long min, long long max,
	       long long *ret);
/*
 * params_text: at most max_len bytes (-E2BIG) with no control character
 * (-EINVAL: below 0x20 or 0x7f; multiline allows tab, CR and LF).
 * *ret points into p.
 */
int params_text(const struct params *p, const char *name, size_t max_len, bool multiline,
		const char **ret);
/*
 * params_bool: a checkbox. Missing is false (0, not -ENOENT): a browser
 * sends nothing for an unticked box. "on", "1", "true", "yes" are true;
 * "", "0", "off", "false", "no" are false; anything else -EINVAL.
 */
int params_bool(const struct params *p, const char *name, bool *ret);

#endif
