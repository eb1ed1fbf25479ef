"""Connection tracking: the one stateful piece of netfilter.

Kernel: net/netfilter/nf_conntrack_core.c.  An entry holds the original and
reply tuples; NAT rewrites the reply tuple when the first packet passes the
nat table, and every later packet of the connection, in either direction, is
translated from the entry (nf_nat_packet), never by re-running the rules.
Each tuple is keyed together with its zone's id for its direction
(:class:`CtZone`): the raw table's CT target chooses the zone a packet is
looked up in, so one flow can be two connections in two zones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntFlag, StrEnum
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, ClassVar, NamedTuple

if TYPE_CHECKING:
    from simnet.netfilter.nat import Manip


class TcpCtState(StrEnum):
    """``enum tcp_conntrack``: the TCP tracker's states simnet walks through (their
    ``conntrack -L`` words)."""

    SYN_SENT = "SYN_SENT"
    SYN_RECV = "SYN_RECV"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT = "FIN_WAIT"
    CLOSE_WAIT = "CLOSE_WAIT"
    LAST_ACK = "LAST_ACK"
    TIME_WAIT = "TIME_WAIT"
    CLOSE = "CLOSE"


class CtState(Enum):
    """``-m conntrack --ctstate`` values."""

    INVALID = "INVALID"
    NEW = "NEW"
    ESTABLISHED = "ESTABLISHED"
    RELATED = "RELATED"
    UNTRACKED = "UNTRACKED"
    SNAT = "SNAT"
    DNAT = "DNAT"


class CtDir(Enum):
    ORIGINAL = "ORIGINAL"
    REPLY = "REPLY"


class CtStatus(IntFlag):
    """``enum ip_conntrack_status`` bits (include/uapi/linux/netfilter/nf_conntrack_common.h)."""

    EXPECTED = 1 << 0
    SEEN_REPLY = 1 << 1
    ASSURED = 1 << 2
    CONFIRMED = 1 << 3
    SRC_NAT = 1 << 4
    DST_NAT = 1 << 5
    SRC_NAT_DONE = 1 << 7
    DST_NAT_DONE = 1 << 8
    DYING = 1 << 9


@dataclass(frozen=True, slots=True)
class CtTuple:
    """``struct nf_conntrack_tuple``: src, dst, protocol and the L4 ids.

    For ICMP the "ports" are (id, type) in the original direction as in the
    kernel: sport carries the echo id, dport the type.
    """

    src: IPv4Address
    dst: IPv4Address
    proto: int
    sport: int
    dport: int

    def inverted(self) -> "CtTuple":
        if self.proto == 1:
            # echo request (8) <-> echo reply (0): the id stays, the type inverts
            inv_type = {8: 0, 0: 8, 13: 14, 14: 13}.get(self.dport, self.dport)
            return CtTuple(self.dst, self.src, 1, self.sport, inv_type)
        return CtTuple(self.dst, self.src, self.proto, self.dport, self.sport)

    def __str__(self) -> str:
        if self.proto == 1:
            return f"src={self.src} dst={self.dst} type={self.dport} code=0 id={self.sport}"
        return f"src={self.src} dst={self.dst} sport={self.sport} dport={self.dport}"


@dataclass(frozen=True, slots=True)
class CtInfo:
    """``enum ip_conntrack_info`` as the skb carries it: state and direction."""

    state: CtState
    direction: CtDir = CtDir.ORIGINAL


UNTRACKED = CtInfo(CtState.UNTRACKED)


@dataclass(frozen=True, slots=True)
class CtZone:
    """``struct nf_conntrack_zone``: an id, the directions it applies to, and the mark flag.

    ``dirs`` is the kernel's bitmask (1 << IP_CT_DIR_ORIGINAL | 1 << IP_CT_DIR_REPLY): a zone set
    with ``--zone-orig`` keys only the original tuple, ``--zone-reply`` only the reply tuple, and
    the other direction stays in the default zone 0 (:meth:`id_for`).  ``from_mark``: a CT
    template's ``--zone mark``, whose id is read from the packet's mark at conntrack-in
    (:meth:`resolve`); an entry's zone never has it.
    """

    id: int = 0
    dirs: int = 3
    from_mark: bool = False

    ORIG: ClassVar[int] = 1
    REPLY: ClassVar[int] = 2

    def id_for(self, direction: "CtDir") -> int:
        """nf_ct_zone_id: the id a tuple of this direction is keyed by (0 where the zone does not apply)."""
        return self.id if self.dirs & (self.ORIG if direction is CtDir.ORIGINAL else self.REPLY) else 0

    def resolve(self, mark: int) -> "CtZone":
        """nf_ct_zone_tmpl: a mark zone takes its id from the skb's mark (truncated to 16 bits)."""
        return CtZone(mark & 0xFFFF, self.dirs) if self.from_mark else self

    def listing(self) -> tuple[str, str, str]:
        """The ``zone-orig=``, ``zone-reply=`` and ``zone=`` words ``conntrack -L`` prints ('' when none).

        ctnetlink_dump_zone_id: a zone of both directions is CTA_ZONE, a directional one the
        tuple's CTA_TUPLE_ZONE; the default id 0 is never dumped.
        """
        if not self.id:
            return "", "", ""
        if self.dirs == self.ORIG | self.REPLY:
            return "", "", f"zone={self.id}"
        if self.dirs == self.ORIG:
            return f"zone-orig={self.id}", "", ""
        return "", f"zone-reply={self.id}", ""


DEFAULT_ZONE = CtZone()


@dataclass(slots=True, eq=False)
class Conn:
    """``struct nf_conn``: a tracked connection (mutable; owned by a ConntrackTable)."""

    id: int
    orig: CtTuple
    reply: CtTuple
    status: CtStatus = CtStatus(0)
    tcp_state: "TcpCtState | None" = None
    mark: int = 0
    zone: CtZone = DEFAULT_ZONE
    """The zone the entry was created in: its tuples are keyed by ``zone.id_for(direction)``."""
    timeout: int = 0
    expires: float = 0.0
    """Simulated time at which the entry dies unless a packet refreshes it."""
    related_to: "Conn | None" = None
    stream_ts: float = 0.0
    """UDP: after this time, traffic both ways makes the entry ASSURED (first packet + 2 s)."""
    nat_bound: "set[Manip]" = field(default_factory=set)
    """Which NAT manips ('src', 'dst') have been decided (incl. the null binding)."""
    masq_dev: str | None = None
    """``nf_conn_nat.masq_index``: the device MASQUERADE bound the connection on (None: not masqueraded)."""


_ZERO_TUPLE = CtTuple(IPv4Address(0), IPv4Address(0), 0, 0, 0)


def template_conn(zone: CtZone) -> Conn:
    """The CT target's template as matches see it in raw before conntrack-in (xt_ct_tg_check:
    nf_ct_tmpl_alloc, IPS_CONFIRMED set): zeroed tuples, mark 0, the rule's zone."""
    return Conn(id=0, orig=_ZERO_TUPLE, reply=_ZERO_TUPLE, status=CtStatus.CONFIRMED, zone=zone)


class CtRef(NamedTuple):
    """A typed ``skb->_nfct``: the entry (None when untracked) and the ctinfo that go with a
    packet where the stack hands them on (a looped-back skb, a REJECT's or an ICMP error's
    answer attached to the entry it answers)."""

    conn: "Conn | None"
    info: CtInfo
