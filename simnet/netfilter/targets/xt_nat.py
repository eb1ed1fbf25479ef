"""DNAT, SNAT, MASQUERADE, REDIRECT: NAT bindings for a new connection. Kernel: xt_nat.c, xt_MASQUERADE.c, xt_REDIRECT.c."""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from itertools import takewhile
from typing import Any, ClassVar

from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts, _services, quad_to_int


@dataclass(frozen=True, slots=True, kw_only=True)
class NatRange:
    """``struct nf_nat_range``: an address range and/or a port range (None = keep)."""

    min_ip: IPv4Address | None = None
    max_ip: IPv4Address | None = None
    min_port: int | None = None
    max_port: int | None = None
    base_port: int | None = None
    """``base_proto`` with NF_NAT_RANGE_PROTO_OFFSET (``lo-hi/base``): a port p maps to
    ``lo + (p - base) % (hi - lo + 1)`` (nf_nat_l4proto_unique_tuple); None without the flag."""

    @classmethod
    def parse(cls, text: str, proto: int | None) -> "NatRange":
        ip_s, colon, port_s = text.partition(":")
        kw: dict[str, Any] = {}
        if ip_s:
            lo_s, dash, hi_s = ip_s.partition("-")
            try:
                lo = _addr(lo_s)
                hi = _addr(hi_s) if dash else lo
            except ValueError:
                raise _err(f"Bad IP address \"{ip_s}\"") from None
            if hi < lo:
                raise _err(f"Bad IP range \"{ip_s}\"")
            kw.update(min_ip=lo, max_ip=hi)
        if colon:
            if ":" in port_s:  # a second colon: libxt_DNAT's parse_to reads it as an IPv6 literal
                raise _err(f"Bad IP address \"{text}\"")
            kw.update(zip(("min_port", "max_port", "base_port"), parse_ports(port_s, proto)))
        if not kw:
            raise _err(f"Bad IP address \"{text}\"")
        return cls(**kw)

    def __str__(self) -> str:
        s = ""
        if self.min_ip is not None:
            s = str(self.min_ip)
            if self.max_ip is not None and self.max_ip != self.min_ip:
                s += f"-{self.max_ip}"
        if self.min_port is not None:
            s += f":{self.min_port}"
            if self.max_port is not None and self.max_port != self.min_port:
                s += f"-{self.max_port}"
            if self.base_port is not None:
                s += f"/{self.base_port}"
        return s


def _addr(text: str) -> IPv4Address:
    """``IPv4Address(text)``, quicker for a plain dotted quad (the common case)."""
    n = quad_to_int(text)
    return IPv4Address(n) if n is not None else IPv4Address(text)


def _strtou(text: str, lo: int, hi: int) -> tuple[int, str] | None:
    """xtables_strtoui(text, &end, &v, lo, hi): strtoumax base 0 on a prefix of ``text``; the value
    and what follows it, or None (no digits, a leading minus, or out of [lo, hi])."""
    if text.isdigit() and text.isascii() and text[0] != "0" and len(text) < 30:  # plain decimal, all of it
        v = int(text)
        return (v, "") if lo <= v <= hi else None
    t = text.lstrip(" \t\n\r\f\v")
    sign = t[:1] if t[:1] in ("+", "-") else ""
    if sign == "-":
        return None
    t = t[len(sign):]
    if t[:2] in ("0x", "0X") and t[2:3] and t[2] in _HEX:
        digits, base = "".join(takewhile(lambda c: c in _HEX, t[2:])), 16
        rest = t[2 + len(digits):]
    elif t[:1] == "0":
        digits, base = "".join(takewhile(lambda c: c in "01234567", t)), 8
        rest = t[len(digits):]
    else:
        digits, base = "".join(takewhile(str.isdigit, t)), 10
        rest = t[len(digits):]
        if not digits:
            return None
    v = int(digits, base) if len(digits) < 30 else hi + 1
    return (v, rest) if lo <= v <= hi else None


_HEX = frozenset("0123456789abcdefABCDEF")


def _service(name: str) -> int | None:
    """getservbyname(name, NULL): a service name of any protocol."""
    return _services("tcp")[0].get(name, _services("udp")[0].get(name))


def parse_ports(arg: str, proto: int | None) -> tuple[int, int, int | None]:
    """libxt_DNAT's parse_ports: ``port``, ``lo-hi`` or ``lo-hi/base`` (a port-shifted range); the
    single port and the base may be service names. Returns (lo, hi, base or None)."""
    if proto not in (6, 17, 132, 33, 136):
        raise _err("Need TCP, UDP, SCTP or DCCP with port specification")
    got = _strtou(arg, 0, 65535)
    if got is None:
        port = _service(arg)
        if port is None:
            raise _err(f"Port `{arg}' not valid")
        return port, port, None
    port, end = got
    if not end:
        return port, port, None
    if end[0] == ":":
        raise _err("Invalid port:port syntax - use dash")
    if end[0] != "-":
        raise _err(f"Garbage after port value: `{end}'")
    arg = end[1:]
    got = _strtou(arg, 0, 65535)
    if got is None:
        raise _err(f"Port `{arg}' not valid")
    maxport, end = got
    if maxport < port:
        raise _err(f"Port range `{arg}' funky")
    if not end:
        return port, maxport, None
    if end[0] != "/":
        raise _err(f"Garbage after port range: `{end}'")
    arg = end[1:]
    based = _strtou(arg, 1, 65535)  # what follows the base is not looked at
    base = based[0] if based is not None else _service(arg)
    if base is None:
        raise _err(f"Port `{arg}' not valid")
    return port, maxport, base


def _ports_opt(opts: Opts, proto: int | None) -> tuple[int | None, int | None, int | None]:
    o = opts.get("--to-ports")
    if o is None:
        return None, None, None
    return parse_ports(o[1][0], proto)


def _ports_text(lo: int | None, hi: int | None, base: int | None = None) -> str:
    if lo is None:
        return ""
    return (f" --to-ports {lo}" + (f"-{hi}" if hi is not None and hi != lo else "")
            + (f"/{base}" if base is not None else ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class Dnat(_Base):
    """DNAT (nat PREROUTING/OUTPUT): rewrite the destination of a new connection."""

    ranges: tuple[NatRange, ...]
    random: bool = False
    persistent: bool = False

    name: ClassVar[str] = "DNAT"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--to-destination": 1, "--random": 0, "--persistent": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Dnat":
        o = opts.get("--to-destination")
        if o is None:
            raise _err("DNAT: option \"--to-destination\" must be specified")
        return cls(ranges=(NatRange.parse(o[1][0], proto),), random="--random" in opts,
                   persistent="--persistent" in opts)

    def save(self) -> str:
        s = "".join(f" --to-destination {r}" for r in self.ranges)
        return s + (" --random" if self.random else "") + (" --persistent" if self.persistent else "")

    def describe(self, numeric: bool) -> str:
        s = " ".join(f"to:{r}" for r in self.ranges)
        return s + (" random" if self.random else "") + (" persistent" if self.persistent else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Snat(_Base):
    """SNAT (nat POSTROUTING/INPUT): rewrite the source of a new connection."""

    ranges: tuple[NatRange, ...]
    random: bool = False
    random_fully: bool = False
    persistent: bool = False

    name: ClassVar[str] = "SNAT"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--to-source": 1, "--random": 0, "--random-fully": 0, "--persistent": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Snat":
        o = opts.get("--to-source")
        if o is None:
            raise _err("SNAT: option \"--to-source\" must be specified")
        rng = NatRange.parse(o[1][0], proto)
        if rng.base_port is not None:
            # seen on 6.18 (iptables-nft): SNAT keeps the offset flag but not the base, which
            # iptables-save prints as /0 and the kernel uses as 0
            rng = replace(rng, base_port=0)
        return cls(ranges=(rng,), random="--random" in opts,
                   random_fully="--random-fully" in opts, persistent="--persistent" in opts)

    def save(self) -> str:
        s = "".join(f" --to-source {r}" for r in self.ranges)
        return (s + (" --random" if self.random else "") + (" --random-fully" if self.random_fully else "")
                + (" --persistent" if self.persistent else ""))

    def describe(self, numeric: bool) -> str:
        s = " ".join(f"to:{r}" for r in self.ranges)
        return (s + (" random" if self.random else "") + (" random-fully" if self.random_fully else "")
                + (" persistent" if self.persistent else ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class Masquerade(_Base):
    """MASQUERADE (nat POSTROUTING): SNAT to the out device's primary address."""

    min_port: int | None = None
    max_port: int | None = None
    base_port: int | None = None
    """Set (always 0, as for SNAT) by a port-shifted ``--to-ports lo-hi/base``."""
    random: bool = False
    random_fully: bool = False

    name: ClassVar[str] = "MASQUERADE"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--to-ports": 1, "--random": 0, "--random-fully": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Masquerade":
        lo, hi, base = _ports_opt(opts, proto)
        return cls(min_port=lo, max_port=hi, base_port=None if base is None else 0, random="--random" in opts, random_fully="--random-fully" in opts)

    def save(self) -> str:
        return (_ports_text(self.min_port, self.max_port, self.base_port) + (" --random" if self.random else "")
                + (" --random-fully" if self.random_fully else ""))

    def describe(self, numeric: bool) -> str:
        s = ""
        if self.min_port is not None:
            s = (f"masq ports: {self.min_port}" + (f"-{self.max_port}" if self.max_port != self.min_port else "")
                 + (f"/{self.base_port}" if self.base_port is not None else ""))
        return " ".join(x for x in (s, "random" if self.random else "", "random-fully" if self.random_fully else "") if x)


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect(_Base):
    """REDIRECT (nat PREROUTING/OUTPUT): DNAT to the incoming interface's address."""

    min_port: int | None = None
    max_port: int | None = None
    random: bool = False

    name: ClassVar[str] = "REDIRECT"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--to-ports": 1, "--random": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Redirect":
        lo, hi, base = _ports_opt(opts, proto)
        if base is not None:  # revision 0 (nf_nat_ipv4_multi_range_compat) has no base
            raise _err("Shifted portmap ranges not supported with this kernel")
        return cls(min_port=lo, max_port=hi, random="--random" in opts)

    def save(self) -> str:
        return _ports_text(self.min_port, self.max_port) + (" --random" if self.random else "")

    def describe(self, numeric: bool) -> str:
        s = ""
        if self.min_port is not None:
            s = f"redir ports {self.min_port}" + (f"-{self.max_port}" if self.max_port != self.min_port else "")
        return " ".join(x for x in (s, "random" if self.random else "") if x)
