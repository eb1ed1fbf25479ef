"""mac: the Ethernet source address. Kernel: xt_mac.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.addresses import AddressValueError, MacAddress
from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import err

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


def _mac(text: str) -> MacAddress:
    try:
        return MacAddress(text)
    except AddressValueError:
        raise err("Invalid MAC address specified.") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class MacMatch(Match):
    """``-m mac --mac-source``: the Ethernet source. Kernel: xt_mac.c."""

    mac: MacAddress
    invert: bool = False

    module: ClassVar[str] = "mac"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--mac-source", "mac", _mac, invert="invert", mandatory=True),
    )

    def save(self) -> str:
        return f"{_bang(self.invert)} --mac-source {self.mac}"

    def describe(self, numeric: bool) -> str:
        return f"MAC{' !' if self.invert else ''} {str(self.mac).upper()}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        eth = skb.packet.eth
        if eth is None:
            return False
        return (eth.src == self.mac) != self.invert
