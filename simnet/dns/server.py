"""A DNS server process in a namespace: UDP sockets that answer queries through the stack.

The server is the small API a resolver is built on (dnsmasq in :mod:`simnet.dns.dnsmasq`,
Docker's embedded resolver in :mod:`simnet.docker`): give :class:`DnsServer` a namespace,
the addresses and port to bind, and an ``answer(query, client)`` function that returns

* a :class:`~simnet.dns.message.Message` (the reply, sent back from the address and port
  the query reached, after any DNAT: conntrack undoes it on the way out),
* a :class:`Forward` (relay the query's bytes to an upstream, from an ephemeral port, and
  relay the upstream's reply to the client with the client's id, as dnsmasq does), or
* None (say nothing: the client times out).

Every datagram is a real packet: it goes through the namespace's routing, netfilter
hooks, conntrack and NAT, and shows in traces and counters.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Callable

from simnet.addresses import IPProto
from simnet.dns.message import DecodeError, Message, decode
from simnet.packet import IPv4, Packet, Udp
from simnet.trace import Delivered, Disposition, Dropped, Sent

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.skb import Skb
    from simnet.socket import Listener

__all__ = ["Client", "DnsServer", "Forward", "FORWARD_TIMEOUT", "TCP_BACKLOG", "send_udp"]

TCP_BACKLOG = 32
"""dnsmasq's listen() backlog (ss -tln's Send-Q: 32, seen on Linux 6.18)."""

FORWARD_TIMEOUT = 10.0
"""How long a forwarded query waits for its upstream (dnsmasq's TIMEOUT, config.h)."""


@dataclass(frozen=True, slots=True)
class Client:
    """Who asked: the query's source, and the local address and port it reached."""

    addr: IPv4Address
    port: int
    local: IPv4Address
    local_port: int
    query: bytes
    """The query's wire bytes as they arrived."""


@dataclass(frozen=True, slots=True)
class Forward:
    """Relay the query to the first of ``servers`` (address, port); a REFUSED or SERVFAIL
    from one sends it on to the next."""

    servers: tuple[tuple[IPv4Address, int], ...]


Answer = Callable[[Message, Client], "Message | Forward | None"]


def send_udp(ns: "NetNamespace", src: IPv4Address, sport: int, dst: IPv4Address, dport: int, payload: bytes,
             *, by: str, caused_by: int | None = None) -> str | None:
    """Send one UDP datagram from this namespace (traced); an errno name if it could not leave."""
    from simnet.datapath import send_ip

    pkt = Packet(ip=IPv4(src=src, dst=dst, proto=IPProto.UDP), l4=Udp(sport=sport, dport=dport), payload=payload)
    tid = ns.world.tracer.new(pkt, ns.name, caused_by=caused_by)
    ns.world.tracer.step(tid, Sent(netns=ns.name, packet=pkt, by=by))
    return send_ip(ns, pkt, tid)


class DnsServer:
    """A DNS server bound to ``addresses`` (None: every address) on ``port`` in ``ns``."""

    def __init__(self, ns: "NetNamespace", answer: Answer, *, addresses: tuple[IPv4Address | None, ...] = (None,),
                 port: int = 53, name: str = "dns server", forward_ports: tuple[int, int] | None = None,
                 tcp: bool = False) -> None:
        self.ns = ns
        self.forward_ports = forward_ports
        """Where forwarded queries' source ports are drawn from (None: the ephemeral range)."""
        self.answer = answer
        self.port = port
        self.name = name
        self.listeners: list[Listener] = []
        self.queries = 0
        self._tcp_buffers: dict[tuple[IPv4Address, int, IPv4Address, int], bytes] = {}
        """Queries received (the counter dnsmasq's log would show)."""
        for addr in addresses:
            lst = ns.sockets.listen("udp", port, addr, keep=True)
            lst.encap_rcv = self._rcv
            self.listeners.append(lst)
        for addr in addresses if tcp else ():
            # a TCP listener on the same address and port (dnsmasq opens one: ss -tln shows it):
            # queries come with a 2-byte length prefix (RFC 1035 4.2.2), answers leave the same way
            lst = ns.sockets.listen("tcp", port, addr, keep=True)
            lst.stream = self._tcp_rcv
            backlogs = ns.world.__dict__.setdefault("listen_backlogs", {})
            backlogs[id(lst)] = TCP_BACKLOG
            self.listeners.append(lst)

    @property
    def open(self) -> bool:
        return any(lst.open for lst in self.listeners)

    def close(self) -> None:
        for lst in self.listeners:
            lst.open = False

    def _done(self, tid: int, what: str) -> None:
        tracer = self.ns.world.tracer
        tracer.step(tid, Delivered(netns=self.ns.name, to=what))
        tracer.end(tid, Disposition.DELIVERED)

    def _rcv(self, skb: "Skb", tid: int) -> None:
        ip, udp = skb.packet.ip, skb.packet.l4
        assert ip is not None and isinstance(udp, Udp)
        where = f"{self.name} udp {ip.dst}:{udp.dport} (query from {ip.src}:{udp.sport})"
        try:
            query = decode(skb.packet.payload)
        except DecodeError:
            self.ns.world.tracer.step(tid, Dropped(netns=self.ns.name, reason=f"{self.name}: not a DNS message",
                                                   disposition=Disposition.DROPPED))
            self.ns.world.tracer.end(tid, Disposition.DROPPED)
            return
        if query.qr:
            self._done(tid, where + ": a response, ignored")
            return
        self.queries += 1
        self._done(tid, where)
        client = Client(ip.src, udp.sport, ip.dst, udp.dport, skb.packet.payload)
        reply = self.answer(query, client)
        if isinstance(reply, Message):
            send_udp(self.ns, ip.dst, udp.dport, ip.src, udp.sport, reply.encode(), by=f"{self.name} (answer)",
                     caused_by=tid)
        elif isinstance(reply, Forward) and reply.servers:
            self._forward(client, reply.servers, tid)

    def _tcp_rcv(self, conn: tuple[IPv4Address, int, IPv4Address, int], data: bytes, tid: int) -> bytes:
        """A TCP connection's bytes: every complete length-prefixed query is answered in turn.

        A :class:`Forward` is not relayed over TCP (dnsmasq 2.90 opens its own TCP connection to
        the upstream, seen on 6.18; simnet does not model that leg): the client gets no answer."""
        buf = self._tcp_buffers.get(conn, b"") + data
        out = b""
        while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
            size = int.from_bytes(buf[:2], "big")
            wire, buf = buf[2:2 + size], buf[2 + size:]
            try:
                query = decode(wire)
            except DecodeError:
                continue
            if query.qr:
                continue
            self.queries += 1
            local, lport, remote, rport = conn
            reply = self.answer(query, Client(remote, rport, local, lport, wire))
            if isinstance(reply, Message):
                answer = reply.encode()
                out += len(answer).to_bytes(2, "big") + answer
        self._tcp_buffers[conn] = buf
        return out

    def _forward(self, client: Client, servers: tuple[tuple[IPv4Address, int], ...], tid: int) -> None:
        """Relay the query from a fresh port with a new id (dnsmasq's forward_query).

        An upstream's REFUSED or SERVFAIL sends the query on to the next server, once around
        the list and back to the first (dnsmasq 2.90 asked its only upstream twice before
        relaying REFUSED, on Linux 6.18); the last answer is relayed whatever it says."""
        from simnet.datapath import SendError, route_output

        ns = self.ns
        tries = list(servers) + [servers[0]]
        server, sport = tries.pop(0)
        try:
            route = route_output(ns, server)
            src = ns.source_for(route, server)
        except SendError:
            src = None
        port = ns.sockets.ephemeral_port("udp")
        if self.forward_ports is not None:
            used = {lst.port for lst in ns.sockets.listeners if lst.proto == "udp" and lst.open}
            port = ns.world.rng.randint(*self.forward_ports)
            while port in used:
                port = ns.world.rng.randint(*self.forward_ports)
        sock = ns.sockets.listen("udp", port, None, keep=True)
        new_id = ns.world.rng.randint(0, 0xFFFF)
        old_id = client.query[:2]

        def close() -> None:
            sock.open = False
            if sock in ns.sockets.listeners:
                ns.sockets.listeners.remove(sock)

        def relay(skb: "Skb", rtid: int) -> None:
            ip, udp = skb.packet.ip, skb.packet.l4
            assert ip is not None and isinstance(udp, Udp)
            nonlocal server, sport
            data = skb.packet.payload
            if ip.src != server or udp.sport != sport or data[:2] != struct.pack("!H", new_id):
                self._done(rtid, f"{self.name} forward socket udp 0.0.0.0:{port}: unexpected reply, ignored")
                return
            self._done(rtid, f"{self.name} forward socket udp 0.0.0.0:{port} (reply from {server}:{sport})")
            if len(data) > 3 and data[3] & 0xF in (2, 5) and tries:  # SERVFAIL, REFUSED: ask the next
                server, sport = tries.pop(0)
                send_udp(ns, src or IPv4Address(0), port, server, sport, struct.pack("!H", new_id) + client.query[2:],
                         by=f"{self.name} (forward to {server}#{sport}, again)", caused_by=rtid)
                return
            close()
            send_udp(ns, client.local, client.local_port, client.addr, client.port, old_id + data[2:],
                     by=f"{self.name} (relayed answer)", caused_by=rtid)

        sock.encap_rcv = relay
        ns.world.schedule(FORWARD_TIMEOUT, close)
        if src is None:
            send_udp(ns, IPv4Address(0), port, server, sport, struct.pack("!H", new_id) + client.query[2:],
                     by=f"{self.name} (forward)", caused_by=tid)
            close()
            return
        send_udp(ns, src, port, server, sport, struct.pack("!H", new_id) + client.query[2:],
                 by=f"{self.name} (forward to {server}#{sport})", caused_by=tid)
