"""rpfilter: reverse-path filtering through the FIB. Kernel: net/ipv4/netfilter/ipt_rpfilter.c; libxt_rpfilter.c."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _once
from simnet.routing import RouteType

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb

_FLAGS = ("loose", "validmark", "accept-local", "invert")
_ZERONET = IPv4Network("0.0.0.0/8")
_LOCAL_MCAST = IPv4Network("224.0.0.0/24")
_LBCAST = IPv4Address("255.255.255.255")


@dataclass(frozen=True, slots=True, kw_only=True)
class RpfilterMatch(Match):
    """``-m rpfilter``: the packet's source routes back out of the device it came in by.

    Kernel: rpfilter_mt().  Loopback packets match; a ``0.0.0.0/8`` source to the
    limited broadcast or 224.0.0.0/24 matches; otherwise the FIB is asked for the
    source as a destination (from ``lo``, the packet's destination as source unless
    multicast/broadcast/zeronet, the packet's mark with ``--validmark``): a unicast
    route (or a local one with ``--accept-local``) whose device is the input device
    matches, any device with ``--loose``.  ``--invert`` flips the whole result.
    """

    loose: bool = False
    validmark: bool = False
    accept_local: bool = False
    invert: bool = False

    module: ClassVar[str] = "rpfilter"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--loose", "loose"), Option("--validmark", "validmark"), Option("--accept-local", "accept_local"),
        Option("--invert", "invert"),
    )

    @classmethod
    def duplicate(cls, option: str) -> str:
        return _once("rpfilter", option)

    def save(self) -> str:
        return "".join(f" --{f}" for f, on in zip(_FLAGS, (self.loose, self.validmark, self.accept_local, self.invert))
                       if on)

    def describe(self, numeric: bool) -> str:
        return "rpfilter" + "".join(f" {f}" for f, on in zip(
            ("loose", "validmark", "accept-local", "invert"), (self.loose, self.validmark, self.accept_local, self.invert))
            if on)

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return self._lookup(skb, ctx) != self.invert

    def _lookup(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ns = ctx.netns
        ip = skb.packet.ip
        if ip is None or ns is None:
            return False
        if skb.indev == "lo":
            return True  # rpfilter_is_loopback
        if ip.src in _ZERONET and (ip.dst == _LBCAST or ip.dst in _LOCAL_MCAST):
            return True
        dst = ip.dst
        saddr = None if (dst.is_multicast or dst == _LBCAST or dst in _ZERONET) else dst
        route = ns.fib.lookup(ip.src, src=saddr, iif="lo", mark=skb.mark if self.validmark else 0)
        if route is None:
            return False
        if route.type is not RouteType.UNICAST and (route.type is not RouteType.LOCAL or not self.accept_local):
            return False
        return route.dev == skb.indev or self.loose
