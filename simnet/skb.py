"""The socket buffer: a packet plus the kernel's metadata about it.

Mirrors ``struct sk_buff``: what the wire carries is the :class:`Packet`; the
devices it came in or goes out on, its firewall mark and its conntrack
reference are metadata the kernel keeps beside it, visible to netfilter
matches but never transmitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from simnet.packet import Packet, make_evolver

if TYPE_CHECKING:
    from ipaddress import IPv4Address

    from simnet.netfilter.conntrack import Conn, CtInfo, CtZone


class PktType(Enum):
    """``skb->pkt_type``: how the frame was addressed at L2."""

    HOST = "host"
    BROADCAST = "broadcast"
    MULTICAST = "multicast"
    OTHERHOST = "otherhost"


@dataclass(frozen=True, slots=True, kw_only=True)
class Skb:
    packet: Packet
    indev: str | None = None
    """ifname the packet arrived on in the current namespace (``-i``); None for local output."""
    outdev: str | None = None
    """ifname chosen by routing (``-o``); None before the routing decision."""
    gateway: "IPv4Address | None" = None
    """The output route's gateway (``rt_nexthop(skb_rtable(skb), daddr)`` is it, else the
    destination); None while unrouted, for an on-link route and for bridged frames."""
    physindev: str | None = None
    """The bridge port it entered through (br_netfilter, ``-m physdev``)."""
    physoutdev: str | None = None
    bridged: bool = False
    """True while br_netfilter runs the IP hooks for a bridged frame."""
    mark: int = 0
    pkt_type: PktType = PktType.HOST
    ct: "Conn | None" = None
    """The conntrack entry, like ``skb->_nfct``; a reference into the namespace's table."""
    ctinfo: "CtInfo | None" = None
    ct_template: "CtZone | None" = None
    """The zone of the raw table's CT target: xt_CT attaches a template entry (ctinfo NEW, so
    ``--ctstate NEW`` matches in raw after it and a later CT or NOTRACK is ignored) that
    conntrack-in replaces with the real entry, looked up in this zone."""
    nf_trace: bool = False
    frag_max_size: int = 0
    """A reassembled datagram's largest fragment (``IPCB(skb)->frag_max_size``): forwarded on,
    it leaves in pieces no larger (ip_do_fragment), and with DF it gets no bigger path."""

    def evolve(self, **changes: Any) -> "Skb":
        """A copy with ``changes`` (every hook evolves the skb: see :func:`simnet.packet.make_evolver`)."""
        return _evolve(self, **changes)  # type: ignore[no-any-return]


_evolve = make_evolver(Skb)
Skb.evolve = _evolve  # type: ignore[method-assign]  # the generated copy itself: one call less per hook
