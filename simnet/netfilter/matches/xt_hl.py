"""ttl: the IP TTL (ipt_ttl). Kernel: xt_hl.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option
from simnet.netfilter.xtables import Opts, err, parse_int

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class TtlMatch(Match):
    """``-m ttl --ttl-eq/--ttl-gt/--ttl-lt`` (``! --ttl-eq`` is ``ne``). Kernel: xt_ttl (ipt_ttl)."""

    op: str
    """``"eq"``, ``"ne"``, ``"lt"`` or ``"gt"``."""
    value: int

    module: ClassVar[str] = "ttl"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (  # exactly one, naming the comparison: read by build
        Option("--ttl-eq", None), Option("--ttl-gt", None), Option("--ttl-lt", None),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "TtlMatch":
        if len(opts) != 1:
            raise err("ttl: exactly one of --ttl-eq, --ttl-lt or --ttl-gt is required")
        (name, (inv, args)), = opts.items()
        if inv and name != "--ttl-eq":
            raise err(f"ttl: unexpected `!' before {name}")
        op = "ne" if inv else name[6:]
        return cls(op=op, value=parse_int(args[0], "TTL", 0, 255))

    def save(self) -> str:
        if self.op == "ne":
            return f" ! --ttl-eq {self.value}"
        return f" --ttl-{self.op} {self.value}"

    def describe(self, numeric: bool) -> str:
        sym = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">"}[self.op]
        return f"TTL match TTL {sym} {self.value}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        if ip is None:
            return False
        t = ip.ttl
        return {"eq": t == self.value, "ne": t != self.value, "lt": t < self.value, "gt": t > self.value}[self.op]
