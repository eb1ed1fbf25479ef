"""Sockets and the kernel's transport layer (TCP, UDP, ICMP) at the end of LOCAL_IN.

Kernel: net/ipv4/icmp.c (echo answered by the kernel; errors routed to the
socket that sent the quoted datagram), tcp_ipv4.c (a SYN to a closed port is
answered with RST, a listener answers SYN-ACK and accepts on the final ACK;
inet_connection_sock.c's request-sock timer retransmits the SYN-ACK), udp.c (a datagram to a closed port gets ICMP port unreachable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Callable

from simnet.addresses import IPProto
from simnet.netfilter.context import AddrType
from simnet.packet import NO_TCP_OPTIONS, Icmp, IcmpType, IPv4, Packet, Tcp, TcpFlags, TcpOptions, Udp, UnreachCode
from simnet.skb import Skb
from simnet.tcp_output import route_mss
from simnet.trace import Delivered, Disposition, Dropped

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.tcp_stream import Stream

EPHEMERAL = (32768, 60999)
TCP_TIMEOUT_INIT = 1.0
"""The first SYN and SYN-ACK retransmission timeout (include/net/tcp.h)."""
TCP_RTO_MAX = 120.0
TCP_MSS_DEFAULT = 1460
"""An Ethernet device's advertised MSS (MTU 1500 less 40); the route's decides (tcp_output.advertised_mss)."""

#: What an established connection's segments carry once timestamps were agreed (NOP NOP TS).
TCP_TS_OPTIONS = TcpOptions(timestamps=True)


def syn_options(ns: "NetNamespace", mss: int = TCP_MSS_DEFAULT) -> TcpOptions:
    """tcp_syn_options: MSS always (``mss``: the route's, :func:`simnet.tcp_output.advertised_mss`), then SACK-permitted, timestamps and window scale as this
    namespace's ``tcp_sack``, ``tcp_timestamps`` and ``tcp_window_scaling`` allow (all on by
    default: a 60-byte SYN on 6.18)."""
    on = ns.sysctls.get_int
    return TcpOptions(mss=mss, sack_perm=on("net.ipv4.tcp_sack") != 0,
                      timestamps=on("net.ipv4.tcp_timestamps") != 0,
                      wscale=7 if on("net.ipv4.tcp_window_scaling") else None)


def synack_options(ns: "NetNamespace", syn: TcpOptions, mss: int = TCP_MSS_DEFAULT) -> TcpOptions:
    """tcp_synack_options: MSS (the route back's), and each option the SYN offered that this
    listener's sysctls allow."""
    mine = syn_options(ns)
    return TcpOptions(mss=mss, sack_perm=syn.sack_perm and mine.sack_perm,
                      timestamps=syn.timestamps and mine.timestamps,
                      wscale=mine.wscale if syn.wscale is not None and mine.wscale is not None else None)


def established_options(synack: TcpOptions) -> TcpOptions:
    """tcp_established_options: timestamps on every segment once the handshake agreed on them."""
    return TCP_TS_OPTIONS if synack.timestamps else NO_TCP_OPTIONS


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
    reuseport: bool = False
    """SO_REUSEPORT (OpenBSD nc sets it): listeners that all set it share a port."""
    directory: str | None = None
    """``python3 -m http.server``: the directory it serves (a curl of a file there gets its bytes)."""
    encap_rcv: "Callable[[Skb, int], None] | None" = None
    """A tunnel's socket (VXLAN): its datagrams go to this handler, not to an application."""
    echo: bool = False
    """An echo service (``socat ... EXEC:cat``, ``ncat --exec /bin/cat``): every byte that arrives is
    written back to its sender."""
    peer: tuple[IPv4Address, int] | None = None
    """UDP without ``fork``/``-k``: socat and ncat connect() the socket to the first sender, which is
    then the only one it hears (another sender's datagram finds no socket: port unreachable)."""

    stream: "Callable[[tuple[IPv4Address, int, IPv4Address, int], bytes, int], bytes] | None" = None
    """A TCP server that reads requests and answers them (a DNS server over TCP): called with the
    connection (local address, port, remote address, port), the bytes that arrived and their trace;
    returns what it writes back. It closes when the peer does (FIN answered with FIN, as dnsmasq)."""

    def accepts(self, dst: IPv4Address, dport: int) -> bool:
        return self.open and self.port == dport and (self.addr is None or self.addr == dst)

    def hears(self, src: IPv4Address, sport: int) -> bool:
        """Whether a datagram from ``src:sport`` reaches it (a connected UDP socket hears only its peer)."""
        return self.peer is None or self.peer == (src, sport)


class SockState(StrEnum):
    """Where a probe's socket stands: a TCP connect goes NEW -> SYN_SENT -> ESTABLISHED, or ends
    RESET (an RST answered the SYN), ERROR (an ICMP error did) or CLOSED (an RST later); UDP and
    ICMP sockets stay NEW.  A ``StrEnum``: each compares and prints as its word."""

    NEW = "new"
    SYN_SENT = "syn-sent"
    ESTABLISHED = "established"
    RESET = "reset"
    ERROR = "error"
    CLOSED = "closed"


@dataclass(slots=True, eq=False)
class ClientSocket:
    """A probe's own socket: what it got back (replies, ICMP errors, RST)."""

    proto: str
    laddr: IPv4Address
    lport: int
    raddr: IPv4Address
    rport: int
    state: SockState = SockState.NEW
    replies: list[tuple[IPv4Address, Packet]] = field(default_factory=list)
    errors: list[tuple[int, int, IPv4Address]] = field(default_factory=list)
    isn: int = 0
    options: TcpOptions = NO_TCP_OPTIONS
    """tcp: what its segments carry after the SYN (timestamps, when the SYN-ACK agreed)."""
    pmtudisc: int = 1
    """IP_MTU_DISCOVER (:class:`simnet.pmtu.PmtuDisc`; want by default): with dont, ping_err
    keeps a fragmentation-needed from the socket."""
    frag_mtu: int | None = None
    """The MTU the last fragmentation-needed error carried (ping prints it)."""
    snd_nxt: int = 0
    """tcp: the next sequence number it sends (isn + 1 + bytes written)."""
    rcv_nxt: int = 0
    """tcp: the next sequence number it expects (what its ACKs acknowledge)."""
    received: list[tuple[str | None, IPv4Address, int, bytes]] = field(default_factory=list)
    """Data the application read: (namespace that sent it, source address and port as seen here, bytes)."""
    pending: bytes = b""
    """tcp: bytes written before the handshake completed (a TCP Fast Open connect without a cookie,
    as dnsmasq's upstream connections): they leave with the handshake's ACK, as PSH,ACK."""
    delack: bool = False
    """tcp: data that arrives is not ACKed at once; its ACK rides on this side's next segment (seen
    on 6.18 for dnsmasq's upstream connection: its FIN,ACK acknowledges the answer)."""
    read_closed: bool = False
    """udp: the application is gone (ncat -u exits at its input's end): a datagram for the socket
    finds none (port unreachable), while an ICMP error already queued was still read."""
    on_event: "Callable[[str, bytes, int], None] | None" = None
    """tcp: a server's own connection (not a probe's): told ``connected``, ``data`` (the bytes),
    ``reset`` and ``closed`` (the peer's FIN) with the segment's trace."""


@dataclass(slots=True, eq=False)
class TcpConn:
    """An accepted connection's sequence state (``struct tcp_sock``'s snd_nxt/rcv_nxt)."""

    listener: Listener
    snd_nxt: int
    rcv_nxt: int
    options: TcpOptions = NO_TCP_OPTIONS
    last_ack: bool = False
    """Both FINs sent (LAST_ACK): the peer's ACK closes it."""


@dataclass(slots=True, eq=False)
class RequestSock:
    """A half-open connection (``TCP_NEW_SYN_RECV``): a listener's answer to a SYN.

    The kernel keeps it on a timer (reqsk_timer_handler) that retransmits the SYN-ACK after
    1, 2, 4 ... seconds, ``tcp_synack_retries`` times, and drops it after the last timeout or
    as soon as a retransmission cannot be sent (netfilter dropped it in OUTPUT: EPERM).
    """

    listener: Listener
    laddr: IPv4Address
    lport: int
    raddr: IPv4Address
    rport: int
    rcv_isn: int
    snt_isn: int
    num_timeout: int = 0
    last_oow: float | None = None
    """When a retransmitted SYN was last answered (tcp_oow_rate_limited)."""
    tid: int | None = None
    """The trace of the SYN that opened it: retransmitted SYN-ACKs are caused by it."""
    generation: int = 0
    """Bumped whenever the timer is re-armed; a stale timer event is ignored."""
    syn_options: TcpOptions = NO_TCP_OPTIONS
    """The options the SYN offered: the SYN-ACK answers with those this host allows too."""
    advmss: int = TCP_MSS_DEFAULT
    """The MSS the SYN-ACK advertises: the route back to the client's (tcp_make_synack)."""

    def timeout(self) -> float:
        """reqsk_timeout: the initial timeout doubled per expiry, at most TCP_RTO_MAX."""
        return min(TCP_TIMEOUT_INIT * (1 << self.num_timeout), TCP_RTO_MAX)


class SocketTable:
    """A namespace's sockets (``ss -a``) and its kernel transport handlers."""

    def __init__(self, ns: "NetNamespace") -> None:
        self.ns = ns
        self.listeners: list[Listener] = []
        self.clients: dict[tuple[str, IPv4Address, int, IPv4Address, int], ClientSocket] = {}
        self.pings: dict[int, ClientSocket] = {}
        self.server_conns: dict[tuple[IPv4Address, int, IPv4Address, int], Listener] = {}
        """Accepted connections, by (local address, local port, remote address, remote port)."""
        self.requests: dict[tuple[IPv4Address, int, IPv4Address, int], RequestSock] = {}
        """Half-open connections (SYN received, SYN-ACK sent), by the same key."""
        self.conns: dict[tuple[IPv4Address, int, IPv4Address, int], TcpConn] = {}
        """Accepted connections' sequence state, by the same key."""
        self.accepted_syn: dict[tuple[IPv4Address, int, IPv4Address, int], TcpOptions] = {}
        """The SYN options of each accepted connection (its MSS decides the segments sent back)."""
        self.streams: dict[tuple[IPv4Address, int, IPv4Address, int], "Stream"] = {}
        """Sized transfers this namespace sends or receives (:mod:`simnet.tcp_stream`), by its own
        (local address, local port, remote address, remote port)."""
        self._seq = 0

    # -- applications ------------------------------------------------------------
    def listen(self, proto: str, port: int, addr: IPv4Address | None = None, *, keep: bool = True,
               job: int = 0, reuseport: bool = False) -> Listener:
        """Bind (and listen); EADDRINUSE unless every socket on the port set SO_REUSEPORT
        (inet_csk_bind_conflict). Of a reuseport group the first socket gets the connections
        (the kernel picks one by a hash of the 4-tuple: the probe's outcome is the same)."""
        for other in self.listeners:
            if other.open and other.proto == proto and other.port == port and (
                other.addr is None or addr is None or other.addr == addr
            ) and not (reuseport and other.reuseport):
                from simnet.errors import KernelError

                raise KernelError(98, "Address already in use")
        sock = Listener(proto=proto, port=port, addr=addr, keep=keep, job=job, reuseport=reuseport)
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
        world.seen_in[self.ns.name] = None
        return world.seen_seq

    # -- the kernel's transport layer --------------------------------------------
    def deliver(self, skb: Skb, tid: int) -> None:
        """ip_local_deliver_finish: hand the datagram to its protocol."""
        pkt = skb.packet
        if pkt.ip is not None and self.ns.addr_type(pkt.ip.dst) is AddrType.BROADCAST:
            self._broadcast(skb, tid)
            return
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

    def _broadcast(self, skb: Skb, tid: int) -> None:
        """A datagram to a broadcast address (the input route's RTCF_BROADCAST): TCP ignores it
        without a RST (tcp_v4_rcv, tcp_v4_conn_request), UDP gives it to a socket bound to the port
        but never answers port unreachable, ICMP drops echo requests under
        icmp_echo_ignore_broadcasts and every type but echo/timestamp/address (icmp_rcv)."""
        from simnet.datapath import SendError, route_output, send_ip

        pkt = skb.packet
        ip = pkt.ip
        assert ip is not None
        if isinstance(pkt.l4, Icmp) and pkt.l4.type == IcmpType.ECHO_REQUEST:
            self._record_ping_seen(skb)  # raw sockets see it first (raw_local_deliver)
        match pkt.l4:
            case Udp(dport=dport) as udp if any(lst.proto == "udp" and lst.accepts(ip.dst, dport)
                                                for lst in self.listeners):
                self._udp(skb, udp, tid)
            case Icmp(type=IcmpType.ECHO_REQUEST) as icmp if not self.ns.sysctls.get_int(
                    "net.ipv4.icmp_echo_ignore_broadcasts") and not self.ns.sysctls.get_int(
                    "net.ipv4.icmp_echo_ignore_all"):
                # icmp_reply answers from fib_compute_spec_dst: the source of the route back
                try:
                    src = self.ns.source_for(route_output(self.ns, ip.src), ip.src)
                except SendError:
                    src = None
                if src is None:
                    self._drop(tid, "broadcast echo request: no source address to answer from")
                    return
                self._done(tid, "kernel: icmp echo to a broadcast address (answers with echo reply)")
                reply = Packet(ip=IPv4(src=src, dst=ip.src, proto=IPProto.ICMP),
                               l4=Icmp(type=IcmpType.ECHO_REPLY, id=icmp.id, seq=icmp.seq), payload=pkt.payload)
                send_ip(self.ns, reply, self.ns.world.tracer.new(reply, self.ns.name, caused_by=tid))
            case _:
                self._drop(tid, f"ignored: {ip.dst} is a broadcast address (and no error answers a broadcast)")

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
            # raw sockets get their copy before icmp_rcv (raw_local_deliver): seen even if ignored
            self._record_ping_seen(skb)
            if self.ns.sysctls.get_int("net.ipv4.icmp_echo_ignore_all"):
                self._drop(tid, "net.ipv4.icmp_echo_ignore_all is set")
                return
            self._done(tid, "kernel: icmp echo (answers with echo reply)")
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
        if icmp.type == IcmpType.REDIRECT:
            from simnet.redirect import icmp_redirect

            self._done(tid, icmp_redirect(self.ns, skb, tid))
            return
        if icmp.is_error and icmp.quoted is not None and icmp.quoted.ip is not None:
            q, qip = icmp.quoted, icmp.quoted.ip
            if icmp.type == IcmpType.DEST_UNREACH and icmp.code == UnreachCode.FRAG_NEEDED:
                from simnet.pmtu import frag_needed

                ignored = frag_needed(self.ns, skb, tid)
                if ignored is not None:
                    self._drop(tid, ignored)
                    return
            stream = self.streams.get((qip.src, q.sport or 0, qip.dst, q.dport or 0)) \
                if isinstance(q.l4, Tcp) else None
            if stream is not None and icmp.code == UnreachCode.FRAG_NEEDED and icmp.type == IcmpType.DEST_UNREACH:
                # tcp_v4_err -> tcp_v4_mtu_reduced: the segments shrink to the learnt path MTU
                self._done(tid, f"tcp socket {qip.src}:{q.sport} (frag needed: path MTU {icmp.mtu})")
                stream.mtu_reduced()
                return
            sock = self._socket_for_quote(q)
            if sock is None:
                self._drop(tid, "ICMP error for no socket")
                return
            if icmp.type == IcmpType.DEST_UNREACH and icmp.code == UnreachCode.FRAG_NEEDED:
                if sock.proto == "tcp":
                    # tcp_v4_err: not an error, the connection shrinks its segments (tcp_v4_mtu_reduced)
                    self._done(tid, f"tcp socket {sock.laddr}:{sock.lport} (frag needed: path MTU {icmp.mtu})")
                    return
                if sock.proto != "tcp" and sock.pmtudisc == 0:
                    # ping_err: with IP_PMTUDISC_DONT the error only updates the route
                    self._done(tid, f"ping socket id {sock.lport} (frag needed: PMTU only, -M dont)")
                    return
                # icmp_unreach hands the socket the ICMP's MTU only with ip_no_pmtu_disc 0 (ping
                # prints "Frag needed and DF set (mtu = 0)" under 1, seen on 6.18)
                sock.frag_mtu = icmp.mtu if not self.ns.sysctls.get_int("net.ipv4.ip_no_pmtu_disc") else 0
            sock.errors.append((icmp.type, icmp.code, ip.src))
            if sock.proto == "tcp" and sock.state is SockState.SYN_SENT:
                sock.state = SockState.ERROR
            self._done(tid, f"{sock.proto} socket {sock.laddr}:{sock.lport} (error {icmp.type}/{icmp.code})")
            return
        self._drop(tid, f"ICMP type {icmp.type} not handled")

    def _record_ping_seen(self, skb: Skb) -> None:
        ip = skb.packet.ip
        assert ip is not None
        self.ns.world.last_ping_seen = Seen(self.ns.name, ip.src, None, ip.dst, None,
                                            self.next_seen())

    def owns_quote(self, q: Packet) -> bool:
        """Whether a TCP or UDP socket here sent the quoted datagram and keeps a route
        (tcp_v4_err, __udp4_lib_err): a client, an accepted connection, or a bound UDP socket."""
        assert q.ip is not None
        match q.l4:
            case Tcp(sport=sp, dport=dp):
                return ("tcp", q.ip.src, sp, q.ip.dst, dp) in self.clients or \
                    (q.ip.src, sp, q.ip.dst, dp) in self.server_conns
            case Udp(sport=sp, dport=dp):
                return ("udp", q.ip.src, sp, q.ip.dst, dp) in self.clients or any(
                    lst.proto == "udp" and lst.accepts(q.ip.src, sp) for lst in self.listeners)
        return False

    def _socket_for_quote(self, q: Packet) -> ClientSocket | None:
        assert q.ip is not None
        match q.l4:
            case Icmp(id=ident, type=IcmpType.ECHO_REQUEST):
                # ping_err / ping's own check: only an error quoting an echo *request* is ping's
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
        stream = self.streams.get((ip.dst, tcp.dport, ip.src, tcp.sport))
        if stream is not None and not tcp.flags & (TcpFlags.RST | TcpFlags.SYN):
            if (ip.dst, tcp.dport, ip.src, tcp.sport) == stream.recv_key and stream.receiver is self.ns:
                if skb.packet.payload:
                    self._done(tid, f"tcp connection {ip.dst}:{tcp.dport} (data: "
                                    f"{stream.received(tcp, skb.packet.payload, tid)})")
                    return
            elif tcp.flags & TcpFlags.ACK:
                stream.acked(tcp.ack)
                self._done(tid, f"tcp socket {ip.dst}:{tcp.dport} (ACK)")
                return
        client = self.clients.get(("tcp", ip.dst, tcp.dport, ip.src, tcp.sport))
        if client is not None:
            if tcp.flags & TcpFlags.RST:
                client.state = SockState.RESET if client.state is SockState.SYN_SENT else SockState.CLOSED
                self._done(tid, f"tcp socket {ip.dst}:{tcp.dport} (reset)")
                if client.on_event is not None:
                    client.on_event("reset", b"", tid)
                return
            if client.state is SockState.SYN_SENT and tcp.flags & TcpFlags.SYN and tcp.flags & TcpFlags.ACK:
                client.state = SockState.ESTABLISHED
                client.options = established_options(tcp.options)
                client.replies.append((ip.src, skb.packet))
                self._done(tid, f"tcp socket {ip.dst}:{tcp.dport} (connected)")
                ack = Packet(ip=IPv4(src=ip.dst, dst=ip.src, proto=IPProto.TCP),
                             l4=Tcp(sport=tcp.dport, dport=tcp.sport, flags=TcpFlags.ACK,
                                    seq=client.isn + 1, ack=tcp.seq + 1, options=client.options))
                client.snd_nxt = (client.isn + 1) & 0xFFFFFFFF
                client.rcv_nxt = (tcp.seq + 1) & 0xFFFFFFFF
                if client.pending:  # Fast Open data not taken with the SYN: sent with the ACK
                    data, client.pending = client.pending, b""
                    self.tcp_segment(ip.dst, tcp.dport, ip.src, tcp.sport, TcpFlags.PSH | TcpFlags.ACK,
                                     client.snd_nxt, client.rcv_nxt, client.options, data, tid, by="tcp write")
                    client.snd_nxt = (client.snd_nxt + len(data)) & 0xFFFFFFFF
                else:
                    atid = self.ns.world.tracer.new(ack, self.ns.name, caused_by=tid)
                    send_ip(self.ns, ack, atid)
                if client.on_event is not None:
                    client.on_event("connected", b"", tid)
                return
            if client.state in (SockState.ESTABLISHED, SockState.CLOSED) and tcp.flags & TcpFlags.FIN:
                # the peer's FIN after ours (a DNS server closing when the client did): the last ACK
                client.rcv_nxt = (tcp.seq + len(skb.packet.payload) + 1) & 0xFFFFFFFF
                client.state = SockState.CLOSED
                self._done(tid, f"tcp socket {ip.dst}:{tcp.dport} (peer closed: FIN)")
                self.tcp_segment(ip.dst, tcp.dport, ip.src, tcp.sport, TcpFlags.ACK, client.snd_nxt,
                                 client.rcv_nxt, client.options, b"", tid, by="tcp ack (last)")
                if client.on_event is not None:
                    client.on_event("closed", b"", tid)
                return
            if client.state is SockState.ESTABLISHED and skb.packet.payload:
                # data for the application; an immediate ACK (quickack at the start of a connection:
                # seen on 6.18, the echo's ACK leaves before the client reads it)
                data = skb.packet.payload
                client.rcv_nxt = (tcp.seq + len(data)) & 0xFFFFFFFF
                client.received.append((self.ns.world.tracer.origin(tid), ip.src, tcp.sport, data))
                self._done(tid, f"tcp socket {ip.dst}:{tcp.dport} ({len(data)} bytes)")
                if not client.delack:
                    self.tcp_segment(ip.dst, tcp.dport, ip.src, tcp.sport, TcpFlags.ACK, client.snd_nxt,
                                     client.rcv_nxt, client.options, b"", tid, by="tcp ack")
                if client.on_event is not None:
                    client.on_event("data", data, tid)
                return
            self._done(tid, f"tcp socket {ip.dst}:{tcp.dport}")
            return
        key = (ip.dst, tcp.dport, ip.src, tcp.sport)
        req = self.requests.get(key)
        if req is not None and not req.listener.open:
            # tcp_v4_rcv: the listener is gone; drop the request and look again (no socket: RST)
            del self.requests[key]
            req = None
        if req is not None:
            if self._tcp_check_req(req, tcp, tid, data=bool(skb.packet.payload)):
                return
        conn = self.server_conns.get(key)
        if conn is not None:
            if tcp.flags & TcpFlags.RST:
                del self.server_conns[key]
                self.conns.pop(key, None)
                self._done(tid, f"tcp connection {ip.dst}:{tcp.dport} (reset by peer)")
                return
            st = self.conns.get(key)
            data = skb.packet.payload
            if st is not None and st.last_ack:
                # LAST_ACK: the peer's ACK of this side's FIN ends the connection
                del self.server_conns[key]
                self.conns.pop(key, None)
                self._done(tid, f"tcp connection {ip.dst}:{tcp.dport} (last ACK: closed)")
                return
            if st is not None and (conn.stream is not None or conn.echo) and tcp.flags & TcpFlags.FIN:
                # the client closed: the server reads EOF and closes too; its FIN acknowledges the
                # client's (one FIN,ACK, no separate ACK: seen on 6.18 for dnsmasq 2.90, and for
                # socat TCP-LISTEN,fork EXEC:cat when ncat ended its input)
                st.rcv_nxt = (tcp.seq + len(data) + 1) & 0xFFFFFFFF
                st.last_ack = True
                self._done(tid, f"tcp connection {ip.dst}:{tcp.dport} (peer closed: FIN, closes too)")
                self.tcp_segment(ip.dst, tcp.dport, ip.src, tcp.sport, TcpFlags.FIN | TcpFlags.ACK, st.snd_nxt,
                                 st.rcv_nxt, st.options, b"", tid, by="tcp close (FIN)")
                st.snd_nxt = (st.snd_nxt + 1) & 0xFFFFFFFF
                return
            if st is not None and data:
                st.rcv_nxt = (tcp.seq + len(data)) & 0xFFFFFFFF
                self._done(tid, f"tcp connection {ip.dst}:{tcp.dport} ({len(data)} bytes"
                                + (", echoed)" if conn.echo else ")"))
                # the ACK leaves at once (quickack), the application's answer after it (seen on 6.18)
                self.tcp_segment(ip.dst, tcp.dport, ip.src, tcp.sport, TcpFlags.ACK, st.snd_nxt, st.rcv_nxt,
                                 st.options, b"", tid, by="tcp ack")
                answer = conn.stream(key, data, tid) if conn.stream is not None else b""
                if answer:
                    self.tcp_segment(ip.dst, tcp.dport, ip.src, tcp.sport, TcpFlags.PSH | TcpFlags.ACK, st.snd_nxt,
                                     st.rcv_nxt, st.options, answer, tid, by="server (answer)")
                    st.snd_nxt = (st.snd_nxt + len(answer)) & 0xFFFFFFFF
                if conn.echo:
                    self.tcp_segment(ip.dst, tcp.dport, ip.src, tcp.sport, TcpFlags.PSH | TcpFlags.ACK, st.snd_nxt,
                                     st.rcv_nxt, st.options, data, tid, by="echo service (writes back what it read)")
                    st.snd_nxt = (st.snd_nxt + len(data)) & 0xFFFFFFFF
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
            req = RequestSock(listener=listener, laddr=ip.dst, lport=tcp.dport, raddr=ip.src, rport=tcp.sport,
                              rcv_isn=tcp.seq, snt_isn=self.ns.world.rng.getrandbits(32), tid=tid,
                              syn_options=tcp.options, advmss=route_mss(self.ns, ip.src, ip.dst))
            self.requests[key] = req
            # tcp_conn_request: the request is hashed and its timer armed before the SYN-ACK is
            # sent; an error sending this first SYN-ACK is ignored (the timer retries)
            self._arm(req, TCP_TIMEOUT_INIT)
            self._send_synack(req, tid)
            return
        self._done(tid, f"kernel: no tcp socket on {ip.dst}:{tcp.dport} (answers RST)")
        send_tcp_reset(self.ns, skb, tid, reason=f"port {tcp.dport} closed", attach_ct=False)

    # -- request socks (tcp_minisocks.c, inet_connection_sock.c) ------------------
    def _tcp_check_req(self, req: RequestSock, tcp: Tcp, tid: int, *, data: bool = False) -> bool:
        """tcp_check_req: a segment for a half-open connection; False to fall through."""
        key = (req.laddr, req.lport, req.raddr, req.rport)
        world = self.ns.world
        if tcp.flags == TcpFlags.SYN and tcp.seq == req.rcv_isn:
            # a retransmitted SYN: answer it again (at most once per tcp_invalid_ratelimit) and,
            # when that SYN-ACK left, push the timer out like a fast retransmit would
            limit = self.ns.sysctls.get_int("net.ipv4.tcp_invalid_ratelimit") / 1000
            if req.last_oow is not None and 0 <= world.now - req.last_oow < limit:
                self._drop(tid, "retransmitted SYN (SYN-ACK rate limited)")
                return True
            req.last_oow = world.now
            self._done(tid, f"tcp {req.laddr}:{req.lport} request sock (retransmitted SYN: SYN-ACK again)")
            if self._send_synack(req, tid) is None:
                self._arm(req, req.timeout())
            return True
        if tcp.flags & (TcpFlags.RST | TcpFlags.SYN):
            # embryonic reset: the request is dropped; a SYN (new sequence) is answered with RST
            del self.requests[key]
            if tcp.flags & TcpFlags.RST:
                self._done(tid, f"tcp {req.laddr}:{req.lport} request sock (reset by peer)")
                return True
            return False
        if not tcp.flags & TcpFlags.ACK:
            self._drop(tid, "segment without ACK for a half-open connection")
            return True
        del self.requests[key]
        conn = req.listener
        conn.seen.append(Seen(self.ns.name, req.raddr, req.rport, req.laddr, req.lport, self.next_seen()))
        self.server_conns[key] = conn
        self.conns[key] = TcpConn(conn, (req.snt_isn + 1) & 0xFFFFFFFF, (req.rcv_isn + 1) & 0xFFFFFFFF,
                                  established_options(synack_options(self.ns, req.syn_options)))
        self.accepted_syn[key] = req.syn_options  # the MSS the client offered, as it arrived
        if not conn.keep:
            conn.open = False
        if data:
            # the ACK that completes the handshake carries data (a Fast Open client's first
            # write): the connection is accepted and the data read as on any established one
            return False
        self._done(tid, f"tcp {conn.addr or '0.0.0.0'}:{conn.port} (accepted {req.raddr}:{req.rport})")
        return True

    def write(self, key: tuple[IPv4Address, int, IPv4Address, int], data: bytes, caused_by: int | None, *,
              by: str) -> bool:
        """An accepted connection's application writes ``data`` later (a DNS server relaying an
        upstream's answer): one PSH,ACK segment; False when the connection is gone."""
        st = self.conns.get(key)
        if st is None or st.last_ack:
            return False
        local, lport, remote, rport = key
        self.tcp_segment(local, lport, remote, rport, TcpFlags.PSH | TcpFlags.ACK, st.snd_nxt, st.rcv_nxt,
                         st.options, data, caused_by, by=by)
        st.snd_nxt = (st.snd_nxt + len(data)) & 0xFFFFFFFF
        return True

    def tcp_segment(self, src: IPv4Address, sport: int, dst: IPv4Address, dport: int, flags: TcpFlags, seq: int,
                    ack: int, options: TcpOptions, payload: bytes, caused_by: int | None, *, by: str) -> str | None:
        """Send one segment of an established connection (traced, caused by ``caused_by``)."""
        from simnet.datapath import send_ip
        from simnet.trace import Sent

        pkt = Packet(ip=IPv4(src=src, dst=dst, proto=IPProto.TCP),
                     l4=Tcp(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, options=options),
                     payload=payload)
        tid = self.ns.world.tracer.new(pkt, self.ns.name, caused_by=caused_by)
        self.ns.world.tracer.step(tid, Sent(netns=self.ns.name, packet=pkt, by=by))
        return send_ip(self.ns, pkt, tid)

    def _send_synack(self, req: RequestSock, tid: int | None) -> str | None:
        """Send the request's SYN-ACK (always the same sequence number); an errno name on failure.

        ``tid`` is the segment that asked for it; None for a retransmission by the timer.
        """
        from simnet.datapath import send_ip

        synack = Packet(ip=IPv4(src=req.laddr, dst=req.raddr, proto=IPProto.TCP),
                        l4=Tcp(sport=req.lport, dport=req.rport, flags=TcpFlags.SYN | TcpFlags.ACK,
                               seq=req.snt_isn, ack=req.rcv_isn + 1,
                               options=synack_options(self.ns, req.syn_options, req.advmss)))
        stid = self.ns.world.tracer.new(synack, self.ns.name, caused_by=req.tid if tid is None else tid)
        if tid is None:
            from simnet.trace import Sent

            self.ns.world.tracer.step(stid, Sent(netns=self.ns.name, packet=synack,
                                                 by=f"tcp request sock timer (retransmission {req.num_timeout + 1})"))
        return send_ip(self.ns, synack, stid)

    def _arm(self, req: RequestSock, delay: float) -> None:
        req.generation += 1
        self.ns.world.schedule(delay, self._reqsk_timer, req, req.generation)

    def _reqsk_timer(self, req: RequestSock, generation: int) -> None:
        """reqsk_timer_handler: retransmit the SYN-ACK, or give the half-open connection up."""
        key = (req.laddr, req.lport, req.raddr, req.rport)
        if generation != req.generation or self.requests.get(key) is not req:
            return
        retries = self.ns.sysctls.get_int("net.ipv4.tcp_synack_retries")
        if req.listener.open and req.num_timeout < retries and self._send_synack(req, None) is None:
            req.num_timeout += 1
            self._arm(req, req.timeout())
            return
        # expired, the listener closed, or the retransmission could not be sent
        del self.requests[key]

    def _udp_echo(self, listener: Listener, skb: Skb, udp: Udp, tid: int) -> None:
        """An echo service writes the datagram back from its socket: bound to the listener's address,
        or (bound to 0.0.0.0 and connected to the sender, as socat and ncat do) from the source the
        route back chooses (ip4_datagram_connect), which need not be the address the datagram reached."""
        from simnet.datapath import SendError, route_output, send_ip
        from simnet.trace import Sent

        ip = skb.packet.ip
        assert ip is not None
        src = listener.addr
        if src is None:
            try:
                src = self.ns.source_for(route_output(self.ns, ip.src), ip.src)
            except SendError:
                src = None
        pkt = Packet(ip=IPv4(src=src or ip.dst, dst=ip.src, proto=IPProto.UDP),
                     l4=Udp(sport=listener.port, dport=udp.sport), payload=skb.packet.payload)
        rtid = self.ns.world.tracer.new(pkt, self.ns.name, caused_by=tid)
        self.ns.world.tracer.step(rtid, Sent(netns=self.ns.name, packet=pkt, by="echo service (writes back "
                                                                                  "what it read)"))
        send_ip(self.ns, pkt, rtid)

    def _udp(self, skb: Skb, udp: Udp, tid: int) -> None:
        from simnet.datapath import icmp_send

        ip = skb.packet.ip
        assert ip is not None
        client = self.clients.get(("udp", ip.dst, udp.dport, ip.src, udp.sport))
        if client is not None and client.read_closed:
            client = None
        if client is not None:
            client.replies.append((ip.src, skb.packet))
            if skb.packet.payload:
                client.received.append((self.ns.world.tracer.origin(tid), ip.src, udp.sport, skb.packet.payload))
            self._done(tid, f"udp socket {ip.dst}:{udp.dport}")
            return
        listener = next((lst for lst in self.listeners if lst.proto == "udp" and lst.accepts(ip.dst, udp.dport)
                         and lst.hears(ip.src, udp.sport)), None)
        if listener is not None and listener.encap_rcv is not None:
            # udp_queue_rcv_one_skb: an encapsulation socket's datagrams go to its encap_rcv
            listener.encap_rcv(skb, tid)
            return
        if listener is not None:
            listener.seen.append(Seen(self.ns.name, ip.src, udp.sport, ip.dst, udp.dport, self.next_seen()))
            if not listener.keep:
                listener.peer = (ip.src, udp.sport)
            self._done(tid, f"udp {listener.addr or '0.0.0.0'}:{listener.port} (from {ip.src}:{udp.sport})"
                       + (" echoed" if listener.echo else ""))
            if listener.echo:
                self._udp_echo(listener, skb, udp, tid)
            return
        self._done(tid, f"kernel: no udp socket on {ip.dst}:{udp.dport} (answers ICMP port unreachable)")
        # __udp4_lib_rcv resets the datagram's conntrack reference (nf_reset_ct) before icmp_send:
        # the error carries no entry, conntrack looks it up in OUTPUT (in the error's own zone)
        icmp_send(self.ns, skb.evolve(ct=None, ctinfo=None), IcmpType.DEST_UNREACH, UnreachCode.PORT, tid,
                  reason=f"udp port {udp.dport} closed")
