#!/usr/bin/env python3
"""The console proxy's websocket conformance, byte vectors fed in pieces,
against a proxy in its benchmark mode (a fixed TCP target that echoes).

    ws_conformance.py HOST:PORT PROXY-PID

Prints "ok NAME" or "FAIL NAME: why" per check; exits 1 when any failed."""
import socket
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, __import__("os").path.dirname(__file__))
import wsproto as ws  # noqa: E402

addr, pid = sys.argv[1], int(sys.argv[2])
host = addr
origin = f"http://{addr}"
failed = []


def check(name, cond, why=""):
    if cond:
        print(f"ok {name}")
    else:
        print(f"FAIL {name}: {why}")
        failed.append(name)


def handshake(req=None, pieces=None, **kw):
    s = ws.connect(addr)
    if req is None:
        kw.setdefault("origin", origin)
        req, _ = ws.request(host, **kw)
    if pieces:
        for i in range(0, len(req), pieces):
            s.sendall(req[i:i + pieces])
            time.sleep(0.001)
    else:
        s.sendall(req)
    status, headers, rest = ws.read_response(s)
    return s, status, headers, rest


def opened():
    req, key = ws.request(host, origin)
    s = ws.connect(addr)
    s.sendall(req)
    status, headers, rest = ws.read_response(s)
    assert status == 101, f"the handshake got {status}"
    return s, ws.Reader(s, rest)


def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def send_unread(s, unit, seconds, limit=None):
    """Send unit again and again without reading, for seconds (or up to
    limit bytes), on a non-blocking socket: the bytes sent, and what is
    left of a unit the socket did not take."""
    sent, pending, end = 0, b"", time.time() + seconds
    while time.time() < end and (limit is None or sent < limit):
        try:
            if not pending:
                pending = unit
            n = s.send(pending)
            pending = pending[n:]
            sent += n
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break
    return sent, pending


# the handshake
req, key = ws.request(host, origin)
s, status, headers, _ = handshake(req, pieces=7)
check("handshake_in_pieces", status == 101 and headers.get("sec-websocket-accept") == ws.accept_of(key)
      and headers.get("sec-websocket-protocol") == "binary",
      f"{status} {headers}")
s.close()
s, status, headers, _ = handshake(protocol=None)
check("handshake_without_subprotocol", status == 101 and "sec-websocket-protocol" not in headers,
      f"{status} {headers}")
s.close()

refusals = [
    ("wrong_version_426", dict(version="8"), 426),
    ("no_version_426", dict(version=None), 426),
    ("short_key_400", dict(key="c2hvcnQ="), 400),
    ("key_not_16_bytes_400", dict(key="AAAAAAAAAAAAAAAAAAAAAB=="), 400),
    ("wrong_origin_403", dict(origin="https://evil.example"), 403),
    ("origin_of_another_port_403", dict(origin=origin + "1"), 403),
    ("no_origin_403", dict(origin=None), 403),
    ("other_path_404", dict(path="/vnc"), 404),
    ("base64_subprotocol_only_400", dict(protocol="base64"), 400),
    ("a_body_400", dict(extra=["Content-Length: 0"]), 400),
    ("second_key_400", dict(extra=["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]), 400),
    ("malformed_ticket_400", dict(path="/websockify?ticket=../../etc"), 400),
]
for name, kw, want in refusals:
    s, status, headers, _ = handshake(**kw)
    extra = "" if want != 426 else headers.get("sec-websocket-version", "")
    check(name, status == want and (want != 426 or extra == "13"), f"got {status} {headers}")
    s.close()

raw = [
    ("post_405", b"POST /websockify HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    ("http10_400", ws.request(host, origin)[0].replace(b"HTTP/1.1", b"HTTP/1.0", 1), 400),
    ("bare_lf_400", ws.request(host, origin)[0].replace(b"\r\nUpgrade", b"\nUpgrade"), 400),
    ("folded_header_400", ws.request(host, origin)[0].replace(b"\r\nUpgrade", b"\r\n Upgrade"), 400),
    ("nul_400", ws.request(host, origin)[0].replace(b"Upgrade:", b"Upgr\0de:"), 400),
    ("not_an_upgrade_400", ws.request(host, origin)[0].replace(b"Upgrade: websocket", b"Upgrade: h2c"), 400),
    ("huge_header_431", ws.request(host, origin, extra=["X-Big: " + "a" * 9000])[0], 431),
]
for name, req, want in raw:
    s, status, headers, _ = handshake(req)
    check(name, status == want, f"got {status}")
    s.close()

# the handshake's deadline (the proxy runs with a short one)
s = ws.connect(addr)
s.sendall(ws.request(host, origin)[0][:20])
s.settimeout(20)
t0 = time.time()
try:
    gone = s.recv(100) == b""
except (ConnectionResetError, socket.timeout):
    gone = time.time() - t0 < 20
# the deadline is 3 s from the connection (the default is 10 s)
took = time.time() - t0
check("handshake_deadline_closes", gone and 2.5 <= took < 9, f"after {took:.1f} s")
s.close()

# frames
s, r = opened()
payload = b"hello, guest"
data = ws.frame(2, payload)
for b in data:  # one byte at a time
    s.sendall(bytes([b]))
check("echo_frame_fed_byte_by_byte", r.data(len(payload)) == payload)
s.sendall(ws.frame(1, b"ab", fin=False) + ws.frame(9, b"mid") + ws.frame(0, b"cd", fin=False) +
          ws.frame(0, b"ef"))
fin, op, pong = r.frame()
while op in (1, 2):
    fin, op, pong = r.frame()
got = r.data(6)
check("ping_inside_a_fragmented_message_gets_pong", op == 10 and pong == b"mid", f"op {op} {pong!r}")
check("fragmented_message_reassembles", got == b"abcdef", f"{got!r}")
s.sendall(ws.frame(9, b"are you there"))
fin, op, pong = r.frame()
check("ping_gets_pong", op == 10 and pong == b"are you there", f"op {op} {pong!r}")
s.sendall(ws.frame(8, b"\x03\xe8bye"))
code, _ = r.until_close()
check("close_is_answered", code == 1000, f"{code}")
s.close()

protocol_errors = [
    ("unmasked_frame_1002", ws.frame(2, b"x", mask=False)),
    ("reserved_bits_1002", ws.frame(2, b"x", rsv=4)),
    ("unknown_opcode_1002", ws.frame(3, b"x")),
    ("long_control_frame_1002", ws.frame(9, b"p" * 126)),
    ("fragmented_control_frame_1002", ws.frame(9, b"p", fin=False)),
    ("continuation_without_start_1002", ws.frame(0, b"x")),
]
for name, data in protocol_errors:
    s, r = opened()
    s.sendall(data)
    code, _ = r.until_close()
    check(name, code == 1002, f"closed with {code}")
    s.close()

s, r = opened()
s.sendall(ws.frame(2, b"", length=2 ** 31)[:14] + b"abc")  # a header asking for 2 GiB
code, _ = r.until_close()
check("frame_header_asking_2gib_1009", code == 1009, f"closed with {code}")
s.close()

s, r = opened()
chunk = b"z" * 65536
fragments = ws.frame(2, chunk, fin=False) + ws.frame(0, chunk, fin=False) * 20
code = None
try:
    for fin, op, payload in r.frames_while_sending(fragments, idle=20):
        if op == 8:
            code, _ = ws.close_code(payload)
            break
except (OSError, EOFError, TimeoutError) as e:
    code = repr(e)
check("message_over_1mib_in_fragments_1009", code == 1009, f"closed with {code}")
s.close()

# a reader that stalls: what the proxy holds stays bounded, and nothing is
# lost: once the client reads again, every byte it sent comes back
s, r = opened()
s.setblocking(False)
before = rss_kib()
frame = ws.frame(2, b"m" * 65536)
sent, pending = send_unread(s, frame, 6, 64 * 1024 * 1024)
payload_sent = (sent // len(frame)) * 65536 + max(0, (sent % len(frame)) - 14)
time.sleep(0.5)
after = rss_kib()
check("stalled_reader_does_not_grow_the_proxy", sent > 2 * 1024 * 1024 and after - before < 4096,
      f"sent {sent >> 10} KiB, the proxy's RSS went from {before} to {after} KiB")
print(f"stalled reader: {sent >> 10} KiB sent before the client's socket filled; proxy RSS {before} -> {after} KiB")
if pending:
    payload_sent = (sent + len(pending)) // len(frame) * 65536
got = 0
try:
    # the rest of the last frame goes out while the echo is read
    for fin, op, payload in r.frames_while_sending(pending, idle=10):
        if op == 8:
            break
        got += len(payload)
        if got >= payload_sent:
            break
except (OSError, EOFError, TimeoutError):
    pass
check("stalled_reader_loses_nothing", got == payload_sent,
      f"{got} of the {payload_sent} bytes sent came back")
s.close()

# a client that sends pings and reads nothing: its pongs wait, bounded, and
# once it reads again the connection works
s, r = opened()
s.setblocking(False)
before = rss_kib()
ping = ws.frame(9, b"")
sent, pending = send_unread(s, ping * 1000, 4)
time.sleep(0.3)
after = rss_kib()
check("unread_pongs_do_not_grow_the_proxy", after - before < 4096,
      f"{sent // len(ping)} pings sent, the proxy's RSS went from {before} to {after} KiB")
got = b""
try:
    # the pongs are read while the rest of the pings and one message go out
    for fin, op, payload in r.frames_while_sending(pending + ws.frame(2, b"still here"), idle=20):
        if op in (0, 1, 2):
            got += payload
        elif op == 8:
            break
        if b"still here" in got:
            break
except (OSError, EOFError, TimeoutError):
    pass
check("a_ping_flood_leaves_the_connection_working", b"still here" in got, f"got {got[-40:]!r}")
s.close()

sys.exit(1 if failed else 0)
