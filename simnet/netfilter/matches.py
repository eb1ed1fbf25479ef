"""iptables match modules (``-m NAME``): one frozen class per module.

Kernel: ``net/netfilter/xt_*.c`` (the ``match`` functions) and iptables'
``extensions/libxt_*.c`` (option parsing and the ``save`` printers).  Every
class here

* parses its options from the words iptables would accept (:meth:`build`),
* prints itself exactly as ``iptables-save`` (nf_tables, 1.8.9) does
  (:meth:`save`, the text after ``-m NAME``) and as ``iptables -L`` does
  (:meth:`describe`), and
* decides a packet with :meth:`matches`, a pure function of the
  :class:`~simnet.skb.Skb` and the :class:`~simnet.netfilter.context.MatchContext`.

Per-rule state (``-m statistic --mode nth`` counters, ``-m limit`` buckets) is
kept in ``ctx.state`` under ``(MODULE, rule_key)`` where ``rule_key`` is
``ctx.rule_key`` when the evaluator sets it (the identity of the rule being
evaluated, like the kernel's per-rule match ``priv``), else ``id(match)``.
``-m recent`` lists are shared per namespace as in the kernel, under
``("recent", list_name)``.  Forced outcomes of ``-m statistic --mode random``
are looked up in ``ctx.forced[rule_key]``.

An unknown module or option is a :class:`~simnet.errors.RuleSyntaxError`
worded like iptables; nothing is ever skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Any, ClassVar

from simnet.addresses import AddressValueError, MacAddress
from simnet.netfilter.context import AddrType
from simnet.netfilter.conntrack import Conn, CtDir, CtState, CtStatus, template_conn
from simnet.packet import Icmp, Tcp, Udp
from simnet.netfilter.xtables import (U32, Opts, check_iface, err, iface_matches, mark_text, net_text, parse_int,
                                      parse_mark, parse_mport, parse_network, parse_port_range, parse_proto, port_name,
                                      range_text, save_string, strtoui, decimal, is_digits)
from simnet.skb import PktType

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb

def _bang(inv: bool) -> str:
    return " !" if inv else ""


def _rule_key(match: object, ctx: "MatchContext") -> object:
    key = getattr(ctx, "rule_key", None)
    return key if key is not None else id(match)


def _opt(opts: Opts, name: str) -> tuple[bool, tuple[str, ...]] | None:
    return opts.get(name)


def _no_invert(module: str, opts: Opts, *names: str) -> None:
    for n in names:
        o = opts.get(n)
        if o is not None and o[0]:
            raise err(f"{module}: option \"{n}\" cannot be inverted.")


# --------------------------------------------------------------------------- base


class Match:
    """Base of all match modules (not instantiated directly)."""

    __slots__ = ()
    module: ClassVar[str]
    OPTIONS: ClassVar[dict[str, int]]
    """Accepted long options -> number of arguments; aliases via ALIASES."""
    ALIASES: ClassVar[dict[str, str]] = {}
    INVERTIBLE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "Match":  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self) -> str:  # pragma: no cover - abstract
        """Text after ``-m NAME`` as iptables-save prints it (leading space)."""
        raise NotImplementedError

    def describe(self, numeric: bool) -> str:
        """The ``iptables -L`` column text (no leading space)."""
        return f"{self.module}{self.save()}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:
        return f"-m {self.module}{self.save()}"


# --------------------------------------------------------------------------- tcp / udp

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
    """``--tcp-option N``: simulated packets carry no TCP options, so it never is present."""
    option_invert: bool = False

    module: ClassVar[str] = "tcp"
    OPTIONS: ClassVar[dict[str, int]] = {"--sport": 1, "--dport": 1, "--tcp-flags": 2, "--syn": 0, "--tcp-option": 1}
    ALIASES: ClassVar[dict[str, str]] = {"--source-port": "--sport", "--destination-port": "--dport"}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "TcpMatch":
        kw: dict[str, Any] = {}
        for name, field in (("--sport", "sport"), ("--dport", "dport")):
            if (o := opts.get(name)) is not None:
                kw[field] = parse_port_range(o[1][0], "tcp")
                kw[field + "_invert"] = o[0]
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
            s += f" flags:{'!' if self.flags_invert else ''}0x{self.flags_mask:02X}/0x{self.flags_comp:02X}"
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
        if self.option is not None and not self.option_invert:
            return False
        return True


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
    OPTIONS: ClassVar[dict[str, int]] = {"--sport": 1, "--dport": 1}
    ALIASES: ClassVar[dict[str, str]] = {"--source-port": "--sport", "--destination-port": "--dport"}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "UdpMatch":
        kw: dict[str, Any] = {}
        for name, field in (("--sport", "sport"), ("--dport", "dport")):
            if (o := opts.get(name)) is not None:
                kw[field] = parse_port_range(o[1][0], "udp")
                kw[field + "_invert"] = o[0]
        return cls(**kw)

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


# --------------------------------------------------------------------------- icmp

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


@dataclass(frozen=True, slots=True, kw_only=True)
class IcmpMatch(Match):
    """``-m icmp --icmp-type``. Kernel: xt_tcpudp.c/ip_tables.c icmp_match(); type 255 = any."""

    type: int
    code_min: int = 0
    code_max: int = 0xFF
    invert: bool = False

    module: ClassVar[str] = "icmp"
    OPTIONS: ClassVar[dict[str, int]] = {"--icmp-type": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "IcmpMatch":
        o = opts.get("--icmp-type")
        if o is None:
            return cls(type=0xFF)
        text = o[1][0]
        if text in ICMP_NAMES:
            t, lo, hi = ICMP_NAMES[text]
            return cls(type=t, code_min=lo, code_max=hi, invert=o[0])
        found = None
        for name in ICMP_NAMES:  # libxt_icmp: a case-insensitive prefix names one type only
            if name[:len(text)].lower() == text.lower():
                if found is not None:
                    raise err(f"Ambiguous ICMP type `{text}': `{found}' or `{name}'?")
                found = name
        if found is not None:
            t, lo, hi = ICMP_NAMES[found]
            return cls(type=t, code_min=lo, code_max=hi, invert=o[0])
        t_s, slash, c_s = text.partition("/")
        t = strtoui(t_s, 255)
        if t is None:
            raise err(f"Unknown ICMP type `{text}'")
        if slash:
            c = strtoui(c_s, 255)
            if c is None:
                raise err(f"Unknown ICMP code `{text}'")
            return cls(type=t, code_min=c, code_max=c, invert=o[0])
        return cls(type=t, invert=o[0])

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


# --------------------------------------------------------------------------- conntrack / state

CT_STATE_ORDER = (CtState.INVALID, CtState.NEW, CtState.RELATED, CtState.ESTABLISHED,
                  CtState.UNTRACKED, CtState.SNAT, CtState.DNAT)
CT_STATUS_ORDER = (("EXPECTED", CtStatus.EXPECTED), ("SEEN_REPLY", CtStatus.SEEN_REPLY),
                   ("ASSURED", CtStatus.ASSURED), ("CONFIRMED", CtStatus.CONFIRMED))


def _parse_states(text: str, allowed: tuple[CtState, ...], module: str) -> frozenset[CtState]:
    out = set()
    for word in text.split(","):
        try:
            st = CtState(word.upper())
        except ValueError:
            raise err(f"Bad {module} \"{word}\"") from None
        if st not in allowed:
            raise err(f"Bad {module} \"{word}\"")
        out.add(st)
    return frozenset(out)


def _states_text(states: frozenset[CtState]) -> str:
    return ",".join(s.value for s in CT_STATE_ORDER if s in states)


def _nfct(skb: "Skb") -> "Conn | None":
    """The entry a match reads (nf_ct_get): the skb's, else the CT target's template in raw."""
    if skb.ct is None and skb.ct_template is not None:
        return template_conn(skb.ct_template)
    return skb.ct


def _skb_states(skb: "Skb") -> set[CtState]:
    info = skb.ctinfo
    if info is None:
        return {CtState.INVALID}
    states = {info.state}
    ct = skb.ct
    if ct is not None and info.state is not CtState.UNTRACKED:
        if ct.status & CtStatus.SRC_NAT:
            states.add(CtState.SNAT)
        if ct.status & CtStatus.DST_NAT:
            states.add(CtState.DNAT)
    return states


@dataclass(frozen=True, slots=True, kw_only=True)
class ConntrackMatch(Match):
    """``-m conntrack``. Kernel: xt_conntrack.c conntrack_mt(); a packet without
    a conntrack entry only ever matches ``--ctstate`` (as INVALID/UNTRACKED)."""

    ctstate: frozenset[CtState] | None = None
    ctstate_invert: bool = False
    ctproto: int | None = None
    ctproto_invert: bool = False
    origsrc: IPv4Network | None = None
    origsrc_invert: bool = False
    origdst: IPv4Network | None = None
    origdst_invert: bool = False
    replsrc: IPv4Network | None = None
    replsrc_invert: bool = False
    repldst: IPv4Network | None = None
    repldst_invert: bool = False
    origsrcport: tuple[int, int] | None = None
    origsrcport_invert: bool = False
    origdstport: tuple[int, int] | None = None
    origdstport_invert: bool = False
    replsrcport: tuple[int, int] | None = None
    replsrcport_invert: bool = False
    repldstport: tuple[int, int] | None = None
    repldstport_invert: bool = False
    ctstatus: CtStatus | None = None
    ctstatus_invert: bool = False
    ctdir: CtDir | None = None

    module: ClassVar[str] = "conntrack"
    OPTIONS: ClassVar[dict[str, int]] = {
        "--ctstate": 1, "--ctproto": 1, "--ctorigsrc": 1, "--ctorigdst": 1, "--ctreplsrc": 1,
        "--ctrepldst": 1, "--ctorigsrcport": 1, "--ctorigdstport": 1, "--ctreplsrcport": 1,
        "--ctrepldstport": 1, "--ctstatus": 1, "--ctdir": 1,
    }

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "ConntrackMatch":

        if not opts:
            raise err("conntrack: At least one option is required")
        kw: dict[str, Any] = {}
        if (o := opts.get("--ctstate")) is not None:
            kw.update(ctstate=_parse_states(o[1][0], CT_STATE_ORDER, "ctstate"), ctstate_invert=o[0])
        if (o := opts.get("--ctproto")) is not None:
            p = parse_proto(o[1][0])
            if p is None:
                raise err("conntrack: rule would never match protocol")
            kw.update(ctproto=p, ctproto_invert=o[0])
        for f in ("origsrc", "origdst", "replsrc", "repldst"):
            if (o := opts.get("--ct" + f)) is not None:
                kw[f] = parse_network(o[1][0])
                kw[f + "_invert"] = o[0]
        for f in ("origsrcport", "origdstport", "replsrcport", "repldstport"):
            if (o := opts.get("--ct" + f)) is not None:
                kw[f] = parse_mport(o[1][0])
                kw[f + "_invert"] = o[0]
        if (o := opts.get("--ctstatus")) is not None:
            status = CtStatus(0)
            for word in o[1][0].split(","):
                if word.upper() == "NONE":
                    continue
                found = dict(CT_STATUS_ORDER).get(word.upper())
                if found is None:
                    raise err(f"Bad ctstatus \"{word}\"")
                status |= found
            kw.update(ctstatus=status, ctstatus_invert=o[0])
        if (o := opts.get("--ctdir")) is not None:
            if o[0]:
                raise err("conntrack: option \"--ctdir\" cannot be inverted.")
            try:
                kw["ctdir"] = CtDir(o[1][0].upper())
            except ValueError:
                raise err(f"Unknown direction \"{o[1][0]}\"") from None
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.ctstate is not None:
            s += f"{_bang(self.ctstate_invert)} --ctstate {_states_text(self.ctstate)}"
        if self.ctproto is not None:
            s += f"{_bang(self.ctproto_invert)} --ctproto {self.ctproto}"
        for f in ("origsrc", "origdst", "replsrc", "repldst"):
            net = getattr(self, f)
            if net is not None:
                s += f"{_bang(getattr(self, f + '_invert'))} --ct{f} {net_text(net)}"
        for f in ("origsrcport", "origdstport", "replsrcport", "repldstport"):
            rng = getattr(self, f)
            if rng is not None:
                s += f"{_bang(getattr(self, f + '_invert'))} --ct{f} {range_text(*rng)}"
        if self.ctstatus is not None:
            s += f"{_bang(self.ctstatus_invert)} --ctstatus {_status_text(self.ctstatus)}"
        if self.ctdir is not None:
            s += f" --ctdir {self.ctdir.value}"
        return s

    def describe(self, numeric: bool) -> str:
        parts = []
        if self.ctstate is not None:
            parts.append(f"{'! ' if self.ctstate_invert else ''}ctstate {_states_text(self.ctstate)}")
        rest = ConntrackMatch(**{f.name: getattr(self, f.name) for f in fields(self)
                                 if f.name not in ("ctstate", "ctstate_invert")})
        if rest != ConntrackMatch():
            parts.append(rest.save().strip().replace("--", ""))
        return " ".join(parts)

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        if self.ctstate is not None:
            if bool(_skb_states(skb) & self.ctstate) == self.ctstate_invert:
                return False
        ct = _nfct(skb)
        info = skb.ctinfo
        others = self._has_ct_options()
        if not others:
            return True
        if ct is None or info is None or info.state is CtState.UNTRACKED:
            return False
        if self.ctproto is not None and ((ct.orig.proto == self.ctproto) == self.ctproto_invert):
            return False
        for f, tup, attr in (("origsrc", ct.orig, "src"), ("origdst", ct.orig, "dst"),
                             ("replsrc", ct.reply, "src"), ("repldst", ct.reply, "dst")):
            net = getattr(self, f)
            if net is not None and ((getattr(tup, attr) in net) == getattr(self, f + "_invert")):
                return False
        for f, tup, attr in (("origsrcport", ct.orig, "sport"), ("origdstport", ct.orig, "dport"),
                             ("replsrcport", ct.reply, "sport"), ("repldstport", ct.reply, "dport")):
            rng = getattr(self, f)
            if rng is not None and ((rng[0] <= getattr(tup, attr) <= rng[1]) == getattr(self, f + "_invert")):
                return False
        if self.ctstatus is not None:
            hit = bool(ct.status & self.ctstatus) if self.ctstatus else not ct.status
            if hit == self.ctstatus_invert:
                return False
        if self.ctdir is not None and info.direction is not self.ctdir:
            return False
        return True

    def _has_ct_options(self) -> bool:
        return any(getattr(self, f) is not None for f in (
            "ctproto", "origsrc", "origdst", "replsrc", "repldst", "origsrcport", "origdstport",
            "replsrcport", "repldstport", "ctstatus", "ctdir"))


def _status_text(status: CtStatus) -> str:
    names = [n for n, bit in CT_STATUS_ORDER if status & bit]
    return ",".join(names) if names else "NONE"


@dataclass(frozen=True, slots=True, kw_only=True)
class StateMatch(Match):
    """``-m state --state`` (the conntrack state alone). Kernel: xt_state.c."""

    states: frozenset[CtState]
    invert: bool = False

    module: ClassVar[str] = "state"
    OPTIONS: ClassVar[dict[str, int]] = {"--state": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "StateMatch":
        o = opts.get("--state")
        if o is None:
            raise err("state: option \"--state\" must be specified")
        return cls(states=_parse_states(o[1][0], CT_STATE_ORDER[:5], "state"), invert=o[0])

    def save(self) -> str:
        return f"{_bang(self.invert)} --state {_states_text(self.states)}"

    def describe(self, numeric: bool) -> str:
        return f"{'! ' if self.invert else ''}state {_states_text(self.states)}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        info = skb.ctinfo
        st = CtState.INVALID if info is None else info.state
        return (st in self.states) != self.invert


# --------------------------------------------------------------------------- addrtype

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
    OPTIONS: ClassVar[dict[str, int]] = {"--src-type": 1, "--dst-type": 1, "--limit-iface-in": 0, "--limit-iface-out": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "AddrTypeMatch":
        _no_invert("addrtype", opts, "--limit-iface-in", "--limit-iface-out")
        kw: dict[str, Any] = {}
        if (o := opts.get("--src-type")) is not None:
            kw.update(src_types=_parse_addrtypes(o[1][0]), src_invert=o[0])
        if (o := opts.get("--dst-type")) is not None:
            kw.update(dst_types=_parse_addrtypes(o[1][0]), dst_invert=o[0])
        if "--limit-iface-in" in opts and "--limit-iface-out" in opts:
            raise err("addrtype: you can't specify both --limit-iface-in and --limit-iface-out")
        kw["limit_iface_in"] = "--limit-iface-in" in opts
        kw["limit_iface_out"] = "--limit-iface-out" in opts
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


# --------------------------------------------------------------------------- multiport


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiportMatch(Match):
    """``-m multiport``: up to 15 ports (a range counts two). Kernel: xt_multiport.c."""

    direction: str
    """``"sports"``, ``"dports"`` or ``"ports"`` (either)."""
    ports: tuple[tuple[int, int], ...]
    invert: bool = False

    module: ClassVar[str] = "multiport"
    OPTIONS: ClassVar[dict[str, int]] = {"--sports": 1, "--dports": 1, "--ports": 1}
    ALIASES: ClassVar[dict[str, str]] = {"--source-ports": "--sports", "--destination-ports": "--dports"}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "MultiportMatch":
        if proto not in (6, 17, 132, 33, 136):
            raise err("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
        if len(opts) != 1:
            raise err("multiport: can only specify one option" if opts else "multiport expects an option")
        (name, (inv, args)), = opts.items()
        pname = "udp" if proto == 17 else "tcp"
        ports = tuple(parse_port_range(p, pname) for p in args[0].split(","))
        if sum(1 if lo == hi else 2 for lo, hi in ports) > 15:
            raise err("too many ports specified")
        return cls(direction=name[2:], ports=ports, invert=inv)

    def save(self) -> str:
        return f"{_bang(self.invert)} --{self.direction} " + ",".join(range_text(lo, hi) for lo, hi in self.ports)

    def describe(self, numeric: bool) -> str:
        body = ",".join(range_text(lo, hi) for lo, hi in self.ports)
        return f"multiport {self.direction} {'!' if self.invert else ''}{body}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        l4 = skb.packet.l4
        if not isinstance(l4, (Tcp, Udp)):
            return False
        cands = {"sports": (l4.sport,), "dports": (l4.dport,), "ports": (l4.sport, l4.dport)}[self.direction]
        hit = any(lo <= p <= hi for p in cands for lo, hi in self.ports)
        return hit != self.invert


# --------------------------------------------------------------------------- comment, mark, connmark


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentMatch(Match):
    """``-m comment --comment TEXT``: always matches (at most 255 bytes)."""

    comment: str

    module: ClassVar[str] = "comment"
    OPTIONS: ClassVar[dict[str, int]] = {"--comment": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "CommentMatch":
        _no_invert("comment", opts, "--comment")
        o = opts.get("--comment")
        if o is None:
            raise err("comment: option \"--comment\" must be specified")
        if len(o[1][0].encode()) > 255:
            raise err(f"comment: option \"--comment\" value too long")
        return cls(comment=o[1][0])

    def save(self) -> str:
        return f" --comment {save_string(self.comment)}"

    def describe(self, numeric: bool) -> str:
        return f"/* {self.comment} */"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class _MaskedMatch(Match):
    """Base of ``--OPTION V[/M]`` matches: ``(field & M) == V``, one option, invertible."""

    value: int
    mask: int = U32
    invert: bool = False

    OPTION: ClassVar[str] = "--mark"

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "_MaskedMatch":
        o = opts.get(cls.OPTION)
        if o is None:
            raise err(f"{cls.module}: option \"{cls.OPTION}\" must be specified")
        value, mask = cls._parse(o[1][0])
        return cls(value=value, mask=mask, invert=o[0])

    @staticmethod
    def _parse(text: str) -> tuple[int, int]:
        return parse_mark(text)

    def _text(self) -> str:
        return mark_text(self.value, self.mask)

    def _field(self, skb: "Skb") -> int | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self) -> str:
        return f"{_bang(self.invert)} {self.OPTION} {self._text()}"

    def describe(self, numeric: bool) -> str:
        return f"{self.module} match {'!' if self.invert else ''}{self._text()}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        field = self._field(skb)
        # no conntrack entry / no IP header: the match fails whatever the inversion
        return field is not None and ((field & self.mask) == self.value) != self.invert


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkMatch(_MaskedMatch):
    """``-m mark --mark V[/M]``: ``(skb.mark & M) == V``. Kernel: xt_mark.c."""

    module: ClassVar[str] = "mark"
    OPTIONS: ClassVar[dict[str, int]] = {"--mark": 1}

    def _field(self, skb: "Skb") -> int | None:
        return skb.mark


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnmarkMatch(_MaskedMatch):
    """``-m connmark --mark V[/M]`` on the conntrack entry's mark; no entry never matches."""

    module: ClassVar[str] = "connmark"
    OPTIONS: ClassVar[dict[str, int]] = {"--mark": 1}

    def _field(self, skb: "Skb") -> int | None:
        ct = _nfct(skb)
        return None if ct is None else ct.mark


# --------------------------------------------------------------------------- physdev


@dataclass(frozen=True, slots=True, kw_only=True)
class PhysdevMatch(Match):
    """``-m physdev``: the bridge ports of a bridged frame. Kernel: xt_physdev.c physdev_mt()."""

    physdev_in: str | None = None
    in_invert: bool = False
    physdev_out: str | None = None
    out_invert: bool = False
    is_in: bool | None = None
    """None = not given; True = ``--physdev-is-in``; False = ``! --physdev-is-in``."""
    is_out: bool | None = None
    is_bridged: bool | None = None

    module: ClassVar[str] = "physdev"
    OPTIONS: ClassVar[dict[str, int]] = {"--physdev-in": 1, "--physdev-out": 1, "--physdev-is-in": 0,
                                         "--physdev-is-out": 0, "--physdev-is-bridged": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "PhysdevMatch":

        if not opts:
            raise err("PHYSDEV: no physdev option specified")
        kw: dict[str, Any] = {}
        if (o := opts.get("--physdev-in")) is not None:
            kw.update(physdev_in=check_iface(o[1][0]), in_invert=o[0])
        if (o := opts.get("--physdev-out")) is not None:
            kw.update(physdev_out=check_iface(o[1][0]), out_invert=o[0])
        for name, field in (("--physdev-is-in", "is_in"), ("--physdev-is-out", "is_out"),
                            ("--physdev-is-bridged", "is_bridged")):
            if (o := opts.get(name)) is not None:
                kw[field] = not o[0]
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.is_in is not None:
            s += f"{_bang(not self.is_in)} --physdev-is-in"
        if self.physdev_in is not None:
            s += f"{_bang(self.in_invert)} --physdev-in {self.physdev_in}"
        if self.is_out is not None:
            s += f"{_bang(not self.is_out)} --physdev-is-out"
        if self.physdev_out is not None:
            s += f"{_bang(self.out_invert)} --physdev-out {self.physdev_out}"
        if self.is_bridged is not None:
            s += f"{_bang(not self.is_bridged)} --physdev-is-bridged"
        return s

    def describe(self, numeric: bool) -> str:
        s = "PHYSDEV match"
        if self.is_in is not None:
            s += f"{_bang(not self.is_in)} --physdev-is-in"
        if self.physdev_in is not None:
            s += f"{_bang(self.in_invert)} --physdev-in {self.physdev_in}"
        if self.is_out is not None:
            s += f"{_bang(not self.is_out)} --physdev-is-out"
        if self.physdev_out is not None:
            s += f"{_bang(self.out_invert)} --physdev-out {self.physdev_out}"
        if self.is_bridged is not None:
            s += f"{_bang(not self.is_bridged)} --physdev-is-bridged"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:

        if not skb.bridged:
            # Only inverted tests can hold for a frame that was not bridged.
            return not (self.is_bridged or self.is_in or self.is_out
                        or (self.physdev_in is not None and not self.in_invert)
                        or (self.physdev_out is not None and not self.out_invert))
        pin, pout = skb.physindev, skb.physoutdev
        if self.is_bridged is not None and (pout is not None) != self.is_bridged:
            return False
        if self.is_in is not None and (pin is not None) != self.is_in:
            return False
        if self.is_out is not None and (pout is not None) != self.is_out:
            return False
        if self.physdev_in is not None and pin is not None:
            if iface_matches(self.physdev_in, pin) == self.in_invert:
                return False
        if self.physdev_out is not None and pout is not None:
            if iface_matches(self.physdev_out, pout) == self.out_invert:
                return False
        return True


# --------------------------------------------------------------------------- iprange, mac


def _parse_range(text: str) -> tuple[IPv4Address, IPv4Address]:
    lo_s, dash, hi_s = text.partition("-")
    try:
        lo = IPv4Address(lo_s)
        hi = IPv4Address(hi_s) if dash else lo
    except ValueError:
        raise err(f"iprange: could not parse range \"{text}\"") from None
    return lo, hi


@dataclass(frozen=True, slots=True, kw_only=True)
class IpRangeMatch(Match):
    """``-m iprange``: inclusive address ranges. Kernel: xt_iprange.c."""

    src_range: tuple[IPv4Address, IPv4Address] | None = None
    src_invert: bool = False
    dst_range: tuple[IPv4Address, IPv4Address] | None = None
    dst_invert: bool = False

    module: ClassVar[str] = "iprange"
    OPTIONS: ClassVar[dict[str, int]] = {"--src-range": 1, "--dst-range": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "IpRangeMatch":
        kw: dict[str, Any] = {}
        if (o := opts.get("--src-range")) is not None:
            kw.update(src_range=_parse_range(o[1][0]), src_invert=o[0])
        if (o := opts.get("--dst-range")) is not None:
            kw.update(dst_range=_parse_range(o[1][0]), dst_invert=o[0])
        if not kw:
            raise err("iprange match: You must specify `--src-range' or `--dst-range'")
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.src_range is not None:
            s += f"{_bang(self.src_invert)} --src-range {self.src_range[0]}-{self.src_range[1]}"
        if self.dst_range is not None:
            s += f"{_bang(self.dst_invert)} --dst-range {self.dst_range[0]}-{self.dst_range[1]}"
        return s

    def describe(self, numeric: bool) -> str:
        s = ""
        if self.src_range is not None:
            s += f"source IP range {'! ' if self.src_invert else ''}{self.src_range[0]}-{self.src_range[1]}"
        if self.dst_range is not None:
            s += f"{' ' if s else ''}destination IP range {'! ' if self.dst_invert else ''}{self.dst_range[0]}-{self.dst_range[1]}"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        if ip is None:
            return False
        if self.src_range is not None and ((self.src_range[0] <= ip.src <= self.src_range[1]) == self.src_invert):
            return False
        if self.dst_range is not None and ((self.dst_range[0] <= ip.dst <= self.dst_range[1]) == self.dst_invert):
            return False
        return True


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


# --------------------------------------------------------------------------- statistic


@dataclass(frozen=True, slots=True, kw_only=True)
class StatisticMatch(Match):
    """``-m statistic``. Kernel: xt_statistic.c.

    ``random``: matches when a 31-bit random draw is below ``probability``
    (stored as the kernel does, ``lround(p * 2**31)``); ``ctx.forced[rule_key]``
    overrides the draw.  ``nth``: a per-rule counter in
    ``ctx.state[("statistic", rule_key)]`` cycles 0..every-1, starting at
    ``packet``; it matches when the counter wraps to 0.
    """

    mode: str
    """``"random"`` or ``"nth"``."""
    probability: int = 0
    every: int = 0
    packet: int = 0
    invert: bool = False

    module: ClassVar[str] = "statistic"
    OPTIONS: ClassVar[dict[str, int]] = {"--mode": 1, "--probability": 1, "--every": 1, "--packet": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "StatisticMatch":
        _no_invert("statistic", opts, "--mode", "--packet")
        mode = opts.get("--mode")
        if mode is None:
            raise err("statistic: option \"--mode\" must be specified")
        m = mode[1][0]
        if m == "random":
            o = opts.get("--probability")
            if o is None or "--every" in opts or "--packet" in opts:
                raise err("statistic: --mode random needs --probability (and not --every/--packet)")
            try:
                p = float(o[1][0])
            except ValueError:
                raise err(f"statistic: Bad value for option \"--probability\", \"{o[1][0]}\" is not a floating point number") from None
            if not 0.0 <= p <= 1.0:
                raise err(f"statistic: Bad value for option \"--probability\", \"{o[1][0]}\" is out of range")
            return cls(mode="random", probability=int(p * 0x80000000 + 0.5), invert=o[0])
        if m == "nth":
            o = opts.get("--every")
            if o is None:
                raise err("statistic: option \"--mode nth\" also requires \"--every\".")
            if "--packet" not in opts:
                raise err("statistic: option \"--every\" also requires \"--packet\".")
            every = parse_int(o[1][0], "every", 1)
            packet = parse_int(opts["--packet"][1][0], "packet", 0)
            if packet >= every:
                raise err("statistic: option --packet must be less than --every")
            return cls(mode="nth", every=every, packet=packet, invert=o[0])
        raise err(f"statistic: Bad value for option \"--mode\", \"{m}\"")

    @property
    def probability_float(self) -> float:
        return self.probability / 0x80000000

    def save(self) -> str:
        if self.mode == "random":
            return f" --mode random{_bang(self.invert)} --probability {self.probability_float:.11f}"
        return f" --mode nth{_bang(self.invert)} --every {self.every} --packet {self.packet}"

    def describe(self, numeric: bool) -> str:
        if self.mode == "random":
            return f"statistic mode random{_bang(self.invert)} probability {self.probability_float:.11f}"
        return f"statistic mode nth{_bang(self.invert)} every {self.every} packet {self.packet}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        key = _rule_key(self, ctx)
        if self.mode == "random":
            if ctx.forced is not None and key in ctx.forced:
                return bool(ctx.forced[key])
            return (ctx.rng.getrandbits(31) < self.probability) != self.invert
        skey = ("statistic", key)
        count = ctx.state.get(skey, self.packet)
        count = 0 if count + 1 >= self.every else count + 1
        ctx.state[skey] = count
        return (count == 0) != self.invert


# --------------------------------------------------------------------------- set


@dataclass(frozen=True, slots=True, kw_only=True)
class SetMatch(Match):
    """``-m set --match-set NAME src|dst[,...]``: ipset membership. Kernel: xt_set.c.

    A set that does not exist never matches (iptables refuses to create such a
    rule; a set destroyed later cannot happen while referenced).
    """

    name: str
    dirs: tuple[str, ...]
    invert: bool = False
    return_nomatch: bool = False
    update_counters: bool = True
    update_subcounters: bool = True

    module: ClassVar[str] = "set"
    OPTIONS: ClassVar[dict[str, int]] = {"--match-set": 2, "--return-nomatch": 0, "--update-counters": 0,
                                         "--update-subcounters": 0}
    ALIASES: ClassVar[dict[str, str]] = {"--set": "--match-set"}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "SetMatch":
        o = opts.get("--match-set")
        if o is None:
            raise err("You must specify `--match-set' with proper arguments")
        name, dirs_s = o[1]
        dirs = tuple(dirs_s.split(","))
        if not all(d in ("src", "dst") for d in dirs) or len(dirs) > 6:
            raise err(f"You must specify (the comma separated list of) 'src' or 'dst'.")
        _no_invert("set", opts, "--return-nomatch")
        uc = opts.get("--update-counters")
        us = opts.get("--update-subcounters")
        return cls(name=name, dirs=dirs, invert=o[0], return_nomatch="--return-nomatch" in opts,
                   update_counters=not (uc and uc[0]), update_subcounters=not (us and us[0]))

    def save(self) -> str:
        s = f"{_bang(self.invert)} --match-set {self.name} {','.join(self.dirs)}"
        if self.return_nomatch:
            s += " --return-nomatch"
        if not self.update_counters:
            s += " ! --update-counters"
        if not self.update_subcounters:
            s += " ! --update-subcounters"
        return s

    def describe(self, numeric: bool) -> str:
        s = f"match-set {self.name} {','.join(self.dirs)}"
        s = ("! " + s) if self.invert else s
        if self.return_nomatch:
            s += " return-nomatch"
        if not self.update_counters:
            s += " ! update-counters"
        if not self.update_subcounters:
            s += " ! update-subcounters"
        return s

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ipset = ctx.ipsets.get(self.name)
        if ipset is None:
            return False
        return bool(ipset.contains(skb, self.dirs)) != self.invert


# --------------------------------------------------------------------------- limit

LIMIT_SCALE = 10000
_RATES = (("day", LIMIT_SCALE * 86400), ("hour", LIMIT_SCALE * 3600), ("min", LIMIT_SCALE * 60), ("sec", LIMIT_SCALE))


def parse_rate(text: str) -> int:
    """``N[/second|/minute|/hour|/day]`` -> the kernel's period (1/10000 s per packet)."""
    num, slash, unit = text.partition("/")
    mult = 1
    if slash:
        unit = unit.lower()
        if not unit:
            raise err(f"bad rate \"{text}\"'")
        for word, m in (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)):
            if word.startswith(unit):
                mult = m
                break
        else:
            raise err(f"bad rate \"{text}\"'")
    if not is_digits(num) or decimal(num) == 0:
        raise err(f"bad rate \"{text}\"'")
    period = LIMIT_SCALE * mult // decimal(num)
    if period == 0:
        raise err(f"Rate too fast \"{text}\"")
    return period


def rate_text(period: int) -> str:
    i = 1
    while i < len(_RATES):
        mult = _RATES[i][1]
        if period > mult or mult // period < mult % period:
            break
        i += 1
    name, mult = _RATES[i - 1]
    return f"{mult // period}/{name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitMatch(Match):
    """``-m limit``: a token bucket in simulated time. Kernel: xt_limit.c.

    The bucket (``ctx.state[("limit", rule_key)] = (tokens, last_now)``) holds
    at most ``burst`` tokens, starts full and refills one token per
    ``period / 10000`` seconds of ``ctx.now``.
    """

    period: int = LIMIT_SCALE * 3600 // 3
    """Average interval between packets in 1/10000 s (``3/hour`` by default)."""
    burst: int = 5

    module: ClassVar[str] = "limit"
    OPTIONS: ClassVar[dict[str, int]] = {"--limit": 1, "--limit-burst": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "LimitMatch":
        _no_invert("limit", opts, "--limit", "--limit-burst")
        kw: dict[str, Any] = {}
        if (o := opts.get("--limit")) is not None:
            kw["period"] = parse_rate(o[1][0])
        if (o := opts.get("--limit-burst")) is not None:
            kw["burst"] = parse_int(o[1][0], "limit-burst", 0, 10000)
        return cls(**kw)

    def save(self) -> str:
        s = f" --limit {rate_text(self.period)}"
        if self.burst != 5:
            s += f" --limit-burst {self.burst}"
        return s

    def describe(self, numeric: bool) -> str:
        return f"limit: avg {rate_text(self.period)} burst {self.burst}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        key = ("limit", _rule_key(self, ctx))
        tokens, last = ctx.state.get(key, (float(self.burst), ctx.now))
        tokens = min(float(self.burst), tokens + (ctx.now - last) * LIMIT_SCALE / self.period)
        if tokens >= 1.0:
            ctx.state[key] = (tokens - 1.0, ctx.now)
            return True
        ctx.state[key] = (tokens, ctx.now)
        return False


# --------------------------------------------------------------------------- recent


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentMatch(Match):
    """``-m recent``: per-namespace address lists. Kernel: xt_recent.c recent_mt().

    Lists live in ``ctx.state[("recent", name)]`` as ``{address: [timestamps]}``
    (at most 20 stamps per address, like ``ip_pkt_list_tot``).
    """

    command: str
    """``"set"``, ``"rcheck"``, ``"update"`` or ``"remove"``."""
    invert: bool = False
    seconds: int = 0
    reap: bool = False
    hitcount: int = 0
    rttl: bool = False
    name: str = "DEFAULT"
    mask: IPv4Address = IPv4Address("255.255.255.255")
    side: str = "rsource"

    module: ClassVar[str] = "recent"
    OPTIONS: ClassVar[dict[str, int]] = {"--set": 0, "--rcheck": 0, "--update": 0, "--remove": 0,
                                         "--seconds": 1, "--reap": 0, "--hitcount": 1, "--rttl": 0,
                                         "--name": 1, "--mask": 1, "--rsource": 0, "--rdest": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "RecentMatch":
        cmds = [c for c in ("--set", "--rcheck", "--update", "--remove") if c in opts]
        if len(cmds) != 1:
            raise err("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'")
        _no_invert("recent", opts, "--seconds", "--reap", "--hitcount", "--rttl", "--name", "--mask",
                   "--rsource", "--rdest")
        kw: dict[str, Any] = {"command": cmds[0][2:], "invert": opts[cmds[0]][0]}
        if (o := opts.get("--seconds")) is not None:
            kw["seconds"] = parse_int(o[1][0], "seconds", 1)
        if (o := opts.get("--hitcount")) is not None:
            kw["hitcount"] = parse_int(o[1][0], "hitcount", 1, 65535)
        if (o := opts.get("--name")) is not None:
            kw["name"] = o[1][0]
        if (o := opts.get("--mask")) is not None:
            try:
                kw["mask"] = IPv4Address(o[1][0])
            except ValueError:
                raise err(f"recent: bad mask \"{o[1][0]}\"") from None
        kw["reap"] = "--reap" in opts
        kw["rttl"] = "--rttl" in opts
        if "--rdest" in opts:
            kw["side"] = "rdest"
        if kw["reap"] and not kw.get("seconds"):
            raise err("recent: --reap requires --seconds")
        if kw["command"] in ("set", "remove") and ("seconds" in kw or "hitcount" in kw):
            raise err("recent: --seconds and --hitcount only work with --rcheck or --update")
        return cls(**kw)

    def save(self) -> str:
        s = f"{_bang(self.invert)} --{self.command}"
        if self.seconds:
            s += f" --seconds {self.seconds}"
        if self.reap:
            s += " --reap"
        if self.hitcount:
            s += f" --hitcount {self.hitcount}"
        if self.rttl:
            s += " --rttl"
        return s + f" --name {self.name} --mask {self.mask} --{self.side}"

    def describe(self, numeric: bool) -> str:
        s = f"{'! ' if self.invert else ''}recent: {self.command.upper() if self.command != 'rcheck' else 'CHECK'}"
        if self.seconds:
            s += f" seconds: {self.seconds}"
        if self.reap:
            s += " reap"
        if self.hitcount:
            s += f" hit_count: {self.hitcount}"
        if self.rttl:
            s += " TTL-Match"
        s += f" name: {self.name} mask: {self.mask}"
        return s + (" side: source" if self.side == "rsource" else " side: dest")

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        if ip is None:
            return False
        addr = IPv4Address(int(ip.src if self.side == "rsource" else ip.dst) & int(self.mask))
        table: dict[tuple[IPv4Address, int], list[float]] = ctx.state.setdefault(("recent", self.name), {})
        ttl = ip.ttl if self.rttl else 0
        key = (addr, ttl) if self.rttl else (addr, 0)
        ret = self.invert
        stamps = table.get(key)
        if stamps is None:
            if self.command != "set":
                return ret
            table[key] = [ctx.now]
            return not ret
        if self.command == "set":
            ret = not ret
        elif self.command == "remove":
            del table[key]
            return not ret
        elif self.seconds or self.hitcount:
            since = ctx.now - self.seconds
            hits = 0
            for t in stamps:
                if self.seconds and t < since:
                    continue
                hits += 1
                if not self.hitcount or hits >= self.hitcount:
                    ret = not ret
                    break
            if self.reap:
                stamps[:] = [t for t in stamps if t >= since]
        else:
            ret = not ret
        if self.command == "set" or (self.command == "update" and ret):
            stamps.append(ctx.now)
            del stamps[:-20]
        return ret


# --------------------------------------------------------------------------- owner


def _parse_id_range(text: str, what: str) -> tuple[int, int]:
    lo_s, dash, hi_s = text.partition("-")
    if not is_digits(lo_s) or (dash and not is_digits(hi_s)) or decimal(lo_s) > U32 or (dash and decimal(hi_s) > U32):
        raise err(f"owner: Bad value for option \"--{what}-owner\", or \"{text}\" not found")
    lo = decimal(lo_s)
    return lo, decimal(hi_s) if dash else lo


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnerMatch(Match):
    """``-m owner``: the sending socket's owner. Kernel: xt_owner.c.

    simnet's namespaces have no sockets with owners, so the match behaves as
    for a packet without a socket (forwarded traffic): it holds only when
    every given test is inverted.  Names are not resolved: uids and gids are
    numeric.
    """

    uid: tuple[int, int] | None = None
    uid_invert: bool = False
    gid: tuple[int, int] | None = None
    gid_invert: bool = False
    socket_exists: bool | None = None

    module: ClassVar[str] = "owner"
    OPTIONS: ClassVar[dict[str, int]] = {"--uid-owner": 1, "--gid-owner": 1, "--socket-exists": 0}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "OwnerMatch":
        kw: dict[str, Any] = {}
        if (o := opts.get("--uid-owner")) is not None:
            kw.update(uid=_parse_id_range(o[1][0], "uid"), uid_invert=o[0])
        if (o := opts.get("--gid-owner")) is not None:
            kw.update(gid=_parse_id_range(o[1][0], "gid"), gid_invert=o[0])
        if (o := opts.get("--socket-exists")) is not None:
            kw["socket_exists"] = not o[0]
        if not kw:
            raise err("owner: no owner option given")
        return cls(**kw)

    def save(self) -> str:
        s = ""
        if self.socket_exists is not None:
            s += f"{_bang(not self.socket_exists)} --socket-exists"
        for f, name in (("uid", "--uid-owner"), ("gid", "--gid-owner")):
            rng = getattr(self, f)
            if rng is not None:
                body = str(rng[0]) if rng[0] == rng[1] else f"{rng[0]}-{rng[1]}"
                s += f"{_bang(getattr(self, f + '_invert'))} {name} {body}"
        return s

    def describe(self, numeric: bool) -> str:
        return "owner" + self.save().replace(" --", " ").replace("-owner", "-match").replace("socket-exists", "socket exists")

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        tests = [(self.uid, self.uid_invert), (self.gid, self.gid_invert)]
        if self.socket_exists is not None:
            tests.append((True, not self.socket_exists))
        return all(inv for given, inv in tests if given is not None)


# --------------------------------------------------------------------------- length, ttl, tos, dscp, pkttype


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthMatch(Match):
    """``-m length --length a[:b]``: IP total length. Kernel: xt_length.c."""

    min: int
    max: int
    invert: bool = False

    module: ClassVar[str] = "length"
    OPTIONS: ClassVar[dict[str, int]] = {"--length": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "LengthMatch":
        o = opts.get("--length")
        if o is None:
            raise err("length: option \"--length\" must be specified")
        lo_s, colon, hi_s = o[1][0].partition(":")
        lo = parse_int(lo_s, "length", 0, 65535) if lo_s else 0
        hi = (parse_int(hi_s, "length", 0, 65535) if hi_s else 65535) if colon else lo
        if lo > hi:
            raise err(f"length: Bad value for option \"--length\", \"{o[1][0]}\"")
        return cls(min=lo, max=hi, invert=o[0])

    def save(self) -> str:
        return f"{_bang(self.invert)} --length {range_text(self.min, self.max)}"

    def describe(self, numeric: bool) -> str:
        return f"length {'!' if self.invert else ''}{range_text(self.min, self.max)}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return (self.min <= skb.packet.length <= self.max) != self.invert


@dataclass(frozen=True, slots=True, kw_only=True)
class TtlMatch(Match):
    """``-m ttl --ttl-eq/--ttl-gt/--ttl-lt`` (``! --ttl-eq`` is ``ne``). Kernel: xt_ttl (ipt_ttl)."""

    op: str
    """``"eq"``, ``"ne"``, ``"lt"`` or ``"gt"``."""
    value: int

    module: ClassVar[str] = "ttl"
    OPTIONS: ClassVar[dict[str, int]] = {"--ttl-eq": 1, "--ttl-gt": 1, "--ttl-lt": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "TtlMatch":
        if len(opts) != 1:
            raise err("ttl: exactly one of --ttl-eq, --ttl-lt or --ttl-gt is required")
        (name, (inv, args)), = opts.items()
        if inv and name != "--ttl-eq":
            raise err(f"ttl: unexpected `!' before {name}")
        op = "ne" if inv else name[6:]
        return cls(op=op, value=parse_int(args[0], "TTL", 0, 255))

    def save(self) -> str:
        if self.op == "ne":
            return f" ! --ttl-eq {self.value}"
        return f" --ttl-{self.op} {self.value}"

    def describe(self, numeric: bool) -> str:
        sym = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">"}[self.op]
        return f"TTL match TTL {sym} {self.value}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        if ip is None:
            return False
        t = ip.ttl
        return {"eq": t == self.value, "ne": t != self.value, "lt": t < self.value, "gt": t > self.value}[self.op]


TOS_NAMES = {"minimize-delay": 0x10, "maximize-throughput": 0x08, "maximize-reliability": 0x04,
             "minimize-cost": 0x02, "normal-service": 0x00}


def parse_tos(text: str) -> tuple[int, int]:
    """``value[/mask]`` (default mask 0xff) or a symbolic name (mask 0x3f)."""
    if text.lower() in TOS_NAMES:
        return TOS_NAMES[text.lower()], 0x3F
    value, _, mask = text.partition("/")
    return parse_int(value, "TOS", 0, 255), (parse_int(mask, "TOS", 0, 255) if mask else 0xFF)


@dataclass(frozen=True, slots=True, kw_only=True)
class TosMatch(_MaskedMatch):
    """``-m tos --tos V[/M]``: ``(ip.tos & M) == V``. Kernel: xt_dscp.c tos_mt()."""

    mask: int = 0xFF

    module: ClassVar[str] = "tos"
    OPTION: ClassVar[str] = "--tos"
    OPTIONS: ClassVar[dict[str, int]] = {"--tos": 1}

    @staticmethod
    def _parse(text: str) -> tuple[int, int]:
        return parse_tos(text)

    def _text(self) -> str:
        return f"0x{self.value:02x}/0x{self.mask:02x}"

    def _field(self, skb: "Skb") -> int | None:
        ip = skb.packet.ip
        return None if ip is None else ip.tos


DSCP_CLASSES = {"CS0": 0, "CS1": 8, "CS2": 16, "CS3": 24, "CS4": 32, "CS5": 40, "CS6": 48, "CS7": 56,
                "BE": 0, "AF11": 10, "AF12": 12, "AF13": 14, "AF21": 18, "AF22": 20, "AF23": 22,
                "AF31": 26, "AF32": 28, "AF33": 30, "AF41": 34, "AF42": 36, "AF43": 38, "EF": 46}


@dataclass(frozen=True, slots=True, kw_only=True)
class DscpMatch(Match):
    """``-m dscp --dscp V`` / ``--dscp-class C``: ``ip.tos >> 2``. Kernel: xt_dscp.c."""

    dscp: int
    invert: bool = False

    module: ClassVar[str] = "dscp"
    OPTIONS: ClassVar[dict[str, int]] = {"--dscp": 1, "--dscp-class": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "DscpMatch":
        if len(opts) != 1:
            raise err("dscp match: Parameter --dscp or --dscp-class is required")
        (name, (inv, args)), = opts.items()
        if name == "--dscp-class":
            if args[0].upper() not in DSCP_CLASSES:
                raise err(f"Invalid DSCP value `{args[0]}'")
            return cls(dscp=DSCP_CLASSES[args[0].upper()], invert=inv)
        return cls(dscp=parse_int(args[0], "DSCP", 0, 63), invert=inv)

    def save(self) -> str:
        return f"{_bang(self.invert)} --dscp 0x{self.dscp:02x}"

    def describe(self, numeric: bool) -> str:
        return f"DSCP match {'!' if self.invert else ''}0x{self.dscp:02x}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        ip = skb.packet.ip
        return ip is not None and (((ip.tos >> 2) == self.dscp) != self.invert)


_PKTTYPES = {"unicast": PktType.HOST, "host": PktType.HOST, "broadcast": PktType.BROADCAST,
             "multicast": PktType.MULTICAST, "otherhost": PktType.OTHERHOST}
_PKTTYPE_NAME = {PktType.HOST: "unicast", PktType.BROADCAST: "broadcast",
                 PktType.MULTICAST: "multicast", PktType.OTHERHOST: "otherhost"}


@dataclass(frozen=True, slots=True, kw_only=True)
class PktTypeMatch(Match):
    """``-m pkttype --pkt-type``: ``skb.pkt_type``. Kernel: xt_pkttype.c."""

    pkt_type: PktType
    invert: bool = False

    module: ClassVar[str] = "pkttype"
    OPTIONS: ClassVar[dict[str, int]] = {"--pkt-type": 1}

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "PktTypeMatch":
        o = opts.get("--pkt-type")
        if o is None:
            raise err("pkttype: option \"--pkt-type\" must be specified")
        t = _PKTTYPES.get(o[1][0].lower())
        if t is None:
            raise err(f"Bad packet type '{o[1][0]}'")
        return cls(pkt_type=t, invert=o[0])

    def save(self) -> str:
        return f"{_bang(self.invert)} --pkt-type {_PKTTYPE_NAME[self.pkt_type]}"

    def describe(self, numeric: bool) -> str:
        return f"PKTTYPE {'!' if self.invert else ''}= {_PKTTYPE_NAME[self.pkt_type]}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        return (skb.pkt_type is self.pkt_type) != self.invert


# --------------------------------------------------------------------------- registry

MATCH_MODULES: dict[str, type[Match]] = {
    cls.module: cls
    for cls in (TcpMatch, UdpMatch, IcmpMatch, ConntrackMatch, StateMatch, AddrTypeMatch,
                MultiportMatch, CommentMatch, MarkMatch, ConnmarkMatch, PhysdevMatch, IpRangeMatch,
                MacMatch, StatisticMatch, SetMatch, LimitMatch, RecentMatch, OwnerMatch, LengthMatch,
                TtlMatch, TosMatch, DscpMatch, PktTypeMatch)
}
"""Every match module simnet understands, by ``-m`` name."""

AnyMatch = (TcpMatch | UdpMatch | IcmpMatch | ConntrackMatch | StateMatch | AddrTypeMatch | MultiportMatch
            | CommentMatch | MarkMatch | ConnmarkMatch | PhysdevMatch | IpRangeMatch | MacMatch
            | StatisticMatch | SetMatch | LimitMatch | RecentMatch | OwnerMatch | LengthMatch | TtlMatch
            | TosMatch | DscpMatch | PktTypeMatch)
