"""Probes: ping, a TCP connect and a UDP send, the way the tools do them.

Each probe sends real simulated packets through the world, runs the clock
until the tool would give up, and reports what the application saw: the
outcome, the ICMP error and who sent it, a local errno, what the receiving
application saw, and the traces of every packet involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Callable

from simnet.addresses import IPProto
from simnet.packet import Icmp, IcmpType, IPv4, Packet, Tcp, TcpFlags, Udp, UnreachCode
from simnet.socket import TCP_MSS_DEFAULT, ClientSocket, Seen, SockState, syn_options
from simnet.tcp_output import route_mss
from simnet.trace import Sent, Trace

if TYPE_CHECKING:
    from simnet.netns import NetNamespace
    from simnet.tcp_stream import Stream, TransferReport
    from simnet.pmtu import PmtuDisc
    from simnet.world import World

MAX_TIMEOUT = 5.0
TCP_RTO_INIT = 1.0

ERRNO_OF_UNREACH = {
    UnreachCode.NET: "ENETUNREACH", UnreachCode.HOST: "EHOSTUNREACH", UnreachCode.PROTO: "ENOPROTOOPT",
    UnreachCode.PORT: "ECONNREFUSED", UnreachCode.FRAG_NEEDED: "EMSGSIZE", UnreachCode.NET_UNKNOWN: "ENETUNREACH",
    UnreachCode.HOST_UNKNOWN: "EHOSTDOWN", UnreachCode.NET_PROHIBITED: "ENETUNREACH",
    UnreachCode.HOST_PROHIBITED: "EHOSTUNREACH", UnreachCode.ADMIN_PROHIBITED: "EHOSTUNREACH",
}
"""icmp_err_convert[] (net/ipv4/icmp.c): the errno a socket gets for each unreachable code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IcmpReport:
    type: int
    code: int
    src: IPv4Address
    mtu: int | None = None
    """Fragmentation needed (3/4): the next hop's MTU the error carried."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": int(self.type), "code": int(self.code), "from": str(self.src)}
        if self.mtu is not None:
            out["mtu"] = self.mtu
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """What the client read back (``nc`` prints it): who sent it, and the address and port the
    client saw it come from (after any NAT on the way back)."""

    ns: str | None
    """The namespace that sent the answer."""
    src: IPv4Address
    sport: int
    data: bytes

    @staticmethod
    def of(received: list[tuple[str | None, IPv4Address, int, bytes]]) -> "Reply | None":
        """Everything a socket read, attributed to the first sender."""
        if not received:
            return None
        ns, src, sport, _ = received[0]
        return Reply(ns=ns, src=src, sport=sport, data=b"".join(d for *_, d in received))

    def to_json(self) -> dict[str, Any]:
        return {"ns": self.ns, "src": str(self.src), "sport": self.sport, "bytes": len(self.data),
                "data": self.data.decode("utf-8", "replace")}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What one probe observed."""

    proto: str
    netns: str
    dst: IPv4Address
    dport: int | None
    outcome: str
    """reply | unreachable | ttl-exceeded | timeout | connected | refused | delivered | lost | error"""
    icmp: IcmpReport | None = None
    errno: str | None = None
    received: Seen | None = None
    traces: tuple[Trace, ...] = ()
    ping: "PingStats | None" = None
    """ping's summary (transmitted, received, errors) for a ping probe."""
    reply: Reply | None = None
    """What nc read back from a service that answered (an echo service), None if nothing."""
    transfer: "TransferReport | None" = None
    """A sized transfer's bytes offered and received (``head -c N /dev/zero | nc``, curl of a file)."""

    @property
    def ok(self) -> bool:
        return self.outcome in ("reply", "connected", "delivered")

    def to_json(self, *, traces: bool = True) -> dict[str, Any]:
        """The probe as JSON; ``traces=False`` leaves ``trace`` empty (for a reader that needs none)."""
        return {
            "from": self.netns, "proto": self.proto, "dst": str(self.dst), "dport": self.dport,
            "outcome": self.outcome, "icmp": self.icmp.to_json() if self.icmp else None, "errno": self.errno,
            "received": None if self.received is None else {
                "ns": self.received.ns, "src": str(self.received.src), "sport": self.received.sport},
            "reply": None if self.reply is None else self.reply.to_json(),
            "trace": [t.to_json() for t in self.traces] if traces else [],
            **({"ping": self.ping.to_json()} if self.ping is not None else {}),
            **({"transfer": self.transfer.to_json()} if self.transfer is not None else {}),
        }

    def __rich__(self) -> Any:
        from simnet.render import probe_panel

        return probe_panel(self)


def socket_errno(report: IcmpReport) -> str:
    """The errno an ICMP error gives the socket (icmp_err_convert; time exceeded: EHOSTUNREACH)."""
    if report.type == IcmpType.DEST_UNREACH and report.code in set(UnreachCode):
        return ERRNO_OF_UNREACH.get(UnreachCode(report.code), "EHOSTUNREACH")
    return "EHOSTUNREACH"


def _bounded(timeout: float) -> float:
    return max(0.001, min(timeout, MAX_TIMEOUT))


def _source(ns: "NetNamespace", dst: IPv4Address, src: IPv4Address | None, oif: str | None = None) -> IPv4Address | None:
    from simnet.datapath import SendError, route_output

    if src is not None:
        return src
    try:
        route = route_output(ns, dst, oif=oif)
    except SendError:
        return None
    return ns.source_for(route, dst)


def _seen_since(world: "World", before: int) -> list[Seen]:
    """What applications saw after sequence number ``before`` (namespace, listener, arrival
    order): nothing to scan when nothing was seen, else only each listener's newest arrivals."""
    if world.seen_seq == before:
        return []
    out: list[Seen] = []
    where = world.seen_in  # where something arrived since the probe began (it cleared it)
    spaces = [world.namespaces[n] for n in where if n in world.namespaces] if len(where) == 1 \
        else world.namespaces.values()  # several: in the world's order, as ever
    for ns in spaces:
        for lst in ns.sockets.listeners:
            new: list[Seen] = []
            for s in reversed(lst.seen):
                if s.seq <= before:
                    break
                new.append(s)
            out.extend(reversed(new))
    return out


def _collect(world: "World", first_tid: int) -> tuple[Trace, ...]:
    return tuple(world.tracer.trace(t) for t in world.tracer.ids_since(first_tid))


def _error_outcome(errors: list[tuple[int, int, IPv4Address]], *, ping: bool = True) -> tuple[str, IcmpReport]:
    """The outcome an ICMP error gives: ping prints "Time to live exceeded" apart, while nc
    reports a time-exceeded like an unreachable ("No route to host": EHOSTUNREACH)."""
    type_, code, src = errors[0]
    report = IcmpReport(type=type_, code=code, src=src)
    if type_ == IcmpType.TIME_EXCEEDED and ping:
        return "ttl-exceeded", report
    return "unreachable", report


KEPT_ECHOES = 10
"""A long ping keeps the traces of its first echoes and of what they caused (what a user reads
above the summary); a ping of up to this many echoes keeps them all."""

_SETTLED = 60.0
"""Seconds after which an echo's packets are certainly done (ARP gives up after 3 s)."""

_UNSETTLED = 128
"""The most echoes past the first few whose traces a ping holds while they may be in flight: a
fast ping (``-i 0.002``) forgets older ones sooner than :data:`_SETTLED`, so memory stays bounded
(a packet still in flight then just records nothing)."""


@dataclass(frozen=True, slots=True)
class PingReply:
    """One reply line as ping prints it (``64 bytes from 10.0.0.2: icmp_seq=1 ttl=64``; simnet
    models no latency, so no ``time=``)."""

    seq: int
    src: IPv4Address
    ttl: int
    bytes: int

    def __str__(self) -> str:
        return f"{self.bytes} bytes from {self.src}: icmp_seq={self.seq} ttl={self.ttl}"

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "from": str(self.src), "ttl": self.ttl, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class PingStats:
    """ping's summary line: ``N packets transmitted, M received, +E errors, X% packet loss``,
    and the first :data:`KEPT_ECHOES` reply lines (what a user reads of a long ping)."""

    transmitted: int
    received: int
    errors: int
    size: int = 56
    """``-s``: data bytes per request."""
    mtu: int | None = None
    """A local EMSGSIZE: the MTU ping names ("ping: local error: message too long, mtu=N")."""
    replies: tuple[PingReply, ...] = ()

    @property
    def loss(self) -> int:
        """The loss percentage as ping prints it (rounded down)."""
        return (self.transmitted - self.received) * 100 // self.transmitted if self.transmitted else 0

    def __str__(self) -> str:
        errors = f", +{self.errors} errors" if self.errors else ""
        return (f"{self.transmitted} packets transmitted, {self.received} received{errors}, "
                f"{self.loss}% packet loss")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"transmitted": self.transmitted, "received": self.received, "errors": self.errors,
                               "loss": self.loss, "size": self.size}
        if self.mtu is not None:
            out["mtu"] = self.mtu
        out["replies"] = [r.to_json() for r in self.replies]
        return out


PING_DATA = 56
"""iputils ping's default ``-s``: 56 data bytes, an 84-byte echo request."""
PING_MAX_SIZE = 65507
"""The largest ``-s``: 65507 data bytes make a 65535-byte datagram (iputils refuses more)."""


def ping(world: "World", netns: str, dst: IPv4Address | str, *, count: int = 1, timeout: float = 1.0,
         src: IPv4Address | None = None, interface: str | None = None, interval: float = 1.0,
         ttl: int = 64, size: int = PING_DATA, pmtudisc: "PmtuDisc | str | None" = None) -> ProbeResult:
    """``ping -c COUNT -W TIMEOUT [-I SRC] [-s SIZE] [-M do|want|dont|probe] DST``: echo requests
    one interval apart, each with SIZE data bytes after its 8-byte ICMP header (the reply echoes
    them). ``pmtudisc`` (None: the namespace's default, want unless ``ip_no_pmtu_disc``) sets DF
    and whether a request larger than the path MTU fails locally (EMSGSIZE) or is fragmented.

    Each request is sent when the clock reaches it (the next one is scheduled then), and only
    the first :data:`KEPT_ECHOES` echoes keep their traces and replies, so a long ping costs
    time in proportion to its count but memory and report size that do not grow with it.
    """
    from simnet.datapath import send_ip
    from simnet.pmtu import PmtuDisc, default_pmtudisc

    ns = world.netns(netns)
    dst = IPv4Address(dst)
    first = world.tracer.begin()
    start = world.now
    saddr = _source(ns, dst, src, interface)
    ident = world.rng.randint(1, 0xFFFF)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise TypeError(f"ping: expected size as a non-negative int of data bytes, got {type(size).__name__} {size!r}")
    if isinstance(pmtudisc, str):
        try:
            pmtudisc = PmtuDisc.parse(pmtudisc)
        except KeyError:
            raise ValueError(f"ping: pmtudisc {pmtudisc!r}: expected 'do', 'want', 'dont' or 'probe'") from None
    elif pmtudisc is not None and not isinstance(pmtudisc, PmtuDisc):
        raise TypeError(f"ping: expected pmtudisc as a PmtuDisc or 'do'/'want'/'dont', got "
                        f"{type(pmtudisc).__name__} {pmtudisc!r}")
    mode = default_pmtudisc(ns) if pmtudisc is None else pmtudisc
    local_mtu: list[int] = []
    sock = ClientSocket(proto="icmp", laddr=saddr or IPv4Address(0), lport=ident, raddr=dst, rport=0,
                        pmtudisc=int(mode))
    ns.sockets.pings[ident] = sock
    world.last_ping_seen = None
    world.seen_in.clear()
    errno_name: list[str] = []
    sent: list[tuple[float, int]] = []  # (when, first trace id) of the echoes not yet settled
    tally = {"sent": 0, "replies": 0, "errors": 0, "kept_until": 0, "lined": 0}
    lines: list[PingReply] = []

    def send(seq: int) -> None:
        if size > PING_MAX_SIZE:
            # ip_append_data: no IPv4 datagram holds it; ping reports "message too long, mtu=65535"
            tally["sent"] += 1
            tally["errors"] += 1
            local_mtu[:] = [0xFFFF]
            errno_name[:] = ["EMSGSIZE"]
            if seq < count:
                world.schedule_at(start + seq * interval, send, seq + 1)
            return
        pkt = Packet(ip=IPv4(src=saddr or IPv4Address(0), dst=dst, proto=IPProto.ICMP, ttl=ttl),
                     l4=Icmp(type=IcmpType.ECHO_REQUEST, id=ident, seq=seq), payload=bytes(size))
        tid = world.tracer.new(pkt, ns.name)
        tally["sent"] += 1
        if seq == KEPT_ECHOES + 1:
            tally["kept_until"] = tid
        if seq > KEPT_ECHOES:
            sent.append((world.now, tid))
        if seq < count:
            world.schedule_at(start + seq * interval, send, seq + 1)
        if world.tracer.recording:
            world.tracer.step(tid, Sent(netns=ns.name, packet=pkt, by="ping"))
        err = send_ip(ns, pkt, tid, oif=interface, pmtudisc=mode)
        if err == "EMSGSIZE":
            # ip_local_error queues it: ping prints "local error: message too long, mtu=N", +1 errors
            tally["errors"] += 1
            if not local_mtu:
                local_mtu.append(_path_mtu(ns, dst, saddr, interface))
        if err and not errno_name:
            errno_name.append(err)

    def answered() -> int:
        # keep the first reply and error (the outcome comes from them), count the rest
        new = tally["replies"] + len(sock.replies) - tally["lined"]
        if new and len(lines) < KEPT_ECHOES:
            for rsrc, rpkt in sock.replies[len(sock.replies) - new:][:KEPT_ECHOES - len(lines)]:
                lines.append(PingReply(seq=rpkt.l4.seq, src=rsrc, ttl=rpkt.ip.ttl,  # type: ignore[union-attr]
                                       bytes=8 + len(rpkt.payload)))
        tally["lined"] += new
        for key, got in (("replies", sock.replies), ("errors", sock.errors)):
            if len(got) > 1:
                tally[key] += len(got) - 1
                del got[1:]
        # forget the traces of settled echoes past the first few
        while len(sent) > 1 and (sent[1][0] <= world.now - _SETTLED or len(sent) > _UNSETTLED):
            _, tid = sent.pop(0)
            world.tracer.discard(tid, sent[0][1], keep_caused_before=tally["kept_until"])
        return tally["replies"] + tally["errors"] + len(sock.replies) + len(sock.errors)

    if saddr is None:
        count = 1
        send(1)
    else:
        world.schedule_at(start, send, 1)
    deadline = start + (count - 1) * interval + _bounded(timeout)
    # ping exits as soon as every request it sent has been answered (a reply or an error)
    while world.pending() and world._queue[0][0] < deadline - 1e-9 and answered() < count:
        world.run(until=world._queue[0][0])
    if answered() < count:
        world.run(until=deadline - 1e-9)
    answered()
    del ns.sockets.pings[ident]
    seen = getattr(world, "last_ping_seen", None)
    traces = _collect(world, first)
    if tally["kept_until"]:
        kept = tally["kept_until"]
        traces = tuple(t for t in traces if t.id < kept or t.caused_by is not None and t.caused_by < kept)
    stats = PingStats(transmitted=tally["sent"], received=tally["replies"] + len(sock.replies),
                      errors=tally["errors"] + len(sock.errors), size=size,
                      mtu=local_mtu[0] if local_mtu else None, replies=tuple(lines))
    base: dict[str, Any] = dict(proto="icmp", netns=netns, dst=dst, dport=None, traces=traces, ping=stats)
    if sock.replies:
        # as the kernel runner reports it: the echo reply's type, code and sender
        echo = IcmpReport(type=int(IcmpType.ECHO_REPLY), code=0, src=sock.replies[0][0])
        return ProbeResult(outcome="reply", icmp=echo, received=seen, **base)
    if sock.errors:
        # a REJECT in this host's OUTPUT: sendto fails with EPERM and its ICMP error is queued
        outcome, report = _error_outcome(sock.errors)
        if report.type == IcmpType.DEST_UNREACH and report.code == UnreachCode.FRAG_NEEDED:
            report = IcmpReport(type=report.type, code=report.code, src=report.src, mtu=sock.frag_mtu)
        return ProbeResult(outcome=outcome, icmp=report, errno=errno_name[0] if errno_name else None,
                           received=seen, **base)
    if errno_name:
        return ProbeResult(outcome="error", errno=errno_name[0], received=seen, **base)
    return ProbeResult(outcome="timeout", received=seen, **base)


def _path_mtu(ns: "NetNamespace", dst: IPv4Address, src: IPv4Address | None, oif: str | None) -> int:
    """The MTU a local EMSGSIZE names: the route's path MTU (IP_MTU)."""
    from simnet.datapath import SendError, route_output
    from simnet.pmtu import route_mtu

    try:
        return route_mtu(ns, route_output(ns, dst, src=src, oif=oif))
    except SendError:
        return 0


def tcp_connect(world: "World", netns: str, dst: IPv4Address | str, dport: int, *, sport: int | None = None,
                src: IPv4Address | None = None, timeout: float = 1.0, data: bytes | None = None,
                size: int | None = None, response: "Callable[[Seen], int | None] | None" = None,
                answered: "Callable[[bytes], bool] | None" = None, by: str = "tcp connect") -> ProbeResult:
    """``nc -z -w TIMEOUT [-s SRC] [-p SPORT] DST PORT``: a three-way handshake, then an abort (RST).

    With ``data`` (``echo DATA | nc -w TIMEOUT DST PORT``) the client writes it once connected, reads
    what comes back until TIMEOUT passes idle (nc -w), then aborts: DATA, the peer's ACK, an echo
    service's answer and the client's ACK of it go between the handshake and the RST (as on 6.18).

    With ``answered`` (a request/response client such as ``dig +tcp``) the client reads until
    ``answered(bytes so far)`` says the answer is complete (or TIMEOUT passes), then closes with
    FIN: the server's FIN,ACK and the client's last ACK follow (10 segments for one DNS query,
    as counted on 6.18).

    SYN retransmissions follow tcp_retransmit_timer: the initial RTO (1 s) is kept for the first
    ``tcp_syn_linear_timeouts`` retransmissions (Linux 6.5+), then doubles, and the connect gives
    up after ``tcp_syn_retries`` of them.

    ``size``: once connected, send that many bytes (``head -c N /dev/zero | nc``) as
    :class:`simnet.tcp_stream.Stream` does, until the peer has them all or the timeout; the
    result's ``transfer`` says how many arrived. ``response``: given what the server accepted,
    the bytes it answers (an HTTP response, None: nothing), sent back the same way.
    """
    from simnet.datapath import SendError, route_output, send_ip

    ns = world.netns(netns)
    dst = IPv4Address(dst)
    first = world.tracer.begin()
    start = world.now
    before = world.seen_seq
    world.seen_in.clear()
    base: dict[str, Any] = dict(proto="tcp", netns=netns, dst=dst, dport=dport)
    # tcp_v4_connect: only the route lookup (ip_route_connect) fails the connect itself
    try:
        saddr = src or ns.source_for(route_output(ns, dst, src=src), dst)
    except SendError:
        saddr = None
    if saddr is None:
        pkt = Packet(ip=IPv4(src=src or IPv4Address(0), dst=dst, proto=IPProto.TCP), l4=Tcp(sport=0, dport=dport))
        tid = world.tracer.new(pkt, ns.name)
        err = send_ip(ns, pkt, tid)  # fails at the same lookup, and traces it
        return ProbeResult(outcome="error", errno=err, traces=_collect(world, first), **base)
    lport = sport or ns.sockets.ephemeral_port("tcp")
    sock = ClientSocket(proto="tcp", laddr=saddr, lport=lport, raddr=dst, rport=dport, state=SockState.SYN_SENT,
                        isn=world.rng.getrandbits(32))
    key = ("tcp", saddr, lport, dst, dport)
    ns.sockets.clients[key] = sock
    deadline = start + _bounded(timeout)
    mss = route_mss(ns, dst, src)

    def syn() -> None:
        if sock.state is not SockState.SYN_SENT:
            return
        pkt = Packet(ip=IPv4(src=saddr, dst=dst, proto=IPProto.TCP),
                     l4=Tcp(sport=lport, dport=dport, flags=TcpFlags.SYN, seq=sock.isn, options=syn_options(ns, mss)))
        tid = world.tracer.new(pkt, ns.name)
        world.tracer.step(tid, Sent(netns=ns.name, packet=pkt, by=by))
        # tcp_connect ignores what tcp_transmit_skb returns (but ECONNREFUSED): a SYN that
        # netfilter dropped (EPERM) is simply retransmitted by the timer
        send_ip(ns, pkt, tid)

    linear = ns.sysctls.get_int("net.ipv4.tcp_syn_linear_timeouts")
    when = 0.0
    for n in range(ns.sysctls.get_int("net.ipv4.tcp_syn_retries") + 1):
        if start + when >= deadline:
            break
        world.schedule(when, syn)
        when += TCP_RTO_INIT * (1 if n <= linear else 1 << (n - linear))
    while world.pending() and sock.state is SockState.SYN_SENT:
        nxt = world._queue[0][0]
        if nxt >= deadline:
            break
        world.run(until=nxt)
    if sock.state is SockState.SYN_SENT and not sock.errors:
        # nothing answered: nc gives up at -w, and the clock (conntrack and neighbour ageing,
        # the server's SYN-ACK timer) must be there too; a timer due exactly then is not run
        world.run(until=deadline - 1e-9)
    transfer = None
    if sock.state is SockState.ESTABLISHED:
        # the client aborts: SO_LINGER 0 close sends RST (deterministic packet count), with ACK
        # set as tcp_send_active_reset does (a --tcp-flags SYN,ACK ACK rule sees it; checked on 6.18)
        world.run(until=world.now)
        synack = next(p.l4 for _, p in sock.replies if isinstance(p.l4, Tcp) and p.l4.flags & TcpFlags.SYN)
        sock.snd_nxt = (sock.isn + 1) & 0xFFFFFFFF
        sock.rcv_nxt = (synack.seq + 1) & 0xFFFFFFFF
        if size is not None or response is not None:
            transfer = _transfer(world, ns, sock, synack, before, size, max(deadline, world.now + _bounded(timeout)),
                                 response)
            if transfer is not None and transfer.sender is ns:
                sock.snd_nxt = (sock.snd_nxt + transfer.snd_nxt) & 0xFFFFFFFF
            elif transfer is not None:
                sock.rcv_nxt = (sock.rcv_nxt + transfer.rcv_nxt) & 0xFFFFFFFF
        elif data:
            seg = TCP_MSS_DEFAULT - (12 if sock.options.timestamps else 0)
            for i in range(0, len(data), seg):
                chunk = data[i:i + seg]
                ns.sockets.tcp_segment(saddr, lport, dst, dport, TcpFlags.PSH | TcpFlags.ACK, sock.snd_nxt,
                                       sock.rcv_nxt, sock.options, chunk, None, by="tcp write")
                sock.snd_nxt = (sock.snd_nxt + len(chunk)) & 0xFFFFFFFF
            if answered is not None:
                end = world.now + _bounded(timeout) - 1e-9
                while (world.pending() and world._queue[0][0] < end
                       and not answered(b"".join(d for *_, d in sock.received))):
                    world.run(until=world._queue[0][0])
                world.run(until=world.now)
                if not answered(b"".join(d for *_, d in sock.received)):
                    world.run(until=end)
            else:
                # nc -w: the connection is closed once idle that long
                world.run(until=world.now + _bounded(timeout) - 1e-9)
        if answered is not None and sock.state is SockState.ESTABLISHED:
            # close(): FIN; the server answers FIN,ACK and this socket's last ACK ends it (socket.py)
            fin = Packet(ip=IPv4(src=saddr, dst=dst, proto=IPProto.TCP),
                         l4=Tcp(sport=lport, dport=dport, flags=TcpFlags.FIN | TcpFlags.ACK, seq=sock.snd_nxt,
                                ack=sock.rcv_nxt, options=sock.options))
            sock.snd_nxt = (sock.snd_nxt + 1) & 0xFFFFFFFF
            tid = world.tracer.new(fin, ns.name)
            world.tracer.step(tid, Sent(netns=ns.name, packet=fin, by="tcp close (FIN)"))
            send_ip(ns, fin, tid)
            world.run(until=world.now)
        elif sock.state is SockState.ESTABLISHED:
            rst = Packet(ip=IPv4(src=saddr, dst=dst, proto=IPProto.TCP),
                         l4=Tcp(sport=lport, dport=dport, flags=TcpFlags.RST | TcpFlags.ACK, seq=sock.snd_nxt,
                                ack=sock.rcv_nxt, options=sock.options))
            tid = world.tracer.new(rst, ns.name)
            world.tracer.step(tid, Sent(netns=ns.name, packet=rst, by="tcp close (abort)"))
            send_ip(ns, rst, tid)
    world.run(until=world.now)
    del ns.sockets.clients[key]
    traces = _collect(world, first)
    seen = next((s for s in _seen_since(world, before) if s.dport is not None), None)
    if sock.state in (SockState.ESTABLISHED, SockState.CLOSED):
        sized = transfer.report() if transfer is not None else None
        return ProbeResult(outcome="connected", received=seen, traces=traces, reply=Reply.of(sock.received),
                           transfer=sized, **base)
    if sock.state is SockState.RESET:
        return ProbeResult(outcome="refused", errno="ECONNREFUSED", traces=traces, **base)
    if sock.errors:
        outcome, report = _error_outcome(sock.errors, ping=False)
        errno = socket_errno(report)
        if errno == "ECONNREFUSED":
            outcome = "refused"
        return ProbeResult(outcome=outcome, icmp=report, errno=errno, traces=traces, **base)
    return ProbeResult(outcome="timeout", traces=traces, **base)


def _transfer(world: "World", ns: "NetNamespace", sock: ClientSocket, synack: Tcp, before: int, size: int | None,
              deadline: float, response: "Callable[[Seen], int | None] | None" = None) -> "Stream | None":
    """Send ``size`` bytes on the connection ``sock`` just established (or, with ``response``,
    have the server send its answer back), until all are acknowledged or ``deadline``; the
    stream, stopped (None when the server answers nothing)."""
    from simnet.tcp_stream import Stream

    seen = next((s for s in _seen_since(world, before) if s.dport is not None), None)
    if seen is None or seen.dport is None or seen.sport is None:
        return None
    peer = world.netns(seen.ns)
    view = (seen.dst, seen.dport, seen.src, seen.sport)
    if response is None:
        assert size is not None
        stream = Stream(sender=ns, receiver=peer, saddr=sock.laddr, sport=sock.lport, daddr=sock.raddr,
                        dport=sock.rport, snd_isn=sock.isn, rcv_isn=synack.seq, size=size,
                        peer_mss=synack.options.mss, timestamps=synack.options.timestamps, view=view)
    else:
        size = response(seen)
        if size is None:
            return None
        syn = peer.sockets.accepted_syn.get(view)
        stream = Stream(sender=peer, receiver=ns, saddr=seen.dst, sport=seen.dport, daddr=seen.src,
                        dport=seen.sport, snd_isn=synack.seq, rcv_isn=sock.isn, size=size,
                        peer_mss=syn.mss if syn is not None else None, timestamps=synack.options.timestamps,
                        view=(sock.laddr, sock.lport, sock.raddr, sock.rport))
    stream.start()
    while world.pending() and stream.snd_una < stream.size:
        nxt = world._queue[0][0]
        if nxt >= deadline:
            break
        world.run(until=nxt)
    if stream.snd_una < stream.size:
        world.run(until=deadline - 1e-9)
    stream.stop()
    return stream


def udp_send(world: "World", netns: str, dst: IPv4Address | str, dport: int, data: bytes = b"x\n", *,
             sport: int | None = None, src: IPv4Address | None = None, timeout: float = 1.0) -> ProbeResult:
    """``echo DATA | nc -u -w TIMEOUT DST PORT``: one datagram on a connected UDP socket."""
    from simnet.datapath import send_ip

    ns = world.netns(netns)
    dst = IPv4Address(dst)
    first = world.tracer.begin()
    start = world.now
    before = world.seen_seq
    world.seen_in.clear()
    saddr = _source(ns, dst, src)
    base: dict[str, Any] = dict(proto="udp", netns=netns, dst=dst, dport=dport)
    lport = sport or ns.sockets.ephemeral_port("udp")
    pkt = Packet(ip=IPv4(src=saddr or IPv4Address(0), dst=dst, proto=IPProto.UDP),
                 l4=Udp(sport=lport, dport=dport), payload=data)
    sock = ClientSocket(proto="udp", laddr=saddr or IPv4Address(0), lport=lport, raddr=dst, rport=dport)
    key = ("udp", sock.laddr, lport, dst, dport)
    ns.sockets.clients[key] = sock
    tid = world.tracer.new(pkt, ns.name)
    world.tracer.step(tid, Sent(netns=ns.name, packet=pkt, by="udp send"))
    from simnet.pmtu import default_pmtudisc

    # udp_sendmsg builds the datagram as the socket's mode says: DF on what fits (want)
    err = send_ip(ns, pkt, tid, pmtudisc=default_pmtudisc(ns))
    deadline = start + _bounded(timeout) - 1e-9
    # nc waits -w, but stops when the send fails or an ICMP error makes its recv fail (hard
    # errors; the kernel runner sets IP_RECVERR and stops at any): the clock stops there too
    while not err and not sock.errors and world.pending() and world._queue[0][0] < deadline:
        world.run(until=world._queue[0][0])
    world.run(until=world.now if err or sock.errors else deadline)
    del ns.sockets.clients[key]
    traces = _collect(world, first)
    seen = next(iter(_seen_since(world, before)), None)
    if err and not sock.errors:
        return ProbeResult(outcome="error", errno=err, traces=traces, **base)
    if err:  # a REJECT in this host's OUTPUT: send fails with EPERM, its ICMP error is queued
        outcome, report = _error_outcome(sock.errors, ping=False)
        return ProbeResult(outcome=outcome, icmp=report, errno=err, traces=traces, **base)
    reply = Reply.of(sock.received)
    if seen is not None or reply is not None:
        return ProbeResult(outcome="delivered", received=seen, traces=traces, reply=reply,
                           **base)
    if sock.errors:
        outcome, report = _error_outcome(sock.errors, ping=False)
        # the next recv on the connected socket fails with the error's errno (icmp_err_convert)
        errno = socket_errno(report)
        return ProbeResult(outcome=outcome, icmp=report, errno=errno, traces=traces, **base)
    return ProbeResult(outcome="lost", traces=traces, **base)


def udp_connect(world: "World", netns: str, dst: IPv4Address | str, dport: int, *, src: IPv4Address | None = None,
                timeout: float = 1.0) -> ProbeResult:
    """``nc -u -w TIMEOUT DST PORT < /dev/null`` (or ``nc -u -z``): a connected UDP socket that sends nothing.

    OpenBSD nc (Debian 1.219) writes no datagram when its input is empty, nor under -z
    (verified: no packet reached INPUT); only connect()'s route lookup can fail.
    """
    from simnet.datapath import SendError, route_output

    ns = world.netns(netns)
    dst = IPv4Address(dst)
    base: dict[str, Any] = dict(proto="udp", netns=netns, dst=dst, dport=dport)
    try:
        route_output(ns, dst, src=src)
    except SendError as e:
        return ProbeResult(outcome="error", errno=e.errno_name, **base)
    world.run(until=world.now + _bounded(timeout) - 1e-9)
    return ProbeResult(outcome="lost", **base)


def curl_write_out(fmt: str, *, outcome: str, dst: IPv4Address | str, dport: int, http_code: int,
                   complete: bool = True) -> str:
    """What ``curl -w FMT`` prints after a probe (curl 7.88): ``%{var}``, ``%%``, ``\\n``, ``\\t``, ``\\r``.

    ``http_code`` is the status the server answered (0: none); the variables are those the
    probe knows (:data:`CURL_WRITE_OUT`). A connection to a listener that is no HTTP server
    (``nc -l``) never gets an answer: curl waits until ``--max-time`` and exits 28.

    >>> curl_write_out("%{http_code} %{remote_ip}:%{remote_port}\\\\n", outcome="connected", dst="10.0.0.1",
    ...                dport=80, http_code=200)
    '200 10.0.0.1:80\\n'
    >>> curl_write_out("%{http_code}|%{remote_ip}|%{exitcode}", outcome="refused", dst="10.0.0.1", dport=80,
    ...                http_code=0)
    '000||7'
    """
    connected = outcome == "connected"
    # a response that stalled: curl gives up at --max-time (28, "Operation timed out after ...")
    exitcode = (0 if http_code and complete else 28) if connected else 28 if outcome == "timeout" else 7
    values = {"http_code": f"{http_code:03d}", "response_code": f"{http_code:03d}",
              "remote_ip": str(dst) if connected else "", "remote_port": str(dport) if connected else "0",
              "exitcode": str(exitcode), "num_connects": "1" if connected else "0"}
    out: list[str] = []
    for token in _write_out_tokens(fmt):
        if token == "%{onerror}":
            if exitcode == 0:
                break
        elif token.startswith("%{"):
            out.append(values[token[2:-1]])
        else:
            out.append(token)
    return "".join(out)


CURL_WRITE_OUT = ("http_code", "response_code", "remote_ip", "remote_port", "exitcode", "num_connects", "onerror")
"""The ``curl -w`` variables simnet's probe knows."""


def _write_out_tokens(fmt: str) -> list[str]:
    """Split a ``-w`` format into ``%{var}`` tokens and literal text (escapes applied).

    Raises:
        ValueError: for a variable the probe does not know.
    """
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt.startswith("%{", i) and "}" in fmt[i:]:
            end = fmt.index("}", i)
            name = fmt[i + 2:end]
            if name not in CURL_WRITE_OUT:
                raise ValueError(f"curl -w: %{{{name}}} is not known to simnet's probe (it knows "
                                 + ", ".join(f"%{{{v}}}" for v in CURL_WRITE_OUT) + ")")
            out.append(fmt[i:end + 1])
            i = end + 1
        elif fmt.startswith("%%", i):
            out.append("%")
            i += 2
        elif fmt[i] == "\\" and i + 1 < len(fmt) and fmt[i + 1] in "ntr\\":
            out.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[fmt[i + 1]])
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return out
