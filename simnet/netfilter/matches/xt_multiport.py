"""multiport: up to 15 ports or ranges. Kernel: xt_multiport.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err, parse_port_range, range_text
from simnet.packet import Tcp, Udp

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiportMatch(Match):
    """``-m multiport``: up to 15 ports (a range counts two). Kernel: xt_multiport.c."""

    direction: str
    """``"sports"``, ``"dports"`` or ``"ports"`` (either)."""
    ports: tuple[tuple[int, int], ...]
    invert: bool = False

    module: ClassVar[str] = "multiport"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # exactly one, naming the direction: read by build
        Option("--sports", None, aliases=("--source-ports",)),
        Option("--dports", None, aliases=("--destination-ports",)),
        Option("--ports", None),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "MultiportMatch":
        if proto not in (6, 17, 132, 33, 136):
            raise err("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
        if len(opts) != 1:
            raise err("multiport: can only specify one option" if opts else "multiport expects an option")
        (name, (inv, args)), = opts.items()
        pname = "udp" if proto == 17 else "tcp"
        ports = tuple(parse_port_range(p, pname, "invalid portrange specified") for p in args[0].split(","))
        if sum(1 if lo == hi else 2 for lo, hi in ports) > 15:
            raise err("too many ports specified")
        return cls(direction=name[2:], ports=ports, invert=inv)

    def save(self) -> str:
        return f"{_bang(self.invert)} --{self.direction} " + ",".join(range_text(lo, hi) for lo, hi in self.ports)

    def describe(self, numeric: bool) -> str:
        body = ",".join(range_text(lo, hi) for lo, hi in self.ports)
        return f"multiport {self.direction} {'!' if self.invert else ''}{body}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        l4 = skb.packet.l4
        if not isinstance(l4, (Tcp, Udp)):
            return False
        cands = {"sports": (l4.sport,), "dports": (l4.dport,), "ports": (l4.sport, l4.dport)}[self.direction]
        hit = any(lo <= p <= hi for p in cands for lo, hi in self.ports)
        return hit != self.invert
