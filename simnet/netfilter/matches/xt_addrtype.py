"""addrtype: the routing type of the source/destination. Kernel: xt_addrtype.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.context import AddrType
from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


ADDRTYPE_ORDER = tuple(AddrType)


def _parse_addrtypes(text: str) -> frozenset[AddrType]:
    out = set()
    for word in text.split(","):
        try:
            out.add(AddrType(word.upper()))
        except ValueError:
            raise err(f"addrtype: invalid address type `{word}'") from None
    return frozenset(out)


def _addrtypes_text(types: frozenset[AddrType]) -> str:
    return ",".join(t.value for t in ADDRTYPE_ORDER if t in types)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddrTypeMatch(Match):
    """``-m addrtype``. Kernel: xt_addrtype.c; asks ``ctx.addr_type(ip, dev)``."""

    src_types: frozenset[AddrType] | None = None
    src_invert: bool = False
    dst_types: frozenset[AddrType] | None = None
    dst_invert: bool = False
    limit_iface_in: bool = False
    limit_iface_out: bool = False

    module: ClassVar[str] = "addrtype"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--src-type", "src_types", _parse_addrtypes, invert="src_invert"),
        Option("--dst-type", "dst_types", _parse_addrtypes, invert="dst_invert"),
        Option("--limit-iface-in", "limit_iface_in"),
        Option("--limit-iface-out", "limit_iface_out"),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "AddrTypeMatch":
        kw = cls.parse_options(opts)
        if "--limit-iface-in" in opts and "--limit-iface-out" in opts:
            raise err("addrtype: you can't specify both --limit-iface-in and --limit-iface-out")
        if "src_types" not in kw and "dst_types" not in kw:
            raise err("addrtype: you must specify --src-type or --dst-type")
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.src_types is not None:
            s += f"{_bang(self.src_invert)} --src-type {_addrtypes_text(self.src_types)}"
        if self.dst_types is not None:
            s += f"{_bang(self.dst_invert)} --dst-type {_addrtypes_text(self.dst_types)}"
        if self.limit_iface_in:
            s += " --limit-iface-in"
        if self.limit_iface_out:
            s += " --limit-iface-out"
        return s

    def describe(self, numeric: bool) -> str:
        s = "ADDRTYPE match"
        if self.src_types is not None:
            s += f" src-type {'!' if self.src_invert else ''}{_addrtypes_text(self.src_types)}"
        if self.dst_types is not None:
            s += f" dst-type {'!' if self.dst_invert else ''}{_addrtypes_text(self.dst_types)}"
        if self.limit_iface_in:
            s += " limit-in"
        if self.limit_iface_out:
            s += " limit-out"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        if ip is None:
            return False
        dev = skb.indev if self.limit_iface_in else skb.outdev if self.limit_iface_out else None
        if self.src_types is not None and ((ctx.addr_type(ip.src, dev) in self.src_types) == self.src_invert):
            return False
        if self.dst_types is not None and ((ctx.addr_type(ip.dst, dev) in self.dst_types) == self.dst_invert):
            return False
        return True
