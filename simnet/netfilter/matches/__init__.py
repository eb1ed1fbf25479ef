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

from simnet.netfilter.matches.base import Match
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
from simnet.netfilter.matches.xt_recent import RecentMatch
from simnet.netfilter.matches.xt_policy import PolicyMatch
from simnet.netfilter.matches.xt_rpfilter import RpfilterMatch
from simnet.netfilter.matches.xt_sctp import SctpMatch
from simnet.netfilter.matches.xt_set import SetMatch
from simnet.netfilter.matches.xt_statistic import StatisticMatch
from simnet.netfilter.matches.xt_tcpmss import TcpmssMatch
from simnet.netfilter.matches.xt_time import TimeMatch
from simnet.netfilter.matches.xt_string import StringMatch
from simnet.netfilter.matches.xt_tcpudp import TcpMatch, UdpMatch, parse_tcp_flags, tcp_flags_text
from simnet.netfilter.xtables import Opts

__all__ = [
    "Match", "Opts", "MATCH_MODULES", "AnyMatch", "TcpMatch", "UdpMatch", "IcmpMatch", "ConntrackMatch", "StateMatch",
    "AddrTypeMatch", "MultiportMatch", "CommentMatch", "MarkMatch", "ConnmarkMatch", "PhysdevMatch", "IpRangeMatch",
    "MacMatch", "StatisticMatch", "SetMatch", "LimitMatch", "RecentMatch", "OwnerMatch", "LengthMatch", "TtlMatch",
    "TosMatch", "DscpMatch", "PktTypeMatch", "SctpMatch", "RpfilterMatch", "PolicyMatch", "HashlimitMatch", "ConnlimitMatch", "TimeMatch", "StringMatch", "TcpmssMatch", "ICMP_NAMES", "ADDRTYPE_ORDER", "CT_STATE_ORDER", "CT_STATUS_ORDER",
    "DSCP_CLASSES", "TOS_NAMES", "parse_tos", "LIMIT_SCALE", "parse_rate", "rate_text", "parse_tcp_flags",
    "tcp_flags_text",
]

MATCH_MODULES: dict[str, type[Match]] = {
    cls.module: cls
    for cls in (TcpMatch, UdpMatch, IcmpMatch, ConntrackMatch, StateMatch, AddrTypeMatch,
                MultiportMatch, CommentMatch, MarkMatch, ConnmarkMatch, PhysdevMatch, IpRangeMatch,
                MacMatch, StatisticMatch, SetMatch, LimitMatch, RecentMatch, OwnerMatch, LengthMatch,
                TtlMatch, TosMatch, DscpMatch, PktTypeMatch, SctpMatch, RpfilterMatch, PolicyMatch, HashlimitMatch, ConnlimitMatch, TimeMatch, StringMatch, TcpmssMatch)
}
"""Every match module simnet understands, by ``-m`` name."""

AnyMatch = (TcpMatch | UdpMatch | IcmpMatch | ConntrackMatch | StateMatch | AddrTypeMatch | MultiportMatch
            | CommentMatch | MarkMatch | ConnmarkMatch | PhysdevMatch | IpRangeMatch | MacMatch
            | StatisticMatch | SetMatch | LimitMatch | RecentMatch | OwnerMatch | LengthMatch | TtlMatch
            | TosMatch | DscpMatch | PktTypeMatch | SctpMatch | RpfilterMatch | PolicyMatch | HashlimitMatch | ConnlimitMatch | TimeMatch | StringMatch
            | TcpmssMatch)
