#!/usr/bin/env python3
"""Put a console ticket in the portal's database as the portal issues one
(fcgi/console_ticket.c), for a session, a VM and a kind, and print it: for
the proxy's tests where no VM can run to have the portal issue one.

    ticket_db.py DB SESSION-ID VM-UUID VM-NAME KIND [MS-LEFT]"""
import hashlib
import secrets
import sqlite3
import sys
import time

db, sid, uuid, name, kind = sys.argv[1:6]
left = int(sys.argv[6]) if len(sys.argv) > 6 else 30000
con = sqlite3.connect(db, timeout=10)
session_hash = hashlib.sha256(sid.encode()).hexdigest()
row = con.execute("SELECT user_id FROM sessions WHERE id_hash = ?", (session_hash,)).fetchone()
if not row or row[0] is None:
    sys.exit("no such logged-in session")
ticket = secrets.token_hex(24)
con.execute("INSERT INTO console_tickets (hash, session_hash, user_id, vm_uuid, vm_name, kind, "
            "expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (hashlib.sha256(ticket.encode()).hexdigest(), session_hash, row[0], uuid, name, kind,
             int(time.time() * 1000) + left))
con.commit()
print(ticket)
