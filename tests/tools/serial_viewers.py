#!/usr/bin/env python3
"""Several viewers on one serial console socket of vmm (--serial=unix:PATH)
with the echo test guest (it echoes input upper-cased, ends on 'q').

    serial_viewers.py PATH

Prints one line per check, "ok ..." or "FAILED ..."; exits 1 on a failure."""
import socket
import sys
import time

path = sys.argv[1]
failed = False


def check(ok, what):
    global failed
    print(("ok " if ok else "FAILED ") + what)
    failed |= not ok


def attach():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(0.1)
    return s


def read_for(s, seconds, until=None):
    """What s receives within seconds (less once it holds until); None at EOF."""
    got = b''
    end = time.time() + seconds
    while time.time() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionError:
            return None
        if not data:
            return None if not got else got
        got += data
        if until is not None and until in got:
            break
    return got


def settle(viewers, via, end):
    """Wait until vmm has taken each viewer in, as the echo of a mark typed
    by via shows (a viewer sees the output from when it was taken in);
    the viewers not taken in by time end."""
    n = 0
    while viewers and time.time() < end:
        n += 1
        mark = f"#{n}#".encode()
        via.sendall(mark)
        viewers = [s for s in viewers if mark not in (read_for(s, 0.5, mark) or b'')]
    return viewers


def attached_quietly(n, seconds=5):
    """n new viewers that vmm did not turn away, typing nothing (typed
    input would make the guest echo, and vmm find the closed viewers by
    writing to them): one closed at once is tried again, for up to
    seconds."""
    end, ok = time.time() + seconds, []
    while len(ok) < n and time.time() < end:
        s = attach()
        if read_for(s, 0.3) is None:
            s.close()
        else:
            ok.append(s)
    return ok


a, b = attach(), attach()
check(not settle([a, b], a, time.time() + 20), "a and b are taken in")
a.sendall(b'first\n')
check(b'FIRST' in (read_for(a, 5, b'FIRST') or b''), "a sees its own input echoed")
check(b'FIRST' in (read_for(b, 5, b'FIRST') or b''), "b sees what a typed")

c = attach()
check(not settle([c], b, time.time() + 20), "c is taken in")
c.sendall(b'second\n')
seen_c = read_for(c, 5, b'SECOND') or b''
check(b'SECOND' in seen_c, "c, attached later, types and sees the echo")
check(b'FIRST' not in seen_c, "c sees nothing from before it attached")
check(b'SECOND' in (read_for(a, 5, b'SECOND') or b''), "a sees what c typed")

a.close()
b.sendall(b'third\n')
check(b'THIRD' in (read_for(b, 5, b'THIRD') or b''), "b goes on after a left")
check(b'THIRD' in (read_for(c, 5, b'THIRD') or b''), "c goes on after a left")

# up to 8 at once: 6 more fill the slots, a ninth is closed at once
more = [attach() for _ in range(6)]
check(not settle(more, b, time.time() + 20), "six more are taken in")
ninth = attach()
check(read_for(ninth, 2) is None, "a ninth viewer is closed at once")
b.sendall(b'fourth\n')
check(all(b'FOURTH' in (read_for(s, 5, b'FOURTH') or b'') for s in [b, c] + more),
      "the eight attached all see the echo")
# viewers that leave while the guest says nothing free their places at once
for s in more:
    s.close()
time.sleep(0.5)
more = attached_quietly(6)
check(len(more) == 6 and not settle(more, b, time.time() + 20),
      f"six viewers that came after six left on a silent console were taken in ({len(more)})")
b.sendall(b'fifth\n')
check(all(b'FIFTH' in (read_for(s, 5, b'FIFTH') or b'') for s in more),
      "those six see the echo")
for s in more:
    s.close()
b.sendall(b'q')
check(b'echo done' in (read_for(c, 5, b'echo done') or b''), "the guest ends on b's q")
sys.exit(1 if failed else 0)
