"""Sockets and the kernel's transport layer (TCP, UDP, ICMP) at the end of LOCAL_IN.

Kernel: net/ipv4/icmp.c (echo answered by the kernel; errors routed to the
socket that sent the quoted datagram), tcp_ipv4.c (a SYN to a closed port is
answered with RST, a listener answers SYN-ACK and accepts on the final ACK),
udp.c (a datagram to a closed port gets ICMP port unreachable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from simnet.addresses import IPProto
from simnet.packet import Icmp, IcmpType, IPv4, Packet, Tcp, TcpFlags, Udp, UnreachCode
from simnet.skb import Skb
from simnet.trace import Delivered, Disposition, Dropped

if TYPE_CHECKING:
    from simnet.netns import NetNamespace

EPHEMERAL = (32768, 60999)


@dataclass(frozen=True, slots=True)
class Seen:
    """What an application saw when it accepted a connection or datagram."""

    ns: str
    src: IPv4Address
    sport: int | None
    dst: IPv4Address
    dport: int | None
    seq: int


@dataclass(slots=True, eq=False)
class Listener:
    """``nc -l``, ``python3 -m http.server``: a listening TCP or bound UDP socket."""

    proto: str
    port: int
    addr: IPv4Address | None = None
    keep: bool = True
    """``nc -k``: keep listening after the first connection."""
    seen: list[Seen] = field(default_factory=list)
    open: bool = True
    job: int = 0

    def accepts(self, dst: IPv4Address, dport: int) -> bool:
        return self.open and self.port == dport and (self.addr is None or self.addr == dst)


@dataclass(slots=True, eq=False)
class ClientSocket:
    """A probe's own socket: what it got back (replies, ICMP errors, RST)."""

    proto: str
    laddr: IPv4Address
    lport: int
    raddr: IPv4Address
    rport: int
    state: str = "new"
    """tcp: syn-sent, established, reset, error; udp/icmp: open."""
    replies: list[tuple[IPv4Address, Packet]] = field(default_factory=list)
    errors: list[tuple[int, int, IPv4Address]] = field(default_factory=list)
    isn: int = 0


class SocketTable:
    """A namespace's sockets (``ss -a``) and its kernel transport handlers."""

    def __init__(self, ns: "NetNamespace") -> None:
        self.ns = ns
        self.listeners: list[Listener] = []
        self.clients: dict[tuple[str, IPv4Address, int, IPv4Address, int], ClientSocket] = {}
        self.pings: dict[int, ClientSocket] = {}
        self.server_conns: dict[tuple[IPv4Address, int, IPv4Address, int], Listener] = {}
        self._seq = 0

    # -- applications ------------------------------------------------------------
    def listen(self, proto: str, port: int, addr: IPv4Address | None = None, *, keep: bool = True,
               job: int = 0) -> Listener:
        for other in self.listeners:
            if other.open and other.proto == proto and other.port == port and (
                other.addr is None or addr is None or other.addr == addr
            ):
                from simnet.errors import KernelError

                raise KernelError(98, "Address already in use")
        sock = Listener(proto=proto, port=port, addr=addr, keep=keep, job=job)
        self.listeners.append(sock)
        return sock

    def ephemeral_port(self, proto: str) -> int:
        used = {c.lport for c in self.clients.values() if c.proto == proto}
        used |= {lst.port for lst in self.listeners if lst.proto == proto and lst.open}
        rng = self.ns.world.rng
        while True:
            port = rng.randint(*EPHEMERAL)
            if port not in used:
                return port

    def next_seen(self) -> int:
        """A world-wide sequence number, so probes can tell new arrivals from old ones."""
        world = self.ns.world
        world.seen_seq = getattr(world, "seen_seq", 0) + 1
        return world.seen_seq

    # -- the kernel's transport layer --------------------------------------------
    def deliver(self, skb: Skb, tid: int) -> None:
        """ip_local_deliver_finish: hand the datagram to its protocol."""
        pkt = skb.packet
        match pkt.l4:
            case Icmp() as icmp:
                self._icmp(skb, icmp, tid)
            case Tcp() as tcp:
                self._tcp(skb, tcp, tid)
            case Udp() as udp:
                self._udp(skb, udp, tid)
            case _:
                from simnet.datapath import icmp_send

                self._drop(tid, "no handler for this protocol")
                icmp_send(self.ns, skb, IcmpType.DEST_UNREACH, UnreachCode.PROTO, tid,
                          reason="protocol unreachable")

    def _done(self, tid: int, to: str) -> None:
        self.ns.world.tracer.step(tid, Delivered(netns=self.ns.name, to=to))
        self.ns.world.tracer.end(tid, Disposition.DELIVERED)

    def _drop(self, tid: int, reason: str) -> None:
        self.ns.world.tracer.step(tid, Dropped(netns=self.ns.name, reason=reason,
                                               disposition=Disposition.DROPPED))
        self.ns.world.tracer.end(tid, Disposition.DROPPED)

    def _icmp(self, skb: Skb, icmp: Icmp, tid: int) -> None:
        from simnet.datapath import send_ip

        ip = skb.packet.ip
        assert ip is not None
        if icmp.type == IcmpType.ECHO_REQUEST:
            if self.ns.sysctls.get_int("net.ipv4.icmp_echo_ignore_all"):
                self._drop(tid, "net.ipv4.icmp_echo_ignore_all is set")
                return
            self._done(tid, "kernel: icmp echo (answers with echo reply)")
            self._record_ping_seen(skb)
            reply = Packet(ip=IPv4(src=ip.dst, dst=ip.src, proto=IPProto.ICMP),
                           l4=Icmp(type=IcmpType.ECHO_REPLY, id=icmp.id, seq=icmp.seq), payload=skb.packet.payload)
            rtid = self.ns.world.tracer.new(reply, self.ns.name, caused_by=tid)
            send_ip(self.ns, reply, rtid)
            return
        if icmp.type == IcmpType.ECHO_REPLY:
            sock = self.pings.get(icmp.id)
            if sock is None:
                self._drop(tid, f"no ping socket with id {icmp.id}")
                return
            sock.replies.append((ip.src, skb.packet))
            self._done(tid, f"ping socket id {icmp.id}")
            return
        if icmp.is_error and icmp.quoted is not None and icmp.quoted.ip is not None:
            q = icmp.quoted
            sock = self._socket_for_quote(q)
            if sock is None:
                self._drop(tid, "ICMP error for no socket")
                return
            sock.errors.append((icmp.type, icmp.code, ip.src))
            if sock.proto == "tcp" and sock.state == "syn-sent":
                sock.state = "error"
            self._done(tid, f"{sock.proto} socket {sock.laddr}:{sock.lport} (error {icmp.type}/{icmp.code})")
            return
        self._drop(tid, f"ICMP type {icmp.type} not handled")

    def _record_ping_seen(self, skb: Skb) -> None:
        ip = skb.packet.ip
        assert ip is not None
        self.ns.world.last_ping_seen = Seen(self.ns.name, ip.src, None, ip.dst, None,  # type: ignore[attr-defined]
                                            self.next_seen())

    def _socket_for_quote(self, q: Packet) -> ClientSocket | None:
        assert q.ip is not None
        match q.l4:
            case Icmp(id=ident):
                return self.pings.get(ident)
            case Tcp(sport=sp, dport=dp):
                return self.clients.get(("tcp", q.ip.src, sp, q.ip.dst, dp))
            case Udp(sport=sp, dport=dp):
                return self.clients.get(("udp", q.ip.src, sp, q.ip.dst, dp))
        return None

    def _tcp(self, skb: Skb, tcp: Tcp, tid: int) -> None:
        from simnet.datapath import send_ip, send_tcp_reset

        ip = skb.packet.ip
        assert ip is not None
        client = self.clients.get(("tcp", ip.dst, tcp.dport, ip.src, tcp.sport))
        if client is not None:
            if tcp.flags & TcpFlags.RST:
                client.state = "reset" if client.state == "syn-sent" else "closed"
                self._done(tid, f"tcp socket {ip.dst}:{tcp.dport} (reset)")
                return
            if client.state == "syn-sent" and tcp.flags & TcpFlags.SYN and tcp.flags & TcpFlags.ACK:
                client.state = "established"
                client.replies.append((ip.src, skb.packet))
                self._done(tid, f"tcp socket {ip.dst}:{tcp.dport} (connected)")
                ack = Packet(ip=IPv4(src=ip.dst, dst=ip.src, proto=IPProto.TCP),
                             l4=Tcp(sport=tcp.dport, dport=tcp.sport, flags=TcpFlags.ACK,
                                    seq=client.isn + 1, ack=tcp.seq + 1))
                atid = self.ns.world.tracer.new(ack, self.ns.name, caused_by=tid)
                send_ip(self.ns, ack, atid)
                return
            self._done(tid, f"tcp socket {ip.dst}:{tcp.dport}")
            return
        key = (ip.dst, tcp.dport, ip.src, tcp.sport)
        conn = self.server_conns.get(key)
        if conn is not None:
            if tcp.flags & TcpFlags.RST:
                del self.server_conns[key]
                self._done(tid, f"tcp connection {ip.dst}:{tcp.dport} (reset by peer)")
                return
            if tcp.flags & TcpFlags.ACK and not tcp.flags & TcpFlags.SYN:
                conn.seen.append(Seen(self.ns.name, ip.src, tcp.sport, ip.dst, tcp.dport, self.next_seen()))
                self.server_conns[key] = conn
                if not conn.keep:
                    conn.open = False
                self._done(tid, f"tcp {conn.addr or '0.0.0.0'}:{conn.port} (accepted {ip.src}:{tcp.sport})")
                return
            self._done(tid, f"tcp connection {ip.dst}:{tcp.dport}")
            return
        if tcp.flags & TcpFlags.RST:
            self._drop(tid, "RST for no connection")
            return
        listener = next((lst for lst in self.listeners if lst.proto == "tcp" and lst.accepts(ip.dst, tcp.dport)),
                        None)
        if listener is not None and tcp.flags & TcpFlags.SYN and not tcp.flags & TcpFlags.ACK:
            self._done(tid, f"tcp {listener.addr or '0.0.0.0'}:{listener.port} listen (answers SYN-ACK)")
            self.server_conns[key] = listener
            isn = self.ns.world.rng.getrandbits(32)
            synack = Packet(ip=IPv4(src=ip.dst, dst=ip.src, proto=IPProto.TCP),
                            l4=Tcp(sport=tcp.dport, dport=tcp.sport, flags=TcpFlags.SYN | TcpFlags.ACK,
                                   seq=isn, ack=tcp.seq + 1))
            stid = self.ns.world.tracer.new(synack, self.ns.name, caused_by=tid)
            send_ip(self.ns, synack, stid)
            return
        self._done(tid, f"kernel: no tcp socket on {ip.dst}:{tcp.dport} (answers RST)")
        send_tcp_reset(self.ns, skb, tid, reason=f"port {tcp.dport} closed", attach_ct=False)

    def _udp(self, skb: Skb, udp: Udp, tid: int) -> None:
        from simnet.datapath import icmp_send

        ip = skb.packet.ip
        assert ip is not None
        client = self.clients.get(("udp", ip.dst, udp.dport, ip.src, udp.sport))
        if client is not None:
            client.replies.append((ip.src, skb.packet))
            self._done(tid, f"udp socket {ip.dst}:{udp.dport}")
            return
        listener = next((lst for lst in self.listeners if lst.proto == "udp" and lst.accepts(ip.dst, udp.dport)),
                        None)
        if listener is not None:
            listener.seen.append(Seen(self.ns.name, ip.src, udp.sport, ip.dst, udp.dport, self.next_seen()))
            self._done(tid, f"udp {listener.addr or '0.0.0.0'}:{listener.port} (from {ip.src}:{udp.sport})")
            return
        self._done(tid, f"kernel: no udp socket on {ip.dst}:{udp.dport} (answers ICMP port unreachable)")
        icmp_send(self.ns, skb, IcmpType.DEST_UNREACH, UnreachCode.PORT, tid, reason=f"udp port {udp.dport} closed")
