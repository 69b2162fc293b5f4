#!/usr/bin/env python3
"""Ask vmmd for a VM's console with domain.open_console, as a console proxy
does, and use the socket it hands over (SCM_RIGHTS).

    open_console.py VMMD-SOCKET NAME KIND [SEND [EXPECT]]

Prints the reply line and "fds N". With a socket: writes SEND (with \\n for
newlines) to it, then reads for up to 5 s and prints "got EXPECT" once what
came back holds EXPECT (or, with no EXPECT, prints the first bytes that
came, as Python's repr)."""
import json
import socket
import sys
import time

path, name, kind = sys.argv[1:4]
send = sys.argv[4].replace('\\n', '\n').encode() if len(sys.argv) > 4 else b''
expect = sys.argv[5].encode() if len(sys.argv) > 5 else None

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
req = {"jsonrpc": "2.0", "id": 1, "method": "domain.open_console",
       "params": {"name": name, "kind": kind}}
s.sendall((json.dumps(req) + "\n").encode())
msg, fds, _, _ = socket.recv_fds(s, 65536, 4)
while msg and not msg.endswith(b'\n'):
    more = s.recv(65536)
    if not more:
        break
    msg += more
print("reply", msg.decode().strip())
print("fds", len(fds))
if not fds:
    sys.exit(0)
c = socket.socket(fileno=fds[0])
c.setblocking(True)
if send:
    c.sendall(send)
c.settimeout(0.2)
got = b''
end = time.time() + 5
while time.time() < end:
    try:
        data = c.recv(65536)
    except socket.timeout:
        continue
    if not data:
        break
    got += data
    if expect is None or expect in got:
        break
if expect is None:
    print("first", repr(got[:32]))
elif expect in got:
    print("got", expect.decode())
else:
    print("missed", repr(got[-200:]))
