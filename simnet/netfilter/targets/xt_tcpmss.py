"""TCPMSS: lower the MSS option of TCP segments passing a hook. Kernel: xt_TCPMSS.c.

iptables 1.8.9's libxt_TCPMSS words (checked on 6.18): ``--set-mss`` takes 0-65515 (strtoul,
base 0), ``--set-mss`` and ``--clamp-mss-to-pmtu`` may both be given and the later one wins,
neither is "TCPMSS target: At least one parameter is required". The kernel refuses the rule
without ``-p tcp`` and ``--clamp-mss-to-pmtu`` outside FORWARD, OUTPUT and POSTROUTING
("RULE_APPEND failed (Invalid argument)"); under nf_tables it does not insist on a SYN match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts
from simnet.packet import Tcp

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb

MAX_SET_MSS = 0xFFFF - 20
"""libxt_TCPMSS: ``--set-mss`` at most 65515 (0xffff is the clamp's marker)."""
IPV4_NO_MSS_DEFAULT = 536
"""A segment without an MSS option gets one of at most 536 (RFC 1122's default)."""


def _strtoul(text: str) -> int | None:
    """xtables_strtoui: base 0 (``0x10`` is 16, ``010`` is 8), the whole word."""
    try:
        if text[:2].lower() == "0x":
            return int(text[2:], 16)
        if len(text) > 1 and text[0] == "0":
            return int(text, 8)
        return int(text, 10) if text.isascii() and text.isdigit() else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tcpmss(_Base):
    """TCPMSS: ``mss`` the ``--set-mss`` value, None for ``--clamp-mss-to-pmtu``."""

    mss: int | None = None

    name: ClassVar[str] = "TCPMSS"
    OPTIONS: ClassVar[dict[str, int]] = {"--set-mss": 1, "--clamp-mss-to-pmtu": 0}

    @classmethod
    def duplicate(cls, option: str) -> str:
        return f"TCPMSS: option \"{option}\" can only be used once.\n"

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Tcpmss":
        given = [k for k in opts if k in cls.OPTIONS]
        if not given:
            raise _err("TCPMSS target: At least one parameter is required")
        if (o := opts.get("--set-mss")) is not None:
            value = _strtoul(o[1][0])
            if value is None or value > MAX_SET_MSS:
                raise _err(f"TCPMSS: bad value for option \"--set-mss\", or out of range (0-{MAX_SET_MSS}).\n")
            if given[-1] == "--set-mss":
                return cls(mss=value)
        return cls()

    def save(self) -> str:
        return " --clamp-mss-to-pmtu" if self.mss is None else f" --set-mss {self.mss}"

    def describe(self, numeric: bool) -> str:
        return "TCPMSS clamp to PMTU" if self.mss is None else f"TCPMSS set {self.mss}"

    def new_mss(self, skb: "Skb", ctx: "MatchContext") -> int | None:
        """The MSS this rule allows: ``--set-mss``, or the smaller of the output route's MTU and
        the MTU of the route back to the sender, less 40 (tcpmss_reverse_mtu); None: the path
        MTU is unknown or too small and the kernel drops the packet."""
        if self.mss is not None:
            return self.mss
        from simnet.tcp_output import TCPIP_HEADERS, route_mtu

        ns, ip = ctx.netns, skb.packet.ip
        if ns is None or ip is None:
            return None
        mtus = []
        back = ns.lookup(ip.src)
        if back is not None:
            mtus.append(route_mtu(ns, back))
        if skb.outdev is not None:
            route = ns.lookup(ip.dst, mark=skb.mark)
            if route is not None and route.dev == skb.outdev:
                mtus.append(route_mtu(ns, route))
            elif (dev := ns.devices.get(skb.outdev)) is not None:
                mtus.append(dev.mtu)
        if not mtus or min(mtus) <= TCPIP_HEADERS:
            return None  # "unknown or invalid path-MTU": NF_DROP
        return min(mtus) - TCPIP_HEADERS

    def mangle(self, skb: "Skb", ctx: "MatchContext") -> "Skb | None":
        """tcpmss_mangle_packet: lower an MSS option above the new MSS (never raise it); add
        one of at most 536 to a segment without it and without data. None: drop."""
        pkt = skb.packet
        tcp = pkt.l4
        if not isinstance(tcp, Tcp) or pkt.ip is None or pkt.ip.frag_off:
            return skb
        new = self.new_mss(skb, ctx)
        if new is None:
            return None
        old = tcp.options.mss
        if old is not None:
            if old <= new:
                return skb
        elif pkt.payload or tcp.length >= 60:
            return skb  # data after the header, or no room in the data offset: left as it is
        else:
            new = min(new, IPV4_NO_MSS_DEFAULT)
        from dataclasses import replace

        return skb.evolve(packet=pkt.with_l4(options=replace(tcp.options, mss=new)))
