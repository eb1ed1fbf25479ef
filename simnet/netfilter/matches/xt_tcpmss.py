"""tcpmss: the MSS option of a TCP segment (a SYN's or SYN-ACK's). Kernel: xt_tcpmss.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err, parse_int
from simnet.packet import Tcp

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _mss_range(text: str) -> tuple[int, int]:
    """XTTYPE_UINT16RC: ``a[:b]``, an empty side meaning 0 or 65535 (iptables 1.8.9's words)."""
    lo_s, colon, hi_s = text.partition(":")

    def num(word: str) -> int:
        try:
            return parse_int(word, "mss", 0, 65535)
        except Exception:
            raise err(f"tcpmss: bad value for option \"--mss\" near \"{word}\", or out of range (0-65535).\n") \
                from None
    lo = num(lo_s) if lo_s else 0
    hi = (num(hi_s) if hi_s else 65535) if colon else lo
    if lo > hi:
        raise err("tcpmss: invalid range given")
    return lo, hi


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpmssMatch(Match):
    """``-p tcp -m tcpmss [!] --mss a[:b]``: a segment whose MSS option is in the range; one
    without the option matches only inverted (tcpmss_mt: ``return info->invert``)."""

    min: int
    max: int
    invert: bool = False

    module: ClassVar[str] = "tcpmss"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--mss", ("min", "max"), _mss_range, invert="invert", mandatory=True),
    )

    @classmethod
    def build(cls, opts: "Opts", proto: int | None) -> "TcpmssMatch":
        if "--mss" not in opts:  # xtables_options_fcheck's words end with a newline here
            raise err("tcpmss: option \"--mss\" must be specified\n")
        return cls(**cls.parse_options(opts))

    def _text(self) -> str:
        return str(self.min) if self.min == self.max else f"{self.min}:{self.max}"

    def save(self) -> str:
        return f"{_bang(self.invert)} --mss {self._text()}"

    def describe(self, numeric: bool) -> str:
        return f"tcpmss match {'!' if self.invert else ''}{self._text()}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        tcp = skb.packet.l4
        if not isinstance(tcp, Tcp) or tcp.options.mss is None:
            return self.invert
        return (self.min <= tcp.options.mss <= self.max) != self.invert
