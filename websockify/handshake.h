/*
 * The opening handshake of a websocket (RFC 6455, section 4.2), the
 * server's side, strictly: a GET in HTTP/1.1 to /websockify, Upgrade:
 * websocket, Connection: upgrade, version 13, a key of 16 bytes in
 * base64, the site's own Origin, no body. What the console proxy needs of
 * the request (its ticket, the session cookie, the client's address) is
 * taken out; nothing else of it is kept.
 */
#ifndef WEBKVM_WEBSOCKIFY_HANDSHAKE_H
#define WEBKVM_WEBSOCKIFY_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#define HANDSHAKE_MAX 8192    /* the whole request, headers included */
#define WS_PATH "/websockify"

struct handshake {
	int status;              /* 0 when it is accepted, else the HTTP status to refuse with */
	const char *reason;      /* why it was refused (a sentence, static) */
	char key[25];            /* Sec-WebSocket-Key */
	bool binary;             /* the client offered the "binary" subprotocol */
	char ticket[65];         /* ?ticket=, or "" */
	char session[65];        /* the session cookie's value, or "" */
	char address[64];        /* X-Real-IP as nginx sets it, or "" */
};

/*
 * Look at what came so far (len bytes of buf): 0 while the request's end
 * (an empty line) has not come and it may still fit; else 1 with h filled
 * in, h->status 0 or the refusal's status. The Origin must be the site's
 * own, made as the portal makes it: scheme from X-Forwarded-Proto (http
 * when missing), the host from Host, the port from X-Forwarded-Port
 * unless it is the scheme's default.
 */
int handshake_parse(const char *buf, size_t len, struct handshake *h);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC's GUID)). */
void handshake_accept(const char *key, char ret[29]);

/* The answer to send: 101 with the accept key, or the refusal. */
int handshake_response(const struct handshake *h, char *buf, size_t len);

#endif
