"""DNAT, SNAT, MASQUERADE, REDIRECT: NAT bindings for a new connection. Kernel: xt_nat.c, xt_MASQUERADE.c, xt_REDIRECT.c."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any, ClassVar

from simnet.netfilter.targets.base import _Base, _err
from simnet.netfilter.xtables import Opts, parse_int, quad_to_int


@dataclass(frozen=True, slots=True, kw_only=True)
class NatRange:
    """``struct nf_nat_range``: an address range and/or a port range (None = keep)."""

    min_ip: IPv4Address | None = None
    max_ip: IPv4Address | None = None
    min_port: int | None = None
    max_port: int | None = None

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
            if proto not in (6, 17, 132, 33, 136):
                raise _err("Need TCP, UDP, SCTP or DCCP with port specification")
            lo_s, dash, hi_s = port_s.partition("-")
            plo = parse_int(lo_s, "port", 0, 65535) if lo_s.isdigit() else -1
            phi = (parse_int(hi_s, "port", 0, 65535) if hi_s.isdigit() else -1) if dash else plo
            if plo < 0 or phi < 0 or phi < plo:
                raise _err(f"Port range `{port_s}' invalid")
            kw.update(min_port=plo, max_port=phi)
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
        return s


def _addr(text: str) -> IPv4Address:
    """``IPv4Address(text)``, quicker for a plain dotted quad (the common case)."""
    n = quad_to_int(text)
    return IPv4Address(n) if n is not None else IPv4Address(text)


def _ports_opt(opts: Opts, proto: int | None) -> tuple[int | None, int | None]:
    o = opts.get("--to-ports")
    if o is None:
        return None, None
    if proto not in (6, 17, 132, 33, 136):
        raise _err("Need TCP, UDP, SCTP or DCCP with port specification")
    lo_s, dash, hi_s = o[1][0].partition("-")
    if not lo_s.isdigit() or (dash and not hi_s.isdigit()):
        raise _err(f"Port `{o[1][0]}' not valid")
    lo, hi = int(lo_s), int(hi_s) if dash else int(lo_s)
    if lo > 65535 or hi > 65535 or hi < lo:
        raise _err(f"Port range `{o[1][0]}' invalid")
    return lo, hi


def _ports_text(lo: int | None, hi: int | None) -> str:
    if lo is None:
        return ""
    return f" --to-ports {lo}" + (f"-{hi}" if hi is not None and hi != lo else "")


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
        return cls(ranges=(NatRange.parse(o[1][0], proto),), random="--random" in opts,
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
    random: bool = False
    random_fully: bool = False

    name: ClassVar[str] = "MASQUERADE"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--to-ports": 1, "--random": 0, "--random-fully": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Masquerade":
        lo, hi = _ports_opt(opts, proto)
        return cls(min_port=lo, max_port=hi, random="--random" in opts, random_fully="--random-fully" in opts)

    def save(self) -> str:
        return (_ports_text(self.min_port, self.max_port) + (" --random" if self.random else "")
                + (" --random-fully" if self.random_fully else ""))

    def describe(self, numeric: bool) -> str:
        s = ""
        if self.min_port is not None:
            s = f"masq ports: {self.min_port}" + (f"-{self.max_port}" if self.max_port != self.min_port else "")
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
        lo, hi = _ports_opt(opts, proto)
        return cls(min_port=lo, max_port=hi, random="--random" in opts)

    def save(self) -> str:
        return _ports_text(self.min_port, self.max_port) + (" --random" if self.random else "")

    def describe(self, numeric: bool) -> str:
        s = ""
        if self.min_port is not None:
            s = f"redir ports {self.min_port}" + (f"-{self.max_port}" if self.max_port != self.min_port else "")
        return " ".join(x for x in (s, "random" if self.random else "") if x)
