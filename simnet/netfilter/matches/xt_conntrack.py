"""conntrack and state: the connection a packet belongs to. Kernel: xt_conntrack.c, xt_state.c."""

from __future__ import annotations

from dataclasses import dataclass, fields
from ipaddress import IPv4Network
from typing import ClassVar, TYPE_CHECKING

from simnet.netfilter.conntrack import Conn, CtDir, CtState, CtStatus, template_conn
from simnet.netfilter.matches.base import Match, Option, _bang
from simnet.netfilter.xtables import Opts, err, net_text, parse_mport, parse_network, parse_proto, range_text

if TYPE_CHECKING:
    from simnet.netfilter.context import MatchContext
    from simnet.skb import Skb


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


def _parse_ctproto(text: str) -> int:
    p = parse_proto(text)
    if p is None:
        raise err("conntrack: rule would never match protocol")
    return p


def _parse_status(text: str) -> CtStatus:
    status = CtStatus(0)
    for word in text.split(","):
        if word.upper() == "NONE":
            continue
        found = dict(CT_STATUS_ORDER).get(word.upper())
        if found is None:
            raise err(f"Bad ctstatus \"{word}\"")
        status |= found
    return status


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
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--ctstate", "ctstate", lambda text: _parse_states(text, CT_STATE_ORDER, "ctstate"),
               invert="ctstate_invert"),
        Option("--ctproto", "ctproto", _parse_ctproto, invert="ctproto_invert"),
        *(Option(f"--ct{f}", f, parse_network, invert=f"{f}_invert")
          for f in ("origsrc", "origdst", "replsrc", "repldst")),
        *(Option(f"--ct{f}", f, parse_mport, invert=f"{f}_invert")
          for f in ("origsrcport", "origdstport", "replsrcport", "repldstport")),
        Option("--ctstatus", "ctstatus", _parse_status, invert="ctstatus_invert"),
        Option("--ctdir", None),  # refused inverted only after the others are read: by build
    )

    @classmethod
    def build(cls, opts: Opts, proto: int | None) -> "ConntrackMatch":

        if not opts:
            raise err("conntrack: At least one option is required")
        kw = cls.parse_options(opts)
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
    OPTION_TABLE: ClassVar[tuple[Option, ...]] = (
        Option("--state", "states", lambda text: _parse_states(text, CT_STATE_ORDER[:5], "state"), invert="invert",
               mandatory=True),
    )

    def save(self) -> str:
        return f"{_bang(self.invert)} --state {_states_text(self.states)}"

    def describe(self, numeric: bool) -> str:
        return f"{'! ' if self.invert else ''}state {_states_text(self.states)}"

    def matches(self, skb: "Skb", ctx: "MatchContext") -> bool:
        info = skb.ctinfo
        st = CtState.INVALID if info is None else info.state
        return (st in self.states) != self.invert
