"""Packets as immutable values: what tcpdump would see on the wire.

A hop never mutates a packet; NAT, TTL decrement and re-framing build a new
value with :func:`dataclasses.replace`.  Kernel-side metadata (devices, mark,
conntrack) lives beside the packet in :class:`simnet.skb.Skb`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from operator import attrgetter
from typing import Any, Callable, TypeVar
from enum import IntEnum, IntFlag
from ipaddress import IPv4Address

from simnet.addresses import IPProto, MacAddress

_T = TypeVar("_T")


class EtherType(IntEnum):
    IPV4 = 0x0800
    ARP = 0x0806


class ArpOp(IntEnum):
    REQUEST = 1
    REPLY = 2


class TcpFlags(IntFlag):
    """TCP header flags, in the bit order iptables' ``--tcp-flags`` uses."""

    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


class IcmpType(IntEnum):
    ECHO_REPLY = 0
    DEST_UNREACH = 3
    SOURCE_QUENCH = 4
    REDIRECT = 5
    ECHO_REQUEST = 8
    TIME_EXCEEDED = 11
    PARAMETER_PROBLEM = 12
    TIMESTAMP_REQUEST = 13
    TIMESTAMP_REPLY = 14


class UnreachCode(IntEnum):
    """ICMP destination-unreachable codes (RFC 792, RFC 1812)."""

    NET = 0
    HOST = 1
    PROTO = 2
    PORT = 3
    FRAG_NEEDED = 4
    NET_UNKNOWN = 6
    HOST_UNKNOWN = 7
    NET_PROHIBITED = 9
    HOST_PROHIBITED = 10
    ADMIN_PROHIBITED = 13


ICMP_ERROR_TYPES = frozenset(
    {IcmpType.DEST_UNREACH, IcmpType.SOURCE_QUENCH, IcmpType.REDIRECT,
     IcmpType.TIME_EXCEEDED, IcmpType.PARAMETER_PROBLEM}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ethernet:
    src: MacAddress
    dst: MacAddress
    ethertype: EtherType = EtherType.IPV4


@dataclass(frozen=True, slots=True, kw_only=True)
class Arp:
    op: ArpOp
    sha: MacAddress
    spa: IPv4Address
    tha: MacAddress
    tpa: IPv4Address


@dataclass(frozen=True, slots=True, kw_only=True)
class IPv4:
    src: IPv4Address
    dst: IPv4Address
    proto: int
    ttl: int = 64
    id: int = 0
    tos: int = 0
    df: bool = False
    """Don't Fragment: a router whose next hop's MTU is smaller answers ICMP 3/4 instead."""
    mf: bool = False
    """More Fragments: set on every fragment but the last."""
    frag_off: int = 0
    """The fragment's offset in bytes into the datagram's data (a multiple of 8; the header
    counts 8-byte units)."""
    _hash: int | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    @property
    def is_fragment(self) -> bool:
        """ip_is_fragment: MF set or an offset: a piece of a datagram, not the datagram."""
        return self.mf or self.frag_off != 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpOptions:
    """The options Linux puts on a segment (``tcp_options_write``); iptables counts their bytes.

    Measured on 6.18 with the default sysctls: a SYN and its SYN-ACK carry MSS, SACK-permitted,
    timestamps and window scale (20 bytes: 60-byte segments), and once both sides agreed on
    timestamps every other segment, the ACK, data, FIN and an abort RST, carries them (12
    bytes: NOP, NOP, TS; 52-byte ACK). A RST the stack or REJECT sends for no socket has none.
    """

    mss: int | None = None
    sack_perm: bool = False
    timestamps: bool = False
    wscale: int | None = None
    fastopen: bool = False
    """A TCP Fast Open cookie request (RFC 7413 option 34, empty, then NOP NOP): the SYN of a
    ``sendto(MSG_FASTOPEN)`` with no cookie yet (dnsmasq's upstream connections: a 64-byte SYN)."""

    @property
    def length(self) -> int:
        """Bytes on the wire, padded to 32-bit words as Linux lays them out."""
        n = 4 if self.mss is not None else 0
        if self.timestamps:
            n += 12  # TS (10) after SACK_PERM (2) or after NOP NOP: three words either way
        elif self.sack_perm:
            n += 4  # NOP NOP SACK_PERM
        if self.wscale is not None:
            n += 4  # NOP WS
        if self.fastopen:
            n += 4  # FASTOPEN (kind 34, length 2), NOP NOP
        return n

    @property
    def kinds(self) -> frozenset[int]:
        """The option kinds on the wire, NOP (1) included, as ``--tcp-option N`` finds them
        (tcp_options_write: MSS 2, SACK_PERM 4 right before TS 8 or after two NOPs, NOP WS 3)."""
        out = set()
        if self.mss is not None:
            out.add(2)
        if self.sack_perm:
            out.add(4)
        if self.timestamps:
            out.add(8)
        if (self.timestamps and not self.sack_perm) or (self.sack_perm and not self.timestamps) or \
                self.wscale is not None:
            out.add(1)
        if self.wscale is not None:
            out.add(3)
        if self.fastopen:
            out |= {34, 1}
        return frozenset(out)


NO_TCP_OPTIONS = TcpOptions()


@dataclass(frozen=True, slots=True, kw_only=True)
class Tcp:
    sport: int
    dport: int
    flags: TcpFlags = TcpFlags.SYN
    seq: int = 0
    ack: int = 0
    options: TcpOptions = NO_TCP_OPTIONS
    _hash: int | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    header_len = 20

    @property
    def length(self) -> int:
        """Header with its options (the data offset in bytes)."""
        return self.header_len + self.options.length


@dataclass(frozen=True, slots=True, kw_only=True)
class Udp:
    sport: int
    dport: int

    header_len = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Icmp:
    type: int
    code: int = 0
    id: int = 0
    seq: int = 0
    quoted: "Packet | None" = None
    """For an error: the offending datagram as it arrived, as a packet without Ethernet; the
    error carries as much of it as fits in 576 bytes (:data:`ICMP_ERROR_MAX`)."""
    gateway: IPv4Address | None = None
    """For a redirect: the better next hop (the header's ``un.gateway``)."""
    mtu: int | None = None
    """For "fragmentation needed" (3/4): the next hop's MTU (the header's ``un.frag.mtu``)."""
    _hash: int | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    header_len = 8

    @property
    def is_error(self) -> bool:
        return self.type in ICMP_ERROR_TYPES


L4 = Tcp | Udp | Icmp

#: icmp_send quotes the offending datagram up to a 576-byte error (RFC 1812 4.3.2.3), not just
#: its header and 8 bytes: a 1028-byte echo request's host-unreachable counted 576 bytes on
#: 6.18, a 34-byte UDP datagram's port-unreachable 62.
ICMP_ERROR_MAX = 576


@dataclass(frozen=True, slots=True, kw_only=True)
class Vxlan:
    """A VXLAN header (RFC 7348, flags I) and the Ethernet frame it carries: a UDP payload."""

    vni: int
    frame: "Packet"

    header_len = 8

    @property
    def length(self) -> int:
        """Header, inner Ethernet header and inner frame, as the outer UDP length counts them."""
        return self.header_len + 14 + self.frame.length


@dataclass(frozen=True, slots=True, kw_only=True)
class Fragment:
    """What a fragment carries of its datagram: ``size`` data bytes from ``ip.frag_off`` on.

    The datagram itself rides along (``whole``) so reassembly (ip_defrag) can hand on the
    original L4 header and payload once every byte has arrived.
    """

    whole: "Packet"
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """A frame or datagram: Ethernet (absent above L2), then ARP or IPv4 + L4.

    A fragment (``fragment`` set) keeps its datagram's L4 header only when it is the first
    one (offset 0): later fragments have no ports for iptables to match.
    """

    eth: Ethernet | None = None
    arp: Arp | None = None
    ip: IPv4 | None = None
    l4: L4 | None = None
    payload: bytes = b""
    vxlan: Vxlan | None = None
    """A VXLAN-encapsulated frame as the UDP payload (``vxlan_xmit`` built it)."""
    fragment: Fragment | None = None
    """Set on a fragment: which bytes of which datagram it carries (ip_fragment made it)."""
    gso: bool = False
    """A TCP segment sent in a burst, which the kernel hands down as one GSO super-packet (veth
    offers TSO): is_skb_forwardable and br_nf_dev_queue_xmit let a GSO skb through whatever the
    device's MTU, while a router checks each segment (skb_gso_validate_network_len)."""
    _length: int = field(default=-1, init=False, repr=False, compare=False, hash=False)
    """``length``, computed once: every hop's MTU check asks for it."""
    _hash: int | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    @property
    def length(self) -> int:
        """IP total length in bytes (what iptables byte counters add up); 28 for ARP.

        >>> from ipaddress import IPv4Address as A
        >>> ip = IPv4(src=A("10.0.0.1"), dst=A("10.0.0.2"), proto=1)
        >>> echo = Packet(ip=ip, l4=Icmp(type=IcmpType.ECHO_REQUEST), payload=bytes(56))
        >>> echo.length, Packet(ip=ip, l4=Icmp(type=3, code=1, quoted=echo)).length
        (84, 112)
        """
        if self._length < 0:
            object.__setattr__(self, "_length", self._compute_length())
        return self._length

    def _compute_length(self) -> int:
        """Computed by :attr:`length` once per packet."""
        if self.arp is not None:
            return 28
        if self.fragment is not None:
            return 20 + self.fragment.size
        size = 20 + len(self.payload)
        match self.l4:
            case Tcp() as t:
                size += t.length
            case Udp():
                size += 8 + (self.vxlan.length if self.vxlan is not None else 0)
            case Icmp(quoted=q) if q is not None:
                size += 8 + min(q.length, ICMP_ERROR_MAX - 28)
            case Icmp():
                size += 8
            case None:
                pass
        return size

    @property
    def sport(self) -> int | None:
        return self.l4.sport if isinstance(self.l4, (Tcp, Udp)) else None

    @property
    def dport(self) -> int | None:
        return self.l4.dport if isinstance(self.l4, (Tcp, Udp)) else None

    def evolve(self, **changes: object) -> "Packet":
        """A copy with ``changes`` (``dataclasses.replace`` without its per-call field walk: every
        hop re-frames the packet).  The cached length survives a new Ethernet or IP header."""
        new: Packet = _evolve_packet(self, **changes)
        if self._length >= 0 and changes.keys() <= _HEADERS_ONLY:
            _set(new, "_length", self._length)
        return new

    def with_ip(self, **changes: object) -> "Packet":
        assert self.ip is not None
        return self.evolve(ip=evolve(self.ip, **changes))

    def with_l4(self, **changes: object) -> "Packet":
        assert self.l4 is not None
        return self.evolve(l4=evolve(self.l4, **changes))

    def without_eth(self) -> "Packet":
        return self if self.eth is None else self.evolve(eth=None)

    def __str__(self) -> str:
        return describe(self)


def describe(pkt: Packet) -> str:
    """A tcpdump-like one-line summary.

    >>> from ipaddress import IPv4Address as A
    >>> describe(Packet(ip=IPv4(src=A("10.0.0.1"), dst=A("10.0.0.2"), proto=6),
    ...                 l4=Tcp(sport=40000, dport=80)))
    'IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S]'
    """
    if pkt.arp is not None:
        a = pkt.arp
        if a.op is ArpOp.REQUEST:
            return f"ARP, Request who-has {a.tpa} tell {a.spa}"
        return f"ARP, Reply {a.spa} is-at {a.sha}"
    if pkt.ip is None:
        return "frame"
    ip = pkt.ip
    if pkt.fragment is not None:
        # tcpdump's (frag ID:SIZE@OFFSET[+]) note; a later fragment has no L4 header to show
        frag = f" (frag {ip.id}:{pkt.fragment.size}@{ip.frag_off}{'+' if ip.mf else ''})"
        head = describe(replace(pkt, fragment=None)) if ip.frag_off == 0 else f"IP {ip.src} > {ip.dst}: ip-proto-{ip.proto}"
        return head + frag
    match pkt.l4:
        case Tcp() as t:
            return f"IP {ip.src}.{t.sport} > {ip.dst}.{t.dport}: Flags [{tcp_flags_text(t.flags)}]"
        case Udp() as u if pkt.vxlan is not None:
            return f"IP {ip.src}.{u.sport} > {ip.dst}.{u.dport}: VXLAN, vni {pkt.vxlan.vni}: {pkt.vxlan.frame}"
        case Udp() as u:
            return f"IP {ip.src}.{u.sport} > {ip.dst}.{u.dport}: UDP, length {len(pkt.payload)}"
        case Icmp() as i:
            return f"IP {ip.src} > {ip.dst}: ICMP {icmp_text(i)}"
        case _:
            return f"IP {ip.src} > {ip.dst}: ip-proto-{ip.proto}"


def tcp_flags_text(flags: TcpFlags) -> str:
    """tcpdump's flag letters: S, F, R, P, ., in tcpdump's order."""
    out = ""
    for flag, letter in ((TcpFlags.SYN, "S"), (TcpFlags.FIN, "F"), (TcpFlags.PSH, "P"),
                         (TcpFlags.RST, "R"), (TcpFlags.URG, "U")):
        if flags & flag:
            out += letter
    if flags & TcpFlags.ACK:
        out += "."
    return out or "none"


_UNREACH_TEXT = {
    0: "net {dst} unreachable", 1: "host {dst} unreachable", 2: "{dst} protocol {proto} unreachable",
    3: "{dst} {proto} port {port} unreachable", 4: "{dst} unreachable - need to frag (mtu {mtu})", 9: "net {dst} unreachable - admin prohibited",
    10: "host {dst} unreachable - admin prohibited", 13: "host {dst} unreachable - admin prohibited filter",
}


def icmp_text(icmp: Icmp) -> str:
    if icmp.type == IcmpType.ECHO_REQUEST:
        return f"echo request, id {icmp.id}, seq {icmp.seq}"
    if icmp.type == IcmpType.ECHO_REPLY:
        return f"echo reply, id {icmp.id}, seq {icmp.seq}"
    if icmp.type == IcmpType.TIME_EXCEEDED:
        return "time exceeded in-transit"
    if icmp.type == IcmpType.REDIRECT and icmp.quoted is not None and icmp.quoted.ip is not None:
        kind = "host" if icmp.code & 1 else "net"  # tcpdump's words
        return f"redirect {icmp.quoted.ip.dst} to {kind} {icmp.gateway}"
    if icmp.type == IcmpType.DEST_UNREACH and icmp.quoted is not None and icmp.quoted.ip is not None:
        q, qip = icmp.quoted, icmp.quoted.ip
        proto = IPProto(qip.proto).name.lower() if qip.proto in (1, 6, 17) else str(qip.proto)
        template = _UNREACH_TEXT.get(icmp.code, "{dst} unreachable - code " + str(icmp.code))
        return template.format(dst=qip.dst, proto=proto, port=q.dport, mtu=icmp.mtu)
    return f"type {icmp.type}, code {icmp.code}"


_HEADERS_ONLY = frozenset({"eth", "ip"})
"""Changes that keep a packet's length (the IP header's fields never change the total length)."""
_set = object.__setattr__


def make_evolver(cls: type) -> Callable[..., Any]:
    """``evolve(value, **changes)`` for one frozen, slotted dataclass: ``dataclasses.replace``
    without its per-call walk over the fields and ``__init__`` (a third of the cost: every hop
    evolves the packet and the skb).  Fields not given keep their values; an ``init=False``
    cache (such as :attr:`Packet.length`'s) is reset, as ``replace`` resets it.  An unknown
    field falls back to ``replace``, whose TypeError names it."""
    all_fields = fields(cls)
    names = [f.name for f in all_fields if f.init]
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_replace": replace,
                             "_known": frozenset(names)}
    lines = ["def evolve(self, **changes):",
             "    if not changes.keys() <= _known:",
             "        return _replace(self, **changes)",
             "    new = _new(_cls)"]
    for i, f in enumerate(all_fields):
        scope[f"_s{i}"] = getattr(cls, f.name).__set__  # the slot's own setter: no __setattr__ lookup
        lines.append(f"    _s{i}(new, self.{f.name})" if f.init else f"    _s{i}(new, _d{i})")
        scope[f"_d{i}"] = f.default
    lines += ["    for name, value in changes.items():", "        _set(new, name, value)", "    return new"]
    scope["_set"] = _set
    exec("\n".join(lines), scope)  # noqa: S102 - generated from the class's own field names
    fn: Callable[..., Any] = scope["evolve"]
    fn.__qualname__ = f"{cls.__name__}.evolve"
    return fn


_EVOLVERS: dict[type, Callable[..., Any]] = {}


def evolve(value: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for the packet's frozen, slotted header values (see :func:`make_evolver`)."""
    fn = _EVOLVERS.get(type(value))
    if fn is None:
        fn = _EVOLVERS[type(value)] = make_evolver(type(value))
    return fn(value, **changes)  # type: ignore[no-any-return]


_evolve_packet = make_evolver(Packet)


def _hash_once(cls: type) -> None:
    """Give a frozen value class a hash computed once, in its ``_hash`` slot: the L2 loop check
    (Tracer.first_visit) hashes every frame at every hop, and the IP and L4 headers pass many
    hops unchanged.  Pickled and copied without it (a str's hash differs between processes)."""
    names = tuple(f.name for f in fields(cls) if f.compare)
    state = tuple(f.name for f in fields(cls))
    get = attrgetter(*names)

    def __hash__(self: Any) -> int:
        h = self._hash
        if h is None:
            h = hash(get(self))
            _set(self, "_hash", h)
        return h  # type: ignore[no-any-return]

    def __getstate__(self: Any) -> list[Any]:
        return [None if name == "_hash" else getattr(self, name) for name in state]

    cls.__hash__ = __hash__  # type: ignore[method-assign,assignment]
    cls.__getstate__ = __getstate__  # type: ignore[method-assign,assignment]


for _cls in (IPv4, Tcp, Icmp, Packet):
    _hash_once(_cls)
