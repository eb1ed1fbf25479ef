"""tcp and udp: ports, TCP flags and options. Kernel: net/netfilter/xt_tcpudp.c; libxt_tcp.c, libxt_udp.c."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err, parse_int, parse_mport, parse_port_range, port_name, range_text
from simnet.packet import Tcp, Udp

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


_TCP_FLAG_NAMES = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20))
_TCP_FLAG_PARSE = dict(_TCP_FLAG_NAMES) | {"ALL": 0x3F, "NONE": 0}


def parse_tcp_flags(text: str) -> int:
    value = 0
    for word in text.split(","):
        try:
            value |= _TCP_FLAG_PARSE[word.upper()]
        except KeyError:
            raise err(f"Unknown TCP flag `{word}'") from None
    return value


def _tcp_ports(text: str) -> tuple[int, int]:
    return parse_port_range(text, "tcp")


def _udp_ports(text: str) -> tuple[int, int]:
    return parse_udp_ports(text)


def tcp_flags_text(flags: int) -> str:
    if not flags:
        return "NONE"
    return ",".join(name for name, bit in _TCP_FLAG_NAMES if flags & bit)


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpMatch(Match):
    """``-m tcp``: ports, flags, options. Kernel: xt_tcpudp.c tcp_mt()."""

    sport: tuple[int, int] | None = None
    sport_invert: bool = False
    dport: tuple[int, int] | None = None
    dport_invert: bool = False
    flags_mask: int | None = None
    flags_comp: int = 0
    flags_invert: bool = False
    option: int | None = None
    """``--tcp-option N``: the segment carries an option of kind N (tcp_find_option)."""
    option_invert: bool = False

    module: ClassVar[str] = "tcp"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--sport", "sport", _tcp_ports, invert="sport_invert", aliases=("--source-port",)),
        Option("--dport", "dport", _tcp_ports, invert="dport_invert", aliases=("--destination-port",)),
        Option("--tcp-flags", None, nargs=2),  # with --syn: read below
        Option("--syn", None, nargs=0),
        Option("--tcp-option", None),
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "TcpMatch":
        kw = cls.parse_options(opts)
        if (o := opts.get("--tcp-flags")) is not None:
            if "--syn" in opts:
                raise err("tcp: \"--syn\" and \"--tcp-flags\" cannot be used together")
            kw.update(flags_mask=parse_tcp_flags(o[1][0]), flags_comp=parse_tcp_flags(o[1][1]), flags_invert=o[0])
        elif (o := opts.get("--syn")) is not None:
            kw.update(flags_mask=0x17, flags_comp=0x02, flags_invert=o[0])
        if (o := opts.get("--tcp-option")) is not None:
            kw.update(option=parse_int(o[1][0], "TCP option", 0, 255), option_invert=o[0])
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.sport is not None:
            s += f"{_bang(self.sport_invert)} --sport {range_text(*self.sport)}"
        if self.dport is not None:
            s += f"{_bang(self.dport_invert)} --dport {range_text(*self.dport)}"
        if self.option is not None:
            s += f"{_bang(self.option_invert)} --tcp-option {self.option}"
        if self.flags_mask is not None:
            s += f"{_bang(self.flags_invert)} --tcp-flags {tcp_flags_text(self.flags_mask)} {tcp_flags_text(self.flags_comp)}"
        return s

    def describe(self, numeric: bool) -> str:
        s = "tcp"
        s += _describe_ports("spt", self.sport, self.sport_invert, "tcp", numeric)
        s += _describe_ports("dpt", self.dport, self.dport_invert, "tcp", numeric)
        if self.option is not None:
            s += f" option={'!' if self.option_invert else ''}{self.option}"
        if self.flags_mask is not None:
            # libxt_tcp's print_tcpf: hex under -n, flag names otherwise
            mask, comp = (f"0x{self.flags_mask:02X}", f"0x{self.flags_comp:02X}") if numeric else (
                tcp_flags_text(self.flags_mask), tcp_flags_text(self.flags_comp or 0))
            s += f" flags:{'!' if self.flags_invert else ''}{mask}/{comp}"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        l4 = skb.packet.l4
        if not isinstance(l4, Tcp):
            return False
        if self.sport is not None and ((self.sport[0] <= l4.sport <= self.sport[1]) == self.sport_invert):
            return False
        if self.dport is not None and ((self.dport[0] <= l4.dport <= self.dport[1]) == self.dport_invert):
            return False
        if self.flags_mask is not None and (((int(l4.flags) & self.flags_mask) == self.flags_comp) == self.flags_invert):
            return False
        if self.option is not None and (self.option in l4.options.kinds) == self.option_invert:
            return False
        return True


def parse_udp_ports(text: str) -> tuple[int, int]:
    """libxt_udp's XTTYPE_PORTRC: ``[lo]:[hi]`` through getaddrinfo (``70000`` is 4464), no order check:
    ``--dport 60000:29`` loads and never matches (xt_tcpudp's port_match), as on the kernel."""
    lo_s, colon, hi_s = text.partition(":")
    lo = parse_mport(lo_s)[0] if lo_s else 0
    if not colon:
        return lo, lo
    return lo, parse_mport(hi_s)[0] if hi_s else 65535


def _describe_ports(label: str, rng: tuple[int, int] | None, inv: bool, proto: str, numeric: bool) -> str:
    if rng is None:
        return ""
    lo, hi = rng
    bang = "!" if inv else ""
    if lo == hi:
        return f" {label}:{bang}{port_name(lo, proto, numeric)}"
    return f" {label}s:{bang}{port_name(lo, proto, numeric)}:{port_name(hi, proto, numeric)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class UdpMatch(Match):
    """``-m udp``: ports. Kernel: xt_tcpudp.c udp_mt()."""

    sport: tuple[int, int] | None = None
    sport_invert: bool = False
    dport: tuple[int, int] | None = None
    dport_invert: bool = False

    module: ClassVar[str] = "udp"
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--sport", "sport", _udp_ports, invert="sport_invert", aliases=("--source-port",)),
        Option("--dport", "dport", _udp_ports, invert="dport_invert", aliases=("--destination-port",)),
    )

    def save(self) -> str:
        s = ""
        if self.sport is not None:
            s += f"{_bang(self.sport_invert)} --sport {range_text(*self.sport)}"
        if self.dport is not None:
            s += f"{_bang(self.dport_invert)} --dport {range_text(*self.dport)}"
        return s

    def describe(self, numeric: bool) -> str:
        return ("udp" + _describe_ports("spt", self.sport, self.sport_invert, "udp", numeric)
                + _describe_ports("dpt", self.dport, self.dport_invert, "udp", numeric))

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        l4 = skb.packet.l4
        if not isinstance(l4, Udp):
            return False
        if self.sport is not None and ((self.sport[0] <= l4.sport <= self.sport[1]) == self.sport_invert):
            return False
        if self.dport is not None and ((self.dport[0] <= l4.dport <= self.dport[1]) == self.dport_invert):
            return False
        return True
