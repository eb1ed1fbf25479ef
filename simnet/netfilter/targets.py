"""iptables targets (``-j NAME``): a closed union of frozen dataclasses.

Kernel: the standard verdicts of ``ipt_do_table`` and the ``xt_*`` / ``ipt_*``
target modules; iptables' ``libxt_*.c`` / ``libipt_*.c`` for the option
spelling and the ``save`` printers.  ``str(target)`` is the text after the
rule's matches exactly as ``iptables-save`` (nf_tables, 1.8.9) prints it,
``-j`` (or ``-g``) included.

``terminal`` says whether a rule with this target ends the traversal of the
current chain: the verdicts ACCEPT/DROP/REJECT, RETURN, ``-g`` and the NAT
targets do; ``-j CHAIN`` (it may return), LOG, MARK, CT, ... continue with the
next rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any, ClassVar

from simnet.errors import RuleSyntaxError
from simnet.netfilter.matches import DSCP_CLASSES, parse_tos
from simnet.netfilter.xtables import U32, Opts, parse_int, parse_mark, quad_to_int, save_string

__all__ = [
    "Accept", "Drop", "Return", "Jump", "Goto", "Reject", "Log", "Nflog", "Mark", "Connmark",
    "NatRange", "Dnat", "Snat", "Masquerade", "Redirect", "Notrack", "Ct", "Trace", "Tcpmss",
    "Checksum", "Opaque", "Target", "TARGETS", "OPAQUE_TARGETS", "REJECT_TYPES",
]


def _err(msg: str) -> RuleSyntaxError:
    return RuleSyntaxError(msg)


class _Base:
    __slots__ = ()
    name: ClassVar[str]
    terminal: ClassVar[bool] = False
    OPTIONS: ClassVar[dict[str, int]] = {}
    ALIASES: ClassVar[dict[str, str]] = {}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> Any:
        if opts:
            raise _err(f"unknown option \"{next(iter(opts))}\"")
        return cls()

    def save(self) -> str:
        """Options after ``-j NAME`` (leading space), as iptables-save prints them."""
        return ""

    def describe(self, numeric: bool) -> str:
        """The ``iptables -L`` text after the matches."""
        return ""

    @property
    def label(self) -> str:
        """The ``target`` column of ``iptables -L``."""
        return self.name

    def __str__(self) -> str:
        return f"-j {self.name}{self.save()}"


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True, kw_only=True)
class Accept(_Base):
    """NF_ACCEPT: leave this table at this hook."""

    name: ClassVar[str] = "ACCEPT"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Drop(_Base):
    """NF_DROP: the packet is gone, silently."""

    name: ClassVar[str] = "DROP"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Return(_Base):
    """XT_RETURN: back to the calling chain; in a built-in chain, its policy."""

    name: ClassVar[str] = "RETURN"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Jump(_Base):
    """``-j CHAIN``: traverse a user chain, then continue here unless it decided."""

    chain: str
    name: ClassVar[str] = "JUMP"

    @property
    def label(self) -> str:
        return self.chain

    def __str__(self) -> str:
        return f"-j {self.chain}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Goto(_Base):
    """``-g CHAIN``: traverse a user chain; its RETURN returns to *our* caller."""

    chain: str
    name: ClassVar[str] = "GOTO"
    terminal: ClassVar[bool] = True

    @property
    def label(self) -> str:
        return self.chain

    def describe(self, numeric: bool) -> str:
        return "[goto] "

    def __str__(self) -> str:
        return f"-g {self.chain}"


REJECT_TYPES: dict[str, tuple[int, int] | None] = {
    "icmp-net-unreachable": (3, 0), "icmp-host-unreachable": (3, 1),
    "icmp-proto-unreachable": (3, 2), "icmp-port-unreachable": (3, 3),
    "icmp-net-prohibited": (3, 9), "icmp-host-prohibited": (3, 10),
    "icmp-admin-prohibited": (3, 13), "tcp-reset": None,
}
_REJECT_ALIASES = {"net-unreach": "icmp-net-unreachable", "host-unreach": "icmp-host-unreachable",
                   "proto-unreach": "icmp-proto-unreachable", "port-unreach": "icmp-port-unreachable",
                   "net-prohib": "icmp-net-prohibited", "host-prohib": "icmp-host-prohibited",
                   "admin-prohib": "icmp-admin-prohibited", "tcp-rst": "tcp-reset"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(_Base):
    """REJECT: drop and answer with an ICMP error or a TCP RST. Kernel: ipt_REJECT.c."""

    with_: str = "icmp-port-unreachable"
    name: ClassVar[str] = "REJECT"
    terminal: ClassVar[bool] = True
    OPTIONS: ClassVar[dict[str, int]] = {"--reject-with": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Reject":
        o = opts.get("--reject-with")
        if o is None:
            return cls()
        word = _REJECT_ALIASES.get(o[1][0], o[1][0])
        if word not in REJECT_TYPES:
            raise _err(f"unknown reject type \"{o[1][0]}\"")
        return cls(with_=word)

    @property
    def icmp_type_code(self) -> tuple[int, int] | None:
        return REJECT_TYPES[self.with_]

    @property
    def tcp_reset(self) -> bool:
        return self.with_ == "tcp-reset"

    def save(self) -> str:
        return f" --reject-with {self.with_}"

    def describe(self, numeric: bool) -> str:
        return f"reject-with {self.with_}"


# --------------------------------------------------------------------------- logging

LOG_LEVELS = {"emerg": 0, "panic": 0, "alert": 1, "crit": 2, "err": 3, "error": 3,
              "warn": 4, "warning": 4, "notice": 5, "info": 6, "debug": 7}


@dataclass(frozen=True, slots=True, kw_only=True)
class Log(_Base):
    """LOG: a kernel log line; non-terminating. ``level`` None means the default 4."""

    prefix: str | None = None
    level: int | None = None
    tcp_sequence: bool = False
    tcp_options: bool = False
    ip_options: bool = False
    uid: bool = False
    macdecode: bool = False

    name: ClassVar[str] = "LOG"
    OPTIONS: ClassVar[dict[str, int]] = {"--log-prefix": 1, "--log-level": 1, "--log-tcp-sequence": 0,
                                         "--log-tcp-options": 0, "--log-ip-options": 0, "--log-uid": 0,
                                         "--log-macdecode": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Log":
        kw: dict[str, Any] = {}
        if (o := opts.get("--log-prefix")) is not None:
            if len(o[1][0]) > 29:
                raise _err("Maximum prefix length 29 for --log-prefix")
            kw["prefix"] = o[1][0] or None
        if (o := opts.get("--log-level")) is not None:
            word = o[1][0]
            level = LOG_LEVELS.get(word.lower())
            if level is None:
                if not word.isdigit() or int(word) > 7:
                    raise _err(f"log-level `{word}' unknown")
                level = int(word)
            kw["level"] = None if level == 4 else level
        for flag in ("tcp_sequence", "tcp_options", "ip_options", "uid", "macdecode"):
            kw[flag] = f"--log-{flag.replace('_', '-')}" in opts
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.prefix:
            s += f" --log-prefix {save_string(self.prefix)}"
        if self.level is not None and self.level != 4:
            s += f" --log-level {self.level}"
        for flag in ("tcp_sequence", "tcp_options", "ip_options", "uid", "macdecode"):
            if getattr(self, flag):
                s += f" --log-{flag.replace('_', '-')}"
        return s

    def describe(self, numeric: bool) -> str:
        s = "LOG flags "
        flags = (self.tcp_sequence * 1) | (self.tcp_options * 2) | (self.ip_options * 4) | (self.uid * 8) | (self.macdecode * 16)
        s += f"{flags} level {4 if self.level is None else self.level}"
        if self.prefix:
            s += f' prefix "{self.prefix}"'
        return s


@dataclass(frozen=True, slots=True, kw_only=True)
class Nflog(_Base):
    """NFLOG: copy to a netlink log group; non-terminating."""

    group: int = 0
    prefix: str | None = None
    size: int | None = None
    threshold: int = 1

    name: ClassVar[str] = "NFLOG"
    OPTIONS: ClassVar[dict[str, int]] = {"--nflog-group": 1, "--nflog-prefix": 1, "--nflog-size": 1,
                                         "--nflog-threshold": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Nflog":
        kw: dict[str, Any] = {}
        if (o := opts.get("--nflog-group")) is not None:
            kw["group"] = parse_int(o[1][0], "nflog-group", 0, 65535)
        if (o := opts.get("--nflog-prefix")) is not None:
            if len(o[1][0]) > 63:
                raise _err("NFLOG: Maximum prefix length 63 for --nflog-prefix")
            kw["prefix"] = o[1][0] or None
        if (o := opts.get("--nflog-size")) is not None:
            kw["size"] = parse_int(o[1][0], "nflog-size")
        if (o := opts.get("--nflog-threshold")) is not None:
            kw["threshold"] = parse_int(o[1][0], "nflog-threshold", 1, 65535)
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.prefix:
            s += f" --nflog-prefix {save_string(self.prefix)}"
        if self.group:
            s += f" --nflog-group {self.group}"
        if self.size is not None:
            s += f" --nflog-size {self.size}"
        if self.threshold != 1:
            s += f" --nflog-threshold {self.threshold}"
        return s

    def describe(self, numeric: bool) -> str:
        return self.save().replace(" --", " ").strip()


# --------------------------------------------------------------------------- marks


def _xmark_opts(module: str, opts: Opts, prefix: str = "") -> tuple[int, int] | None:
    """--set-xmark/--set-mark/--and-mark/--or-mark/--xor-mark -> (value, mask) as the kernel stores."""
    given = [k for k in ("--set-xmark", "--set-mark", "--and-mark", "--or-mark", "--xor-mark") if k in opts]
    if not given:
        return None
    if len(given) > 1:
        raise _err(f"{module}: {given[0]} and {given[1]} are mutually exclusive")
    key = given[0]
    text = opts[key][1][0]
    if key == "--set-xmark":
        return parse_mark(text)
    if key == "--set-mark":
        value, mask = parse_mark(text)
        return value, value | mask
    value = parse_int(text, "mark")
    if key == "--and-mark":
        return 0, (~value) & U32
    if key == "--or-mark":
        return value, value
    return value, 0


_MARK_OPTS = {"--set-xmark": 1, "--set-mark": 1, "--and-mark": 1, "--or-mark": 1, "--xor-mark": 1}


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark(_Base):
    """MARK: ``skb.mark = (mark & ~mask) ^ value`` (xt_MARK v2 xmark semantics)."""

    value: int
    mask: int = U32

    name: ClassVar[str] = "MARK"
    OPTIONS: ClassVar[dict[str, int]] = dict(_MARK_OPTS)

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Mark":
        vm = _xmark_opts("MARK", opts)
        if vm is None:
            raise _err("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
        return cls(value=vm[0], mask=vm[1])

    def apply(self, mark: int) -> int:
        return ((mark & ~self.mask) ^ self.value) & U32

    def save(self) -> str:
        return f" --set-xmark 0x{self.value:x}/0x{self.mask:x}"

    def describe(self, numeric: bool) -> str:
        return f"MARK xset 0x{self.value:x}/0x{self.mask:x}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Connmark(_Base):
    """CONNMARK: move marks between the packet and its conntrack entry. Kernel: xt_connmark.c.

    ``mode`` ``"set"``: ``ct = (ct & ~ctmask) ^ ctmark``; ``"save"``:
    ``ct = (ct & ~ctmask) ^ (skb & nfmask)``; ``"restore"``:
    ``skb = (skb & ~nfmask) ^ (ct & ctmask)``.
    """

    mode: str
    ctmark: int = 0
    ctmask: int = U32
    nfmask: int = U32

    name: ClassVar[str] = "CONNMARK"
    OPTIONS: ClassVar[dict[str, int]] = dict(_MARK_OPTS) | {"--save-mark": 0, "--restore-mark": 0,
                                                            "--nfmask": 1, "--ctmask": 1, "--mask": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Connmark":
        vm = _xmark_opts("CONNMARK", opts)
        modes = [m for m in ("--save-mark", "--restore-mark") if m in opts]
        if (vm is not None) + len(modes) != 1:
            raise _err("CONNMARK target: Parameter --set-xmark, --save-mark or --restore-mark is required"
                       if vm is None and not modes else "CONNMARK: only one action allowed")
        if vm is not None:
            if any(k in opts for k in ("--nfmask", "--ctmask", "--mask")):
                raise _err("CONNMARK: --mask/--nfmask/--ctmask only with --save-mark or --restore-mark")
            return cls(mode="set", ctmark=vm[0], ctmask=vm[1])
        nfmask = ctmask = U32
        if (o := opts.get("--mask")) is not None:
            nfmask = ctmask = parse_int(o[1][0], "mask")
        if (o := opts.get("--nfmask")) is not None:
            nfmask = parse_int(o[1][0], "nfmask")
        if (o := opts.get("--ctmask")) is not None:
            ctmask = parse_int(o[1][0], "ctmask")
        return cls(mode=modes[0][2:-5], ctmask=ctmask, nfmask=nfmask)

    def apply(self, skb_mark: int, ct_mark: int) -> tuple[int, int]:
        """Return ``(new_skb_mark, new_ct_mark)``."""
        if self.mode == "set":
            return skb_mark, ((ct_mark & ~self.ctmask) ^ self.ctmark) & U32
        if self.mode == "save":
            return skb_mark, ((ct_mark & ~self.ctmask) ^ (skb_mark & self.nfmask)) & U32
        return ((skb_mark & ~self.nfmask) ^ (ct_mark & self.ctmask)) & U32, ct_mark

    def save(self) -> str:
        if self.mode == "set":
            return f" --set-xmark 0x{self.ctmark:x}/0x{self.ctmask:x}"
        return f" --{self.mode}-mark --nfmask 0x{self.nfmask:x} --ctmask 0x{self.ctmask:x}"

    def describe(self, numeric: bool) -> str:
        if self.mode == "set":
            return f"CONNMARK xset 0x{self.ctmark:x}/0x{self.ctmask:x}"
        return f"CONNMARK {self.mode} nfmask 0x{self.nfmask:x} ctmask ~0x{self.ctmask:x}"


# --------------------------------------------------------------------------- NAT


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


# --------------------------------------------------------------------------- raw table, misc


@dataclass(frozen=True, slots=True, kw_only=True)
class Notrack(_Base):
    """NOTRACK (raw): mark the packet untracked; non-terminating.  iptables-nft keeps the name."""

    name: ClassVar[str] = "NOTRACK"


CT_EVENTS = ("new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark",
             "natseqinfo", "secmark")
"""``--ctevents`` names in the kernel's IPCT_* bit order, the order iptables prints them in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ct(_Base):
    """CT (raw): ``--notrack``, ``--helper``, ``--ctevents``, ``--expevents``, ``--zone[-orig|-reply]``.

    Non-terminating.  Zone 0 is the default zone: the kernel reads ``--zone 0`` back as no zone
    at all, so it is kept as ``None``; ``zone_mark`` takes the zone from the packet's mark.
    """

    notrack: bool = False
    zone: int | None = None
    zone_mark: bool = False
    zone_dir: str | None = None
    """None (both directions), ``"orig"`` or ``"reply"``."""
    helper: str | None = None
    ctevents: tuple[str, ...] = ()
    expevents: tuple[str, ...] = ()

    name: ClassVar[str] = "CT"
    OPTIONS: ClassVar[dict[str, int]] = {"--notrack": 0, "--zone": 1, "--zone-orig": 1, "--zone-reply": 1,
                                         "--helper": 1, "--ctevents": 1, "--expevents": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Ct":
        kw: dict[str, Any] = {"notrack": "--notrack" in opts}
        zones = [z for z in ("--zone", "--zone-orig", "--zone-reply") if z in opts]
        if len(zones) > 1:
            raise _err("CT: only one of --zone, --zone-orig and --zone-reply")
        if zones:
            word = opts[zones[0]][1][0]
            if word == "mark":
                kw["zone_mark"] = True
            else:
                try:
                    zone = parse_int(word, "zone", 0, 65535)
                except RuleSyntaxError:
                    raise _err(f"Cannot parse {word} as a zone ID") from None
                kw["zone"] = zone or None
            if kw.get("zone_mark") or kw.get("zone"):
                kw["zone_dir"] = None if zones[0] == "--zone" else zones[0][7:]
        if (o := opts.get("--helper")) is not None:
            kw["helper"] = o[1][0]
        kw["ctevents"] = _ct_events(opts, "--ctevents", CT_EVENTS)
        kw["expevents"] = _ct_events(opts, "--expevents", ("new",))
        return cls(**kw)

    def _words(self) -> list[str]:
        words = ["notrack"] if self.notrack else []
        if self.helper is not None:
            words.append(f"helper {self.helper}")
        if self.ctevents:
            words.append(f"ctevents {','.join(self.ctevents)}")
        if self.expevents:
            words.append(f"expevents {','.join(self.expevents)}")
        if self.zone is not None or self.zone_mark:
            words.append(f"zone{'-' + self.zone_dir if self.zone_dir else ''} "
                         f"{'mark' if self.zone_mark else self.zone}")
        return words

    def save(self) -> str:
        return "".join(f" --{w}" for w in self._words())

    def describe(self, numeric: bool) -> str:
        return " ".join(["CT", *self._words()])


def _ct_events(opts: Opts, option: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """A comma list of event names, read back in bit order without repeats (libxt_CT)."""
    if (o := opts.get(option)) is None:
        return ()
    names = o[1][0].split(",")
    for n in names:
        if n not in known:
            raise _err(f'Unknown event type "{n}"')
    return tuple(n for n in known if n in names)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace(_Base):
    """TRACE (raw): set ``skb.nf_trace``; non-terminating."""

    name: ClassVar[str] = "TRACE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tcpmss(_Base):
    """TCPMSS (mangle/filter): clamp the MSS option of SYNs. ``mss`` None = ``--clamp-mss-to-pmtu``."""

    mss: int | None = None

    name: ClassVar[str] = "TCPMSS"
    OPTIONS: ClassVar[dict[str, int]] = {"--set-mss": 1, "--clamp-mss-to-pmtu": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Tcpmss":
        if ("--set-mss" in opts) == ("--clamp-mss-to-pmtu" in opts):
            raise _err("TCPMSS target: exactly one of --set-mss or --clamp-mss-to-pmtu required")
        if (o := opts.get("--set-mss")) is not None:
            return cls(mss=parse_int(o[1][0], "MSS", 0, 65535))
        return cls()

    def save(self) -> str:
        return " --clamp-mss-to-pmtu" if self.mss is None else f" --set-mss {self.mss}"

    def describe(self, numeric: bool) -> str:
        return "TCPMSS clamp to PMTU" if self.mss is None else f"TCPMSS set {self.mss}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Checksum(_Base):
    """CHECKSUM --checksum-fill (mangle): no effect on simulated packets."""

    fill: bool = True

    name: ClassVar[str] = "CHECKSUM"
    OPTIONS: ClassVar[dict[str, int]] = {"--checksum-fill": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Checksum":
        if "--checksum-fill" not in opts:
            raise _err("CHECKSUM target: Parameter --checksum-fill is required")
        return cls()

    def save(self) -> str:
        return " --checksum-fill"

    def describe(self, numeric: bool) -> str:
        return "CHECKSUM fill"


def _opaque_tos(opts: Opts) -> tuple[str, ...]:
    given = [k for k in ("--set-tos", "--and-tos", "--or-tos", "--xor-tos") if k in opts]
    if len(given) != 1:
        raise _err("TOS: exactly one of --set-tos, --and-tos, --or-tos, --xor-tos")
    key, text = given[0], opts[given[0]][1][0]
    if key == "--set-tos":
        value, mask = parse_tos(text)
    else:
        bits = parse_int(text, "TOS", 0, 255)
        value, mask = {"--and-tos": (0, (~bits) & 0xFF), "--or-tos": (bits, bits), "--xor-tos": (bits, 0)}[key]
    return ("--set-tos", f"0x{value:02x}/0x{mask:02x}")


def _opaque_dscp(opts: Opts) -> tuple[str, ...]:
    if (o := opts.get("--set-dscp-class")) is not None:
        if o[1][0].upper() not in DSCP_CLASSES:
            raise _err(f"Invalid DSCP value `{o[1][0]}'")
        return ("--set-dscp", f"0x{DSCP_CLASSES[o[1][0].upper()]:02x}")
    if (o := opts.get("--set-dscp")) is not None:
        return ("--set-dscp", f"0x{parse_int(o[1][0], 'DSCP', 0, 63):02x}")
    raise _err("DSCP target: Parameter --set-dscp or --set-dscp-class is required")


def _opaque_ttl(opts: Opts) -> tuple[str, ...]:
    given = [k for k in ("--ttl-set", "--ttl-dec", "--ttl-inc") if k in opts]
    if len(given) != 1:
        raise _err("TTL: You must specify an action")
    value = parse_int(opts[given[0]][1][0], "TTL", 0, 255)
    if given[0] != "--ttl-set" and value == 0:
        raise _err("TTL: increasing/decreasing by 0?")
    return (given[0], str(value))


def _opaque_classify(opts: Opts) -> tuple[str, ...]:
    o = opts.get("--set-class")
    if o is None:
        raise _err("CLASSIFY: Parameter --set-class is required")
    major, colon, minor = o[1][0].partition(":")
    try:
        return ("--set-class", f"{int(major, 16):04x}:{int(minor, 16):04x}")
    except ValueError:
        raise _err(f"Bad class value \"{o[1][0]}\"") from None


OPAQUE_TARGETS: dict[str, tuple[dict[str, int], Any]] = {
    "TOS": ({"--set-tos": 1, "--and-tos": 1, "--or-tos": 1, "--xor-tos": 1}, _opaque_tos),
    "DSCP": ({"--set-dscp": 1, "--set-dscp-class": 1}, _opaque_dscp),
    "TTL": ({"--ttl-set": 1, "--ttl-dec": 1, "--ttl-inc": 1}, _opaque_ttl),
    "CLASSIFY": ({"--set-class": 1}, _opaque_classify),
}
"""Non-terminating mangle targets simnet parses and prints but does not apply
to packets (TOS/DSCP rewrite, TTL change, traffic-control class)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Opaque(_Base):
    """A known, non-terminating target kept as canonical words (see OPAQUE_TARGETS)."""

    name: str  # type: ignore[misc]
    args: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name

    def save(self) -> str:
        return "".join(" " + a for a in self.args)

    def describe(self, numeric: bool) -> str:
        return f"{self.name}{self.save().replace(' --', ' ')}"

    def __str__(self) -> str:
        return f"-j {self.name}{self.save()}"


Target = (Accept | Drop | Return | Jump | Goto | Reject | Log | Nflog | Mark | Connmark | Dnat | Snat
          | Masquerade | Redirect | Notrack | Ct | Trace | Tcpmss | Checksum | Opaque)
"""The closed union the evaluator dispatches on."""

EXTENSION_TARGETS = frozenset({
    "AUDIT", "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK", "CONNSECMARK", "CT", "DNAT", "DSCP", "ECN",
    "HMARK", "IDLETIMER", "LED", "LOG", "MARK", "MASQUERADE", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK",
    "RATEEST", "REDIRECT", "REJECT", "SECMARK", "SET", "SNAT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE",
    "TOS", "TPROXY", "TRACE", "TTL", "ULOG", "standard"})
"""Every IPv4 target iptables 1.8.9 can load (its libxt_/libipt_ extensions): ``iptables -N`` refuses
these as chain names ("chain name may not clash with target name"; verified one by one), and
``-j NAME`` always means the target, so a chain of that name (``iptables-restore`` and ``-E``
allow one) can never be jumped to."""

TARGETS: dict[str, type] = {
    cls.name: cls for cls in (Accept, Drop, Return, Reject, Log, Nflog, Mark, Connmark, Dnat, Snat,
                              Masquerade, Redirect, Notrack, Ct, Trace, Tcpmss, Checksum)
}
"""Extension and standard targets by ``-j`` name (anything else names a chain)."""

NAT_ONLY = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT"})
RAW_ONLY = frozenset({"NOTRACK", "CT"})
