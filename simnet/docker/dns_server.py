"""The embedded resolver's server loop (libnetwork ``Resolver.serveDNS``) on simnet's DNS server.

A query for a name the sandbox knows (:func:`~simnet.docker.resolver.resolve_name`) gets its A
records (TTL 600, shuffled, RA set, not authoritative); an AAAA query for such a name gets an empty
NOERROR answer; anything else is forwarded to the upstreams in order, each given 4 s
(``extIOTimeout``), from the container's namespace, or from the host's for ``host(...)`` upstreams
(28+: every server read from the host's resolv.conf; 27: its loopback ones); a reply with SERVFAIL or
REFUSED moves on to the next; with none left the client gets SERVFAIL.  Every datagram is a packet
through the namespaces' netfilter hooks, so the answer leaves from 127.0.0.11:PORT and conntrack
turns it back into 127.0.0.11:53 (the DNAT of DOCKER_OUTPUT).
"""

from __future__ import annotations

import struct
from dataclasses import replace
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from simnet.dns.message import DecodeError, Message, QType, Rcode, Record, decode
from simnet.dns.server import Client, DnsServer, send_udp
from simnet.docker.resolver import (RESOLVER_IP, RESP_TTL, EmbeddedResolver, ExtServer, dns_names, resolve_name,
                                    user_networks)

if TYPE_CHECKING:
    from collections.abc import Callable

    from simnet.docker.daemon import DockerDaemon
    from simnet.docker.model import Container
    from simnet.netns import NetNamespace
    from simnet.skb import Skb

__all__ = ["EXT_IO_TIMEOUT", "local_answer", "resolve_ip", "serve", "tcp_stream"]

EXT_IO_TIMEOUT = 4.0
"""libnetwork's extIOTimeout: how long one upstream gets."""

NAME = "dockerd embedded DNS"


def serve(d: "DockerDaemon", c: "Container", res: EmbeddedResolver) -> DnsServer:
    """Open the resolver's UDP socket on 127.0.0.11:``res.udp_port`` in the container's namespace."""
    cns = d.world.netns(c.netns)

    def answer(query: Message, client: Client) -> Message | None:
        reply = local_answer(d, c, res, query)
        if reply is not None:
            send_udp(cns, client.local, client.local_port, client.addr, client.port, encode_plain(reply),
                     by=f"{NAME} (answer)")
            return None
        _forward(d, cns, res, client, list(res.upstreams()), server.name)
        return None

    server = DnsServer(cns, answer, addresses=(RESOLVER_IP,), port=res.udp_port, name=NAME)
    return server


PTR_V4_DOMAIN = ".in-addr.arpa."


def resolve_ip(d: "DockerDaemon", c: "Container", reversed_ip: str) -> str | None:
    """Sandbox.ResolveIP: the name for an address on the networks the asking container is on, in
    their order: the first DNS name of the endpoint holding it (the container's name, the only one
    updateSvcRecord puts in the network's PTR map), as ``NAME.NETWORK``. ``reversed_ip`` is the
    question's name before ``.in-addr.arpa.``, compared as text with the address reversed."""
    for net in user_networks(d, c):
        for other in d.containers.values():
            addr = net.endpoints.get(other.name)
            if other.running and addr is not None and ".".join(reversed(str(addr).split("."))) == reversed_ip:
                return f"{dns_names(other, net)[0]}.{net.name}"
    return None


def local_answer(d: "DockerDaemon", c: "Container", res: EmbeddedResolver, query: Message) -> Message | None:
    """The resolver's own answer to ``query``, or None (it forwards the query): serveDNS's
    handlers for A/AAAA (a name it knows), PTR (an address of a container on a network the asker
    shares: ``NAME.NETWORK.``), MX (a name it knows: NOERROR with no answer, "implicit MX")."""
    q = query.question
    if q is None or not c.running:
        return None
    reply = Message(id=query.id, qr=True, opcode=query.opcode, rd=query.rd, cd=query.cd, ra=True,
                    questions=query.questions[:1])
    if q.qtype == QType.PTR:
        # strings.Cut on the fully qualified name: the text before the suffix, nothing after it
        qname = q.name if q.name.endswith(".") else q.name + "."
        head, sep, tail = qname.partition(PTR_V4_DOMAIN)
        host = resolve_ip(d, c, head) if sep and not tail else None
        if host is None:
            return None
        res.answered += 1
        return replace(reply, answers=(Record(name=q.name, rtype=QType.PTR, ttl=RESP_TTL, data=host + "."),))
    if q.qtype == QType.MX:
        if not resolve_name(d, c, q.name):
            return None
        res.answered += 1
        return reply
    if q.qtype not in (QType.A, QType.AAAA):
        return None
    addrs = resolve_name(d, c, q.name)
    if not addrs:
        return None
    order = list(addrs)
    d.world.rng.shuffle(order)
    if q.qtype == QType.A:
        reply = replace(reply, answers=tuple(Record(name=q.name, rtype=QType.A, ttl=RESP_TTL, data=a) for a in order))
    res.answered += 1
    return reply


def tcp_stream(d: "DockerDaemon", c: "Container", res: EmbeddedResolver) -> Callable[..., bytes]:
    """The resolver's TCP socket: length-prefixed queries (RFC 1035 4.2.2) answered the same way;
    names it does not know are forwarded over TCP (:func:`_forward_tcp`)."""
    buffers: dict[tuple[IPv4Address, int, IPv4Address, int], bytes] = {}

    def stream(conn: tuple[IPv4Address, int, IPv4Address, int], data: bytes, tid: int) -> bytes:
        buf = buffers.get(conn, b"") + data
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
            reply = local_answer(d, c, res, query)
            if reply is not None:
                plain = encode_plain(reply)
                out += len(plain).to_bytes(2, "big") + plain
            else:
                _forward_tcp(d, cns, res, conn, wire, list(res.upstreams()), tid)
        buffers[conn] = buf
        return out
    cns = d.world.netns(c.netns)
    return stream


def _forward_tcp(d: "DockerDaemon", cns: "NetNamespace", res: EmbeddedResolver,
                 conn: tuple[IPv4Address, int, IPv4Address, int], wire: bytes, upstreams: list[ExtServer],
                 tid: int | None) -> None:
    """forwardExtDNS for a query that came over TCP: the proto is the listener's, so each
    upstream in turn is dialled over TCP (net.DialTimeout, from the host's namespace for a
    ``host(...)`` one), the query written with its length prefix and one answer read before the
    connection is closed (dns.Conn); SERVFAIL, REFUSED or no answer moves on, and with none left
    the client gets SERVFAIL on its connection."""
    from simnet.dns.server import tcp_query

    def answer_client(payload: bytes, caused_by: int | None) -> None:
        if res.sockets and not all(s.open for s in res.sockets):
            return
        cns.sockets.write(conn, len(payload).to_bytes(2, "big") + payload, caused_by, by=f"{NAME} (answer)")

    while upstreams and (upstreams[0].addr.version != 4):
        upstreams = upstreams[1:]
    if not upstreams:
        answer_client(_servfail(wire), tid)
        return
    ext, rest = upstreams[0], upstreams[1:]
    ns = d.host if ext.host_loopback else cns
    server = IPv4Address(str(ext.addr))

    def done(answer: bytes | None, atid: int | None) -> None:
        if answer is None or len(answer) < 4 or answer[3] & 0xF in (Rcode.SERVFAIL, Rcode.REFUSED):
            _forward_tcp(d, cns, res, conn, wire, rest, atid)
            return
        answer_client(answer, atid)

    res.host_forwards += ext.host_loopback
    where = "host's" if ext.host_loopback else "container's"
    tcp_query(ns, server, 53, wire, done, fastopen=False, timeout=EXT_IO_TIMEOUT,
              by=f"{NAME} (forward to {server}#53 over TCP from the {where} namespace)", caused_by=tid)


def encode_plain(m: Message) -> bytes:
    """A local answer's wire bytes as the resolver writes them: a fresh miekg/dns message (SetReply:
    no OPT record even for an EDNS query) packed with ``Compress`` false, so names are written out
    in full, not as pointers (dnsmasq, and the forwarded replies Docker relays, compress)."""
    out = bytearray(struct.pack("!HHHHHH", m.id & 0xFFFF, m.flags(), len(m.questions), len(m.answers), 0, 0))

    def name(n: str) -> None:
        for label in (x for x in n.rstrip(".").split(".") if x):
            raw = label.encode("ascii")
            out.append(len(raw))
            out.extend(raw)
        out.append(0)
    for q in m.questions:
        name(q.name)
        out.extend(struct.pack("!HH", q.qtype, q.qclass))
    for r in m.answers:
        name(r.name)
        if r.rtype == QType.PTR:
            at = len(out)
            out.extend(struct.pack("!HHIH", r.rtype, r.rclass, r.ttl, 0))
            name(str(r.data))
            struct.pack_into("!H", out, at + 8, len(out) - at - 10)
            continue
        out.extend(struct.pack("!HHIH", r.rtype, r.rclass, r.ttl, 4))
        out.extend(IPv4Address(str(r.data)).packed)
    return bytes(out)


def _servfail(query: bytes) -> bytes:
    m = decode(query)
    return Message(id=m.id, qr=True, opcode=m.opcode, rd=m.rd, cd=m.cd, ra=False, rcode=Rcode.SERVFAIL,
                   questions=m.questions).encode()


def _forward(d: "DockerDaemon", cns: "NetNamespace", res: EmbeddedResolver, client: Client,
             upstreams: list[ExtServer], name: str) -> None:
    """forwardExtDNS: try each upstream in turn; relay the first usable reply, else SERVFAIL."""
    from simnet.datapath import SendError, route_output

    def answer_client(payload: bytes, caused_by: int | None) -> None:
        if res.sockets and not all(s.open for s in res.sockets):
            return  # the container stopped meanwhile
        send_udp(cns, client.local, client.local_port, client.addr, client.port, payload,
                 by=f"{name} (answer)", caused_by=caused_by)

    if not upstreams:
        answer_client(_servfail(client.query), None)
        return
    ext, rest = upstreams[0], upstreams[1:]
    ns = d.host if ext.host_loopback else cns
    server = IPv4Address(str(ext.addr)) if ext.addr.version == 4 else None
    if server is None:
        _forward(d, cns, res, client, rest, name)
        return
    try:
        src = ns.source_for(route_output(ns, server), server)
    except SendError:
        src = None
    if src is None:
        _forward(d, cns, res, client, rest, name)  # "connect failed": next one at once
        return
    port = ns.sockets.ephemeral_port("udp")
    sock = ns.sockets.listen("udp", port, None, keep=True)
    state = {"done": False}

    def close() -> None:
        sock.open = False
        if sock in ns.sockets.listeners:
            ns.sockets.listeners.remove(sock)

    def relay(skb: "Skb", rtid: int) -> None:
        from simnet.packet import Udp
        from simnet.trace import Delivered, Disposition

        ip, udp = skb.packet.ip, skb.packet.l4
        assert ip is not None and isinstance(udp, Udp)
        tracer = d.world.tracer
        tracer.step(rtid, Delivered(netns=ns.name, to=f"{name} upstream socket udp {src}:{port} "
                                                      f"(reply from {ip.src}:{udp.sport})"))
        tracer.end(rtid, Disposition.DELIVERED)
        data = skb.packet.payload
        if state["done"] or ip.src != server or udp.sport != 53 or data[:2] != client.query[:2]:
            return
        state["done"] = True
        close()
        try:
            rcode = decode(data).rcode
        except ValueError:
            rcode = Rcode.SERVFAIL
        if rcode in (Rcode.SERVFAIL, Rcode.REFUSED):
            _forward(d, cns, res, client, rest, name)
            return
        answer_client(data, rtid)

    def timeout() -> None:
        if state["done"]:
            return
        state["done"] = True
        close()
        _forward(d, cns, res, client, rest, name)

    sock.encap_rcv = relay
    d.world.schedule(EXT_IO_TIMEOUT, timeout)
    where = "host's" if ext.host_loopback else "container's"
    res.host_forwards += ext.host_loopback
    err = send_udp(ns, src, port, server, 53, client.query, by=f"{name} (forward to {server}#53 from the "
                                                                 f"{where} namespace)")
    if err is not None:
        state["done"] = True
        close()
        _forward(d, cns, res, client, rest, name)

