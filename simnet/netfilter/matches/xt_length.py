"""length: the IP packet's length. Kernel: xt_length.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import err, parse_int, range_text

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _length_range(text: str) -> tuple[int, int]:
    """XTTYPE_UINT16RC: ``a[:b]``, an empty side meaning 0 or 65535."""
    lo_s, colon, hi_s = text.partition(":")
    lo = parse_int(lo_s, "length", 0, 65535) if lo_s else 0
    hi = (parse_int(hi_s, "length", 0, 65535) if hi_s else 65535) if colon else lo
    if lo > hi:
        raise err(f"length: Bad value for option \"--length\", \"{text}\"")
    return lo, hi


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthMatch(Match):
    """``-m length --length a[:b]``: IP total length. Kernel: xt_length.c."""

    min: int
    max: int
    invert: bool = False

    module: ClassVar[str] = "length"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--length", ("min", "max"), _length_range, invert="invert", mandatory=True),
    )

    def save(self) -> str:
        return f"{_bang(self.invert)} --length {range_text(self.min, self.max)}"

    def describe(self, numeric: bool) -> str:
        return f"length {'!' if self.invert else ''}{range_text(self.min, self.max)}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return (self.min <= skb.packet.length <= self.max) != self.invert
