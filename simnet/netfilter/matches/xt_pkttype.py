"""pkttype: how the frame was addressed at L2. Kernel: xt_pkttype.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import err
from simnet.skb import PktType

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


_PKTTYPES = {"unicast": PktType.HOST, "host": PktType.HOST, "broadcast": PktType.BROADCAST,
             "multicast": PktType.MULTICAST, "otherhost": PktType.OTHERHOST}
_PKTTYPE_NAME = {PktType.HOST: "unicast", PktType.BROADCAST: "broadcast",
                 PktType.MULTICAST: "multicast", PktType.OTHERHOST: "otherhost"}


def _pkt_type(text: str) -> PktType:
    t = _PKTTYPES.get(text.lower())
    if t is None:
        raise err(f"Bad packet type '{text}'")
    return t


@dataclass(frozen=True, slots=True, kw_only=True)
class PktTypeMatch(Match):
    """``-m pkttype --pkt-type``: ``skb.pkt_type``. Kernel: xt_pkttype.c."""

    pkt_type: PktType
    invert: bool = False

    module: ClassVar[str] = "pkttype"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--pkt-type", "pkt_type", _pkt_type, invert="invert", mandatory=True),
    )

    def save(self) -> str:
        return f"{_bang(self.invert)} --pkt-type {_PKTTYPE_NAME[self.pkt_type]}"

    def describe(self, numeric: bool) -> str:
        return f"PKTTYPE {'!' if self.invert else ''}= {_PKTTYPE_NAME[self.pkt_type]}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return (skb.pkt_type is self.pkt_type) != self.invert
