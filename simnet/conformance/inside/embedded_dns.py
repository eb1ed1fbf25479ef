"""The kernel runner's stand-in for Docker's embedded DNS server (dockerd cannot run there).

It does what simnet's model of the resolver does (simnet.docker.dns_server), on real sockets:
a UDP and a TCP socket on 127.0.0.11 at the resolver's ephemeral ports in the container's
namespace (the targets of the container's DOCKER_OUTPUT DNAT rules); A queries for the names it
holds get their A records (TTL 600, RA set, no OPT record, names written out in full as
libnetwork's ``Compress = false`` reply does), AAAA queries for them an empty NOERROR; every other
query goes to the upstreams in order, 4 s each (libnetwork's ``extIOTimeout``), the next one on
SERVFAIL/REFUSED, SERVFAIL when none is left.  A ``host:`` upstream is asked from the *host's*
namespace, as 28/29 (and 27 for loopback servers) do: libnetwork opens that socket in the host's
namespace (its forwarding socket is made there, moby ``resolver.go``), so the query leaves the
host through its own OUTPUT/POSTROUTING and the container's rules never see it.  Here the socket is
made after ``setns(2)`` into the host's namespace and the helper returns to the container's at once:
a socket keeps the namespace it was created in.

Standard library only (run by bare name inside the run's namespaces, like ``probes``).
"""

from __future__ import annotations

import ctypes
import os
import select
import socket
import struct
import sys
import threading
import time
from typing import Any

from common import parse_embedded_dns as parse  # bare import: this directory is sys.path[0]

CLONE_NEWNET = 0x40000000
EXT_IO_TIMEOUT = 4.0
RESOLVER_IP = "127.0.0.11"
TTL = 600
QTYPE_A, QTYPE_AAAA = 1, 28
SERVFAIL, REFUSED = 2, 5

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def socket_in(ns_fd: int | None, own_fd: int, kind: int) -> socket.socket:
    """A socket of the namespace ``ns_fd`` (None: this one); the caller stays where it was."""
    if ns_fd is None:
        return socket.socket(socket.AF_INET, kind)
    _setns(ns_fd)
    try:
        return socket.socket(socket.AF_INET, kind)
    finally:
        _setns(own_fd)


def question(query: bytes) -> tuple[str, int, bytes] | None:
    """(lower-case name, qtype, the question's wire bytes) of a query, None if it is not one."""
    if len(query) < 12 or query[2] & 0x80 or struct.unpack_from("!H", query, 4)[0] < 1:
        return None
    i, labels = 12, []
    while i < len(query) and query[i]:
        n = query[i]
        if n & 0xC0 or i + 1 + n > len(query):
            return None
        labels.append(query[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 5 > len(query):
        return None
    qtype = struct.unpack_from("!H", query, i + 1)[0]
    return ".".join(labels).lower(), qtype, query[12:i + 5]


def reply(query: bytes, q: bytes, addrs: list[str], *, rcode: int = 0, ra: bool = True) -> bytes:
    """A reply as libnetwork writes it: SetReply (id, opcode, RD, CD kept), RA, the question, the
    A records with the question's name in full (no compression pointers), no OPT record."""
    flags = struct.unpack_from("!H", query, 2)[0]
    out = 0x8000 | (flags & 0x7800) | (flags & 0x0100) | (0x80 if ra else 0) | (flags & 0x0010) | rcode
    head = struct.pack("!HHHHHH", struct.unpack_from("!H", query)[0], out, 1, len(addrs), 0, 0)
    name = q[:-4]
    body = b"".join(name + struct.pack("!HHIH", QTYPE_A, 1, TTL, 4) + socket.inet_aton(a) for a in addrs)
    return head + q + body


def local(spec: dict[str, Any], query: bytes) -> bytes | None:
    """The resolver's own answer, or None (forward it)."""
    q = question(query)
    if q is None or q[1] not in (QTYPE_A, QTYPE_AAAA):
        return None
    addrs = spec["records"].get(q[0].rstrip("."))
    if not addrs:
        return None
    return reply(query, q[2], addrs if q[1] == QTYPE_A else [])


def forward(spec: dict[str, Any], query: bytes, host_fd: int, own_fd: int) -> bytes:
    """forwardExtDNS: each upstream in turn, a fresh socket each; SERVFAIL when none answered usably."""
    for addr, from_host in spec["upstreams"][:3]:
        s = socket_in(host_fd if from_host else None, own_fd, socket.SOCK_DGRAM)
        try:
            try:
                s.sendto(query, (addr, 53))
            except OSError:
                continue  # no route: the next one at once
            deadline = time.monotonic() + EXT_IO_TIMEOUT
            while (left := deadline - time.monotonic()) > 0:
                ready, _, _ = select.select([s], [], [], left)
                if not ready:
                    break
                try:
                    data, (src, sport) = s.recvfrom(65535)
                except OSError:
                    continue
                if src != addr or sport != 53 or data[:2] != query[:2]:
                    continue
                if len(data) >= 4 and data[3] & 0x0F in (SERVFAIL, REFUSED):
                    break
                return data
        finally:
            s.close()
    q = question(query)
    return reply(query, q[2] if q else b"", [], rcode=SERVFAIL, ra=False)


def _read_exact(s: socket.socket, n: int, deadline: float) -> bytes | None:
    """``n`` bytes from a stream socket before ``deadline``, None on EOF, error or timeout."""
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            data = s.recv(n - len(buf))
        except OSError:
            return None
        if not data:
            return None
        buf += data
    return buf


def forward_tcp(spec: dict[str, Any], query: bytes, host_fd: int, own_fd: int) -> bytes:
    """forwardExtDNS for a query that came over TCP: the listener's proto is used, so each upstream
    in turn is dialled over TCP (4 s), the length-prefixed query written in one write, one answer
    read, the connection closed; SERVFAIL/REFUSED/no answer moves on, SERVFAIL when none is left."""
    for addr, from_host in spec["upstreams"][:3]:
        s = socket_in(host_fd if from_host else None, own_fd, socket.SOCK_STREAM)
        try:
            deadline = time.monotonic() + EXT_IO_TIMEOUT
            s.settimeout(EXT_IO_TIMEOUT)
            try:
                s.connect((addr, 53))
                s.sendall(struct.pack("!H", len(query)) + query)
            except OSError:
                continue  # refused/unreachable: the next one at once
            head = _read_exact(s, 2, deadline)
            data = _read_exact(s, struct.unpack("!H", head)[0], deadline) if head else None
            if data is None or len(data) < 4 or data[3] & 0x0F in (SERVFAIL, REFUSED):
                continue
            return data
        finally:
            s.close()
    q = question(query)
    return reply(query, q[2] if q else b"", [], rcode=SERVFAIL, ra=False)


def _tcp_answer(spec: dict[str, Any], conn: socket.socket, host_fd: int, own_fd: int) -> None:
    """Length-prefixed queries on one connection: names it holds answered, the rest forwarded over
    TCP (:func:`forward_tcp`) and the upstream's answer written back on this connection."""
    conn.settimeout(10.0)
    buf = b""
    try:
        while True:
            data = conn.recv(65535)
            if not data:
                return
            buf += data
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack_from("!H", buf)[0]:
                size = struct.unpack_from("!H", buf)[0]
                query, buf = buf[2:2 + size], buf[2 + size:]
                answer = local(spec, query)
                if answer is None:
                    answer = forward_tcp(spec, query, host_fd, own_fd)
                conn.sendall(struct.pack("!H", len(answer)) + answer)
    except OSError:
        return
    finally:
        conn.close()


def serve(a: dict[str, Any]) -> None:
    """Serve until SIGTERM; the job's log file appears once both sockets are bound."""
    spec = parse(a["argv"][1:])
    own_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    host_fd = os.open(a["host_ns"], os.O_RDONLY)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((RESOLVER_IP, spec["udp"]))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((RESOLVER_IP, spec["tcp"]))
    tcp.listen(16)
    with open(a["log"], "a"):
        os.chmod(a["log"], 0o644)
    while True:
        ready, _, _ = select.select([udp, tcp], [], [])
        if tcp in ready:
            conn, _ = tcp.accept()
            threading.Thread(target=_tcp_answer, args=(spec, conn, host_fd, own_fd), daemon=True).start()
        if udp in ready:
            query, client = udp.recvfrom(65535)
            answer = local(spec, query)
            if answer is not None:
                udp.sendto(answer, client)
                continue
            # libnetwork serves each query in its own goroutine (setns(2) acts on the calling thread only)
            threading.Thread(target=lambda q=query, c=client: udp.sendto(forward(spec, q, host_fd, own_fd), c),
                             daemon=True).start()


def main(argv: list[str]) -> int:
    import json
    serve(json.loads(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
