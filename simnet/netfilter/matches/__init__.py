"""iptables match modules (``-m NAME``): one frozen class per module, one file per kernel ``xt_*`` family.

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

import sys
from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, TypeAlias

from simnet.netfilter.extensions import Extensions
from simnet.netfilter.matches.base import Match
from simnet.netfilter.xtables import Opts

if TYPE_CHECKING:
    from simnet.netfilter.rule import Rule
    from simnet.netfilter.matches.icmp import ICMP_NAMES, IcmpMatch
    from simnet.netfilter.matches.xt_addrtype import ADDRTYPE_ORDER, AddrTypeMatch
    from simnet.netfilter.matches.xt_comment import CommentMatch
    from simnet.netfilter.matches.xt_connlimit import ConnlimitMatch
    from simnet.netfilter.matches.xt_conntrack import CT_STATE_ORDER, CT_STATUS_ORDER, ConntrackMatch, StateMatch
    from simnet.netfilter.matches.xt_dscp import DSCP_CLASSES, TOS_NAMES, DscpMatch, TosMatch, parse_tos
    from simnet.netfilter.matches.xt_hashlimit import HashlimitMatch
    from simnet.netfilter.matches.xt_hl import TtlMatch
    from simnet.netfilter.matches.xt_iprange import IpRangeMatch
    from simnet.netfilter.matches.xt_length import LengthMatch
    from simnet.netfilter.matches.xt_limit import LIMIT_SCALE, LimitMatch, parse_rate, rate_text
    from simnet.netfilter.matches.xt_mac import MacMatch
    from simnet.netfilter.matches.xt_mark import ConnmarkMatch, MarkMatch
    from simnet.netfilter.matches.xt_multiport import MultiportMatch
    from simnet.netfilter.matches.xt_owner import OwnerMatch
    from simnet.netfilter.matches.xt_physdev import PhysdevMatch
    from simnet.netfilter.matches.xt_pkttype import PktTypeMatch
    from simnet.netfilter.matches.xt_policy import PolicyMatch
    from simnet.netfilter.matches.xt_recent import RecentMatch
    from simnet.netfilter.matches.xt_rpfilter import RpfilterMatch
    from simnet.netfilter.matches.xt_sctp import SctpMatch
    from simnet.netfilter.matches.xt_set import SetMatch
    from simnet.netfilter.matches.xt_statistic import StatisticMatch
    from simnet.netfilter.matches.xt_string import StringMatch
    from simnet.netfilter.matches.xt_tcpmss import TcpmssMatch
    from simnet.netfilter.matches.xt_tcpudp import TcpMatch, UdpMatch, parse_tcp_flags, tcp_flags_text
    from simnet.netfilter.matches.xt_time import TimeMatch

    AnyMatch: TypeAlias = (TcpMatch | UdpMatch | IcmpMatch | ConntrackMatch | StateMatch | AddrTypeMatch
                           | MultiportMatch | CommentMatch | MarkMatch | ConnmarkMatch | PhysdevMatch | IpRangeMatch
                           | MacMatch | StatisticMatch | SetMatch | LimitMatch | RecentMatch | OwnerMatch | LengthMatch
                           | TtlMatch | TosMatch | DscpMatch | PktTypeMatch | SctpMatch | RpfilterMatch | PolicyMatch
                           | HashlimitMatch | ConnlimitMatch | TimeMatch | StringMatch | TcpmssMatch)

__all__ = [
    "Match", "Opts", "MATCH_MODULES", "AnyMatch", "TcpMatch", "UdpMatch", "IcmpMatch", "ConntrackMatch", "StateMatch",
    "AddrTypeMatch", "MultiportMatch", "CommentMatch", "MarkMatch", "ConnmarkMatch", "PhysdevMatch", "IpRangeMatch",
    "MacMatch", "StatisticMatch", "SetMatch", "LimitMatch", "RecentMatch", "OwnerMatch", "LengthMatch", "TtlMatch",
    "TosMatch", "DscpMatch", "PktTypeMatch", "SctpMatch", "RpfilterMatch", "PolicyMatch", "HashlimitMatch",
    "ConnlimitMatch", "TimeMatch", "StringMatch", "TcpmssMatch", "ICMP_NAMES", "ADDRTYPE_ORDER", "CT_STATE_ORDER",
    "CT_STATUS_ORDER", "DSCP_CLASSES", "TOS_NAMES", "parse_tos", "LIMIT_SCALE", "parse_rate", "rate_text",
    "parse_tcp_flags", "tcp_flags_text", "check_sets",
]

_BY_MODULE: dict[str, tuple[str, str]] = {
    "tcp": ("xt_tcpudp", "TcpMatch"), "udp": ("xt_tcpudp", "UdpMatch"), "icmp": ("icmp", "IcmpMatch"),
    "conntrack": ("xt_conntrack", "ConntrackMatch"), "state": ("xt_conntrack", "StateMatch"),
    "addrtype": ("xt_addrtype", "AddrTypeMatch"), "multiport": ("xt_multiport", "MultiportMatch"),
    "comment": ("xt_comment", "CommentMatch"), "mark": ("xt_mark", "MarkMatch"),
    "connmark": ("xt_mark", "ConnmarkMatch"), "physdev": ("xt_physdev", "PhysdevMatch"),
    "iprange": ("xt_iprange", "IpRangeMatch"), "mac": ("xt_mac", "MacMatch"),
    "statistic": ("xt_statistic", "StatisticMatch"), "set": ("xt_set", "SetMatch"),
    "limit": ("xt_limit", "LimitMatch"), "recent": ("xt_recent", "RecentMatch"), "owner": ("xt_owner", "OwnerMatch"),
    "length": ("xt_length", "LengthMatch"), "ttl": ("xt_hl", "TtlMatch"), "tos": ("xt_dscp", "TosMatch"),
    "dscp": ("xt_dscp", "DscpMatch"), "pkttype": ("xt_pkttype", "PktTypeMatch"), "sctp": ("xt_sctp", "SctpMatch"),
    "rpfilter": ("xt_rpfilter", "RpfilterMatch"), "policy": ("xt_policy", "PolicyMatch"),
    "hashlimit": ("xt_hashlimit", "HashlimitMatch"), "connlimit": ("xt_connlimit", "ConnlimitMatch"),
    "time": ("xt_time", "TimeMatch"), "string": ("xt_string", "StringMatch"), "tcpmss": ("xt_tcpmss", "TcpmssMatch"),
}
"""``-m NAME`` -> (the file under this package, its class): iptables loads ``libxt_NAME.so`` when a rule
first names it, and so does simnet: a script that never says ``-m time`` never imports xt_time."""

_NAMES: dict[str, str] = {cls: mod for mod, cls in _BY_MODULE.values()} | {
    "ICMP_NAMES": "icmp", "ADDRTYPE_ORDER": "xt_addrtype", "CT_STATE_ORDER": "xt_conntrack",
    "CT_STATUS_ORDER": "xt_conntrack", "DSCP_CLASSES": "xt_dscp", "TOS_NAMES": "xt_dscp", "parse_tos": "xt_dscp",
    "LIMIT_SCALE": "xt_limit", "parse_rate": "xt_limit", "rate_text": "xt_limit", "parse_tcp_flags": "xt_tcpudp",
    "tcp_flags_text": "xt_tcpudp",
}
"""Every other public name of this package -> its file (loaded on first use, PEP 562)."""


def _load(name: str) -> type[Match]:
    file, cls_name = _BY_MODULE[name]
    cls: type[Match] = getattr(import_module(f"{__name__}.{file}"), cls_name)
    assert cls.module == name, (cls, name)
    return cls


MATCH_MODULES: Mapping[str, type[Match]] = Extensions(_BY_MODULE, _load)
"""Every match module simnet understands, by ``-m`` name (each file is imported on its first lookup)."""


def check_sets(rule: "Rule", sets: Mapping[str, object]) -> None:
    """Refuse a rule naming an ipset that does not exist (xt_set.check_sets); only a ``-m set`` match
    names one, so before xt_set's file is loaded there is nothing to check (and nothing is imported)."""
    xt_set = sys.modules.get(f"{__name__}.xt_set")
    if xt_set is not None:
        xt_set.check_sets(rule, sets)


def __getattr__(name: str) -> object:
    """A public name imports its file on first use (``AnyMatch`` needs them all)."""
    if name == "AnyMatch":
        from functools import reduce
        from operator import or_

        value: object = reduce(or_, (MATCH_MODULES[m] for m in _BY_MODULE))
    elif name in _NAMES:
        value = getattr(import_module(f"{__name__}.{_NAMES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
