#!/usr/bin/env python3
"""cache_watch.py - watches Redis delete key events during a load and checks,
for every key that disappears, that its row is already visible in PostgreSQL.

Usage: cache_watch.py REDIS_SOCKET TABLE READY_FILE STOP_FILE REPORT_FILE

Subscribes to __keyevent@0__:del (the caller enables keyevent notifications
for generic commands; UNLINK raises "del"), writes READY_FILE once
subscribed, and until STOP_FILE exists drains the events and asks a
long-lived psql (PG* environment) how many of the deleted keys'
(tenant_id, order_id) rows TABLE shows.  A key is reported as early when
its row is not visible: since the event is received after the key went
and the query starts after that, a loader that unlinks only after COMMIT
can never be reported.  REPORT_FILE gets "events N checks M early E",
then the first early keys.
"""
import os
import re
import select
import socket
import subprocess
import sys

KEY = re.compile(rb"^erp:([0-9]+):order:([0-9]+)$")


class Resp:
    """A minimal RESP reader over a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("Redis closed the connection")
        self.buf += data

    def _line(self, pos):
        end = self.buf.find(b"\r\n", pos)
        return (None, pos) if end < 0 else (self.buf[pos:end], end + 2)

    def _parse(self, pos):
        line, nxt = self._line(pos)
        if line is None:
            return None, pos
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-", b":"):
            return rest, nxt
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return b"", nxt
            if len(self.buf) < nxt + n + 2:
                return None, pos
            return self.buf[nxt:nxt + n], nxt + n + 2
        if kind == b"*":
            items = []
            for _ in range(int(rest)):
                item, nxt2 = self._parse(nxt)
                if item is None and nxt2 == nxt:
                    return None, pos
                items.append(item)
                nxt = nxt2
            return items, nxt
        raise ValueError("unexpected RESP type %r" % kind)

    def messages(self):
        """Every complete reply in the buffer."""
        out = []
        pos = 0
        while True:
            msg, nxt = self._parse(pos)
            if msg is None:
                self.buf = self.buf[pos:]
                return out
            pos = nxt
            out.append(msg)


class Psql:
    def __init__(self):
        self.p = subprocess.Popen(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def query(self, sql):
        self.p.stdin.write(sql + ";\n\\echo __END__\n")
        self.p.stdin.flush()
        lines = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise EOFError("psql ended")
            line = line.rstrip("\n")
            if line == "__END__":
                return lines
            lines.append(line)


def main():
    sock_path, table, ready, stop, report = sys.argv[1:6]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    r = Resp(s)
    s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$18\r\n__keyevent@0__:del\r\n")
    while not r.messages():
        r.fill()
    open(ready, "w").close()
    pg = Psql()
    events = checks = 0
    early = []
    stopping = False
    while True:
        readable, _, _ = select.select([s], [], [], 0.02)
        if readable:
            r.fill()
        keys = []
        for m in r.messages():
            if isinstance(m, list) and len(m) == 3 and m[0] == b"message":
                events += 1
                km = KEY.match(m[2])
                if km:
                    keys.append((m[2], int(km.group(1)), int(km.group(2))))
        for i in range(0, len(keys), 5000):
            part = keys[i:i + 5000]
            values = ",".join("(%d,%d)" % (t, o) for _, t, o in part)
            rows = pg.query("SELECT v.t || ':' || v.o FROM (VALUES %s) v(t, o) WHERE NOT EXISTS "
                            "(SELECT 1 FROM %s x WHERE x.tenant_id = v.t AND x.order_id = v.o)"
                            % (values, table))
            checks += 1
            early.extend(rows)
        if stopping and not readable and not keys:
            break
        if not stopping and os.path.exists(stop):
            stopping = True  # one more pass drains what is in flight
    with open(report, "w") as f:
        f.write("events %d checks %d early %d\n" % (events, checks, len(early)))
        for k in early[:20]:
            f.write("early %s\n" % k)


if __name__ == "__main__":
    main()
