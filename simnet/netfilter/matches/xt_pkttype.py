"""pkttype: how the frame was addressed at L2. Kernel: xt_pkttype.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, _bang
from simnet.netfilter.xtables import Opts, err
from simnet.skb import PktType

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


_PKTTYPES = {"unicast": PktType.HOST, "host": PktType.HOST, "broadcast": PktType.BROADCAST,
             "multicast": PktType.MULTICAST, "otherhost": PktType.OTHERHOST}
_PKTTYPE_NAME = {PktType.HOST: "unicast", PktType.BROADCAST: "broadcast",
                 PktType.MULTICAST: "multicast", PktType.OTHERHOST: "otherhost"}


@dataclass(frozen=True, slots=True, kw_only=True)
class PktTypeMatch(Match):
    """``-m pkttype --pkt-type``: ``skb.pkt_type``. Kernel: xt_pkttype.c."""

    pkt_type: PktType
    invert: bool = False

    module: ClassVar[str] = "pkttype"
    OPTIONS: ClassVar[dict[str, int]] = {"--pkt-type": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "PktTypeMatch":
        o = opts.get("--pkt-type")
        if o is None:
            raise err("pkttype: option \"--pkt-type\" must be specified")
        t = _PKTTYPES.get(o[1][0].lower())
        if t is None:
            raise err(f"Bad packet type '{o[1][0]}'")
        return cls(pkt_type=t, invert=o[0])

    def save(self) -> str:
        return f"{_bang(self.invert)} --pkt-type {_PKTTYPE_NAME[self.pkt_type]}"

    def describe(self, numeric: bool) -> str:
        return f"PKTTYPE {'!' if self.invert else ''}= {_PKTTYPE_NAME[self.pkt_type]}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return (skb.pkt_type is self.pkt_type) != self.invert
