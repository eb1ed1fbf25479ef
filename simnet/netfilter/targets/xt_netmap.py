"""NETMAP: map one network onto another, host part kept. Kernel: xt_NETMAP.c; libxt_NETMAP.c."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import ClassVar

from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.targets.xt_nat import NatRange
from simnet.netfilter.xtables import U32, Opts, parse_network, strtoui


@dataclass(frozen=True, slots=True, kw_only=True)
class Netmap(_Base):
    """NETMAP (nat, any hook): map a whole network onto another, host part kept. Kernel: xt_NETMAP.c.

    netmap_tg4: in PREROUTING/OUTPUT the destination, in POSTROUTING/INPUT the source becomes
    ``(addr & ~mask) | (to & mask)``; the connection is then bound as DNAT/SNAT to that one address
    (:meth:`mapped`), ports kept.
    """

    network: IPv4Address
    prefixlen: int = 32

    name: ClassVar[str] = "NETMAP"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--to": 1}

    @classmethod
    def duplicate(cls, option: str) -> str:
        return f"NETMAP: option \"{option}\" can only be used once.\n"

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Netmap":
        o = opts.get("--to")
        if o is None:
            raise _err("NETMAP: option \"--to\" must be specified")
        if o[0]:
            raise _err("NETMAP: option \"--to\" cannot be inverted.")
        addr, slash, mask = o[1][0].partition("/")
        host = parse_network(addr).network_address
        plen = 32
        if slash:
            n = strtoui(mask, U32)
            if n is not None:
                plen = min(n, 32)  # XTTYPE_HOSTMASK: a length past 32 is 32 (iptables 1.8.9)
            else:
                dotted = parse_network(mask).network_address
                inv = ~int(dotted) & U32
                plen = 32 - inv.bit_length() if not inv & (inv + 1) else 32  # non-contiguous: kept as /32
        net = IPv4Network((int(host) & (U32 << (32 - plen)) & U32, plen))
        return cls(network=net.network_address, prefixlen=plen)

    @property
    def mask(self) -> int:
        return (U32 << (32 - self.prefixlen)) & U32

    def mapped(self, addr: IPv4Address) -> NatRange:
        """The one-address range the connection is bound to (nf_nat_setup_info's newrange)."""
        new = IPv4Address((int(addr) & ~self.mask & U32) | (int(self.network) & self.mask))
        return NatRange(min_ip=new, max_ip=new)

    def save(self) -> str:
        return f" --to {self.network}/{self.prefixlen}"

    def describe(self, numeric: bool) -> str:
        return f"to:{self.network}/{self.prefixlen}"
