"""iprange: address ranges. Kernel: xt_iprange.c."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _parse_range(text: str) -> tuple[IPv4Address, IPv4Address]:
    lo_s, dash, hi_s = text.partition("-")
    try:
        lo = IPv4Address(lo_s)
        hi = IPv4Address(hi_s) if dash else lo
    except ValueError:
        raise err(f"iprange: could not parse range \"{text}\"") from None
    return lo, hi


@dataclass(frozen=True, slots=True, kw_only=True)
class IpRangeMatch(Match):
    """``-m iprange``: inclusive address ranges. Kernel: xt_iprange.c."""

    src_range: tuple[IPv4Address, IPv4Address] | None = None
    src_invert: bool = False
    dst_range: tuple[IPv4Address, IPv4Address] | None = None
    dst_invert: bool = False

    module: ClassVar[str] = "iprange"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--src-range", "src_range", _parse_range, invert="src_invert"),
        Option("--dst-range", "dst_range", _parse_range, invert="dst_invert"),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "IpRangeMatch":
        kw = cls.parse_options(opts)
        if not kw:
            raise err("iprange match: You must specify `--src-range' or `--dst-range'")
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.src_range is not None:
            s += f"{_bang(self.src_invert)} --src-range {self.src_range[0]}-{self.src_range[1]}"
        if self.dst_range is not None:
            s += f"{_bang(self.dst_invert)} --dst-range {self.dst_range[0]}-{self.dst_range[1]}"
        return s

    def describe(self, numeric: bool) -> str:
        s = ""
        if self.src_range is not None:
            s += f"source IP range {'! ' if self.src_invert else ''}{self.src_range[0]}-{self.src_range[1]}"
        if self.dst_range is not None:
            s += f"{' ' if s else ''}destination IP range {'! ' if self.dst_invert else ''}{self.dst_range[0]}-{self.dst_range[1]}"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        if ip is None:
            return False
        if self.src_range is not None and ((self.src_range[0] <= ip.src <= self.src_range[1]) == self.src_invert):
            return False
        if self.dst_range is not None and ((self.dst_range[0] <= ip.dst <= self.dst_range[1]) == self.dst_invert):
            return False
        return True
