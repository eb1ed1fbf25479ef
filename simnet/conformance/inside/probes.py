"""Probe, listener and sniffer helpers: run in a script's namespace with ``ip netns exec``.

Standard library only; started as ``python -I -S -c BOOT probes KIND JSON`` and print one
JSON result (probes) or log what they receive (listeners, sniffers).
"""

from __future__ import annotations

import errno as _errno
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import time
from typing import Any

from common import TOOL_EXIT_MARGIN  # bare: this directory is sys.path[0]

IP_RECVERR = 11
SO_EE_ORIGIN_ICMP = 2


def _errname(code: int | None) -> str | None:
    return _errno.errorcode.get(code) if code else None


def _read_errqueue(s: socket.socket) -> dict[str, Any] | None:
    """The first ICMP error queued on a socket with IP_RECVERR: {type, code, from, errno}.

    Pop ``errno`` (the socket error it caused) before putting the dict in a report.
    """
    s.setblocking(False)  # with a Python timeout set, recvmsg would poll first and wait
    for _ in range(8):
        try:
            _, anc, _, _ = s.recvmsg(2048, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return None
        for level, kind, data in anc:
            if level == socket.IPPROTO_IP and kind == IP_RECVERR and len(data) >= 16:
                ee_errno, origin, itype, icode = struct.unpack_from("=IBBB", data)
                if origin == SO_EE_ORIGIN_ICMP:
                    offender = socket.inet_ntoa(data[16 + 4:16 + 8]) if len(data) >= 24 else None
                    return {"type": itype, "code": icode, "from": offender, "errno": ee_errno}
    return None


def _logs_have_new(args: dict[str, Any], proto: str) -> bool:
    for log, start in args.get("marks", {}).items():
        try:
            with open(log) as f:
                f.seek(start)
                if any(json.loads(line).get("proto") == proto for line in f.read().splitlines() if line.strip()):
                    return True
        except (FileNotFoundError, json.JSONDecodeError):
            continue
    return False


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _helper_ping(a: dict[str, Any]) -> dict[str, Any]:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if a.get("ttl"):
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, a["ttl"])
    if a.get("dev"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a["dev"].encode())
    if a.get("src"):
        s.bind((a["src"], 0))
    if a.get("pmtudisc") is not None:
        s.setsockopt(socket.IPPROTO_IP, 10, a["pmtudisc"])  # IP_MTU_DISCOVER: ping -M
    ident = a["id"]
    payload = bytes(i & 0xFF for i in range(a["size"]))  # ping -s: exactly SIZE data bytes
    reply = None
    error_icmp = None
    local_errno = None
    sent_all_at = None
    answered: set[int] = set()
    for seq in range(1, a["count"] + 1):
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, _checksum(hdr + payload), ident, seq) + payload
        try:
            s.sendto(pkt, (a["dst"], 0))
            failed = False
        except OSError as e:
            local_errno = local_errno or e.errno
            failed = True
        wait = a["interval"] if seq < a["count"] else a["timeout"]
        # a local send error (no route): only an ICMP from our own stack may still be queued
        end = time.monotonic() + (min(wait, 0.05) if failed else wait)
        sent_all_at = time.monotonic()
        while True:
            left = end - time.monotonic()
            # ping sends a request every interval whatever came back, exits once every request
            # is answered, and (-c 1) stops at the first error too
            if left <= 0 or error_icmp or len(answered) >= a["count"]:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            data, (peer, _) = s.recvfrom(65535)
            ihl = (data[0] & 0x0F) * 4
            icmp = data[ihl:]
            if len(icmp) < 8:
                continue
            itype, icode = icmp[0], icmp[1]
            if itype == 0 and struct.unpack_from("!H", icmp, 4)[0] == ident:
                reply = reply or {"type": 0, "code": 0, "from": peer}
                answered.add(struct.unpack_from("!H", icmp, 6)[0])
            elif itype in (3, 4, 5, 11, 12) and len(icmp) >= 8 + 20 + 8:
                inner = icmp[8:]
                iihl = (inner[0] & 0x0F) * 4
                quoted = inner[iihl:]
                if inner[9] == 1 and len(quoted) >= 8 and quoted[0] == 8 and \
                        struct.unpack_from("!H", quoted, 4)[0] == ident and itype != 5:
                    error_icmp = error_icmp or {"type": itype, "code": icode, "from": peer}
                    if itype == 3 and icode == 4 and "mtu" not in error_icmp:
                        error_icmp["mtu"] = struct.unpack_from("!H", icmp, 6)[0]  # un.frag.mtu
    del sent_all_at
    if reply:
        return {"outcome": "reply", "icmp": reply, "errno": None}
    if error_icmp:
        outcome = {3: "unreachable", 11: "ttl-exceeded"}.get(error_icmp["type"], "error")
        return {"outcome": outcome, "icmp": error_icmp, "errno": _errname(local_errno)}
    if local_errno:
        return {"outcome": "error", "icmp": None, "errno": _errname(local_errno)}
    return {"outcome": "timeout", "icmp": None, "errno": None}


def _bound_socket(a: dict[str, Any], kind: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    if a.get("src") or a.get("sport"):
        s.bind((a.get("src") or "0.0.0.0", a.get("sport") or 0))
    return s


def _helper_tcp(a: dict[str, Any]) -> dict[str, Any]:
    s = _bound_socket(a, socket.SOCK_STREAM)
    # give up a little before the tool would: the kernel's own timers fire on whole seconds
    # (SYN retransmission at 1 s), and one landing before the socket closes would be a race
    s.settimeout(max(0.1, a["timeout"] - TOOL_EXIT_MARGIN))
    try:
        s.connect((a["dst"], a["dport"]))
    except TimeoutError:
        icmp = _read_errqueue(s)
        if icmp:
            return {"outcome": "unreachable", "errno": _errname(icmp.pop("errno")), "icmp": icmp}
        return {"outcome": "timeout", "icmp": None, "errno": None}
    except OSError as e:
        icmp = _read_errqueue(s)
        if icmp:
            icmp.pop("errno")
            # a port-unreachable makes connect fail with ECONNREFUSED: nc prints "Connection
            # refused", so the outcome is "refused" with the ICMP reported
            outcome = "refused" if e.errno == _errno.ECONNREFUSED else "unreachable"
            return {"outcome": outcome, "icmp": icmp, "errno": _errname(e.errno)}
        if e.errno == _errno.ECONNREFUSED:
            return {"outcome": "refused", "icmp": None, "errno": "ECONNREFUSED"}
        return {"outcome": "error", "icmp": None, "errno": _errname(e.errno)}
    http_code = 0
    got = b""
    peer = None
    transfer = None
    try:
        if a.get("http"):
            s.sendall(f"GET {a['path']} HTTP/1.0\r\nHost: {a['host']}\r\n\r\n".encode())
            s.shutdown(socket.SHUT_WR)
            s.settimeout(a["timeout"])
            answer = b""
            total = 0
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    total += len(chunk)
                    answer += chunk[:4096] if len(answer) < 4096 else b""
            except OSError:
                pass  # curl -m: a response that stalled
            head, sep, _ = answer.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if a.get("served") is not None:
                size = a["served"]
                body = total - len(head) - len(sep) if sep and length else 0
                transfer = {"size": size, "received": min(body, size), "complete": body >= size,
                            "stalled": body < size, "mss": None, "last_mss": None}
            status = answer.split(b"\r\n", 1)[0].split()
            if len(status) >= 2 and status[0].startswith(b"HTTP/") and status[1].isdigit():
                http_code = int(status[1])
        elif a.get("size"):
            transfer = _send_sized(s, a)
        elif a.get("data"):
            s.sendall(a["data"].encode())
            # nc reads what comes back until the connection is idle for -w
            peer = s.getpeername()
            s.settimeout(a["timeout"])
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except (TimeoutError, socket.timeout):
                pass
    except OSError:
        pass
    # abort with SO_LINGER {1, 0}: close sends one RST and no FIN exchange, so the packets
    # (SYN, SYN-ACK, ACK, RST) and the conntrack state (CLOSE) do not depend on timing
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    out: dict[str, Any] = {"outcome": "connected", "icmp": None, "errno": None, "http_code": http_code,
                           "transfer": transfer}
    if got:
        out["reply"] = _reply(peer, got)
    return out


def _reply(peer: Any, data: bytes) -> dict[str, Any]:
    return {"src": peer[0], "sport": peer[1], "bytes": len(data), "data": data.decode("utf-8", "replace")}


def _logged_bytes(a: dict[str, Any]) -> int:
    """The bytes listeners took in since the probe began (their ``tcp-data`` log lines)."""
    total = 0
    for log, start in a.get("marks", {}).items():
        try:
            with open(log) as f:
                f.seek(start)
                for line in f.read().splitlines():
                    entry = json.loads(line) if line.strip() else {}
                    if entry.get("proto") == "tcp-data":
                        total = max(total, entry["bytes"])
        except (FileNotFoundError, json.JSONDecodeError):
            continue
    return total


def _send_sized(s: socket.socket, a: dict[str, Any]) -> dict[str, Any]:
    """``head -c N /dev/zero | nc``: N zero bytes, then wait (nc's -w) until the listener has them
    all; the segment size (TCP_MAXSEG) at the start and at the end."""
    size = a["size"]
    deadline = time.monotonic() + a["timeout"] - TOOL_EXIT_MARGIN
    first = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    s.setblocking(False)
    sent = 0
    while time.monotonic() < deadline:
        if sent < size:
            try:
                sent += s.send(bytes(min(size - sent, 1 << 20)))
            except (BlockingIOError, InterruptedError):
                pass
        if _logged_bytes(a) >= size:
            break
        time.sleep(0.01)
    received = _logged_bytes(a)
    last = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    return {"size": size, "received": received, "complete": received >= size, "stalled": received < size,
            "mss": first, "last_mss": last}


def _helper_udp(a: dict[str, Any]) -> dict[str, Any]:
    s = _bound_socket(a, socket.SOCK_DGRAM)
    try:
        s.connect((a["dst"], a["dport"]))
        if a.get("data") is not None:  # None: nc writes nothing (empty input, or -z)
            s.send(a["data"].encode())
    except OSError as e:
        icmp = _read_errqueue(s)
        if icmp:
            icmp.pop("errno")
        return {"outcome": "unreachable" if icmp else "error", "icmp": icmp, "errno": _errname(e.errno)}
    deadline = time.monotonic() + a["timeout"]
    s.setblocking(False)
    got: list[tuple[Any, bytes]] = []

    def read() -> None:
        while True:
            try:
                data, peer = s.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error: left for the error queue
            got.append((peer, data))

    def delivered() -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": "delivered", "icmp": None, "errno": None}
        if got:
            out["reply"] = _reply(got[0][0], b"".join(d for _, d in got))
        return out

    while time.monotonic() < deadline:
        read()
        if _logs_have_new(a, "udp") or got:
            # nc -u waits out -w after a datagram that drew no error (printing what comes back), and
            # so does simnet's clock: stopping here would age conntrack entries more slowly than simnet does
            while time.monotonic() < deadline:
                select.select([s], [], [], max(0.0, min(0.05, deadline - time.monotonic())))
                read()
            return delivered()
        icmp = _read_errqueue(s)
        if icmp:
            return {"outcome": "unreachable", "errno": _errname(icmp.pop("errno")), "icmp": icmp}
        select.select([s], [], [s], 0.02)
    read()
    if _logs_have_new(a, "udp") or got:
        return delivered()
    return {"outcome": "lost", "icmp": None, "errno": None}


def _log_line(f: Any, entry: dict[str, Any]) -> None:
    f.write(json.dumps(entry) + "\n")
    f.flush()


def _helper_listen(a: dict[str, Any]) -> None:
    udp = a["proto"] == "udp"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if not a.get("http"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as OpenBSD nc does (strace)
    try:
        s.bind((a["addr"], a["port"]))
    except OSError as e:
        # the tool's own last words: nc's err(1, NULL), CPython's uncaught OSError
        sys.stderr.write(f"nc: {os.strerror(e.errno or 0)}\n" if not a.get("http") else f"OSError: {e}\n")
        sys.exit(1)
    if not udp:
        # the backlogs the real tools use (ss shows it as Send-Q): socketserver's 5, OpenBSD nc's 1
        s.listen(5 if a.get("http") else 1)
    with open(a["log"], "a") as f:
        os.chmod(a["log"], 0o644)
        while True:
            if udp:
                data, (src, sport) = s.recvfrom(65535)
                _log_line(f, {"proto": "udp", "ns": a["ns"], "src": src, "sport": sport, "bytes": len(data)})
                continue
            conn, (src, sport) = s.accept()
            _log_line(f, {"proto": "tcp", "ns": a["ns"], "src": src, "sport": sport})
            conn.settimeout(1.0)
            try:
                if a.get("http"):
                    request = conn.recv(4096).split(b" ")
                    path = request[1].decode().split("?")[0].lstrip("/") if len(request) > 1 else ""
                    file = os.path.join(a["directory"], path) if a.get("directory") else None
                    if file is not None and os.path.isfile(file):
                        # as http.server sends a file: a header, then the bytes (their size matters)
                        with open(file, "rb") as fh:
                            body = fh.read()
                        conn.settimeout(30.0)
                        # the header Python 3.11's http.server sends, field for field (its size matters)
                        from email.utils import formatdate

                        date = formatdate(usegmt=True).encode()
                        conn.sendall(b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nDate: " + date +
                                     b"\r\nContent-type: application/octet-stream\r\nContent-Length: %d\r\n"
                                     b"Last-Modified: " % len(body) + date + b"\r\n\r\n" + body)
                    else:
                        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
                else:
                    total = 0
                    while chunk := conn.recv(65536):
                        total += len(chunk)  # a sized transfer's progress (probes read it)
                        _log_line(f, {"proto": "tcp-data", "ns": a["ns"], "src": src, "sport": sport, "bytes": total})
            except OSError:
                pass
            conn.close()
            if not a.get("keep"):
                s.close()
                return


def _helper_peer(a: dict[str, Any]) -> None:
    """The program socat/ncat run for a client, in place of cat: log the peer the tool names in the
    environment, then echo as cat does.  A TCP client is logged when its connection starts; a UDP
    client at every datagram (socat's forked child gets all later datagrams of its peer)."""
    env = os.environ
    src = env.get("SOCAT_PEERADDR") or env.get("NCAT_REMOTE_ADDR")
    sport = env.get("SOCAT_PEERPORT") or env.get("NCAT_REMOTE_PORT")
    entry = {"proto": a["proto"], "ns": a["ns"], "src": src, "sport": int(sport) if sport else None}
    with open(a["log"], "a") as f:
        if a["proto"] == "tcp":
            _log_line(f, entry)
        while True:
            data = os.read(0, 65536)
            if not data:
                return
            if a["proto"] == "udp":
                _log_line(f, {**entry, "bytes": len(data)})
            while data:
                data = data[os.write(1, data):]


def _helper_sniff(a: dict[str, Any]) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    with open(a["log"], "a") as f:
        os.chmod(a["log"], 0o644)
        while True:
            data, (src, _) = s.recvfrom(65535)
            ihl = (data[0] & 0x0F) * 4
            if len(data) >= ihl + 8 and data[ihl] == 8:
                ident = struct.unpack_from("!H", data, ihl + 4)[0]
                _log_line(f, {"proto": "icmp", "ns": a["ns"], "src": src, "sport": ident})


def main(argv: list[str]) -> int:
    """``probes KIND JSON``: run one helper (ping, tcp, udp: print its result; listen, sniff: log)."""
    kind, raw = argv
    a = json.loads(raw)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if kind == "listen" and a.get("standin"):
        import embedded_dns
        embedded_dns.serve(dict(a, argv=a["standin"]))
        return 0
    if kind == "listen" and a.get("dnsmasq"):
        import dnstools
        dnstools.dnsmasq(dict(a, argv=a["dnsmasq"]))
        return 0
    if kind == "listen":
        _helper_listen(a)
        return 0
    if kind == "dnsclient":
        import dnstools
        print(json.dumps(dnstools.client(a)))
        return 0
    if kind == "sniff":
        _helper_sniff(a)
        return 0
    if kind == "peer":
        _helper_peer(a)
        return 0
    fn = {"ping": _helper_ping, "tcp": _helper_tcp, "udp": _helper_udp}[kind]
    import dnstools  # a host name: resolved first, as the tools' getaddrinfo does
    failed = dnstools.resolve(a, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    print(json.dumps(failed or fn(a)))
    return 0
