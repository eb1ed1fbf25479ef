"""mac: the Ethernet source address. Kernel: xt_mac.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.addresses import AddressValueError, MacAddress
from simnet.netfilter.matches.base import Match, _bang
from simnet.netfilter.xtables import Opts, err

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


@dataclass(frozen=True, slots=True, kw_only=True)
class MacMatch(Match):
    """``-m mac --mac-source``: the Ethernet source. Kernel: xt_mac.c."""

    mac: MacAddress
    invert: bool = False

    module: ClassVar[str] = "mac"
    OPTIONS: ClassVar[dict[str, int]] = {"--mac-source": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "MacMatch":

        o = opts.get("--mac-source")
        if o is None:
            raise err("mac: option \"--mac-source\" must be specified")
        try:
            return cls(mac=MacAddress(o[1][0]), invert=o[0])
        except AddressValueError:
            raise err(f"Bad mac address \"{o[1][0]}\"") from None

    def save(self) -> str:
        return f"{_bang(self.invert)} --mac-source {self.mac}"

    def describe(self, numeric: bool) -> str:
        return f"MAC{' !' if self.invert else ''} {str(self.mac).upper()}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        eth = skb.packet.eth
        if eth is None:
            return False
        return (eth.src == self.mac) != self.invert
