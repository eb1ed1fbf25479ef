"""length: the IP packet's length. Kernel: xt_length.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, _bang
from simnet.netfilter.xtables import Opts, err, parse_int, range_text

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthMatch(Match):
    """``-m length --length a[:b]``: IP total length. Kernel: xt_length.c."""

    min: int
    max: int
    invert: bool = False

    module: ClassVar[str] = "length"
    OPTIONS: ClassVar[dict[str, int]] = {"--length": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "LengthMatch":
        o = opts.get("--length")
        if o is None:
            raise err("length: option \"--length\" must be specified")
        lo_s, colon, hi_s = o[1][0].partition(":")
        lo = parse_int(lo_s, "length", 0, 65535) if lo_s else 0
        hi = (parse_int(hi_s, "length", 0, 65535) if hi_s else 65535) if colon else lo
        if lo > hi:
            raise err(f"length: Bad value for option \"--length\", \"{o[1][0]}\"")
        return cls(min=lo, max=hi, invert=o[0])

    def save(self) -> str:
        return f"{_bang(self.invert)} --length {range_text(self.min, self.max)}"

    def describe(self, numeric: bool) -> str:
        return f"length {'!' if self.invert else ''}{range_text(self.min, self.max)}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return (self.min <= skb.packet.length <= self.max) != self.invert
