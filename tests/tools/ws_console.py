#!/usr/bin/env python3
"""Open a VM's console through the portal's nginx as a browser would: the
websocket's handshake to /websockify with a ticket, the session cookie and
this site's Origin, then bytes both ways.

    ws_console.py URL SESSION-ID TICKET [--origin O] [--send TEXT]
                  [--expect TEXT] [--hold SECONDS] [--race N] [--path P]

Prints "status N" (the handshake's answer; 101 when the console opened).
--send writes TEXT (\\n for newlines) in one binary message; --expect
reads until TEXT came ("got TEXT", or "missed ..." after 10 s); --hold
then waits up to SECONDS for the proxy to close it: "closed CODE REASON
after T s at EPOCH" or "still open". --race opens N connections with the one
ticket at once and prints each one's status, sorted."""
import argparse
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, __import__("os").path.dirname(__file__))
import wsproto as ws  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("session")
p.add_argument("ticket")
p.add_argument("--origin")
p.add_argument("--send")
p.add_argument("--expect")
p.add_argument("--hold", type=float)
p.add_argument("--race", type=int)
p.add_argument("--path")
a = p.parse_args()
hostport = a.url[len("https://"):].rstrip("/")
origin = a.origin if a.origin is not None else a.url.rstrip("/")
path = a.path or f"/websockify?ticket={a.ticket}"


def open_console():
    s = ws.connect(a.url)
    extra = [f"Cookie: __Host-webkvm={a.session}"] if a.session != "-" else []
    req, _ = ws.request(hostport, origin if origin != "-" else None, path=path, extra=extra)
    s.sendall(req)
    status, headers, rest = ws.read_response(s)
    return s, status, rest


if a.race:
    results = []
    barrier = threading.Barrier(a.race)

    def one():
        barrier.wait()
        try:
            s, status, _ = open_console()
            results.append(status)
            s.close()
        except OSError as e:
            results.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(a.race)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("statuses", " ".join(str(x) for x in sorted(results, key=str)))
    sys.exit(0)

s, status, rest = open_console()
print("status", status, flush=True)
if status != 101:
    sys.exit(0)
r = ws.Reader(s, rest)
if a.send:
    s.sendall(ws.frame(2, a.send.replace("\\n", "\n").encode()))
if a.expect:
    got = b""
    end = time.time() + 10
    try:
        while a.expect.encode() not in got and time.time() < end:
            fin, op, payload = r.frame(max(0.01, end - time.time()))
            if op == 8:
                break
            got += payload
    except (TimeoutError, EOFError, OSError):
        pass
    print("got" if a.expect.encode() in got else "missed", a.expect if a.expect.encode() in got
          else repr(got[-200:]), flush=True)
if a.hold:
    t0 = time.time()
    try:
        code, reason = r.until_close(a.hold)
        print(f"closed {code} {reason} after {time.time() - t0:.1f} s at {time.time():.3f}",
              flush=True)
    except (TimeoutError, OSError):
        print("still open", flush=True)
