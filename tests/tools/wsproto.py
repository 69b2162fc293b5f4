"""A websocket client for the tests, byte by byte under the test's control
(RFC 6455): the handshake's request is written as given, frames are built
with or without a mask, and what comes back is read frame by frame. Used
by ws_conformance.py and ws_console.py."""
import base64
import hashlib
import os
import select
import socket
import ssl
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def connect(url_or_addr, timeout=10):
    """https://host:port (through nginx, TLS not verified) or host:port (plain TCP)."""
    if url_or_addr.startswith("https://"):
        hostport = url_or_addr[len("https://"):].rstrip("/")
        host, port = hostport.rsplit(":", 1)
        raw = socket.create_connection((host, int(port)), timeout=timeout)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx.wrap_socket(raw, server_hostname=host)
    host, port = url_or_addr.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def request(host, origin, path="/websockify", key=None, extra=(), protocol="binary",
            version="13"):
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}"]
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if protocol:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def read_response(s, deadline=10):
    """The HTTP answer's status, its headers (lower-cased names) and the body bytes that came with it."""
    data = b""
    end = time.time() + deadline
    while b"\r\n\r\n" not in data:
        s.settimeout(max(0.05, end - time.time()))
        more = s.recv(4096)
        if not more:
            break
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1.1 "):
        return 0, {}, data
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


class Reader:
    """Frames from the server (never masked), across reads. What came and
    was not taken yet is buf from pos on: a frame taken moves pos, and the
    buffer is compacted once a read, not once a frame (a flood of 2-byte
    pongs would copy the buffer over and over)."""

    def __init__(self, s, rest=b""):
        self.s = s
        self.buf = rest
        self.pos = 0

    def _add(self, more):
        self.buf = self.buf[self.pos:] + more
        self.pos = 0

    def _need(self, n, deadline):
        while len(self.buf) - self.pos < n:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no frame in time")
            self.s.settimeout(left)
            more = self.s.recv(65536)
            if not more:
                raise EOFError("the connection closed")
            self._add(more)

    def _parse(self):
        """The first whole frame in the buffer, taken out of it, or None."""
        buf, p = self.buf, self.pos
        have = len(buf) - p
        if have < 2:
            return None
        b0, b1 = buf[p], buf[p + 1]
        if b1 & 0x80:
            raise ValueError("a masked frame from the server")
        n, off = b1 & 0x7F, 2
        if n == 126:
            if have < 4:
                return None
            n, off = struct.unpack("!H", buf[p + 2:p + 4])[0], 4
        elif n == 127:
            if have < 10:
                return None
            n, off = struct.unpack("!Q", buf[p + 2:p + 10])[0], 10
        if have < off + n:
            return None
        payload = buf[p + off:p + off + n]
        self.pos = p + off + n
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def frame(self, timeout=10):
        deadline = time.time() + timeout
        while True:
            f = self._parse()
            if f is not None:
                return f
            self._need(len(self.buf) - self.pos + 1, deadline)

    def frames_while_sending(self, out, idle=10):
        """The server's frames, one by one, while out is sent to it, in this
        one thread: the socket is written when it takes more and read when
        it has some. (A second thread that sends would share the socket's
        blocking mode with this one's timeouts, and its send could fail.)
        TimeoutError when nothing moves either way for idle seconds; once
        the server no longer takes bytes (it closed), the rest is dropped.
        For plain TCP only (a TLS socket's reads and writes want more
        than select and send)."""
        assert not isinstance(self.s, ssl.SSLSocket)
        out = memoryview(out)
        self.s.setblocking(False)
        try:
            deadline = time.time() + idle
            while True:
                f = self._parse()
                if f is not None:
                    deadline = time.time() + idle
                    yield f
                    continue
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("nothing moved in time")
                rd, wr, _ = select.select([self.s], [self.s] if out else [], [], left)
                if wr:
                    try:
                        n = self.s.send(out[:65536])
                        out = out[n:]
                        deadline = time.time() + idle
                    except BlockingIOError:
                        pass
                    except OSError:
                        out = memoryview(b"")
                if rd:
                    try:
                        more = self.s.recv(65536)
                    except BlockingIOError:
                        continue
                    if not more:
                        raise EOFError("the connection closed")
                    self._add(more)
                    deadline = time.time() + idle
        finally:
            self.s.setblocking(True)

    def data(self, want, timeout=10):
        """Data messages' payloads until want bytes came (close frames raise)."""
        got = b""
        deadline = time.time() + timeout
        while len(got) < want:
            fin, op, payload = self.frame(max(0.01, deadline - time.time()))
            if op == 8:
                raise EOFError(f"closed: {close_code(payload)}")
            if op in (0, 1, 2):
                got += payload
        return got

    def until_close(self, timeout=10):
        """Skip data until a close frame: its code and reason (None, '' at end of stream)."""
        deadline = time.time() + timeout
        while True:
            try:
                fin, op, payload = self.frame(max(0.01, deadline - time.time()))
            except EOFError:
                return None, ""
            if op == 8:
                return close_code(payload)


def close_code(payload):
    if len(payload) < 2:
        return 1005, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "replace")
