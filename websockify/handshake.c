/*
 * NOTES
 * - Only what a browser sends is taken: one request line and header
 *   lines, each ending in CRLF; a bare LF or CR, a NUL or another control
 *   character, a folded line, a body or a second copy of a header that
 *   must come once is a 400. A client gets one refusal and the connection
 *   closes; nothing here allocates.
 * - The Origin is the only thing that tells a page of ours from another
 *   site's page that opens a websocket to us with the user's cookie
 *   (browsers do not apply the same-origin policy to websockets): it must
 *   be there and be ours.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "websockify/handshake.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct header_text {
	const char *p;
	size_t len;
};

struct headers {
	struct header_text host, upgrade, connection, key, version, origin, protocol, cookie,
		proto, port, real_ip;
	int protocol_lines;
};

static int refuse(struct handshake *h, int status, const char *reason)
{
	h->status = status;
	h->reason = reason;
	return 1;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c);
}

/* Whether the comma-separated list (p, len) holds token, case-insensitively. */
static bool list_has(struct header_text v, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < v.len) {
		size_t start, end;

		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		start = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		end = i;
		while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
			end--;
		if (end - start == tl && !strncasecmp(v.p + start, token, tl))
			return true;
	}
	return false;
}

static bool equals(struct header_text v, const char *s)
{
	return v.p && v.len == strlen(s) && !memcmp(v.p, s, v.len);
}

/* A key is 16 bytes in base64: 22 characters, the last with its low 4 bits clear, then "==". */
static bool key_valid(struct header_text v)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	if (!v.p || v.len != 24 || v.p[22] != '=' || v.p[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++) {
		const char *at = v.p[i] ? strchr(b64, v.p[i]) : NULL;

		if (!at)
			return false;
		if (i == 21 && ((at - b64) & 15))
			return false;
	}
	return true;
}

/* Take one header line "Name: value" (without its CRLF). 0, or -1 for a malformed one. */
static int take_header(const char *line, size_t len, struct headers *hs)
{
	static const struct {
		const char *name;
		size_t off;
		bool once;
	} known[] = {
		{ "host", offsetof(struct headers, host), true },
		{ "upgrade", offsetof(struct headers, upgrade), true },
		{ "connection", offsetof(struct headers, connection), true },
		{ "sec-websocket-key", offsetof(struct headers, key), true },
		{ "sec-websocket-version", offsetof(struct headers, version), true },
		{ "origin", offsetof(struct headers, origin), true },
		{ "sec-websocket-protocol", offsetof(struct headers, protocol), false },
		{ "cookie", offsetof(struct headers, cookie), true },
		{ "x-forwarded-proto", offsetof(struct headers, proto), true },
		{ "x-forwarded-port", offsetof(struct headers, port), true },
		{ "x-real-ip", offsetof(struct headers, real_ip), true },
	};
	size_t n = 0, vs, ve;

	while (n < len && is_tchar(line[n]))
		n++;
	if (!n || n == len || line[n] != ':')
		return -1;
	vs = n + 1;
	ve = len;
	while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;
	if ((n == 14 && !strncasecmp(line, "content-length", n)) ||
	    (n == 17 && !strncasecmp(line, "transfer-encoding", n)))
		return -1; /* a handshake has no body */
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		struct header_text *t = (struct header_text *)((char *)hs + known[i].off);

		if (strlen(known[i].name) != n || strncasecmp(line, known[i].name, n))
			continue;
		if (t->p && known[i].once)
			return -1;
		if (t == &hs->protocol && t->p) {
			/* a second line of offers: only "binary" matters, so keep the one with it */
			if (!list_has(*t, "binary"))
				*t = (struct header_text){ line + vs, ve - vs };
			return 0;
		}
		*t = (struct header_text){ line + vs, ve - vs };
		return 0;
	}
	return 0;
}

/* The value of name=value in the query (p, len), as long as it has only hex digits. */
static int query_ticket(const char *p, size_t len, char *ret, size_t retlen)
{
	size_t i = 0;
	bool seen = false;

	while (i < len) {
		size_t start = i, end;

		while (i < len && p[i] != '&')
			i++;
		end = i++;
		if (end - start < 7 || memcmp(p + start, "ticket=", 7))
			continue;
		if (seen || end - start - 7 >= retlen)
			return -1;
		seen = true;
		for (size_t j = start + 7; j < end; j++)
			if (!((p[j] >= '0' && p[j] <= '9') || (p[j] >= 'a' && p[j] <= 'f')))
				return -1;
		memcpy(ret, p + start + 7, end - start - 7);
		ret[end - start - 7] = '\0';
	}
	return 0;
}

/* The session cookie's value out of a Cookie header (p, len). */
static void cookie_value(struct header_text c, const char *name, char *ret, size_t retlen)
{
	size_t nl = strlen(name), i = 0;

	ret[0] = '\0';
	while (i < c.len) {
		size_t start, end;

		while (i < c.len && (c.p[i] == ' ' || c.p[i] == ';'))
			i++;
		start = i;
		while (i < c.len && c.p[i] != ';')
			i++;
		end = i;
		if (end - start > nl && c.p[start + nl] == '=' && !memcmp(c.p + start, name, nl) &&
		    end - start - nl - 1 < retlen) {
			memcpy(ret, c.p + start + nl + 1, end - start - nl - 1);
			ret[end - start - nl - 1] = '\0';
			return;
		}
	}
}

static bool origin_ours(const struct headers *hs)
{
	char expected[300];
	const char *scheme = equals(hs->proto, "https") ? "https" : "http";
	size_t hostlen = hs->host.len;
	bool default_port;

	if (!hs->origin.p || !hs->host.p || !hostlen || hostlen > 255)
		return false;
	if (hs->proto.p && !equals(hs->proto, "https") && !equals(hs->proto, "http"))
		return false;
	if (hs->port.p) {
		/* Host is nginx's $host, without a port: the port comes on its own */
		/* a ':' only inside an IPv6 address's brackets */
		const char *end = hs->host.p[0] == '[' ? memchr(hs->host.p, ']', hostlen) : hs->host.p;

		if (!hs->port.len || hs->port.len > 5 || !end ||
		    (hs->host.p[0] == '[' && end != hs->host.p + hostlen - 1) ||
		    memchr(end, ':', hostlen - (size_t)(end - hs->host.p)))
			return false;
		for (size_t i = 0; i < hs->port.len; i++)
			if (hs->port.p[i] < '0' || hs->port.p[i] > '9')
				return false;
		default_port = equals(hs->port, !strcmp(scheme, "https") ? "443" : "80");
		snprintf(expected, sizeof(expected), "%s://%.*s%s%.*s", scheme, (int)hostlen,
			 hs->host.p, default_port ? "" : ":", default_port ? 0 : (int)hs->port.len,
			 hs->port.p);
	} else {
		snprintf(expected, sizeof(expected), "%s://%.*s", scheme, (int)hostlen, hs->host.p);
	}
	return equals(hs->origin, expected);
}

int handshake_parse(const char *buf, size_t len, struct handshake *h)
{
	struct headers hs = { 0 };
	const char *end = NULL, *line, *target, *sp;
	size_t i;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\r') {
			if (i + 1 < len && buf[i + 1] != '\n')
				return refuse(h, 400, "a CR without LF");
			if (i + 3 < len && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
				end = buf + i + 4;
				break;
			}
		} else if (c == '\n') {
			if (!i || buf[i - 1] != '\r')
				return refuse(h, 400, "a line ends without CR");
		} else if ((unsigned char)c < 0x20 && c != '\t') {
			return refuse(h, 400, "a control character in the request");
		} else if (c == 0x7f) {
			return refuse(h, 400, "a control character in the request");
		}
	}
	if (!end)
		return len >= HANDSHAKE_MAX ? refuse(h, 431, "the request is too large") : 0;
	if (end != buf + len)
		return refuse(h, 400, "bytes after the request: a handshake has no body");
	if (end - buf > HANDSHAKE_MAX)
		return refuse(h, 431, "the request is too large");

	/* the request line: GET /websockify?ticket=... HTTP/1.1 */
	line = buf;
	sp = memchr(line, '\r', (size_t)(end - line));
	if (sp - line < 4 || memcmp(line, "GET ", 4)) {
		const char *s = memchr(line, ' ', (size_t)(sp - line));

		return s && s > line ? refuse(h, 405, "only GET opens a websocket")
				     : refuse(h, 400, "a malformed request line");
	}
	target = line + 4;
	{
		const char *tend = memchr(target, ' ', (size_t)(sp - target));
		size_t plen = strlen(WS_PATH);

		if (!tend || tend == target)
			return refuse(h, 400, "a malformed request line");
		if ((size_t)(sp - tend) != 9 || memcmp(tend, " HTTP/1.1", 9))
			return refuse(h, 400, "the request is not HTTP/1.1");
		for (const char *p = target; p < tend; p++)
			if (*p <= ' ' || *p == 0x7f)
				return refuse(h, 400, "a malformed request target");
		if ((size_t)(tend - target) < plen || memcmp(target, WS_PATH, plen) ||
		    (target + plen < tend && target[plen] != '?'))
			return refuse(h, 404, "there is no websocket at this address");
		if (target + plen < tend &&
		    query_ticket(target + plen + 1, (size_t)(tend - target - plen - 1), h->ticket,
				 sizeof(h->ticket)) < 0)
			return refuse(h, 400, "a malformed ticket");
	}

	/* the header lines */
	line = sp + 2;
	while (line < end - 2) {
		const char *eol = memchr(line, '\r', (size_t)(end - line));

		if (*line == ' ' || *line == '\t')
			return refuse(h, 400, "a folded header line");
		if (take_header(line, (size_t)(eol - line), &hs) < 0)
			return refuse(h, 400, "a malformed, repeated or unexpected header");
		line = eol + 2;
	}

	if (!hs.host.p)
		return refuse(h, 400, "no Host header");
	if (!hs.upgrade.p || !list_has(hs.upgrade, "websocket"))
		return refuse(h, 400, "not a websocket upgrade (Upgrade: websocket)");
	if (!hs.connection.p || !list_has(hs.connection, "upgrade"))
		return refuse(h, 400, "not a websocket upgrade (Connection: Upgrade)");
	if (!equals(hs.version, "13"))
		return refuse(h, 426, "only websocket version 13 is spoken");
	if (!key_valid(hs.key))
		return refuse(h, 400, "a missing or malformed Sec-WebSocket-Key");
	if (!origin_ours(&hs))
		return refuse(h, 403, "the request did not come from this site's pages (Origin)");
	if (hs.protocol.p) {
		if (!list_has(hs.protocol, "binary"))
			return refuse(h, 400, "only the binary subprotocol is spoken");
		h->binary = true;
	}
	memcpy(h->key, hs.key.p, 24);
	h->key[24] = '\0';
	if (hs.cookie.p)
		cookie_value(hs.cookie, "__Host-webkvm", h->session, sizeof(h->session));
	if (hs.real_ip.p && hs.real_ip.len < sizeof(h->address)) {
		memcpy(h->address, hs.real_ip.p, hs.real_ip.len);
		h->address[hs.real_ip.len] = '\0';
	}
	return 1;
}

void handshake_accept(const char *key, char ret[29])
{
	char in[24 + sizeof(WS_GUID)];
	unsigned char md[20];
	unsigned int mdlen = 0;

	snprintf(in, sizeof(in), "%.24s%s", key, WS_GUID);
	EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)ret, md, 20);
}

static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

int handshake_response(const struct handshake *h, char *buf, size_t len)
{
	char accept[29];

	if (h->status) {
		const char *reason = h->reason ? h->reason : status_text(h->status);

		return snprintf(buf, len,
				"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
				"Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s\n",
				h->status, status_text(h->status), strlen(reason) + 1,
				h->status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "", reason);
	}
	handshake_accept(h->key, accept);
	return snprintf(buf, len,
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
			accept, h->binary ? "Sec-WebSocket-Protocol: binary\r\n" : "");
}
