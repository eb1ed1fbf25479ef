"""icmp: ``--icmp-type``. Kernel: icmp_match() in net/ipv4/netfilter/ip_tables.c; libxt_icmp.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err, strtoui
from simnet.packet import Icmp

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


ICMP_NAMES: dict[str, tuple[int, int, int]] = {
    "any": (0xFF, 0, 0xFF),
    "echo-reply": (0, 0, 0xFF), "pong": (0, 0, 0xFF),
    "destination-unreachable": (3, 0, 0xFF),
    "network-unreachable": (3, 0, 0), "host-unreachable": (3, 1, 1),
    "protocol-unreachable": (3, 2, 2), "port-unreachable": (3, 3, 3),
    "fragmentation-needed": (3, 4, 4), "source-route-failed": (3, 5, 5),
    "network-unknown": (3, 6, 6), "host-unknown": (3, 7, 7),
    "network-prohibited": (3, 9, 9), "host-prohibited": (3, 10, 10),
    "TOS-network-unreachable": (3, 11, 11), "TOS-host-unreachable": (3, 12, 12),
    "communication-prohibited": (3, 13, 13), "host-precedence-violation": (3, 14, 14),
    "precedence-cutoff": (3, 15, 15),
    "source-quench": (4, 0, 0xFF),
    "redirect": (5, 0, 0xFF), "network-redirect": (5, 0, 0), "host-redirect": (5, 1, 1),
    "TOS-network-redirect": (5, 2, 2), "TOS-host-redirect": (5, 3, 3),
    "echo-request": (8, 0, 0xFF), "ping": (8, 0, 0xFF),
    "router-advertisement": (9, 0, 0xFF), "router-solicitation": (10, 0, 0xFF),
    "time-exceeded": (11, 0, 0xFF), "ttl-exceeded": (11, 0, 0xFF),
    "ttl-zero-during-transit": (11, 0, 0), "ttl-zero-during-reassembly": (11, 1, 1),
    "parameter-problem": (12, 0, 0xFF), "ip-header-bad": (12, 0, 0),
    "required-option-missing": (12, 1, 1),
    "timestamp-request": (13, 0, 0xFF), "timestamp-reply": (14, 0, 0xFF),
    "address-mask-request": (17, 0, 0xFF), "address-mask-reply": (18, 0, 0xFF),
}


def _parse_icmp_type(text: str) -> tuple[int, int, int]:
    """``--icmp-type``: a name, a case-insensitive prefix naming one type, ``T`` or ``T/C``; (type, code range)."""
    if text in ICMP_NAMES:
        return ICMP_NAMES[text]
    found = None
    for name in ICMP_NAMES:  # libxt_icmp: a case-insensitive prefix names one type only
        if name[:len(text)].lower() == text.lower():
            if found is not None:
                raise err(f"Ambiguous ICMP type `{text}': `{found}' or `{name}'?")
            found = name
    if found is not None:
        return ICMP_NAMES[found]
    t_s, slash, c_s = text.partition("/")
    num = strtoui(t_s, 255)
    if num is None:
        raise err(f"Unknown ICMP type `{text}'")
    if slash:
        c = strtoui(c_s, 255)
        if c is None:
            raise err(f"Unknown ICMP code `{text}'")
        return num, c, c
    return num, 0, 0xFF


@dataclass(frozen=True, slots=True, kw_only=True)
class IcmpMatch(Match):
    """``-m icmp --icmp-type``. Kernel: xt_tcpudp.c/ip_tables.c icmp_match(); type 255 = any."""

    type: int
    code_min: int = 0
    code_max: int = 0xFF
    invert: bool = False

    module: ClassVar[str] = "icmp"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--icmp-type", ("type", "code_min", "code_max"), _parse_icmp_type, invert="invert"),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "IcmpMatch":
        return cls(**({"type": 0xFF} | cls.parse_options(opts)))  # no --icmp-type: any type

    def _type_text(self) -> str:
        if self.type == 0xFF:
            return "any"
        if self.code_min == 0 and self.code_max == 0xFF:
            return str(self.type)
        return f"{self.type}/{self.code_min}"

    def save(self) -> str:
        return f"{_bang(self.invert)} --icmp-type {self._type_text()}"

    def describe(self, numeric: bool) -> str:
        bang = "!" if self.invert else ""
        if not numeric:
            for name, spec in ICMP_NAMES.items():
                if spec == (self.type, self.code_min, self.code_max):
                    return f"icmp {bang}{name}"
        s = f"icmptype {bang}{self.type}"
        if self.code_min == self.code_max:
            s += f" code {self.code_min}"
        elif self.code_min != 0 or self.code_max != 0xFF:
            s += f" codes {self.code_min}-{self.code_max}"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        l4 = skb.packet.l4
        if not isinstance(l4, Icmp):
            return False
        hit = self.type == 0xFF or (l4.type == self.type and self.code_min <= l4.code <= self.code_max)
        return hit != self.invert
