#!/usr/bin/env python3
"""The ends of a console, through the proxy's benchmark mode (a fixed TCP
target): nothing either side sent before its end is lost.

    ws_ends.py last-output HOST:PORT BYTES   the target sends BYTES and closes;
                                             the client reads only after 1 s:
                                             prints "got N close CODE"
    ws_ends.py last-input HOST:PORT BYTES    the client sends BYTES, the last 1000
                                             with its end (no close frame)
    ws_ends.py stop HOST:PORT                opens a console and waits for the
                                             proxy's close: prints "close CODE"
"""
import socket
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, __import__("os").path.dirname(__file__))
import wsproto as ws  # noqa: E402

mode, addr = sys.argv[1], sys.argv[2]
host, port = addr.rsplit(":", 1)
s = socket.socket()
if mode == "last-output":
    # a small window: what the target sends waits in the proxy, not in
    # this socket, when the target's end comes
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.connect((host, int(port)))
req, _ = ws.request(addr, f"http://{addr}")
s.sendall(req)
status, headers, rest = ws.read_response(s)
if status != 101:
    sys.exit(f"the handshake got {status}")
r = ws.Reader(s, rest)
if mode == "last-output":
    want = int(sys.argv[3])
    time.sleep(1)
    got, code = 0, None
    try:
        while True:
            fin, op, payload = r.frame(20)
            if op == 8:
                code = ws.close_code(payload)[0]
                break
            got += len(payload)
    except (EOFError, OSError, TimeoutError):
        pass
    print(f"got {got} close {code}")
elif mode == "last-input":
    # BYTES - 1000 first; then, once they went through, the last 1000 and
    # the connection's end in one write (the proxy reads both at once)
    n = int(sys.argv[3]) - 1000
    chunk = b"k" * 65536
    while n > 0:
        s.sendall(ws.frame(2, chunk[:min(n, 65536)]))
        n -= min(n, 65536)
    time.sleep(0.5)
    s.sendall(ws.frame(2, b"z" * 1000))
    s.close()
    print("sent")
elif mode == "stop":
    print("open", flush=True)
    code, reason = r.until_close(30)
    print(f"close {code} {reason}")
