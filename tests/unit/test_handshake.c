/*
 * websockify/handshake: the accept key against RFC 6455's own example, and
 * the parser's answers to a browser's request and to each way of breaking
 * it. (Fed in pieces and fuzzed: tests/tools/ws_conformance.py and
 * tests/fuzz/fuzz_websocket.c.)
 */
#include <stdio.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "websockify/handshake.h"

static void test_accept_key(int *failed)
{
	char accept[29];

	/* RFC 6455, section 1.3 */
	handshake_accept("dGhlIHNhbXBsZSBub25jZQ==", accept);
	CHECK(!strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

#define GOOD_HEAD "GET /websockify?ticket=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n" \
	"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\n" \
	"Sec-WebSocket-Version: 13\r\nOrigin: %s\r\nX-Forwarded-Proto: https\r\n" \
	"X-Forwarded-Port: %s\r\nCookie: a=1; __Host-webkvm=%s; b=2\r\nX-Real-IP: 192.0.2.7\r\n%s\r\n"

static int parse(const char *ticket, const char *host, const char *key, const char *origin,
		 const char *port, const char *extra, struct handshake *h)
{
	char req[2048];
	int n = snprintf(req, sizeof(req), GOOD_HEAD, ticket, host, key, origin, port, "s1d", extra);

	return handshake_parse(req, (size_t)n, h);
}

static void test_parse(int *failed)
{
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
	struct handshake h;
	char out[512];

	CHECK_EQ(parse("abc123", "portal.example", key, "https://portal.example:8443", "8443", "", &h), 1);
	CHECK_EQ(h.status, 0);
	CHECK(!strcmp(h.ticket, "abc123"));
	CHECK(!strcmp(h.session, "s1d"));
	CHECK(!strcmp(h.address, "192.0.2.7"));
	CHECK(!h.binary);
	CHECK(handshake_response(&h, out, sizeof(out)) > 0);
	CHECK(strstr(out, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
	/* the default port is left out of the Origin, as browsers do */
	CHECK_EQ(parse("", "portal.example", key, "https://portal.example", "443", "", &h), 1);
	CHECK_EQ(h.status, 0);
	CHECK_EQ(parse("", "portal.example", key, "https://portal.example:443", "443", "", &h), 1);
	CHECK_EQ(h.status, 403);
	/* another port, scheme or host of the same name is another site */
	CHECK_EQ(parse("", "portal.example", key, "https://portal.example:8444", "8443", "", &h), 1);
	CHECK_EQ(h.status, 403);
	CHECK_EQ(parse("", "portal.example", key, "http://portal.example:8443", "8443", "", &h), 1);
	CHECK_EQ(h.status, 403);
	CHECK_EQ(parse("", "portal.example", key, "https://portal.example.evil:8443", "8443", "", &h), 1);
	CHECK_EQ(h.status, 403);
	/* an IPv6 address keeps its brackets in nginx's $host; a ':' outside them is a port */
	CHECK_EQ(parse("", "[2001:db8::1]", key, "https://[2001:db8::1]:8443", "8443", "", &h), 1);
	CHECK_EQ(h.status, 0);
	CHECK_EQ(parse("", "[2001:db8::1]:8443", key, "https://[2001:db8::1]:8443", "8443", "", &h), 1);
	CHECK_EQ(h.status, 403);
	CHECK_EQ(parse("", "portal.example:8443", key, "https://portal.example:8443", "8443", "", &h), 1);
	CHECK_EQ(h.status, 403);
	/* a subprotocol offered: binary or nothing */
	CHECK_EQ(parse("", "p", key, "https://p:1", "1", "Sec-WebSocket-Protocol: base64, binary\r\n", &h), 1);
	CHECK(h.status == 0 && h.binary);
	CHECK(handshake_response(&h, out, sizeof(out)) > 0 && strstr(out, "Sec-WebSocket-Protocol: binary\r\n"));
	CHECK_EQ(parse("", "p", key, "https://p:1", "1", "Sec-WebSocket-Protocol: base64\r\n", &h), 1);
	CHECK_EQ(h.status, 400);
	/* a ticket is hex digits only; a key 16 bytes exactly */
	CHECK_EQ(parse("ab/../x", "p", key, "https://p:1", "1", "", &h), 1);
	CHECK_EQ(h.status, 400);
	CHECK_EQ(parse("", "p", "dGhlIHNhbXBsZSBub25jZR==", "https://p:1", "1", "", &h), 1);
	CHECK_EQ(h.status, 400);
	/* a request cut short is not answered yet */
	CHECK_EQ(handshake_parse("GET /websockify HTTP/1.1\r\nHost: p\r\n", 35, &h), 0);
	CHECK_EQ(handshake_parse("GET /websockify HTTP/1.1\r\nHost: p\r\n\r", 36, &h), 0);
}

const struct unit_test handshake_tests[] = {
	{ "ws_accept_key", test_accept_key },
	{ "ws_handshake_parse", test_parse },
	{ NULL, NULL },
};
