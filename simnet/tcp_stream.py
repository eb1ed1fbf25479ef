"""A sized TCP transfer over an established connection: segments, ACKs, retransmission.

Kernel: tcp_output.c (tcp_write_xmit: segments of the current MSS, DF set since the socket
wants PMTU discovery; tcp_mtu_to_mss), tcp_timer.c (tcp_retransmit_timer: the head segment
again after the RTO, doubled each time; the RTO after a handshake on a fast link is
TCP_RTO_MIN, 200 ms), tcp_ipv4.c (tcp_v4_err → tcp_v4_mtu_reduced: a fragmentation-needed
lowers the path MTU, tcp_sync_mss, and tcp_simple_retransmit resends at once what no longer
fits), tcp_input.c (the receiver takes in-order data and ACKs it; out of order it repeats its
ACK). Not modelled: congestion and receive windows (everything is sent at once), SACK, GSO
(iptables on the kernel sees TSO super-segments on veth, so per-packet counters of a bulk
transfer are not comparable), FIN. GSO only as far as it changes an outcome: the segments of
a burst carry :attr:`simnet.packet.Packet.gso`, which lets them past a bridge port's or veth
peer's smaller MTU as the kernel lets a GSO skb pass (a single segment, a retransmission, is
checked and dropped; a router checks every segment either way).

What a transfer tells is whether the bytes arrived: a path whose MTU is smaller than the
segments, whose router's fragmentation-needed never reaches the sender, stalls (an MTU black
hole); the same path with the ICMP let through, or with the MSS clamped, completes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from simnet.addresses import IPProto
from simnet.packet import IPv4, Packet, Tcp, TcpFlags, TcpOptions
from simnet.tcp_output import received_mss, route_mtu, send_mss
from simnet.trace import Sent

if TYPE_CHECKING:
    from simnet.netns import NetNamespace

TCP_RTO_MIN = 0.2
"""The retransmission timeout after a handshake on a fast link (include/net/tcp.h)."""
TCP_RTO_MAX = 120.0


@dataclass(frozen=True, slots=True)
class TransferReport:
    """What a sized transfer achieved: ``size`` bytes offered, ``received`` in order by the
    peer's application, and the largest segment payload used first and last."""

    size: int
    received: int
    mss: int
    last_mss: int
    retransmissions: int

    @property
    def complete(self) -> bool:
        return self.received >= self.size

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "received": self.received, "complete": self.complete,
                "stalled": not self.complete, "mss": self.mss, "last_mss": self.last_mss,
                "retransmissions": self.retransmissions}

    def __str__(self) -> str:
        state = "complete" if self.complete else "stalled"
        return f"{self.received}/{self.size} bytes, {state} (segments of {self.last_mss} bytes)"


@dataclass(slots=True, eq=False)
class Stream:
    """One direction of an established connection: ``sender`` sends ``size`` bytes to ``receiver``.

    ``snd_isn``/``rcv_isn`` are the initial sequence numbers of the sending and receiving side;
    ``peer_mss`` is the MSS option the receiver's SYN or SYN-ACK carried as it arrived (after
    any TCPMSS rule on the way); ``timestamps`` whether the handshake agreed on them.
    """

    sender: "NetNamespace"
    receiver: "NetNamespace"
    saddr: IPv4Address
    sport: int
    daddr: IPv4Address
    dport: int
    snd_isn: int
    rcv_isn: int
    size: int
    peer_mss: int | None
    timestamps: bool
    view: tuple[IPv4Address, int, IPv4Address, int] | None = None
    """The receiver's own (local address, port, remote address, port), which NAT on the way
    may make differ from the sender's; None: the mirror of the sender's."""
    snd_una: int = 0
    snd_nxt: int = 0
    rcv_nxt: int = 0
    rto: float = TCP_RTO_MIN
    generation: int = 0
    retransmissions: int = 0
    mss_used: list[int] = field(default_factory=list)

    # -- the sender ------------------------------------------------------------------
    def mss(self) -> int:
        """The payload per segment now: the path MTU (learnt exceptions included) and the peer's MSS."""
        from simnet.datapath import SendError, route_output

        try:
            mtu = route_mtu(self.sender, route_output(self.sender, self.daddr, src=self.saddr))
        except SendError:
            mtu = 1500
        return send_mss(mtu, received_mss(self.peer_mss), timestamps=self.timestamps)

    @property
    def send_key(self) -> tuple[IPv4Address, int, IPv4Address, int]:
        return (self.saddr, self.sport, self.daddr, self.dport)

    @property
    def recv_key(self) -> tuple[IPv4Address, int, IPv4Address, int]:
        return self.view or (self.daddr, self.dport, self.saddr, self.sport)

    def start(self) -> None:
        self.sender.sockets.streams[self.send_key] = self
        self.receiver.sockets.streams[self.recv_key] = self
        self.push()

    def stop(self) -> None:
        self.generation += 1
        self.sender.sockets.streams.pop(self.send_key, None)
        self.receiver.sockets.streams.pop(self.recv_key, None)

    def report(self) -> TransferReport:
        first = self.mss_used[0] if self.mss_used else self.mss()
        return TransferReport(size=self.size, received=self.rcv_nxt, mss=first,
                              last_mss=self.mss_used[-1] if self.mss_used else first,
                              retransmissions=self.retransmissions)

    def push(self, *, limit: int | None = None) -> None:
        """tcp_write_xmit: send from ``snd_nxt`` (at most ``limit`` segments), then arm the timer."""
        mss = self.mss()
        sent = 0
        burst = limit is None and self.size - self.snd_nxt > mss  # more than one segment: one GSO skb
        while self.snd_nxt < self.size and (limit is None or sent < limit):
            n = min(mss, self.size - self.snd_nxt)
            self._segment(self.snd_nxt, n, gso=burst)
            self.snd_nxt += n
            sent += 1
        if sent:
            self.mss_used.append(mss)
            self._arm()

    def _segment(self, offset: int, n: int, *, gso: bool = False) -> None:
        from simnet.datapath import send_ip
        from simnet.pmtu import PmtuDisc

        world = self.sender.world
        opts = TcpOptions(timestamps=True) if self.timestamps else TcpOptions()
        pkt = Packet(ip=IPv4(src=self.saddr, dst=self.daddr, proto=IPProto.TCP),
                     l4=Tcp(sport=self.sport, dport=self.dport, flags=TcpFlags.ACK | TcpFlags.PSH,
                            seq=(self.snd_isn + 1 + offset) & 0xFFFFFFFF, ack=(self.rcv_isn + 1) & 0xFFFFFFFF,
                            options=opts), payload=bytes(n), gso=gso)
        tid = world.tracer.new(pkt, self.sender.name)
        world.tracer.step(tid, Sent(netns=self.sender.name, packet=pkt, by=f"tcp send ({n} of {self.size} bytes)"))
        send_ip(self.sender, pkt, tid, pmtudisc=PmtuDisc.WANT)

    def _arm(self) -> None:
        self.generation += 1
        self.sender.world.schedule(self.rto, self._timeout, self.generation)

    def _timeout(self, generation: int) -> None:
        """tcp_retransmit_timer: the head segment again, the RTO doubled."""
        if generation != self.generation or self.snd_una >= self.size:
            return
        self.retransmissions += 1
        self.rto = min(self.rto * 2, TCP_RTO_MAX)
        self.snd_nxt = self.snd_una
        self.push(limit=1)

    def acked(self, ack: int) -> None:
        """An ACK arrived at the sender: forget what it covers, send the rest."""
        got = (ack - self.snd_isn - 1) & 0xFFFFFFFF
        if got <= self.snd_una or got > self.size:
            return
        self.snd_una = got
        self.snd_nxt = max(self.snd_nxt, got)
        self.rto = TCP_RTO_MIN
        if self.snd_una >= self.size:
            self.generation += 1
            return
        if self.snd_nxt < self.size:
            self.push()
        else:
            self._arm()

    def mtu_reduced(self) -> None:
        """tcp_v4_mtu_reduced: a smaller path MTU was learnt; resend unacknowledged data now."""
        if self.snd_una < self.size and self.mss() < (self.mss_used[-1] if self.mss_used else 0):
            self.retransmissions += 1
            self.snd_nxt = self.snd_una
            self.push()

    # -- the receiver ----------------------------------------------------------------
    def received(self, tcp: Tcp, payload: bytes, tid: int) -> str:
        """tcp_data_queue: in-order data is taken, anything else repeats the last ACK."""
        from simnet.datapath import send_ip

        offset = (tcp.seq - self.snd_isn - 1) & 0xFFFFFFFF
        took = offset == self.rcv_nxt
        if took:
            self.rcv_nxt += len(payload)
        world = self.receiver.world
        opts = TcpOptions(timestamps=True) if self.timestamps else TcpOptions()
        laddr, lport, raddr, rport = self.recv_key
        ack = Packet(ip=IPv4(src=laddr, dst=raddr, proto=IPProto.TCP),
                     l4=Tcp(sport=lport, dport=rport, flags=TcpFlags.ACK,
                            seq=(self.rcv_isn + 1) & 0xFFFFFFFF,
                            ack=(self.snd_isn + 1 + self.rcv_nxt) & 0xFFFFFFFF, options=opts))
        atid = world.tracer.new(ack, self.receiver.name, caused_by=tid)
        send_ip(self.receiver, ack, atid)
        return f"{len(payload)} bytes" + ("" if took else " out of order (ACK repeated)")
