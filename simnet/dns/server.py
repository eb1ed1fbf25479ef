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

__all__ = ["Client", "DnsServer", "Forward", "FORWARD_TEST", "FORWARD_TIME", "FORWARD_TIMEOUT", "TCP_BACKLOG", "send_udp", "tcp_query"]

TCP_BACKLOG = 32
"""dnsmasq's listen() backlog (ss -tln's Send-Q: 32, seen on Linux 6.18)."""

FORWARD_TIMEOUT = 10.0
"""How long a forwarded query waits for its upstream (dnsmasq's TIMEOUT, config.h)."""

FORWARD_TEST = 50
FORWARD_TIME = 20.0
"""dnsmasq's config.h: after this many queries or seconds every upstream is asked again."""


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


def tcp_query(ns: "NetNamespace", server: IPv4Address, port: int, wire: bytes,
              done: Callable[[bytes | None, int | None], None], *, fastopen: bool, timeout: float, by: str,
              caused_by: int | None = None) -> None:
    """Ask ``server`` one query over a new TCP connection from ``ns``, as a server relaying a TCP
    query does; ``done(answer or None, trace)`` is called once (None: refused, unreachable or no
    answer within ``timeout``).

    ``fastopen`` is dnsmasq 2.90's connect (``sendto(MSG_FASTOPEN)``, no cookie yet): a 64-byte SYN
    with a cookie request, the query with the handshake's ACK, the answer not ACKed on its own, and
    a FIN,ACK once it is read: SYN, PSH,ACK, FIN,ACK, ACK one way and SYN,ACK, ACK, PSH,ACK, FIN,ACK
    the other (counted on Linux 6.18 with iptables --tcp-flags rules; the forwarder ends in
    TIME-WAIT). Without it (Go's net.Dial, Docker's resolver) the connect is dig's: SYN, ACK, the
    query, the answer ACKed, FIN."""
    from dataclasses import replace

    from simnet.datapath import SendError, route_output, send_ip
    from simnet.packet import Tcp, TcpFlags
    from simnet.socket import ClientSocket, SockState, syn_options
    from simnet.tcp_output import route_mss

    world = ns.world
    try:
        src = ns.source_for(route_output(ns, server), server)
    except SendError:
        src = None
    if src is None:
        done(None, caused_by)
        return
    lport = ns.sockets.ephemeral_port("tcp")
    data = len(wire).to_bytes(2, "big") + wire
    options = syn_options(ns, route_mss(ns, server))
    if fastopen:
        options = replace(options, fastopen=True)
    sock = ClientSocket(proto="tcp", laddr=src, lport=lport, raddr=server, rport=port, state=SockState.SYN_SENT,
                        isn=world.rng.getrandbits(32), pending=data if fastopen else b"", delack=fastopen)
    key = ("tcp", src, lport, server, port)
    ns.sockets.clients[key] = sock
    got = bytearray()
    finished = False

    def finish(answer: bytes | None, tid: int | None) -> None:
        nonlocal finished
        if not finished:
            finished = True
            done(answer, tid)

    def event(what: str, payload: bytes, tid: int) -> None:
        if what == "connected" and not fastopen:
            ns.sockets.tcp_segment(src, lport, server, port, TcpFlags.PSH | TcpFlags.ACK, sock.snd_nxt, sock.rcv_nxt,
                                   sock.options, data, tid, by=f"{by} (query)")
            sock.snd_nxt = (sock.snd_nxt + len(data)) & 0xFFFFFFFF
        elif what == "data":
            got.extend(payload)
            if len(got) >= 2 and len(got) >= 2 + int.from_bytes(got[:2], "big") and not finished:
                finish(bytes(got[2:2 + int.from_bytes(got[:2], "big")]), tid)
                # close(): FIN,ACK (it acknowledges the answer too); the server's FIN,ACK and the
                # last ACK follow (socket.py), then the socket is gone
                ns.sockets.tcp_segment(src, lport, server, port, TcpFlags.FIN | TcpFlags.ACK, sock.snd_nxt,
                                       sock.rcv_nxt, sock.options, b"", tid, by=f"{by} (close: FIN)")
                sock.snd_nxt = (sock.snd_nxt + 1) & 0xFFFFFFFF
        elif what in ("reset", "closed"):
            ns.sockets.clients.pop(key, None)
            finish(None, tid)

    sock.on_event = event

    def syn() -> None:
        if sock.state is not SockState.SYN_SENT or finished:
            return
        pkt = Packet(ip=IPv4(src=src, dst=server, proto=IPProto.TCP),
                     l4=Tcp(sport=lport, dport=port, flags=TcpFlags.SYN, seq=sock.isn, options=options))
        tid = world.tracer.new(pkt, ns.name, caused_by=caused_by)
        world.tracer.step(tid, Sent(netns=ns.name, packet=pkt, by=f"{by} (connect)"))
        send_ip(ns, pkt, tid)

    def give_up() -> None:
        if not finished:
            ns.sockets.clients.pop(key, None)
            finish(None, None)

    # the SYN, then tcp_retransmit_timer's retransmissions (1 s apart for tcp_syn_linear_timeouts)
    from simnet.probe import TCP_RTO_INIT

    when, linear = 0.0, ns.sysctls.get_int("net.ipv4.tcp_syn_linear_timeouts")
    for n in range(ns.sysctls.get_int("net.ipv4.tcp_syn_retries") + 1):
        if when >= timeout:
            break
        world.schedule(when, syn)
        when += TCP_RTO_INIT * (1 if n <= linear else 1 << (n - linear))
    world.schedule(timeout, give_up)


def has_edns_options(wire: bytes) -> bool:
    """Whether a query's OPT record carries options (dig's COOKIE): dnsmasq cannot rebuild such a
    query from a reply, so it does not retry it elsewhere after a REFUSED/SERVFAIL."""
    try:
        opt = decode(wire).opt
    except DecodeError:
        return False
    return opt is not None and bool(opt.data)


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
        self.last_server: dict[tuple[tuple[IPv4Address, int], ...], tuple[IPv4Address, int]] = {}
        """Per upstream list: the upstream that last answered well (asked alone next time)."""
        self.forward_time: dict[tuple[tuple[IPv4Address, int], ...], float] = {}
        self.forward_count: dict[tuple[tuple[IPv4Address, int], ...], int] = {}
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

        A :class:`Forward` is relayed over a TCP connection of the server's own (:meth:`_forward_tcp`)
        and its answer written back on this connection when it comes."""
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
            elif isinstance(reply, Forward) and reply.servers:
                self._forward_tcp(conn, wire, list(reply.servers), tid)
        self._tcp_buffers[conn] = buf
        return out

    def _forward_tcp(self, conn: tuple[IPv4Address, int, IPv4Address, int], wire: bytes,
                     servers: list[tuple[IPv4Address, int]], tid: int | None) -> None:
        """dnsmasq 2.90 relays a TCP query over TCP (its tcp_request): a connection to the first
        upstream in command-line order with the query's bytes, whatever UDP last used (seen on
        Linux 6.18: a REFUSED from it is relayed, the next one is not asked); only a connection
        that fails moves on to the next. The answer goes back on the client's connection."""
        server, port = servers[0]
        rest = servers[1:]

        def done(answer: bytes | None, atid: int | None) -> None:
            if answer is None:
                if rest:
                    self._forward_tcp(conn, wire, rest, atid)
                return
            relayed = wire[:2] + answer[2:]
            self.ns.sockets.write(conn, len(relayed).to_bytes(2, "big") + relayed, atid,
                                  by=f"{self.name} (relayed answer)")

        tcp_query(self.ns, server, port, wire, done, fastopen=True, timeout=FORWARD_TIMEOUT,
                  by=f"{self.name} (forward to {server}#{port} over TCP)", caused_by=tid)

    def _forward(self, client: Client, servers: tuple[tuple[IPv4Address, int], ...], tid: int) -> None:
        """Relay the query from a fresh port with a new id (dnsmasq's forward_query).

        Server choice as dnsmasq 2.90 showed it on Linux 6.18: until an upstream has answered
        well, every upstream is asked at once and the first answer that is not REFUSED/SERVFAIL is
        relayed (and that upstream remembered); afterwards only the remembered one is asked and its
        answer relayed whatever it says, until FORWARD_TEST queries or FORWARD_TIME seconds have
        passed and all are asked again. With every upstream answering REFUSED/SERVFAIL, the last
        such answer is relayed."""
        from simnet.datapath import SendError, route_output

        ns = self.ns
        world = ns.world
        key = tuple(servers)
        last = self.last_server.get(key)
        fresh = (last is None or world.now - self.forward_time.get(key, 0.0) > FORWARD_TIME
                 or self.forward_count.get(key, 0) >= FORWARD_TEST)
        if fresh:
            self.forward_time[key] = world.now
            self.forward_count[key] = 0
            asked = list(servers)
        else:
            self.forward_count[key] = self.forward_count.get(key, 0) + 1
            asked = [last] if last in servers else list(servers)
        port = ns.sockets.ephemeral_port("udp")
        if self.forward_ports is not None:
            used = {lst.port for lst in ns.sockets.listeners if lst.proto == "udp" and lst.open}
            port = world.rng.randint(*self.forward_ports)
            while port in used:
                port = world.rng.randint(*self.forward_ports)
        sock = ns.sockets.listen("udp", port, None, keep=True)
        new_id = world.rng.randint(0, 0xFFFF)
        old_id = client.query[:2]
        waiting = set(asked)
        all_mode = len(asked) > 1 or fresh
        extradata = has_edns_options(client.query)

        def close() -> None:
            sock.open = False
            if sock in ns.sockets.listeners:
                ns.sockets.listeners.remove(sock)

        def relay(skb: "Skb", rtid: int) -> None:
            ip, udp = skb.packet.ip, skb.packet.l4
            assert ip is not None and isinstance(udp, Udp)
            data = skb.packet.payload
            if (ip.src, udp.sport) not in waiting or data[:2] != struct.pack("!H", new_id):
                self._done(rtid, f"{self.name} forward socket udp 0.0.0.0:{port}: unexpected reply, ignored")
                return
            waiting.discard((ip.src, udp.sport))
            self._done(rtid, f"{self.name} forward socket udp 0.0.0.0:{port} (reply from {ip.src}:{udp.sport})")
            nonlocal all_mode
            bad = len(data) > 3 and data[3] & 0xF in (2, 5)  # SERVFAIL, REFUSED
            if bad and all_mode and waiting:
                return  # another upstream may still answer well
            if bad and not all_mode and not extradata:
                # reply_query: a broken server; the query is sent to every upstream (a query with
                # EDNS options, dig's cookie, cannot be rebuilt from the reply and is not)
                all_mode = True
                waiting.update(servers)
                send_all(rtid)
                return
            if not bad:
                self.last_server[key] = (ip.src, udp.sport)
            close()
            send_udp(ns, client.local, client.local_port, client.addr, client.port, old_id + data[2:],
                     by=f"{self.name} (relayed answer)", caused_by=rtid)

        def send_all(cause: int, to: "list[tuple[IPv4Address, int]] | tuple[tuple[IPv4Address, int], ...]" = servers) -> None:
            for server, sport in to:
                try:
                    src = ns.source_for(route_output(ns, server), server)
                except SendError:
                    src = None
                send_udp(ns, src or IPv4Address(0), port, server, sport, struct.pack("!H", new_id) + client.query[2:],
                         by=f"{self.name} (forward to {server}#{sport})", caused_by=cause)

        sock.encap_rcv = relay
        world.schedule(FORWARD_TIMEOUT, close)
        send_all(tid, asked)
